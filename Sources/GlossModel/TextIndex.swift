/// An offset that cannot be converted: out of bounds, or not on a Unicode scalar boundary.
///
/// The code is stable and machine-readable; the message is for people; `offset` and `unit`
/// say which offset was wrong and in what unit it was given.
public struct OffsetError: Error, Hashable, Sendable, CustomStringConvertible {
    public typealias Code = ErrorCode<OffsetError>

    /// The unit an offset is counted in.
    public enum Unit: String, Hashable, Sendable, CustomStringConvertible {
        /// Unicode scalars (code points): Gloss's own unit.
        case scalar
        /// UTF-8 code units (bytes).
        case utf8
        /// UTF-16 code units.
        case utf16

        public var description: String {
            switch self {
            case .scalar: "scalar"
            case .utf8: "UTF-8"
            case .utf16: "UTF-16"
            }
        }
    }

    public var code: Code
    public var message: String
    /// The offending offset, counted in `unit`.
    public var offset: Int
    public var unit: Unit

    public init(_ code: Code, _ message: String, offset: Int, unit: Unit) {
        self.code = code
        self.message = message
        self.offset = offset
        self.unit = unit
    }

    public var description: String { "\(code): \(message)" }
}

/// Converts offsets into one text between Unicode scalars (Gloss's unit), UTF-8 bytes and
/// UTF-16 code units, and slices the text by scalar ranges.
///
/// Built once in O(n); every lookup afterwards is O(1) or O(log n) plus a scan of at most
/// ``checkpointInterval`` scalars, so converting offsets in a large document stays cheap.
/// Offsets are never counted in grapheme clusters: a CRLF is two scalars, `e\u{301}` is two.
public struct TextIndex: Sendable {
    /// Scalars between two checkpoints: the most a lookup ever has to scan.
    public static let checkpointInterval = 64
    // Lets lookups divide and take remainders by the interval with shifts and masks.
    private static let intervalShift = checkpointInterval.trailingZeroBitCount
    private static let intervalMask = checkpointInterval - 1

    /// The number of Unicode scalars in the text.
    public let scalarCount: Int
    /// The number of UTF-16 code units in the text.
    public let utf16Count: Int
    /// The number of UTF-8 bytes in the text.
    public var utf8Count: Int { bytes.count }
    /// Whether the text is all ASCII, so that scalar, UTF-8 and UTF-16 offsets coincide.
    public var isASCII: Bool { utf8Checkpoints.isEmpty }

    // Swift strings are always valid UTF-8, so every lead byte can be trusted to give the
    // length of its sequence when scanning.
    private let bytes: [UInt8]
    // Entry i is the UTF-8 (resp. UTF-16) offset of scalar i * 64, for every i * 64 in
    // 0...scalarCount. Both are empty for ASCII text, where no table is needed; otherwise
    // entry 0 always exists and is 0. Int32 halves the memory of Int; it limits a text to
    // 2 GiB of UTF-8, far beyond any document.
    private let utf8Checkpoints: [Int32]
    private let utf16Checkpoints: [Int32]

