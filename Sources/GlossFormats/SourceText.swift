import GlossModel

/// A document text as another tool's offsets see it: converts offsets between the unit the
/// file counts in (Unicode scalars, UTF-16 code units or UTF-8 bytes) and Gloss's scalars, and
/// detects that unit from the span texts a file records.
struct SourceText {
    let index: TextIndex

    init(_ text: String) { index = TextIndex(text) }

    /// The text of one scalar range.
    func text(in range: TextRange) throws(OffsetError) -> String { try index.text(in: range) }

    /// The unit a file's offsets are in, judged by how many recorded span texts they pick out:
    /// scalars (what Gloss, brat and Python count) unless UTF-16 units (JavaScript tools) or UTF-8
    /// bytes make strictly more of them match. An ASCII text cannot tell the units apart.
    ///
    /// - Parameters:
    ///   - recorded: each span's offsets as the file writes them, with the text it records.
    ///   - matches: whether a recorded text agrees with the text at scalar ranges (formats
    ///     differ: brat writes line breaks as spaces, others trim whitespace).
    func detectUnit(
        _ recorded: [(fragments: [TextRange], text: String)], matches: (String, [TextRange]) -> Bool
    ) -> OffsetError.Unit {
        func count(_ unit: OffsetError.Unit) -> Int {
            recorded.reduce(0) { n, span in
                guard let ranges = try? scalarRanges(span.fragments, unit: unit) else { return n }
                return n + (matches(span.text, ranges) ? 1 : 0)
            }
        }
        let scalarMatches = count(.scalar)
        guard scalarMatches < recorded.count, !index.isASCII else { return .scalar }
        var best = (unit: OffsetError.Unit.scalar, count: scalarMatches)
        if index.utf16Count != index.scalarCount {
            let n = count(.utf16)
            if n > best.count { best = (.utf16, n) }
        }
        let n = count(.utf8)
        if n > best.count { best = (.utf8, n) }
        return best.unit
    }

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

    /// The scalar range for one start/end pair written in `unit`.
    func scalarRange(start: Int, end: Int, unit: OffsetError.Unit) throws(OffsetError) -> TextRange {
        guard start <= end else {
            throw OffsetError(.invertedRange, "range \(start)-\(end) ends before it starts", offset: end, unit: unit)
        }
        return TextRange(try scalar(start, unit), try scalar(end, unit))
    }

    /// Whether UTF-16 offsets differ from scalar offsets anywhere in the text (it has astral
    /// scalars such as emoji); otherwise the two units cannot be told apart, and need not be.
    var hasAstralScalars: Bool { index.utf16Count != index.scalarCount }

    /// Whether a scalar offset does not split a word: it is an end of the text, or a letter or
    /// digit is not on both sides of it. For formats that record no span texts, spans that
    /// start and end at such offsets are evidence for an offset unit.
    func isWordBoundary(_ offset: Int) -> Bool {
        guard offset > 0, offset < index.scalarCount,
            let pair = try? index.text(in: TextRange(offset - 1, offset + 1)).unicodeScalars
        else { return true }
        func isWordScalar(_ u: Unicode.Scalar) -> Bool { u.properties.isAlphabetic || u.properties.numericType != nil }
        return !pair.allSatisfy(isWordScalar)
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
