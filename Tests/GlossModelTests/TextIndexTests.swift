import Testing
@testable import GlossModel
import GlossTestSupport

import Foundation

// MARK: - Unit tests

@Test func asciiTextUsesTheFastPath() throws {
    let index = TextIndex("Hello, world")
    #expect(index.isASCII)
    #expect(index.scalarCount == 12)
    #expect(index.utf8Count == 12)
    #expect(index.utf16Count == 12)
    for offset in 0...12 {
        #expect(try index.utf8Offset(ofScalar: offset) == offset)
        #expect(try index.utf16Offset(ofScalar: offset) == offset)
        #expect(try index.scalarOffset(ofUTF8: offset) == offset)
        #expect(try index.scalarOffset(ofUTF16: offset) == offset)
    }
    #expect(try index.text(in: TextRange(7, 12)) == "world")
}

@Test func emptyText() throws {
    let index = TextIndex("")
    #expect(index.isASCII)
    #expect(index.scalarCount == 0 && index.utf8Count == 0 && index.utf16Count == 0)
    #expect(try index.utf8Offset(ofScalar: 0) == 0)
    #expect(try index.scalarOffset(ofUTF16: 0) == 0)
    #expect(try index.text(in: TextRange(0, 0)) == "")
    #expect(throws: OffsetError.self) { try index.utf8Offset(ofScalar: 1) }
}

@Test func crlfCountsTwoScalars() throws {
    let text = "a\r\nb"
    #expect(text.count == 3)  // the grapheme count Gloss must never use
    let index = TextIndex(text)
    #expect(index.isASCII)
    #expect(index.scalarCount == 4)
    #expect(index.utf8Count == 4)
    #expect(index.utf16Count == 4)
    #expect(try index.text(in: TextRange(3, 4)) == "b")
    #expect(try sameScalars(index.text(in: TextRange(1, 2)), "\r"))
}

@Test func crlfBeforeMultibyteText() throws {
    let index = TextIndex("\r\n√x")
    #expect(!index.isASCII)
    #expect(index.scalarCount == 4)
    #expect(try index.utf8Offset(ofScalar: 3) == 5)  // √ is three bytes
    #expect(try index.scalarOffset(ofUTF8: 5) == 3)
    #expect(try index.text(in: TextRange(2, 4)) == "√x")
}

@Test func combiningMarksAreSeparateScalars() throws {
    let text = "e\u{301}!"
    #expect(text.count == 2)
    let index = TextIndex(text)
    #expect(index.scalarCount == 3)
    #expect(index.utf8Count == 4)  // U+0301 is two bytes
    #expect(index.utf16Count == 3)
    #expect(try index.utf8Offset(ofScalar: 1) == 1)
    #expect(try index.utf8Offset(ofScalar: 2) == 3)
    #expect(try index.utf16Offset(ofScalar: 2) == 2)
    // Compared by scalars: `==` on String would also accept the precomposed "é".
    #expect(try sameScalars(index.text(in: TextRange(0, 2)), "e\u{301}"))
    #expect(try sameScalars(index.text(in: TextRange(1, 2)), "\u{301}"))
}

@Test func astralEmojiTakesTwoUTF16UnitsAndFourBytes() throws {
    let index = TextIndex("👍🏽")  // U+1F44D U+1F3FD
    #expect(index.scalarCount == 2)
    #expect(index.utf16Count == 4)
    #expect(index.utf8Count == 8)
    #expect(try index.utf16Offset(ofScalar: 1) == 2)
    #expect(try index.utf8Offset(ofScalar: 1) == 4)
    #expect(try index.scalarOffset(ofUTF16: 2) == 1)
    #expect(try index.scalarOffset(ofUTF8: 8) == 2)
    #expect(try sameScalars(index.text(in: TextRange(0, 1)), "👍"))
    #expect(try sameScalars(index.text(in: TextRange(1, 2)), "\u{1F3FD}"))
}