    /// Indexes `text` in one pass over its UTF-8 bytes.
    ///
    /// - Precondition: the text is at most `Int32.max` UTF-8 bytes long.
    public init(_ text: String) {
        let bytes = Array(text.utf8)
        precondition(bytes.count <= Int(Int32.max), "TextIndex supports texts of at most 2 GiB of UTF-8")
        self.bytes = bytes

        var utf8Checkpoints: [Int32] = []
        var utf16Checkpoints: [Int32] = []
        var scalars = 0
        var utf16Units = 0
        bytes.withUnsafeBufferPointer { buffer in
            // Offsets coincide over an ASCII prefix: find where it ends before paying for tables.
            var i = 0
            while i < buffer.count, buffer[i] < 0x80 { i += 1 }
            scalars = i
            utf16Units = i
            guard i < buffer.count else { return }

            let capacity = buffer.count / Self.checkpointInterval + 2
            utf8Checkpoints.reserveCapacity(capacity)
            utf16Checkpoints.reserveCapacity(capacity)
            for prefixCheckpoint in stride(from: 0, to: i, by: Self.checkpointInterval) {
                utf8Checkpoints.append(Int32(prefixCheckpoint))
                utf16Checkpoints.append(Int32(prefixCheckpoint))
            }
            // Resume at the first scalar past the prefix: `i` is a scalar start, so the scan
            // below steps from lead byte to lead byte.
            while i < buffer.count {
                if scalars & Self.intervalMask == 0 {
                    utf8Checkpoints.append(Int32(i))
                    utf16Checkpoints.append(Int32(utf16Units))
                }
                let lead = buffer[i]
                i += Self.sequenceLength(lead: lead)
                utf16Units += Self.utf16Length(lead: lead)
                scalars += 1
            }
            // The end of the text is a valid offset too; when it falls on a checkpoint, give it
            // an entry so that lookups of `scalarCount` find one.
            if scalars & Self.intervalMask == 0 {
                utf8Checkpoints.append(Int32(i))
                utf16Checkpoints.append(Int32(utf16Units))
            }
        }
        self.scalarCount = scalars
        self.utf16Count = utf16Units
        self.utf8Checkpoints = utf8Checkpoints
        self.utf16Checkpoints = utf16Checkpoints
    }

    // MARK: - Scalar to UTF-8 / UTF-16

    /// The UTF-8 byte offset of the scalar at `offset`; `scalarCount` maps to `utf8Count`.
    ///
    /// - Throws: ``OffsetError/Code/outOfBounds`` unless `offset` is in `0...scalarCount`.
    public func utf8Offset(ofScalar offset: Int) throws(OffsetError) -> Int {
        try checkBounds(offset, upTo: scalarCount, unit: .scalar)
        return isASCII ? offset : position(ofScalar: offset).utf8
    }

    /// The UTF-16 offset of the scalar at `offset`; `scalarCount` maps to `utf16Count`.
    ///
    /// - Throws: ``OffsetError/Code/outOfBounds`` unless `offset` is in `0...scalarCount`.
    public func utf16Offset(ofScalar offset: Int) throws(OffsetError) -> Int {
        try checkBounds(offset, upTo: scalarCount, unit: .scalar)
        return isASCII ? offset : position(ofScalar: offset).utf16
    }

    // MARK: - UTF-8 / UTF-16 to scalar

    /// The scalar offset that starts at UTF-8 byte `offset`; `utf8Count` maps to `scalarCount`.
    ///
    /// - Throws: ``OffsetError/Code/outOfBounds`` unless `offset` is in `0...utf8Count`;
    ///   ``OffsetError/Code/notOnBoundary`` if it falls inside a multi-byte sequence.
    public func scalarOffset(ofUTF8 offset: Int) throws(OffsetError) -> Int {
        try checkBounds(offset, upTo: utf8Count, unit: .utf8)
        if isASCII { return offset }
        let checkpoint = Self.lastCheckpoint(atOrBefore: offset, in: utf8Checkpoints)
        var scalar = checkpoint << Self.intervalShift
        var byte = Int(utf8Checkpoints[checkpoint])
        var scalarStart = byte
        while byte < offset {
            scalarStart = byte
            byte += Self.sequenceLength(lead: bytes[byte])
            scalar += 1
        }
        guard byte == offset else {
            throw OffsetError(
                .notOnBoundary,
                "UTF-8 offset \(offset) falls inside a multi-byte sequence "
                    + "(scalar \(scalar - 1) spans UTF-8 \(scalarStart)..<\(byte))",
                offset: offset, unit: .utf8)
        }
        return scalar
    }

