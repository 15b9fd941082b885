import GlossFormats
import GlossModel
import GlossTestSupport
import Testing

/// An unedited rendering reads back to exactly the annotations it was made from, on random
/// texts full of what makes offsets and escaping hard.
@Suite(.hangGuard, .timeLimit(.minutes(10)))
struct InlineMarkupRoundTripTests {
    /// Pieces random texts are made of: combining marks, emoji with ZWJ and skin tone, CJK,
    /// CRLF, markup characters, the trailer marker, quotes and comment signs.
    static let pieces = [
        "a", "Zürich", "e\u{301}", "👩\u{200D}💻", "👍🏽", "東京", "\r\n", "\n", " ", "\t", "[", "]", "\\", "](", "(",
        ")", "\"", "#", "=", "%%% gloss", "\n%%% gloss\n", "word", "\\]", "[x](Y)",
    ]
    static let labels = ["PER", "ORG", "B-LOC", "two words", "a)b", "#hash", "é", "x=y", "\"q\"", "line\nbreak"]
    static let keys = ["k", "note", "two words", "=", "#"]
    static let values = ["v", "", "true", "with space", "quote\"d", "back\\slash", "new\nline", "tab\there", "é👍🏽"]

    static func randomText(_ rng: inout SplitMix64) -> String {
        (0..<rng.int(below: 25)).map { _ in rng.pick(pieces) }.joined()
    }

    static func randomAttributes(_ rng: inout SplitMix64) -> [String: String] {
        var attributes: [String: String] = [:]
        for _ in 0..<rng.int(below: 3) { attributes[rng.pick(keys)] = rng.pick(values) }
        return attributes
    }

    /// Random spans (nested, crossing, discontinuous, empty, duplicated) and document labels.
    static func randomAnnotations(_ rng: inout SplitMix64, length: Int, document: DocumentID) -> [Annotation] {
        var annotations: [Annotation] = []
        var counter: UInt64 = 0
        func id() -> AnnotationID {
            counter += 1
            return AnnotationID(replica: ReplicaID(9), counter: counter)
        }
        for _ in 0..<rng.int(below: 12) {
            var ranges: [TextRange] = []
            var cursor = rng.int(below: length + 1)
            for _ in 0..<(rng.chance(20) ? 2 + rng.int(below: 2) : 1) {
                guard cursor <= length else { break }
                let end = cursor + rng.int(below: length - cursor + 1)
                ranges.append(TextRange(cursor, end))
                cursor = end + 1 + rng.int(below: 3)
            }
            if rng.chance(10), let first = ranges.first { ranges = [TextRange(first.start, first.start)] }
            let span = Annotation.span(
                id(), in: document, ranges, label: rng.pick(labels), owner: "ann", attributes: randomAttributes(&rng))
            annotations.append(span)
            if rng.chance(10) {
                var copy = span
                copy.id = id()
                annotations.append(copy)
            }
        }
        for _ in 0..<rng.int(below: 3) {
            annotations.append(
                Annotation(
                    id: id(), document: document, kind: .documentLabel, layer: "ann", owner: "ann",
                    label: rng.pick(labels), attributes: randomAttributes(&rng)))
        }
        return annotations
    }

    @Test func randomRenderingsReadBack() throws {
        var rng = SplitMix64(seed: 0x1A7E)
        let schema = Schema(
            spanLabels: Self.labels, documentLabels: Self.labels,
            attributes: Self.keys.map { Schema.AttributeRule(name: $0) })
        var trailers = 0
        for round in 0..<400 {
            let text = Self.randomText(&rng)
            let annotations = Self.randomAnnotations(&rng, length: text.unicodeScalars.count, document: "d")
            let renderer = InlineMarkupRenderer(
                schema: rng.chance(50) ? schema : nil, alwaysWriteTrailer: rng.chance(30))
            let markup = renderer.render(text: text, annotations: annotations)
            if markup.contains("\n%%% gloss\n") { trailers += 1 }
            let expected = InlineMarkupContent(text: text, annotations: annotations)
            let parser = InlineMarkupParser(schema: rng.chance(50) ? schema : .open)
            let content: InlineMarkupContent
            do {
                content = try parser.parse(markup, originalText: text, original: annotations)
            } catch {
                Issue.record("round \(round): \(error)\n--- markup ---\n\(markup)")
                continue
            }
            #expect(content == expected, "round \(round)\n--- markup ---\n\(markup)")
            // Without the original text (an import), the text is read from the markup.
            #expect(try parser.parse(markup, originalText: nil) == expected, "round \(round)")
            // And nothing changed, so there is nothing to do.
            let diff = InlineMarkupDiff(
                original: annotations, edited: content, document: "d", annotations: annotations, owner: "ann",
                layer: "ann",
                mintID: {
                    Issue.record("minted an id")
                    return AnnotationID(replica: ReplicaID(0), counter: 0)
                })
            #expect(diff.isEmpty, "round \(round): \(diff.ops)")
        }
        // The generator exercises both forms.
        #expect(trailers > 100 && trailers < 400)
    }

    @Test func offsetsAreScalarsNotCharacters() throws {
        // "e◌́" is one Character but two scalars; a span may cover just the "e".
        let text = "cafe\u{301} 👩\u{200D}💻 ok\r\n"
        let annotations = [
            Annotation.span(
                AnnotationID(replica: ReplicaID(1), counter: 1), in: "d", [TextRange(3, 4)], label: "E", owner: "a"),
            Annotation.span(
                AnnotationID(replica: ReplicaID(1), counter: 2), in: "d", [TextRange(6, 9)], label: "EMOJI", owner: "a"),
            Annotation.span(
                AnnotationID(replica: ReplicaID(1), counter: 3), in: "d", [TextRange(10, 14)], label: "CRLF", owner: "a"
            ),
        ]
        let markup = InlineMarkupRenderer().render(text: text, annotations: annotations)
        #expect(markup == "caf[e](E)\u{301} [👩\u{200D}💻](EMOJI) [ok\r\n](CRLF)")
        let content = try InlineMarkupParser().parse(markup, originalText: text)
        #expect(content.spans.map(\.ranges) == [[TextRange(3, 4)], [TextRange(6, 9)], [TextRange(10, 14)]])
    }

    @Test func importReadsTextAndAnnotations() throws {
        let markup = "[Ada](PER) wrote \\[notes\\].\n%%% gloss\nlabel HISTORY\nspan NOTE 11-13,14-16\n"
        var counter: UInt64 = 0
        let imported = try InlineMarkupFormat.importDocument(
            markup: markup, id: "d", source: "d.inline.txt", options: ImportOptions(owner: "ann", layer: "import"),
            mintID: {
                counter += 1
                return AnnotationID(replica: ReplicaID(3), counter: counter)
            })
        #expect(imported.text == "Ada wrote [notes].")
        #expect(imported.annotations.map(\.label) == ["PER", "NOTE", "HISTORY"])
        #expect(imported.annotations.allSatisfy { $0.layer == "import" && $0.owner == "ann" })
        #expect(imported.annotations[1].ranges == [TextRange(11, 13), TextRange(14, 16)])
    }
}
