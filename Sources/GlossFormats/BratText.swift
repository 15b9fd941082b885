import GlossModel

/// A document text as brat lines see it: converts fragment offsets between the file's unit
/// and Gloss's scalars, and spells out the text a `T` line records for its ranges.
struct BratText {
    let index: TextIndex

    init(_ text: String) { index = TextIndex(text) }

    /// Scalar ranges for fragments written in `unit`, in the fragments' order.
    func scalarRanges(_ fragments: [TextRange], unit: OffsetError.Unit) throws(OffsetError) -> [TextRange] {
        var ranges: [TextRange] = []
        ranges.reserveCapacity(fragments.count)
        for f in fragments {
            ranges.append(TextRange(try scalar(f.start, unit), try scalar(f.end, unit)))
        }
        return ranges
    }

    /// Fragments in `unit` for scalar ranges (which must be inside the text).
    func fragments(_ ranges: [TextRange], unit: OffsetError.Unit) throws(OffsetError) -> [TextRange] {
        var fragments: [TextRange] = []
        for r in ranges {
            fragments.append(TextRange(try fileOffset(r.start, unit), try fileOffset(r.end, unit)))
        }
        return fragments
    }

    /// The text of the ranges (in the given order) joined by a space, as brat records it for discontinuous spans,
    /// with line breaks (which would end the `.ann` line) written as spaces.
    func recordedText(_ ranges: [TextRange]) throws(OffsetError) -> String {
        var parts: [String] = []
        for r in ranges { parts.append(try index.text(in: r)) }
        return Self.flatteningLineBreaks(parts.joined(separator: " "))
    }

    /// Whether a `T` line's recorded text matches the text at its ranges (line breaks in the
    /// document may appear as spaces in the line).
    func matches(_ recorded: String, _ ranges: [TextRange]) -> Bool {
        guard let covered = try? recordedText(ranges) else { return false }
        return covered == recorded || covered == Self.flatteningLineBreaks(recorded)
    }

    static func flatteningLineBreaks(_ s: String) -> String {
        guard s.utf8.contains(where: { $0 == 0x0A || $0 == 0x0D }) else { return s }
        var scalars = String.UnicodeScalarView()
        for u in s.unicodeScalars { scalars.append(u == "\n" || u == "\r" ? " " : u) }
        return String(scalars)
    }

    private func scalar(_ offset: Int, _ unit: OffsetError.Unit) throws(OffsetError) -> Int {
        switch unit {
        case .scalar:
            guard offset >= 0, offset <= index.scalarCount else {
                throw OffsetError(
                    .outOfBounds, "scalar offset \(offset) is outside 0...\(index.scalarCount)", offset: offset,
                    unit: .scalar)
            }
            return offset
        case .utf16: return try index.scalarOffset(ofUTF16: offset)
        case .utf8: return try index.scalarOffset(ofUTF8: offset)
        }
    }

    private func fileOffset(_ scalar: Int, _ unit: OffsetError.Unit) throws(OffsetError) -> Int {
        switch unit {
        case .scalar:
            guard scalar >= 0, scalar <= index.scalarCount else {
                throw OffsetError(
                    .outOfBounds, "scalar offset \(scalar) is outside 0...\(index.scalarCount)", offset: scalar,
                    unit: .scalar)
            }
            return scalar
        case .utf16: return try index.utf16Offset(ofScalar: scalar)
        case .utf8: return try index.utf8Offset(ofScalar: scalar)
        }
    }
}
