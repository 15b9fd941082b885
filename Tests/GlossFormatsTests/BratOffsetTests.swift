import GlossFormats
import GlossModel
import GlossTestSupport
import Testing

/// Offsets in the file's unit: brat's scalars, JavaScript's UTF-16 units, or UTF-8 bytes.
@Suite(.hangGuard, .timeLimit(.minutes(10)))
struct BratOffsetTests {
    /// Astral emoji (two UTF-16 units, four UTF-8 bytes) and Latin-1 letters before the spans.
    static let text = "I 👍🏽 met Zoë in Zürich 😀 today.\r\nBye 👋."
    static let words = ["Zoë", "Zürich", "today", "Bye"]

    /// A `.ann` with one T line per word, offsets counted in `unit`.
    static func ann(_ unit: OffsetError.Unit) throws -> String {
        let index = TextIndex(text)
        var lines: [String] = []
        for (n, word) in words.enumerated() {
            let range = scalarRange(of: word)
            let (start, end): (Int, Int)
            switch unit {
            case .scalar: (start, end) = (range.start, range.end)
            case .utf16:
                (start, end) = (
                    try index.utf16Offset(ofScalar: range.start), try index.utf16Offset(ofScalar: range.end)
                )
            case .utf8:
                (start, end) = (try index.utf8Offset(ofScalar: range.start), try index.utf8Offset(ofScalar: range.end))
            }
            lines.append("T\(n + 1)\tWord \(start) \(end)\t\(word)\n")
        }
        return lines.joined()
    }

    static func scalarRange(of word: String) -> TextRange {
        let scalars = Array(text.unicodeScalars)
        let target = Array(word.unicodeScalars)
        let start = (0...(scalars.count - target.count)).first { Array(scalars[$0..<$0 + target.count]) == target }!
        return TextRange(start, start + target.count)
    }

    @Test(arguments: [OffsetError.Unit.scalar, .utf16, .utf8])
    func unitIsDetectedAndConverted(_ unit: OffsetError.Unit) throws {
        let ann = try Self.ann(unit)
        let result = try BratFixtures.importing(ann, text: Self.text, strict: true)
        #expect(result.offsetUnit == unit)
        #expect(result.annotations.map(\.ranges) == Self.words.map { [Self.scalarRange(of: $0)] })
        // Unchanged, the file comes back as it was, in its own unit.
        let export = BratExporter().export(
            result.annotations, text: Self.text, bratIDs: result.bratIDs, original: result.document)
        #expect(export.ann == ann)
    }

    @Test func utf16OffsetsDifferFromScalarsHere() throws {
        // Otherwise the detection test would prove nothing.
        #expect(try Self.ann(.utf16) != Self.ann(.scalar))
        #expect(try Self.ann(.utf8) != Self.ann(.utf16))
    }

    @Test func editedUTF16FileStaysInUTF16() throws {
        let result = try BratFixtures.importing(try Self.ann(.utf16), text: Self.text)
        var annotations = result.annotations
        let zoe = Self.scalarRange(of: "Zoë")
        // Widen "Zoë" to "Zoë in", and add a span over the wave emoji.
        let first = annotations.firstIndex { $0.ranges == [zoe] }!
        annotations[first].ranges = [TextRange(zoe.start, zoe.end + 3)]
        var ids = IDSource()
        let wave = Self.scalarRange(of: "👋")
        annotations.append(.span(ids.next(), in: BratFixtures.doc, [wave], label: "Emoji", owner: "a"))
        let export = BratExporter().export(
            annotations, text: Self.text, bratIDs: result.bratIDs, original: result.document)
        let index = TextIndex(Self.text)
        let zoeStart = try index.utf16Offset(ofScalar: zoe.start)
        let zoeEnd = try index.utf16Offset(ofScalar: zoe.end + 3)
        let waveStart = try index.utf16Offset(ofScalar: wave.start)
        #expect(export.ann.contains("T1\tWord \(zoeStart) \(zoeEnd)\tZoë in\n"))
        #expect(export.ann.hasSuffix("T5\tEmoji \(waveStart) \(waveStart + 2)\t👋\n"))
        #expect(waveStart + 2 == (try index.utf16Offset(ofScalar: wave.end)))
        // Read back, it is still UTF-16 and means the edited ranges.
        let again = try BratFixtures.importing(export.ann, text: Self.text, strict: true)
        #expect(again.offsetUnit == .utf16)
        #expect(BratFixtures.describe(again.annotations) == BratFixtures.describe(annotations))
    }

    @Test func aGivenUnitIsNotSecondGuessed() throws {
        // Told the offsets are scalars, the UTF-16 file's lines after the emoji do not match.
        let result = try BratFixtures.importing(try Self.ann(.utf16), text: Self.text, unit: .scalar)
        #expect(result.offsetUnit == .scalar)
        #expect(result.problems.map(\.code) == Array(repeating: .textMismatch, count: 4))
        #expect(result.problems.map(\.line) == [1, 2, 3, 4])
        #expect(result.annotations.count == 4)
    }

    @Test func asciiTextStaysScalarEvenWithMismatches() throws {
        let result = try BratFixtures.importing("T1\tX 0 3\tabd\nT2\tX 4 7\tdef\n", text: "abc def")
        #expect(result.offsetUnit == .scalar)
        #expect(result.problems.map(\.line) == [1])
    }

    @Test func crlfCountsTwo() throws {
        // "Bye" comes after "\r\n": two scalars, as brat and Python count.
        let bye = Self.scalarRange(of: "Bye")
        let before = Self.text.unicodeScalars.prefix(bye.start)
        #expect(Array(before.suffix(2)) == ["\r", "\n"])
        let result = try BratFixtures.importing(
            "T1\tWord \(bye.start) \(bye.end)\tBye\n", text: Self.text, strict: true)
        #expect(result.annotations.first?.ranges == [bye])
    }
}
