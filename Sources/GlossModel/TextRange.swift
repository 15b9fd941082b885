/// A half-open range `[start, end)` of Unicode scalar (code point) offsets into a document's
/// text exactly as stored: a CRLF counts two. This is the unit of brat, Python and the W3C
/// TextPositionSelector.
public struct TextRange: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var start: Int
    public var end: Int

    public init(_ start: Int, _ end: Int) {
        self.start = start
        self.end = end
    }

    public var length: Int { end - start }

    public func overlaps(_ other: TextRange) -> Bool { start < other.end && other.start < end }

    public static func < (a: TextRange, b: TextRange) -> Bool { (a.start, a.end) < (b.start, b.end) }

    /// brat's notation: `0 5`.
    public var description: String { "\(start)-\(end)" }
}
