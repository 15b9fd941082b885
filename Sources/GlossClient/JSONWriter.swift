/// A JSON text written straight into bytes, for listings that print thousands of rows
/// (`gloss log --json`): Foundation's `JSONEncoder` builds a tree of boxed values per row and
/// costs several times what the row is worth.
///
/// It writes exactly what `JSONEncoder` with `[.sortedKeys, .withoutEscapingSlashes]` writes:
/// strings escaped the same way, integers in decimal, no spaces. Keys come out in the order
/// they are written, so callers write them sorted (by UTF-8 bytes, as `.sortedKeys` does).
/// Commas are placed by the writer: every value and key after the first in a container gets one.
public struct JSONWriter: Sendable {
    /// What has been written.
    public var bytes: [UInt8] = []
    /// Whether the next value or key follows another in its container.
    private var needsComma = false

    public init(capacity: Int = 0) {
        bytes.reserveCapacity(capacity)
    }

    /// Forgets what was written, keeping the storage.
    public mutating func removeAll() {
        bytes.removeAll(keepingCapacity: true)
        needsComma = false
    }

    private mutating func separate() {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
    }

    public mutating func beginObject() {
        separate()
        bytes.append(UInt8(ascii: "{"))
        needsComma = false
    }

    public mutating func endObject() {
        bytes.append(UInt8(ascii: "}"))
        needsComma = true
    }

    public mutating func beginArray() {
        separate()
        bytes.append(UInt8(ascii: "["))
        needsComma = false
    }

    public mutating func endArray() {
        bytes.append(UInt8(ascii: "]"))
        needsComma = true
    }

    /// An object's key; its value is written next.
    public mutating func key(_ name: String) {
        separate()
        escape(name)
        bytes.append(UInt8(ascii: ":"))
        needsComma = false
    }

    public mutating func string(_ value: String) {
        separate()
        escape(value)
        needsComma = true
    }

    public mutating func int(_ value: Int) { int(Int64(value)) }

    // Concrete, not generic: a generic integer called from another module goes through
    // witness tables for every digit.
    public mutating func int(_ value: Int64) {
        separate()
        if value == 0 {
            bytes.append(UInt8(ascii: "0"))
        } else {
            // Digits from the least significant, reversed in place (no String per number).
            var magnitude = value.magnitude
            if value < 0 { bytes.append(UInt8(ascii: "-")) }
            let start = bytes.count
            while magnitude > 0 {
                let (q, r) = magnitude.quotientAndRemainder(dividingBy: 10)
                bytes.append(UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: r))
                magnitude = q
            }
            bytes[start...].reverse()
        }
        needsComma = true
    }

    public mutating func bool(_ value: Bool) {
        separate()
        bytes.append(contentsOf: value ? Self.trueBytes : Self.falseBytes)
        needsComma = true
    }

    public mutating func null() {
        separate()
        bytes.append(contentsOf: Self.nullBytes)
        needsComma = true
    }

    /// A string of 32 lowercase hex digits, `high` first, most significant digit first: what
    /// `ChangesetID.description` is, without building the string.
    public mutating func hexString(_ high: UInt64, _ low: UInt64) {
        separate()
        bytes.append(UInt8(ascii: "\""))
        for shift in stride(from: 60, through: 0, by: -4) { bytes.append(Self.hex[Int((high >> UInt64(shift)) & 0xF)]) }
        for shift in stride(from: 60, through: 0, by: -4) { bytes.append(Self.hex[Int((low >> UInt64(shift)) & 0xF)]) }
        bytes.append(UInt8(ascii: "\""))
        needsComma = true
    }

    /// An array of strings.
    public mutating func strings(_ values: [String]) {
        beginArray()
        for value in values { string(value) }
        endArray()
    }

    private static let trueBytes: [UInt8] = Array("true".utf8)
    private static let falseBytes: [UInt8] = Array("false".utf8)
    private static let nullBytes: [UInt8] = Array("null".utf8)
    private static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    /// A string in quotes, escaped as `JSONEncoder` escapes it: quote, backslash and the
    /// control characters below U+0020 (`\b \f \n \r \t` by name, the rest as `\u00XX`);
    /// everything else, `/` and non-ASCII included, as its UTF-8 bytes.
    private mutating func escape(_ value: String) {
        bytes.append(UInt8(ascii: "\""))
        var value = value
        value.withUTF8 { utf8 in
            var runStart = 0
            for i in 0..<utf8.count {
                let byte = utf8[i]
                guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<i]))
                runStart = i + 1
                bytes.append(UInt8(ascii: "\\"))
                switch byte {
                case UInt8(ascii: "\""): bytes.append(UInt8(ascii: "\""))
                case UInt8(ascii: "\\"): bytes.append(UInt8(ascii: "\\"))
                case 0x08: bytes.append(UInt8(ascii: "b"))
                case 0x0C: bytes.append(UInt8(ascii: "f"))
                case 0x0A: bytes.append(UInt8(ascii: "n"))
                case 0x0D: bytes.append(UInt8(ascii: "r"))
                case 0x09: bytes.append(UInt8(ascii: "t"))
                default:
                    bytes.append(contentsOf: [UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0")])
                    bytes.append(Self.hex[Int(byte >> 4)])
                    bytes.append(Self.hex[Int(byte & 0xF)])
                }
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<utf8.count]))
        }
        bytes.append(UInt8(ascii: "\""))
    }
}
