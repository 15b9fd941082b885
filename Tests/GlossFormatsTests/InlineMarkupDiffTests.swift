import GlossFormats
import GlossModel
import GlossTestSupport
import Testing

/// Turning edited markup into ops that keep annotation ids.
@Suite(.hangGuard, .timeLimit(.minutes(10)))
struct InlineMarkupDiffTests {
    typealias R = InlineMarkupRenderTests
    static let doc = R.doc

    /// Counts minted ids so tests can tell creations apart.
    final class IDs {
        var counter: UInt64 = 0
        func mint() -> AnnotationID {
            counter += 1
            return AnnotationID(replica: ReplicaID(77), counter: counter)
        }
    }

    /// Parses `markup` against the view and diffs it.
    static func diff(_ original: [Annotation], _ markup: String, all: [Annotation]? = nil, ids: IDs = IDs()) throws
        -> InlineMarkupDiff
    {
        let content = try InlineMarkupParser().parse(markup, originalText: R.text, original: original)
        return InlineMarkupDiff(
            original: original, edited: content, document: doc, annotations: all ?? original, owner: "me",
            layer: "mine",
            mintID: ids.mint)
    }

    @Test func relabelKeepsTheID() throws {
        let per = R.span(1, [(0, 3)], "PER")
        let diff = try Self.diff([per], "[Ada](LOC) Lovelace met Charles Babbage.")
        #expect(diff.ops == [.set(Self.doc, per.id, .label, .string("LOC"))])
        #expect(diff.changed == [per.id] && diff.created.isEmpty && diff.deleted.isEmpty)
    }

    @Test func resizeKeepsTheID() throws {
        let per = R.span(1, [(0, 3)], "PER")
        let diff = try Self.diff([per], "[Ada Lovelace](PER) met Charles Babbage.")
        #expect(diff.ops == [.set(Self.doc, per.id, .ranges, .ranges([TextRange(0, 12)]))])
    }