    /// The scalar offset that starts at UTF-16 `offset`; `utf16Count` maps to `scalarCount`.
    ///
    /// - Throws: ``OffsetError/Code/outOfBounds`` unless `offset` is in `0...utf16Count`;
    ///   ``OffsetError/Code/notOnBoundary`` if it falls between the halves of a surrogate pair.
    public func scalarOffset(ofUTF16 offset: Int) throws(OffsetError) -> Int {
        try checkBounds(offset, upTo: utf16Count, unit: .utf16)
        if isASCII { return offset }
        let checkpoint = Self.lastCheckpoint(atOrBefore: offset, in: utf16Checkpoints)
        var scalar = checkpoint << Self.intervalShift
        var byte = Int(utf8Checkpoints[checkpoint])
        var unit = Int(utf16Checkpoints[checkpoint])
        while unit < offset {
            let lead = bytes[byte]
            byte += Self.sequenceLength(lead: lead)
            unit += Self.utf16Length(lead: lead)
            scalar += 1
        }
        guard unit == offset else {
            // Only a surrogate pair (two units) can be overshot, and by exactly one unit.
            throw OffsetError(
                .notOnBoundary,
                "UTF-16 offset \(offset) falls inside a surrogate pair "
                    + "(scalar \(scalar - 1) spans UTF-16 \(unit - 2)..<\(unit))",
                offset: offset, unit: .utf16)
        }
        return scalar
    }

    // MARK: - Slicing

    /// The text covered by a scalar range, in O(range length) rather than O(n).
    ///
    /// - Throws: ``OffsetError/Code/outOfBounds`` if either end is outside `0...scalarCount`;
    ///   ``OffsetError/Code/invertedRange`` if `range.end < range.start`.
    public func text(in range: TextRange) throws(OffsetError) -> String {
        guard range.start <= range.end else {
            throw OffsetError(
                .invertedRange, "range \(range) ends before it starts", offset: range.end, unit: .scalar)
        }
        let startByte = try utf8Offset(ofScalar: range.start)
        let endByte = try utf8Offset(ofScalar: range.end)
        return String(decoding: bytes[startByte..<endByte], as: UTF8.self)
    }

    // MARK: - Helpers

    private func checkBounds(_ offset: Int, upTo count: Int, unit: OffsetError.Unit) throws(OffsetError) {
        guard offset >= 0, offset <= count else {
            throw OffsetError(
                .outOfBounds, "\(unit) offset \(offset) is outside 0...\(count)", offset: offset, unit: unit)
        }
    }

    /// Both code-unit offsets of a scalar offset already known to be in bounds, in a text that
    /// is not ASCII.
    private func position(ofScalar offset: Int) -> (utf8: Int, utf16: Int) {
        let checkpoint = offset >> Self.intervalShift
        var byte = Int(utf8Checkpoints[checkpoint])
        var unit = Int(utf16Checkpoints[checkpoint])
        for _ in 0..<(offset & Self.intervalMask) {
            let lead = bytes[byte]
            byte += Self.sequenceLength(lead: lead)
            unit += Self.utf16Length(lead: lead)
        }
        return (byte, unit)
    }

    /// The index of the last checkpoint whose offset is at most `target`, by binary search.
    /// Checkpoint offsets strictly increase, since every scalar takes at least one code unit.
    private static func lastCheckpoint(atOrBefore target: Int, in table: [Int32]) -> Int {
        // Invariant: table[low] <= target (table[0] is 0), and the answer lies in low..<high.
        var low = 0
        var high = table.count
        while high - low > 1 {
            let middle = (low + high) >> 1
            if Int(table[middle]) <= target { low = middle } else { high = middle }
        }
        return low
    }

    /// The length of the UTF-8 sequence a lead byte starts (valid UTF-8 assumed).
    @inline(__always)
    private static func sequenceLength(lead: UInt8) -> Int {
        if lead < 0x80 { return 1 }
        if lead < 0xE0 { return 2 }
        if lead < 0xF0 { return 3 }
        return 4
    }

    /// The number of UTF-16 code units of the scalar a lead byte starts: astral scalars, the
    /// only ones encoded in four bytes, need a surrogate pair.
    @inline(__always)
    private static func utf16Length(lead: UInt8) -> Int { lead < 0xF0 ? 1 : 2 }
}

extension ErrorCode where Domain == OffsetError {
    public static let outOfBounds = Self(rawValue: "offset-out-of-bounds")
    public static let notOnBoundary = Self(rawValue: "offset-not-on-boundary")
    public static let invertedRange = Self(rawValue: "offset-range-inverted")
}
