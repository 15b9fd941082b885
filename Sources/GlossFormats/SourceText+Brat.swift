import GlossModel

/// How brat lines see a document text: the text a `T` line records for its ranges.
extension SourceText {
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

}