    @Test func resizeGoesToTheSpanWithTheMostOverlap() throws {
        // Two PER spans; the edited one overlaps "Lovelace" (4-12) more than "Ada" (0-3).
        let ada = R.span(1, [(0, 3)], "PER")
        let lovelace = R.span(2, [(4, 12)], "PER")
        let diff = try Self.diff([ada, lovelace], "[Ada Lovelace met](PER) Charles Babbage.")
        #expect(
            diff.ops == [.delete(Self.doc, ada.id), .set(Self.doc, lovelace.id, .ranges, .ranges([TextRange(0, 16)]))])
    }

    @Test func attributesAreSetAndRemoved() throws {
        let per = R.span(1, [(0, 3)], "PER", ["negated": "true", "note": "x"])
        let diff = try Self.diff([per], "[Ada](PER negated=false certain=yes) Lovelace met Charles Babbage.")
        #expect(
            diff.ops == [
                .set(Self.doc, per.id, .attribute("certain"), .string("yes")),
                .set(Self.doc, per.id, .attribute("negated"), .string("false")),
                .set(Self.doc, per.id, .attribute("note"), .none),
            ])
        #expect(diff.changed == [per.id])
    }

    @Test func relabelAndMoveIsADeleteAndACreate() throws {
        let per = R.span(1, [(0, 3)], "PER")
        let ids = IDs()
        let diff = try Self.diff([per], "Ada [Lovelace](LOC) met Charles Babbage.", ids: ids)
        let created = try #require(diff.created.first)
        #expect(created.id == AnnotationID(replica: ReplicaID(77), counter: 1))
        #expect(
            (created.label, created.ranges, created.layer, created.owner) == ("LOC", [TextRange(4, 12)], "mine", "me"))
        #expect(diff.ops == [.delete(Self.doc, per.id), .create(created)])
    }

    @Test func deletingASpanCascadesToRelationsAndNotes() throws {
        let a = R.span(1, [(0, 3)], "PER")
        let b = R.span(2, [(17, 32)], "PER")
        let relation = Annotation.relation(
            AnnotationID(replica: ReplicaID(1), counter: 3), in: Self.doc, from: a.id, to: b.id, label: "met",
            owner: "other")
        let note = Annotation(
            id: AnnotationID(replica: ReplicaID(1), counter: 4), document: Self.doc, kind: .note, layer: "other",
            owner: "other", target: relation.id, text: "check")
        let unrelated = Annotation(
            id: AnnotationID(replica: ReplicaID(1), counter: 5), document: Self.doc, kind: .note, layer: "other",
            owner: "other", target: a.id, text: "keep")
        let diff = try Self.diff(
            [a, b], "[Ada](PER) Lovelace met Charles Babbage.", all: [a, b, relation, note, unrelated])
        // Referrers go first: the note on the relation, the relation, then the span.
        #expect(diff.ops == [.delete(Self.doc, note.id), .delete(Self.doc, relation.id), .delete(Self.doc, b.id)])
        #expect(diff.deleted == [b])
        #expect(diff.cascaded == [relation, note])
    }

    @Test func documentLabelsAreAddedRemovedAndChanged() throws {
        let positive = R.documentLabel(1, "POSITIVE", ["by": "model"])
        let old = R.documentLabel(2, "OLD")
        let diff = try Self.diff(
            [positive, old], R.text + "\n%%% gloss\nlabel POSITIVE by=human\nlabel NEW\n")
        let created = try #require(diff.created.first)
        #expect((created.kind, created.label) == (.documentLabel, "NEW"))
        #expect(
            diff.ops == [
                .delete(Self.doc, old.id), .set(Self.doc, positive.id, .attribute("by"), .string("human")),
                .create(created),
            ])
    }

    @Test func unchangedMarkupMakesNoOps() throws {
        let annotations = [R.span(1, [(0, 3)], "PER"), R.span(2, [(4, 12), (17, 24)], "X"), R.documentLabel(3, "L")]
        let markup = InlineMarkupRenderer(alwaysWriteTrailer: true).render(text: R.text, annotations: annotations)
        #expect(try Self.diff(annotations, markup).isEmpty)
    }

    /// Applying the ops to the document gives exactly what the edited markup says, and every
    /// kept span keeps its id, whatever the edit.
    @Test func opsReachTheEditedContent() throws {
        var rng = SplitMix64(seed: 0xD1FF)
        let text = R.text
        let length = text.unicodeScalars.count
        for round in 0..<300 {
            let original = InlineMarkupRoundTripTests.randomAnnotations(&rng, length: length, document: Self.doc)
            // Edit the content at random: relabel, move, drop, add, change attributes.
            var spans = original.filter { $0.kind == .span }.map(InlineMarkupSpan.init)
            var labels = original.filter { $0.kind == .documentLabel }.map(InlineMarkupLabel.init)
            for i in spans.indices.reversed() {
                switch rng.int(below: 6) {
                case 0: spans[i].label = rng.pick(InlineMarkupRoundTripTests.labels)
                case 1:
                    let start = rng.int(below: length)
                    spans[i].ranges = [TextRange(start, start + rng.int(below: length - start + 1))]
                case 2: spans.remove(at: i)
                case 3: spans[i].attributes = InlineMarkupRoundTripTests.randomAttributes(&rng)
                default: break
                }
            }
            if rng.chance(50) { spans.append(InlineMarkupSpan(label: "NEW", ranges: [TextRange(1, 2)])) }
            if rng.chance(30), !labels.isEmpty { labels.removeFirst() }
            if rng.chance(30) { labels.append(InlineMarkupLabel(label: "ADDED", attributes: ["k": "v"])) }
            let edited = InlineMarkupContent(text: text, spans: spans, documentLabels: labels)

            let ids = IDs()
            let diff = InlineMarkupDiff(
                original: original, edited: edited, document: Self.doc, annotations: original, owner: "me",
                layer: "mine",
                mintID: ids.mint)
            var state = DocumentState(
                document: Document(id: Self.doc, text: text),
                annotations: Dictionary(uniqueKeysWithValues: original.map { ($0.id, $0) }))
            for op in diff.ops { try state.apply(op) }
            let result = InlineMarkupContent(text: text, annotations: Array(state.annotations.values))
            #expect(result == edited, "round \(round)")
            // Ids are kept whenever a span survives with its label or its ranges.
            let survivors = Set(original.map(\.id)).intersection(state.annotations.keys)
            #expect(survivors.count == original.count - diff.deleted.count, "round \(round)")
            #expect(Int(ids.counter) == diff.created.count)
        }
    }
}