@Test func cjkTakesThreeBytesPerScalar() throws {
    let index = TextIndex("漢字かな")
    #expect(index.scalarCount == 4)
    #expect(index.utf8Count == 12)
    #expect(index.utf16Count == 4)
    for offset in 0...4 {
        #expect(try index.utf8Offset(ofScalar: offset) == 3 * offset)
        #expect(try index.scalarOffset(ofUTF8: 3 * offset) == offset)
        #expect(try index.utf16Offset(ofScalar: offset) == offset)
    }
    #expect(try index.text(in: TextRange(1, 3)) == "字か")
}

@Test(arguments: ["abc", "a√c👍"])
func outOfBoundsOffsetsThrow(text: String) {
    let index = TextIndex(text)
    let cases: [(OffsetError.Unit, Int, (Int) throws(OffsetError) -> Int)] = [
        (.scalar, -1, index.utf8Offset(ofScalar:)),
        (.scalar, index.scalarCount + 1, index.utf8Offset(ofScalar:)),
        (.scalar, -1, index.utf16Offset(ofScalar:)),
        (.scalar, index.scalarCount + 1, index.utf16Offset(ofScalar:)),
        (.utf8, -1, index.scalarOffset(ofUTF8:)),
        (.utf8, index.utf8Count + 1, index.scalarOffset(ofUTF8:)),
        (.utf16, -1, index.scalarOffset(ofUTF16:)),
        (.utf16, index.utf16Count + 1, index.scalarOffset(ofUTF16:)),
    ]
    for (unit, offset, lookup) in cases {
        let error = #expect(throws: OffsetError.self) { try lookup(offset) }
        #expect(error?.code == .outOfBounds)
        #expect(error?.unit == unit)
        #expect(error?.offset == offset)
    }
    let error = #expect(throws: OffsetError.self) { try index.text(in: TextRange(1, index.scalarCount + 1)) }
    #expect(error?.code == .outOfBounds)
}

@Test func invertedRangeThrows() {
    let error = #expect(throws: OffsetError.self) { try TextIndex("a√c").text(in: TextRange(2, 1)) }
    #expect(error?.code == .invertedRange)
}

@Test func offsetInsideMultibyteSequenceThrows() throws {
    let index = TextIndex("a漢b")  // 漢 spans bytes 1..<4
    #expect(try index.scalarOffset(ofUTF8: 1) == 1)
    #expect(try index.scalarOffset(ofUTF8: 4) == 2)
    for inside in [2, 3] {
        let error = #expect(throws: OffsetError.self) { try index.scalarOffset(ofUTF8: inside) }
        #expect(error?.code == .notOnBoundary)
        #expect(error?.unit == .utf8)
        #expect(error?.offset == inside)
        #expect(error?.message.contains("scalar 1 spans UTF-8 1..<4") == true)
    }
}

@Test func offsetInsideSurrogatePairThrows() throws {
    let index = TextIndex("abcd😀e")  // 😀 is scalar 4 and spans UTF-16 4..<6
    #expect(try index.scalarOffset(ofUTF16: 4) == 4)
    #expect(try index.scalarOffset(ofUTF16: 6) == 5)
    let error = #expect(throws: OffsetError.self) { try index.scalarOffset(ofUTF16: 5) }
    #expect(error?.code == .notOnBoundary)
    #expect(error?.unit == .utf16)
    #expect(error?.offset == 5)
    #expect(error?.message == "UTF-16 offset 5 falls inside a surrogate pair (scalar 4 spans UTF-16 4..<6)")
    #expect(error?.description.hasPrefix("offset-not-on-boundary: ") == true)
}

