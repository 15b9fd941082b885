import Foundation
import GlossClient
import GlossModel
import GlossTestSupport
import Testing

/// The hand-written JSON of `gloss log --json` against `JSONEncoder`, which wrote it before, and
/// the hand-written times of `gloss log` against `DateFormatter`.
@Suite(.hangGuard, .timeLimit(.minutes(10)))
struct JSONWriterTests {
    static func encoded(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    /// Strings drawn from what escaping cares about: every control character, quote, backslash,
    /// slash, DEL, multi-byte scalars (U+2028 is escaped by some encoders), emoji and combining marks.
    static func randomString(_ rng: inout SplitMix64) -> String {
        let pool: [Unicode.Scalar] =
            (0..<0x20).map { Unicode.Scalar($0)! }
            + ["\"", "\\", "/", "a", "Z", " ", "~", "\u{7F}", "\u{80}", "é", "\u{2028}", "\u{2029}", "\u{FEFF}", "日", "😀", "\u{301}", "<", "&"]
        var s = String.UnicodeScalarView()
        for _ in 0..<rng.int(below: 24) { s.append(rng.pick(pool)) }
        return String(s)
    }

    @Test func stringsAreEscapedExactlyAsJSONEncoderEscapesThem() throws {
        var rng = SplitMix64(seed: 7)
        for _ in 0..<2_000 {
            let value = Self.randomString(&rng)
            var w = JSONWriter()
            w.beginArray()
            w.string(value)
            w.endArray()
            #expect(String(decoding: w.bytes, as: UTF8.self) == (try Self.encoded([value])), "\(Array(value.unicodeScalars))")
        }
        // Each control character alone, so a wrong one names itself.
        for byte in 0..<0x20 {
            let value = String(Unicode.Scalar(UInt8(byte)))
            var w = JSONWriter()
            w.string(value)
            #expect("[" + String(decoding: w.bytes, as: UTF8.self) + "]" == (try Self.encoded([value])), "U+\(byte)")
        }
    }

    @Test func integersAndLiteralsAreWrittenAsJSONEncoderWritesThem() throws {
        var rng = SplitMix64(seed: 11)
        var values: [Int64] = [0, 1, -1, 9, 10, -10, .max, .min, 1_700_000_000]
        for _ in 0..<500 { values.append(Int64(bitPattern: rng.next()) >> rng.int(below: 63)) }
        var w = JSONWriter()
        w.beginArray()
        for v in values { w.int(v) }
        w.bool(true)
        w.bool(false)
        w.null()
        w.endArray()
        let expected = try Self.encoded(values).dropLast() + ",true,false,null]"
        #expect(String(decoding: w.bytes, as: UTF8.self) == expected)
    }

    /// A log row as `gloss log --json` wrote it through `JSONEncoder`.
    struct Row: Encodable {
        var revision: Int?
        var pending: Bool
        var changeset: String
        var author: String
        var timestamp: Int64
        var message: String
        var ops: Int
        var documents: [String]
    }

    @Test func objectsNestAndSeparateAsJSONEncoderWritesThem() throws {
        var rng = SplitMix64(seed: 3)
        var w = JSONWriter()
        for _ in 0..<300 {
            let id = ChangesetID.random(using: &rng)
            let row = Row(
                revision: rng.chance(20) ? nil : rng.int(below: 100_000), pending: rng.chance(50),
                changeset: id.description, author: Self.randomString(&rng), timestamp: Int64(rng.int(below: 2_000_000_000)),
                message: Self.randomString(&rng), ops: rng.int(below: 500),
                documents: (0..<rng.int(below: 4)).map { _ in Self.randomString(&rng) })
            w.removeAll()
            // Keys in sorted order, as a caller of the writer must give them.
            w.beginObject()
            w.key("author")
            w.string(row.author)
            w.key("changeset")
            w.hexString(id.high, id.low)
            w.key("documents")
            w.strings(row.documents)
            w.key("message")
            w.string(row.message)
            w.key("ops")
            w.int(row.ops)
            w.key("pending")
            w.bool(row.pending)
            if let revision = row.revision {
                w.key("revision")
                w.int(revision)
            }
            w.key("timestamp")
            w.int(row.timestamp)
            w.endObject()
            #expect(String(decoding: w.bytes, as: UTF8.self) == (try Self.encoded(row)))
        }
    }

    @Test func minutesAreFormattedAsDateFormatterFormatsThem() {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm"
        var rng = SplitMix64(seed: 5)
        // Edges (the epoch, leap days, century years, the last minute of 9999 and just past it)
        // and random times over the whole range, plus the negative ones Foundation formats.
        var times: [Int64] = [
            0, 59, 60, 86_399, 86_400, 951_782_400, 951_868_799, 4_107_542_400, 253_402_300_799, 253_402_300_800,
            -1, -86_401, 1_700_000_000,
        ]
        for _ in 0..<3_000 { times.append(Int64(rng.next() % 253_402_400_000)) }
        for _ in 0..<200 { times.append(-Int64(rng.next() % 62_000_000_000)) }
        for t in times {
            #expect(MinuteFormat.utc(t) == formatter.string(from: Date(timeIntervalSince1970: TimeInterval(t))), "\(t)")
        }
    }
}
