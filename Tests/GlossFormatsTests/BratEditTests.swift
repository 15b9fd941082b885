import GlossFormats
import GlossModel
import GlossTestSupport
import Testing

/// Exports after edits: changed lines are re-rendered in place, deleted ones dropped, new ones
/// appended with fresh ids, and the result imports back to the edited annotations.
@Suite(.hangGuard, .timeLimit(.minutes(10)))
struct BratEditTests {
    /// Edits the annotations whose brat id is given.
    struct Editor {
        var annotations: [Annotation]
        var bratIDs: [AnnotationID: String]
        var ids = IDSource()

        func id(_ bratID: String) -> AnnotationID { bratIDs.first { $0.value == bratID }!.key }

        mutating func edit(_ bratID: String, _ change: (inout Annotation) -> Void) {
            let target = id(bratID)
            let i = annotations.firstIndex { $0.id == target }!
            change(&annotations[i])
        }

        mutating func delete(_ bratID: String) {
            let target = id(bratID)
            annotations.removeAll { $0.id == target }
        }

        mutating func add(_ a: (AnnotationID) -> Annotation) -> AnnotationID {
            let new = a(ids.next())
            annotations.append(new)
            return new.id
        }
    }

    @Test func editedNewsIntroduction() throws {
        let (ann, text) = try BratFixtures.example("tutorials/news/000-introduction")
        let imported = try BratFixtures.importing(ann, text: text)
        try #require(imported.problems.isEmpty)
        var e = Editor(annotations: imported.annotations, bratIDs: imported.bratIDs)
        let doc = BratFixtures.doc

        e.edit("T1") { $0.label = "GPE" }  // label
        e.edit("T3") { $0.label = "Transfer-ownership" }  // an event's type is its trigger's label
        e.edit("T5") { $0.ranges = [TextRange(518, 535)] }  // ranges
        e.edit("T5") { $0.attributes["Mention"] = "Name" }  // attribute value
        e.edit("T4") { $0.attributes["Individual"] = nil }  // attribute removed
        e.edit("#1") { $0.text = "USD 100M" }  // note text
        e.edit("E1 Money-Arg") { $0.label = "Giver-Arg" }  // a role taken: numbered
        e.delete("R2")
        e.delete("T7")
        let switzerland = e.add {
            .span($0, in: doc, [TextRange(549, 560)], label: "GPE", owner: "ann", attributes: ["Mention": "Name"])
        }
        let (banks, moving, family) = (e.id("T6"), e.id("T3"), e.id("R1"))
        _ = e.add { .relation($0, in: doc, from: banks, to: switzerland, label: "Origin", owner: "ann") }
        _ = e.add { .relation($0, in: doc, from: moving, to: switzerland, label: "Place-Arg", owner: "ann") }
        _ = e.add {
            Annotation(id: $0, document: doc, kind: .note, layer: "ann", owner: "ann", target: family, text: "brothers")
        }

        let export = BratExporter().export(e.annotations, text: text, bratIDs: e.bratIDs, original: imported.document)
        #expect(export.problems.isEmpty, "\(export.problems)")
        let expected = """
            T1\tGPE 418 426\tCitibank
            T2\tMoney 456 468\t$100 million
            T3\tTransfer-ownership 443 449\tmoving
            E1\tTransfer-ownership:T3 Giver-Arg:T1 Giver-Arg2:T2 Beneficiary-Arg:T4 Recipient-Arg:T6 Place-Arg:T8
            T4\tPerson 473 496\tRaul Salinas de Gortari
            T5\tPerson 518 535\tMexican president
            T6\tOrganization 540 545\tbanks
            #1\tAnnotatorNotes T2\tUSD 100M
            R1\tFamily Arg1:T4 Arg2:T5\t
            A1\tMention T4 Name
            A3\tMention T5 Name
            A4\tIndividual T5
            A5\tConfidence E1 High
            N1\tReference T5 Wikipedia:64488\tCarlos Salinas de Gortari
            T8\tGPE 549 560\tSwitzerland
            R3\tOrigin Arg1:T6 Arg2:T8
            A6\tMention T8 Name
            #2\tAnnotatorNotes R1\tbrothers

            """
        #expect(export.ann == expected)
        #expect(export.bratIDs[switzerland] == "T8")
        #expect(export.bratIDs[e.id("E1 Money-Arg")] == "E1 Giver-Arg2")

        // The exported file imports back to the edited annotations, with no problems.
        let again = try BratFixtures.importing(export.ann, text: text)
        #expect(again.problems.isEmpty, "\(again.problems)")
        #expect(BratFixtures.describe(again.annotations) == BratFixtures.describe(e.annotations))
        // And exports to itself.
        let twice = BratExporter().export(
            again.annotations, text: text, bratIDs: again.bratIDs, original: again.document)
        #expect(twice.ann == export.ann)
    }

