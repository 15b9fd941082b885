import GlossFormats
import GlossModel
import GlossTestSupport
import Testing

/// One test per brat line kind: what it imports as, its brat id, and that it exports unchanged.
@Suite(.hangGuard, .timeLimit(.minutes(10)))
struct BratLineTests {
    static let text = "Alice founded Acme in Paris. Bob joined Acme."

    /// Imports, checks there are no problems, and that export reproduces the file.
    func roundTrip(_ ann: String, text: String = Self.text) throws -> BratImport {
        let result = try BratFixtures.importing(ann, text: text)
        #expect(result.problems.isEmpty, "\(result.problems)")
        let export = BratExporter().export(
            result.annotations, text: text, bratIDs: result.bratIDs, original: result.document)
        #expect(export.ann == ann)
        #expect(export.problems.isEmpty, "\(export.problems)")
        return result
    }

    func annotation(_ result: BratImport, _ bratID: String) throws -> Annotation {
        let id = try #require(result.bratIDs.first { $0.value == bratID }?.key, "no annotation for \(bratID)")
        return try #require(result.annotations.first { $0.id == id })
    }

    @Test func textBound() throws {
        let result = try roundTrip("T1\tPerson 0 5\tAlice\n")
        let span = try annotation(result, "T1")
        #expect(span.kind == .span)
        #expect(span.label == "Person")
        #expect(span.ranges == [TextRange(0, 5)])
        #expect(span.owner == "brat" && span.layer == "brat")
        #expect(result.offsetUnit == .scalar)
    }

    @Test func discontinuousTextBound() throws {
        // Fragments in file order; their texts joined by one space.
        let result = try roundTrip("T1\tOrganization 14 18;0 5\tAcme Alice\n")
        let span = try annotation(result, "T1")
        #expect(span.ranges == [TextRange(0, 5), TextRange(14, 18)])
    }

    @Test func relation() throws {
        let ann = "T1\tPerson 0 5\tAlice\nT2\tOrganization 14 18\tAcme\nR1\tFounder Arg1:T1 Arg2:T2\t\n"
        let result = try roundTrip(ann)
        let relation = try annotation(result, "R1")
        #expect(relation.kind == .relation)
        #expect(relation.label == "Founder")
        #expect(relation.from == (try annotation(result, "T1")).id)
        #expect(relation.to == (try annotation(result, "T2")).id)
        // Spans come before the relations that point at them.
        let kinds = result.annotations.map(\.kind)
        #expect(kinds == [.span, .span, .relation])
    }

    @Test func eventWithNestedEventArgument() throws {
        // E1 comes before its trigger and argument lines and takes E2 (an event) as argument.
        let ann = """
            E1\tReport:T3 Reporter-Arg:T1 Event-Arg:E2
            T1\tPerson 29 32\tBob
            T2\tStart 33 39\tjoined
            T3\tReport 6 13\tfounded
            E2\tStart:T2 Org-Arg:T4 Org-Arg2:T5
            T4\tOrganization 40 44\tAcme
            T5\tOrganization 14 18\tAcme

            """
        let result = try roundTrip(ann)
        let report = try annotation(result, "T3")
        let start = try annotation(result, "T2")
        #expect(report.label == "Report")
        let reporter = try annotation(result, "E1 Reporter-Arg")
        #expect(reporter.kind == .relation && reporter.label == "Reporter-Arg")
        let bob = try annotation(result, "T1")
        #expect(reporter.from == report.id && reporter.to == bob.id)
        let nested = try annotation(result, "E1 Event-Arg")
        #expect(nested.from == report.id && nested.to == start.id)
        // The numbered role is labelled without its number.
        let second = try annotation(result, "E2 Org-Arg2")
        #expect(second.label == "Org-Arg")
        #expect(second.to == (try annotation(result, "T5")).id)
        #expect(result.annotations.filter { $0.kind == .relation }.count == 4)
    }

    @Test func eventsSharingATrigger() throws {
        // Two binary events on one trigger: the second gets a span of its own, keyed by "E2".
        let ann = """
            T1\tProtein 0 5\tAlice
            T2\tProtein 14 18\tAcme
            T3\tBinding 6 13\tfounded
            E1\tBinding:T3 Theme:T1
            E2\tBinding:T3 Theme:T2
            A1\tNegation E2

            """
        let result = try roundTrip(ann)
        let first = try annotation(result, "T3")
        let second = try annotation(result, "E2")
        #expect(first.id != second.id)
        #expect(second.ranges == first.ranges && second.label == "Binding")
        #expect(second.attributes == ["Negation": "true"])
        #expect(first.attributes.isEmpty)
        #expect((try annotation(result, "E2 Theme")).from == second.id)
    }