@Test func lookupsScanAcrossCheckpointBoundaries() throws {
    // Multibyte scalars right around each checkpoint (every 64 scalars) catch off-by-one
    // errors in the tables and in the scans that start from them.
    let specials: [Int: String] = [
        62: "é", 63: "漢", 64: "👍", 65: "\u{301}", 127: "👍", 128: "字", 129: "é", 191: "😀", 192: "😀",
    ]
    let mixed = (0..<200).map { specials[$0] ?? "a" }.joined()
    let allAstral = String(repeating: "😀", count: 140)
    let asciiThenCJK = String(repeating: "x", count: 130) + String(repeating: "漢", count: 70)
    for text in [mixed, allAstral, asciiThenCJK] {
        let index = TextIndex(text)
        let reference = Reference(text)
        #expect(index.scalarCount == reference.scalars.count)
        var failures: [String] = []
        for start in 0...reference.scalars.count {
            for end in start...reference.scalars.count {
                let range = TextRange(start, end)
                let expected = String(String.UnicodeScalarView(reference.scalars[start..<end]))
                if let actual = try? index.text(in: range), sameScalars(actual, expected) { continue }
                failures.append("text(in: \(range))")
            }
        }
        failures += reference.mismatches(with: index)
        #expect(failures.isEmpty, "\(failures.prefix(5)) in \(text.prefix(20))…")
    }
}

// MARK: - Property test

/// Random text mixing every kind of scalar that makes offsets diverge, cut at exactly
/// `length` scalars (possibly mid-CRLF or mid-ZWJ sequence, which is still valid text).
private func randomScalars(length: Int, using rng: inout SplitMix64) -> [Unicode.Scalar] {
    let pieces = [
        "a", "Q", " ", "7", ".",  // ASCII, one unit everywhere
        "\r\n",  // two scalars, one grapheme
        "e\u{301}", "o\u{308}\u{304}",  // combining marks
        "é", "Ω", "—",  // two and three bytes
        "漢", "字", "한",  // CJK, three bytes
        "👍🏽", "😀", "𝄞",  // astral: surrogate pairs, four bytes
        "👩‍👩‍👧", "🏳️‍🌈",  // ZWJ sequences
    ]
    var scalars: [Unicode.Scalar] = []
    scalars.reserveCapacity(length + 8)
    while scalars.count < length {
        // Half the time ASCII, so long ASCII runs and dense multibyte runs both occur.
        let piece = rng.int(below: 2) == 0 ? pieces[rng.int(below: 5)] : pieces[rng.int(below: pieces.count)]
        scalars.append(contentsOf: piece.unicodeScalars)
    }
    scalars.removeLast(scalars.count - length)
    return scalars
}

@Test func randomTextsAgreeWithNaiveReference() {
    for seed: UInt64 in 1...120 {
        var rng = SplitMix64(seed: seed)
        let scalars = randomScalars(length: rng.int(below: 2001), using: &rng)
        let text = String(String.UnicodeScalarView(scalars))
        let index = TextIndex(text)
        let reference = Reference(text)
        var failures = reference.mismatches(with: index)
        for _ in 0..<50 {
            let a = rng.int(below: scalars.count + 1)
            let b = rng.int(below: scalars.count + 1)
            let range = TextRange(min(a, b), max(a, b))
            let expected = String(String.UnicodeScalarView(scalars[range.start..<range.end]))
            if let actual = try? index.text(in: range), sameScalars(actual, expected) { continue }
            failures.append("text(in: \(range))")
        }
        #expect(failures.isEmpty, "seed \(seed), \(scalars.count) scalars: \(failures.prefix(5))")
    }
}

// MARK: - Sample document

@Test func federationSampleDocument() throws {
    // shared/ sits beside the repository folder: Tests/GlossModelTests/ → ../../../shared.
    let url = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // GlossModelTests
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()  // the repository
        .deletingLastPathComponent()  // its parent, which holds shared/
        .appendingPathComponent("shared/corpus/federation-1923.txt")
    let data = try #require(try? Data(contentsOf: url), "sample document not found at \(url.path)")
    let text = String(decoding: data, as: UTF8.self)
    let index = TextIndex(text)
    #expect(index.scalarCount == 6712)
    #expect(index.utf8Count == 6716)
    #expect(index.utf8Count == data.count)
    #expect(index.utf16Count == text.utf16.count)
    #expect(!index.isASCII)  // an em dash and two middle dots
    #expect(try index.text(in: TextRange(1, 35)) == "The Federation of Soviet Republics")
    let failures = Reference(text).mismatches(with: index)
    #expect(failures.isEmpty, "\(failures.prefix(5))")
}

