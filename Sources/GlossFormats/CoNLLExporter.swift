import GlossModel

/// Writes documents as one CoNLL file: a `-DOCSTART- O` line and a blank line before each
/// document, then one `token<separator>tag` line per token and a blank line after each
/// sentence, which ``CoNLLImporter`` (given the texts) reads back to the same spans.
///
/// Tokens and sentences come from the text by ``CoNLLTokenizer``'s rule: a sentence per line,
/// tokens split at whitespace, with leading and trailing punctuation split off one character
/// at a time. Tags follow ``scheme`` (IOB2 by default).
///
/// What CoNLL cannot hold is reported: a span that does not start and end at token boundaries
/// is widened to the tokens it touches; a span over tokens that an earlier span (in text
/// order, longer first) already tags is left out, since a token has one tag; a discontinuous
/// span becomes one entity per range; a span across a line break becomes one entity per
/// sentence. Relations, document labels, notes and attributes have no CoNLL form and are
/// counted once per document. With `.io`, adjacent entities of one type merge.
public struct CoNLLExporter: Sendable {
    /// The tag scheme to write.
    public var scheme: CoNLLTagScheme
    /// Between token and tag: a space (CoNLL-2003) or a tab.
    public var separator: String
    /// The output file's name.
    public var fileName: String
    /// Whether each document starts with a `-DOCSTART- O` line.
    public var documentStart: Bool

    /// An exporter; see the properties for the parameters.
    public init(
        scheme: CoNLLTagScheme = .iob2, separator: String = " ", fileName: String = "export.conll",
        documentStart: Bool = true
    ) {
        self.scheme = scheme
        self.separator = separator
        self.fileName = fileName
        self.documentStart = documentStart
    }

    /// Renders the documents, in the given order, as one file.
    public func export(_ documents: [ExportDocument]) -> FormatExport {
        var out = ""
        var problems: [FormatProblem] = []
        for document in documents {
            if documentStart { out += "-DOCSTART-\(separator)O\n\n" }
            out += render(document, problems: &problems)
        }
        return FormatExport(files: [FormatExport.File(path: fileName, contents: Array(out.utf8))], problems: problems)
    }

    private func render(_ document: ExportDocument, problems: inout [FormatProblem]) -> String {
        let sentences = CoNLLTokenizer.sentences(document.text)
        let tokens = sentences.flatMap { $0 }
        var sentenceOf: [Int] = []
        for (s, sentence) in sentences.enumerated() { sentenceOf += Array(repeating: s, count: sentence.count) }
        var omitted = Omissions()
        func report(_ message: String) {
            problems.append(FormatProblem(.notOnTokenBoundary, "document \(document.id): \(message)", file: fileName))
        }

        // Each token's entity: (entity number, type); entities are numbered in text order.
        var entityOf = [(entity: Int, type: String)?](repeating: nil, count: tokens.count)
        var entities = 0
        let spans = document.annotations.filter { $0.kind == .span }.sorted {
            ($0.ranges.first?.start ?? 0, -($0.ranges.last?.end ?? 0), $0.label) < (
                $1.ranges.first?.start ?? 0, -($1.ranges.last?.end ?? 0), $1.label
            )
        }
        for a in document.annotations where a.kind != .span {
            switch a.kind {
            case .relation: omitted.add("relations")
            case .documentLabel: omitted.add("document labels")
            default: omitted.add("notes")
            }
        }
        for span in spans {
            if !span.attributes.isEmpty { omitted.add("span attributes", span.attributes.count) }
            if span.ranges.count > 1 { omitted.add("discontinuous spans (written as one entity per range)") }
            let name = "span \(span.label) (\(span.id))"
            // The tokens of each range, checked before any is tagged; widening is reported only
            // for spans that are written.
            var covered: [ClosedRange<Int>] = []
            var widened: [String] = []
            for range in span.ranges {
                // Tokens are in text order: the first ending after the start, the last starting before the end.
                let first = Self.partition(tokens) { $0.end > range.start }
                let last = Self.partition(tokens) { $0.start >= range.end } - 1
                guard first < tokens.count, last >= 0, first <= last else {
                    report("\(name) at \(range) covers no token; left out")
                    continue
                }
                if tokens[first].start != range.start || tokens[last].end != range.end {
                    widened.append(
                        "\(name) at \(range) does not start and end at token boundaries; written as tokens "
                            + "\(TextRange(tokens[first].start, tokens[last].end))")
                }
                covered.append(first...last)
            }
            if covered.contains(where: { r in r.contains { entityOf[$0] != nil } }) {
                problems.append(
                    FormatProblem(
                        .unrepresentable,
                        "document \(document.id): \(name) overlaps a span already written (a token has one tag); "
                            + "left out", file: fileName))
                continue
            }
            widened.forEach(report)
            for r in covered {
                // A line break ends an entity: each sentence gets an entity of its own.
                if sentenceOf[r.lowerBound] != sentenceOf[r.upperBound] {
                    report("\(name) crosses a line break; written as one entity per sentence")
                }
                var previousSentence = -1
                for t in r {
                    if sentenceOf[t] != previousSentence {
                        entities += 1
                        previousSentence = sentenceOf[t]
                    }
                    entityOf[t] = (entities, span.label)
                }
            }
        }
        if let p = omitted.problem(document: document.id, format: "CoNLL", file: fileName) { problems.append(p) }

        let scalars = Array(document.text.unicodeScalars)
        var out = ""
        var t = 0
        for sentence in sentences {
            for (k, range) in sentence.enumerated() {
                let token = String(String.UnicodeScalarView(scalars[range.start..<range.end]))
                let previous = k > 0 ? entityOf[t - 1] : nil
                let next = k + 1 < sentence.count ? entityOf[t + 1] : nil
                out += token + separator + tag(entityOf[t], previous: previous, next: next) + "\n"
                t += 1
            }
            out += "\n"
        }
        return out
    }

    /// The first index whose token satisfies `isAfter` (which must be false, then true, along the tokens).
    private static func partition(_ tokens: [TextRange], _ isAfter: (TextRange) -> Bool) -> Int {
        var low = 0
        var high = tokens.count
        while low < high {
            let middle = (low + high) / 2
            if isAfter(tokens[middle]) { high = middle } else { low = middle + 1 }
        }
        return low
    }

    /// The tag of a token, given its neighbours' entities in the same sentence.
    private func tag(
        _ current: (entity: Int, type: String)?, previous: (entity: Int, type: String)?,
        next: (entity: Int, type: String)?
    ) -> String {
        guard let current else { return "O" }
        let starts = previous?.entity != current.entity
        let ends = next?.entity != current.entity
        switch scheme {
        case .iob2: return (starts ? "B-" : "I-") + current.type
        case .iob1:
            // B- only where an entity directly follows another of the same type.
            return (starts && previous?.type == current.type ? "B-" : "I-") + current.type
        case .bioes:
            switch (starts, ends) {
            case (true, true): return "S-" + current.type
            case (true, false): return "B-" + current.type
            case (false, true): return "E-" + current.type
            case (false, false): return "I-" + current.type
            }
        case .io: return current.type
        }
    }
}

extension ErrorCode where Domain == FormatProblem {
    /// A span whose ends are not token boundaries, or that crosses a sentence; written widened or split.
    public static let notOnTokenBoundary = Self(rawValue: "not-on-token-boundary")
}