    @Test func binaryAndValuedAttributes() throws {
        let ann = """
            T1\tPerson 0 5\tAlice
            A1\tIndividual T1
            A2\tMention T1 Name
            M3\tSpeculation T1

            """
        let result = try roundTrip(ann)
        let span = try annotation(result, "T1")
        #expect(span.attributes == ["Individual": "true", "Mention": "Name", "Speculation": "true"])
    }

    @Test func attributesOfEventsAndRelations() throws {
        let ann = """
            T1\tPerson 0 5\tAlice
            T2\tOrganization 14 18\tAcme
            R1\tFounder Arg1:T1 Arg2:T2
            A1\tConfidence R1 High
            T3\tStart 6 13\tfounded
            E1\tStart:T3 Agent:T1
            A2\tNegation E1

            """
        let result = try roundTrip(ann)
        #expect((try annotation(result, "R1")).attributes == ["Confidence": "High"])
        #expect((try annotation(result, "T3")).attributes == ["Negation": "true"])
    }

    @Test func normalizationIsKeptForExport() throws {
        let ann = "T1\tGPE 22 27\tParis\nN1\tReference T1 Wikipedia:22989\tParis, France\n"
        let result = try roundTrip(ann)
        // No Gloss annotation stands for N1; the document keeps it.
        #expect(result.annotations.count == 1)
        let line = try #require(result.document.lines.last)
        #expect(
            line.entry
                == .normalization(
                    .init(
                        id: "N1", type: "Reference", target: "T1", reference: "Wikipedia:22989", text: "Paris, France"))
        )
        #expect(line.isImported)
    }

    @Test func notesOnSpansEventsAndRelations() throws {
        let ann = """
            T1\tPerson 0 5\tAlice
            #1\tAnnotatorNotes T1\tCheck: person or company?
            T2\tOrganization 14 18\tAcme
            R1\tFounder Arg1:T1 Arg2:T2\t
            #2\tAnnotatorNotes R1\tNot explicit.\u{20}\u{20}
            T3\tStart 6 13\tfounded
            E1\tStart:T3 Agent:T1
            #3\tLemma E1\t found

            """
        let result = try roundTrip(ann)
        let first = try annotation(result, "#1")
        #expect(first.kind == .note && first.text == "Check: person or company?")
        #expect(first.target == (try annotation(result, "T1")).id)
        // The text is kept verbatim, trailing spaces included.
        #expect((try annotation(result, "#2")).text == "Not explicit.  ")
        #expect((try annotation(result, "#2")).target == (try annotation(result, "R1")).id)
        // A note on an event is attached to the event's span; other note types import too.
        let third = try annotation(result, "#3")
        let founded = try annotation(result, "T3")
        #expect(third.target == founded.id && third.text == " found")
        #expect(result.annotations.suffix(3).allSatisfy { $0.kind == .note })
    }

    @Test func equivalenceIsKeptForExport() throws {
        let ann = "T1\tOrganization 14 18\tAcme\nT2\tOrganization 40 44\tAcme\n*\tEquiv T1 T2\n"
        let result = try roundTrip(ann)
        #expect(result.annotations.count == 2)
        #expect(result.document.lines[2].entry == .equivalence(.init(type: "Equiv", members: ["T1", "T2"])))
    }

    @Test func lineEndingsBlankLinesAndMissingFinalNewline() throws {
        _ = try roundTrip("T1\tPerson 0 5\tAlice\r\nT2\tPerson 29 32\tBob\r\n")
        _ = try roundTrip("T1\tPerson 0 5\tAlice\n\nT2\tPerson 29 32\tBob")
        _ = try roundTrip("")
        let result = try roundTrip("T1\tPerson 0 5\tAlice\n   \n")
        #expect(result.document.lines.map(\.entry).last == .blank)
    }

    @Test func spanTextWithALineBreakIsWrittenWithASpace() throws {
        let text = "New\nYork"
        let result = try roundTrip("T1\tGPE 0 8\tNew York\n", text: text)
        #expect((try annotation(result, "T1")).ranges == [TextRange(0, 8)])
        // A new span over the line break is written the same way.
        let fresh = BratExporter().export(result.annotations, text: text)
        #expect(fresh.ann == "T1\tGPE 0 8\tNew York\n")
    }

    @Test func attributeValueTrueIsWrittenAsBinary() throws {
        var ids = IDSource()
        let span = Annotation.span(
            ids.next(), in: BratFixtures.doc, [TextRange(0, 5)], label: "Person", owner: "a",
            attributes: ["Individual": "true", "Mention": "Name"])
        let export = BratExporter().export([span], text: Self.text)
        #expect(export.ann == "T1\tPerson 0 5\tAlice\nA1\tIndividual T1\nA2\tMention T1 Name\n")
        #expect(export.bratIDs == [span.id: "T1"])
    }
}

/// A tiny id source for tests that build annotations by hand.
struct IDSource {
    var counter: UInt64 = 0
    mutating func next() -> AnnotationID {
        counter += 1
        return AnnotationID(replica: ReplicaID(99), counter: counter)
    }
}