// MARK: - Scale

@Test func tenMegabyteTextLookupsStayCheap() throws {
    // A random mixed chunk repeated: the chunk's prefix sums give an exact naive reference
    // for every offset of the whole text without an O(n) walk per lookup. 997 scalars (a
    // prime) shifts the checkpoints against the chunk on every repetition.
    var rng = SplitMix64(seed: 0x5EED)
    let chunkScalars = randomScalars(length: 997, using: &rng)
    let chunk = String(String.UnicodeScalarView(chunkScalars))
    let piece = Reference(chunk)
    let (pieceScalars, pieceUTF8, pieceUTF16) = (chunkScalars.count, piece.utf8.last!, piece.utf16.last!)
    let repetitions = 10_000_000 / pieceUTF8
    let text = String(repeating: chunk, count: repetitions)

    let index = TextIndex(text)
    #expect(index.scalarCount == repetitions * pieceScalars)
    #expect(index.utf8Count == repetitions * pieceUTF8)
    #expect(index.utf8Count == text.utf8.count)
    #expect(index.utf16Count == repetitions * pieceUTF16)

    // The scalar starting at each code-unit offset of the chunk, or nil mid-scalar.
    var scalarAtUTF8 = [Int?](repeating: nil, count: pieceUTF8 + 1)
    var scalarAtUTF16 = [Int?](repeating: nil, count: pieceUTF16 + 1)
    for scalar in 0...pieceScalars {
        scalarAtUTF8[piece.utf8[scalar]] = scalar
        scalarAtUTF16[piece.utf16[scalar]] = scalar
    }

    var failures: [String] = []
    for _ in 0..<100_000 {
        let scalar = rng.int(below: index.scalarCount + 1)
        let (q, r) = scalar.quotientAndRemainder(dividingBy: pieceScalars)
        let utf8 = q * pieceUTF8 + piece.utf8[r]
        let utf16 = q * pieceUTF16 + piece.utf16[r]
        if (try? index.utf8Offset(ofScalar: scalar)) != utf8 { failures.append("utf8Offset(ofScalar: \(scalar))") }
        if (try? index.utf16Offset(ofScalar: scalar)) != utf16 { failures.append("utf16Offset(ofScalar: \(scalar))") }
    }
    for _ in 0..<100_000 {
        let utf8 = rng.int(below: index.utf8Count + 1)
        let (q, r) = utf8.quotientAndRemainder(dividingBy: pieceUTF8)
        let expected = scalarAtUTF8[r].map { q * pieceScalars + $0 }
        let result = outcome { () throws(OffsetError) in try index.scalarOffset(ofUTF8: utf8) }
        if result.value != expected || (expected == nil && result.error?.code != .notOnBoundary) {
            failures.append("scalarOffset(ofUTF8: \(utf8))")
        }
    }
    for _ in 0..<100_000 {
        let utf16 = rng.int(below: index.utf16Count + 1)
        let (q, r) = utf16.quotientAndRemainder(dividingBy: pieceUTF16)
        let expected = scalarAtUTF16[r].map { q * pieceScalars + $0 }
        let result = outcome { () throws(OffsetError) in try index.scalarOffset(ofUTF16: utf16) }
        if result.value != expected || (expected == nil && result.error?.code != .notOnBoundary) {
            failures.append("scalarOffset(ofUTF16: \(utf16))")
        }
    }
    #expect(failures.isEmpty, "\(failures.count) failures, first: \(failures.prefix(5))")

    // A few values from a direct walk over the big text itself.
    var utf8 = 0
    var utf16 = 0
    for (scalar, value) in text.unicodeScalars.prefix(3000).enumerated() {
        if scalar % 211 == 0 {
            #expect(try index.utf8Offset(ofScalar: scalar) == utf8)
            #expect(try index.utf16Offset(ofScalar: scalar) == utf16)
            #expect(try index.scalarOffset(ofUTF8: utf8) == scalar)
            #expect(try index.scalarOffset(ofUTF16: utf16) == scalar)
        }
        utf8 += UTF8.width(value)
        utf16 += UTF16.width(value)
    }
    let middle = (repetitions / 2) * pieceScalars
    #expect(try sameScalars(index.text(in: TextRange(middle, middle + pieceScalars)), chunk))
    #expect(try index.utf8Offset(ofScalar: index.scalarCount) == index.utf8Count)
    #expect(try index.scalarOffset(ofUTF16: index.utf16Count) == index.scalarCount)
}