    @Test func deletingAnEquivalenceMemberAndANormalizedSpan() throws {
        let text = "Jo Rowling, J. K. Rowling and Joanne Rowling."
        let ann = """
            T1\tPerson 0 10\tJo Rowling
            T2\tPerson 12 25\tJ. K. Rowling
            T3\tPerson 30 44\tJoanne Rowling
            *\tAlias T1 T2 T3
            N1\tReference T3 Wikipedia:1\tJ. K. Rowling
            *\tAlias T1 T3

            """
        let imported = try BratFixtures.importing(ann, text: text)
        var e = Editor(annotations: imported.annotations, bratIDs: imported.bratIDs)
        e.delete("T3")
        let export = BratExporter().export(e.annotations, text: text, bratIDs: e.bratIDs, original: imported.document)
        // The three-member class loses T3; the two-member one and the normalization of T3 go.
        #expect(export.ann == "T1\tPerson 0 10\tJo Rowling\nT2\tPerson 12 25\tJ. K. Rowling\n*\tAlias T1 T2\n")
    }

    @Test func editingTheSpanOfAnEventThatSharesItsTrigger() throws {
        let text = "Alice founded Acme in Paris."
        let ann = """
            T1\tProtein 0 5\tAlice
            T2\tProtein 14 18\tAcme
            T3\tBinding 6 13\tfounded
            E1\tBinding:T3 Theme:T1
            E2\tBinding:T3 Theme:T2

            """
        let imported = try BratFixtures.importing(ann, text: text)
        // E2's own span moves: it needs a trigger of its own, written just before it.
        var e = Editor(annotations: imported.annotations, bratIDs: imported.bratIDs)
        e.edit("E2") { $0.ranges = [TextRange(6, 9)] }
        let moved = BratExporter().export(e.annotations, text: text, bratIDs: e.bratIDs, original: imported.document)
        #expect(
            moved.ann
                == "T1\tProtein 0 5\tAlice\nT2\tProtein 14 18\tAcme\nT3\tBinding 6 13\tfounded\nE1\tBinding:T3 Theme:T1\n"
                + "T4\tBinding 6 9\tfou\nE2\tBinding:T4 Theme:T2\n")
        #expect(moved.bratIDs[e.id("E2")] == "E2")

        // E1 and its trigger go: E2 keeps the trigger's place in a line of its own.
        var f = Editor(annotations: imported.annotations, bratIDs: imported.bratIDs)
        f.delete("E1 Theme")
        f.delete("T3")
        let export = BratExporter().export(f.annotations, text: text, bratIDs: f.bratIDs, original: imported.document)
        #expect(
            export.ann
                == "T1\tProtein 0 5\tAlice\nT2\tProtein 14 18\tAcme\nT4\tBinding 6 13\tfounded\nE2\tBinding:T4 Theme:T2\n"
        )
        let again = try BratFixtures.importing(export.ann, text: text)
        #expect(again.problems.isEmpty)
        #expect(BratFixtures.describe(again.annotations) == BratFixtures.describe(f.annotations))
    }

    @Test func freshExportWithoutIDs() throws {
        let text = "Alice founded Acme in Paris."
        let doc = BratFixtures.doc
        var ids = IDSource()
        let acme = Annotation.span(ids.next(), in: doc, [TextRange(14, 18)], label: "Org", owner: "a")
        let alice = Annotation.span(
            ids.next(), in: doc, [TextRange(0, 5)], label: "Person", owner: "a", attributes: ["Mention": "Name"])
        let founded = Annotation.relation(
            ids.next(), in: doc, from: alice.id, to: acme.id, label: "Founder", owner: "a")
        let note = Annotation(
            id: ids.next(), document: doc, kind: .note, layer: "a", owner: "a", target: founded.id, text: "sure")
        let discontinuous = Annotation.span(
            ids.next(), in: doc, [TextRange(0, 5), TextRange(22, 27)], label: "Thing", owner: "a")
        // Things brat cannot hold: reported, left out.
        let topic = Annotation(
            id: ids.next(), document: doc, kind: .documentLabel, layer: "a", owner: "a", label: "news")
        let docNote = Annotation(id: ids.next(), document: doc, kind: .note, layer: "a", owner: "a", text: "whole doc")
        let spaced = Annotation.span(ids.next(), in: doc, [TextRange(22, 27)], label: "Big city", owner: "a")
        let meta = Annotation.relation(ids.next(), in: doc, from: founded.id, to: acme.id, label: "About", owner: "a")
        let outside = Annotation.span(ids.next(), in: doc, [TextRange(20, 99)], label: "Place", owner: "a")

        let export = BratExporter().export(
            [acme, alice, founded, note, discontinuous, topic, docNote, spaced, meta, outside], text: text)
        #expect(
            export.ann == """
                T1\tPerson 0 5\tAlice
                T2\tThing 0 5;22 27\tAlice Paris
                T3\tOrg 14 18\tAcme
                R1\tFounder Arg1:T1 Arg2:T3
                A1\tMention T1 Name
                #1\tAnnotatorNotes R1\tsure

                """)
        #expect(
            export.problems.map(\.code) == [
                .unrepresentable, .unrepresentable, .offsetsOutOfBounds, .unrepresentable, .unrepresentable,
            ])
        #expect(
            export.bratIDs == [alice.id: "T1", discontinuous.id: "T2", acme.id: "T3", founded.id: "R1", note.id: "#1"])
    }
}
