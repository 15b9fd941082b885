import GlossModel

/// Writes a document's text with its spans as inline markup (`[covered text](LABEL key=value)`),
/// for `gloss show` when piped, `gloss edit` and `gloss export inline`.
///
/// Spans with one non-empty range that nest properly are written inline; when two spans cross,
/// the one that starts first (the longer one, at the same start) stays inline. Spans the inline
/// form cannot show (several ranges, crossing another inline span, empty, a second copy of the
/// same label and range) and document labels go to the trailer after a `%%% gloss` line.
/// ``InlineMarkupParser`` reads an unedited rendering back to exactly the same spans, document
/// labels and attributes. Relations and notes are not shown. See Docs/inline-markup.md.
public struct InlineMarkupRenderer: Sendable {
    /// When set and not open, the trailer's comment lists the labels and attributes it allows.
    public var schema: Schema?
    /// Write the trailer even when it holds nothing, for `gloss edit`: it explains the syntax, and
    /// an editor's final line break then lands in the trailer instead of the text.
    public var alwaysWriteTrailer: Bool

    public init(schema: Schema? = nil, alwaysWriteTrailer: Bool = false) {
        self.schema = schema
        self.alwaysWriteTrailer = alwaysWriteTrailer
    }

    /// The markup for `text` with the spans and document labels among `annotations`.
    public func render(text: String, annotations: [Annotation]) -> String {
        let length = text.unicodeScalars.count
        let (inline, trailerSpans) = Self.split(annotations.filter { $0.kind == .span }, length: length)
        let labels = annotations.filter { $0.kind == .documentLabel }.sorted {
            ($0.label, $0.id) < ($1.label, $1.id)
        }

        var body = String.UnicodeScalarView()
        var next = 0
        var open: [Annotation] = []
        var offset = 0
        func close(at offset: Int) {
            while let top = open.last, top.ranges[0].end == offset {
                body.append(contentsOf: "](".unicodeScalars)
                body.append(contentsOf: Self.spec(top).unicodeScalars)
                body.append(")")
                open.removeLast()
            }
        }
        for scalar in text.unicodeScalars {
            close(at: offset)
            while next < inline.count, inline[next].ranges[0].start == offset {
                body.append("[")
                open.append(inline[next])
                next += 1
            }
            InlineMarkupSyntax.appendText(scalar, to: &body)
            offset += 1
        }
        close(at: offset)

        // A text line equal to the marker would be taken for the trailer unless a real
        // trailer follows it.
        let needsTrailer =
            alwaysWriteTrailer || !trailerSpans.isEmpty || !labels.isEmpty
            || InlineMarkupSyntax.trailerStart(Array(body)) != nil
        guard needsTrailer else { return String(body) }
        var out = String(body) + "\n" + InlineMarkupSyntax.marker + "\n" + header()
        for label in labels { out += "label " + InlineMarkupLabel(label).description + "\n" }
        let index = trailerSpans.isEmpty ? nil : TextIndex(text)
        for span in trailerSpans {
            out += "span " + InlineMarkupSpan(span).description
            if let reminder = index.flatMap({ Self.reminder(span.ranges, $0) }) { out += "  # " + reminder }
            out += "\n"
        }
        return out
    }

    /// Spans to write inline, sorted by start (longer first), and spans for the trailer in text order.
    static func split(_ spans: [Annotation], length: Int) -> (inline: [Annotation], trailer: [Annotation]) {
        struct Key: Hashable {
            var label: String
            var ranges: [TextRange]
        }
        let sorted = spans.sorted { a, b in
            let x = (a.ranges.first?.start ?? 0, -(a.ranges.last?.end ?? 0), a.label, a.id)
            let y = (b.ranges.first?.start ?? 0, -(b.ranges.last?.end ?? 0), b.label, b.id)
            return x < y
        }
        var inline: [Annotation] = []
        var trailer: [Annotation] = []
        var seen = Set<Key>()
        var stack: [TextRange] = []  // the inline spans open at the current start
        for span in sorted {
            let first = seen.insert(Key(label: span.label, ranges: span.ranges)).inserted
            guard first, span.ranges.count == 1, let r = span.ranges.first, r.start < r.end, r.start >= 0,
                r.end <= length
            else {
                trailer.append(span)
                continue
            }
            while let top = stack.last, top.end <= r.start { stack.removeLast() }
            // The top open span contains all others: nesting in it is nesting in all of them.
            if let top = stack.last, r.end > top.end {
                trailer.append(span)
                continue
            }
            stack.append(r)
            inline.append(span)
        }
        trailer.sort { a, b in
            if a.ranges != b.ranges { return a.ranges.lexicographicallyPrecedes(b.ranges) }
            return (a.label, a.id) < (b.label, b.id)
        }
        return (inline, trailer)
    }

    /// `LABEL key=value`, the part between the parentheses.
    static func spec(_ span: Annotation) -> String {
        InlineMarkupSyntax.token(span.label) + InlineMarkupSyntax.attributes(span.attributes)
    }

    /// The covered text, quoted and shortened, fragments separated by ` … `.
    private static func reminder(_ ranges: [TextRange], _ index: TextIndex) -> String? {
        var parts: [String] = []
        for r in ranges {
            guard let covered = try? index.text(in: r) else { return nil }
            let scalars = covered.unicodeScalars
            let cut = scalars.count > 40
            var short = String(String.UnicodeScalarView(scalars.prefix(40)))
            if cut { short += "…" }
            parts.append(InlineMarkupSyntax.quote(short))
        }
        return parts.joined(separator: " … ")
    }

    private func header() -> String {
        var lines = [
            "# Below: annotations inline markup cannot show, and document labels; not document text.",
            "# One per line (\"#\" starts a comment):",
            "#   label LABEL [KEY=VALUE ...]",
            "#   span LABEL START-END[,START-END ...] [KEY=VALUE ...]",
            "# Offsets count Unicode code points from 0, end exclusive; the quoted text after a span is ignored.",
        ]
        if let schema, !schema.isOpen {
            // Written as the markup needs them (quoted when necessary), which also keeps a
            // line break in a name from ending the comment.
            let token = InlineMarkupSyntax.token
            let attributes = schema.attributes.map { rule in
                token(rule.name)
                    + (rule.values.isEmpty ? "" : " (" + rule.values.map(token).joined(separator: "|") + ")")
            }
            lines.append("# Span labels: " + Self.list(schema.spanLabels.map(token)))
            lines.append("# Document labels: " + Self.list(schema.documentLabels.map(token)))
            lines.append("# Attributes: " + Self.list(attributes))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private static func list(_ items: [String]) -> String { items.isEmpty ? "(none)" : items.joined(separator: ", ") }
}