// MARK: - Helpers

/// Offsets computed the slow, obvious way: prefix sums over `unicodeScalars`.
private struct Reference {
    let scalars: [Unicode.Scalar]
    /// `utf8[i]` and `utf16[i]` are the offsets of scalar i; the last entries are the totals.
    let utf8: [Int]
    let utf16: [Int]

    init(_ text: String) {
        scalars = Array(text.unicodeScalars)
        var utf8 = [0]
        var utf16 = [0]
        for scalar in scalars {
            utf8.append(utf8.last! + String(scalar).utf8.count)
            utf16.append(utf16.last! + String(scalar).utf16.count)
        }
        self.utf8 = utf8
        self.utf16 = utf16
    }

    /// Every disagreement between `index` and this reference, over every offset in every unit.
    func mismatches(with index: TextIndex) -> [String] {
        var failures: [String] = []
        if index.scalarCount != scalars.count { failures.append("scalarCount \(index.scalarCount)") }
        if index.utf8Count != utf8.last! { failures.append("utf8Count \(index.utf8Count)") }
        if index.utf16Count != utf16.last! { failures.append("utf16Count \(index.utf16Count)") }
        if index.isASCII != scalars.allSatisfy(\.isASCII) { failures.append("isASCII \(index.isASCII)") }
        guard failures.isEmpty else { return failures }

        for scalar in 0...scalars.count {
            // Both directions, so each round trip scalar → unit → scalar is covered too.
            if (try? index.utf8Offset(ofScalar: scalar)) != utf8[scalar] {
                failures.append("utf8Offset(ofScalar: \(scalar))")
            }
            if (try? index.utf16Offset(ofScalar: scalar)) != utf16[scalar] {
                failures.append("utf16Offset(ofScalar: \(scalar))")
            }
            if (try? index.scalarOffset(ofUTF8: utf8[scalar])) != scalar {
                failures.append("scalarOffset(ofUTF8: \(utf8[scalar]))")
            }
            if (try? index.scalarOffset(ofUTF16: utf16[scalar])) != scalar {
                failures.append("scalarOffset(ofUTF16: \(utf16[scalar]))")
            }
        }
        // Every offset that is not a scalar start must be refused as such.
        let utf8Starts = Set(utf8)
        for offset in 0...utf8.last! where !utf8Starts.contains(offset) {
            let result = outcome { () throws(OffsetError) in try index.scalarOffset(ofUTF8: offset) }
            if result.error?.code != .notOnBoundary { failures.append("scalarOffset(ofUTF8: \(offset)) accepted") }
        }
        let utf16Starts = Set(utf16)
        for offset in 0...utf16.last! where !utf16Starts.contains(offset) {
            let result = outcome { () throws(OffsetError) in try index.scalarOffset(ofUTF16: offset) }
            if result.error?.code != .notOnBoundary { failures.append("scalarOffset(ofUTF16: \(offset)) accepted") }
        }
        return failures
    }
}

/// The result of a lookup, keeping the typed error for inspection.
private func outcome(_ lookup: () throws(OffsetError) -> Int) -> (value: Int?, error: OffsetError?) {
    do { return (try lookup(), nil) } catch { return (nil, error) }
}

/// Scalar-by-scalar equality: `==` on String is canonical equivalence, which would hide a
/// slice that returned "é" for "e\u{301}".
private func sameScalars(_ a: String, _ b: String) -> Bool {
    a.unicodeScalars.elementsEqual(b.unicodeScalars)
}
