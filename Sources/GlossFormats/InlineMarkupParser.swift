import GlossModel

/// Reads inline markup (as ``InlineMarkupRenderer`` writes it, possibly edited) back into spans
/// and document labels, for `gloss edit` and `gloss import inline`.
///
/// It checks, and reports with the 1-based line and column in the markup:
/// - that the text outside the markup is the document's text, unchanged (only when the
///   original text is given; the first difference is reported, with what was expected and found);
/// - the markup's syntax: brackets, `(LABEL key=value …)`, escapes, trailer lines and their ranges;
/// - labels, attribute names and values against the schema (unless it is open). A span or
///   document label that is in `original` unchanged is not checked, so that an annotation made
///   under an older schema does not block editing the rest.
///
/// All problems are collected and thrown together as an ``InlineMarkupError``.
public struct InlineMarkupParser: Sendable {
    public var schema: Schema
    /// The file name problems carry, when there is one.
    public var file: String?

    public init(schema: Schema = .open, file: String? = nil) {
        self.schema = schema
        self.file = file
    }

    /// Parses `markup`.
    ///
    /// - Parameters:
    ///   - originalText: the document's text, which the text outside the markup must equal;
    ///     nil accepts any text (an import that creates the document). When the markup has no
    ///     trailer, one final line feed that the original text lacks is ignored (editors add one).
    ///   - original: the annotations the markup was rendered from (spans and document labels
    ///     of the view); only used to spare unchanged ones the schema check.
    /// - Throws: ``InlineMarkupError`` with every problem found.
    public func parse(_ markup: String, originalText: String?, original: [Annotation] = []) throws(InlineMarkupError)
        -> InlineMarkupContent
    {
        var run = ParseRun(parser: self, markup: markup, originalText: originalText)
        run.parseBody()
        run.parseTrailer()
        run.checkSchema(unchanged: InlineMarkupContent(text: "", annotations: original))
        if !run.problems.isEmpty { throw InlineMarkupError(problems: run.problems) }
        return InlineMarkupContent(
            text: String(run.text), spans: run.spans.map(\.span), documentLabels: run.labels.map(\.label))
    }
}

/// An attribute as parsed, with where its key and value are.
private struct ParsedAttribute {
    var key: String
    var value: String
    var keyPosition: InlineMarkupScanner.Position
    var valuePosition: InlineMarkupScanner.Position
}

private typealias Position = InlineMarkupScanner.Position

/// The state of one parse.
private struct ParseRun {
    let parser: InlineMarkupParser
    let scalars: [Unicode.Scalar]
    let originalText: String?
    /// Index of the line feed before the marker line; nil without a trailer.
    let trailerStart: Int?
    var problems: [FormatProblem] = []

    var text = String.UnicodeScalarView()
    var textCount = 0
    var spans: [(span: InlineMarkupSpan, label: Position, attributes: [ParsedAttribute])] = []
    var labels: [(label: InlineMarkupLabel, position: Position, attributes: [ParsedAttribute])] = []

    // The text comparison, done while scanning so that the first difference has a position.
    var original: String.UnicodeScalarView.Index?
    let originalScalars: String.UnicodeScalarView?
    var mismatch: (offset: Int, position: Position)?
    /// Where malformed markup made the scan skip part of a line: a text difference after it is
    /// most likely that markup's doing, and is not reported.
    var textUncertainFrom: Position?

    init(parser: InlineMarkupParser, markup: String, originalText: String?) {
        self.parser = parser
        scalars = Array(markup.unicodeScalars)
        self.originalText = originalText
        trailerStart = InlineMarkupSyntax.trailerStart(scalars)
        originalScalars = originalText?.unicodeScalars
        original = originalScalars?.startIndex
    }

    // MARK: - Body

    mutating func parseBody() {
        var scanner = InlineMarkupScanner(scalars, to: trailerStart ?? scalars.count)
        var open: [(offset: Int, position: Position)] = []
        while let s = scanner.peek() {
            let position = scanner.position
            switch s {
            case "\\":
                scanner.advance()
                if let next = scanner.peek(), next == "[" || next == "]" || next == "\\" {
                    scanner.advance()
                    emit(next, at: position)
                } else {
                    report(
                        .invalidEscape,
                        "a backslash in the text must be followed by [, ] or \\ (write \\\\ for a backslash)",
                        position)
                    emit("\\", at: position)
                }
            case "[":
                scanner.advance()
                open.append((textCount, position))
            case "]":
                scanner.advance()
                guard let opening = open.popLast() else {
                    report(.unmatchedBracket, "] closes no [ (write \\] for a literal bracket)", position)
                    continue
                }
                guard scanner.peek() == "(" else {
                    report(
                        .missingLabel,
                        "the [ at \(opening.position.line):\(opening.position.column) must be closed by ](LABEL), "
                            + "found ] without (LABEL) (write \\[ and \\] for literal brackets)",
                        position)
                    continue
                }
                let parenthesis = scanner.position
                scanner.advance()
                guard let (label, attributes) = readSpec(&scanner, opened: parenthesis) else { continue }
                let span = InlineMarkupSpan(
                    label: label.value, ranges: [TextRange(opening.offset, textCount)],
                    attributes: Self.dictionary(attributes))
                spans.append((span, label.position, attributes))
            default:
                scanner.advance()
                emit(s, at: position)
            }
        }
        for opening in open {
            report(
                .unclosedBracket, "[ is never closed by ](LABEL) (write \\[ for a literal bracket)", opening.position)
        }
        finishTextComparison(bodyEnd: scanner.position)
    }

    /// Appends a text scalar and compares it with the original text.
    private mutating func emit(_ s: Unicode.Scalar, at position: Position) {
        text.append(s)
        textCount += 1
        guard mismatch == nil, let originalScalars, let index = original else { return }
        if index < originalScalars.endIndex, originalScalars[index] == s {
            original = originalScalars.index(after: index)
        } else {
            mismatch = (textCount - 1, position)
        }
    }

    private mutating func finishTextComparison(bodyEnd: Position) {
        guard let originalScalars, let index = original else { return }
        if mismatch == nil, index < originalScalars.endIndex { mismatch = (textCount, bodyEnd) }
        guard let (offset, position) = mismatch else { return }
        if let uncertain = textUncertainFrom, (uncertain.line, uncertain.column) <= (position.line, position.column) {
            return
        }
        // An editor's final line feed after text that has none: not a change.
        let originalCount = originalScalars.count
        if trailerStart == nil, offset == originalCount, textCount == originalCount + 1, text.last == "\n" {
            text.removeLast()
            textCount -= 1
            mismatch = nil
            return
        }
        let expected = originalScalars.dropFirst(offset)
        let found = text.dropFirst(offset)
        report(
            .markupTextChanged,
            "the text differs from the document's at text offset \(offset): expected "
                + Self.describe(expected) + ", found " + Self.describe(found)
                + "; only the markup may change (write \\[, \\] and \\\\ for literal [, ] and \\)",
            position)
    }

    private static func describe(_ scalars: some Collection<Unicode.Scalar>) -> String {
        scalars.isEmpty ? "the end of the text" : "\"" + InlineMarkupSyntax.excerpt(scalars) + "\""
    }

    /// Reads `LABEL key=value …)` after a `(`; nil (with the problem reported) when malformed.
    private mutating func readSpec(_ scanner: inout InlineMarkupScanner, opened: Position)
        -> (InlineMarkupScanner.Token, [ParsedAttribute])?
    {
        let start = scanner
        do throws(InlineMarkupScanner.Failure) {
            scanner.skipBlanks()
            let label = try scanner.readToken()
            if label.isMissing {
                throw InlineMarkupScanner.Failure(
                    code: .missingLabel,
                    message: "( must be followed by a label"
                        + (scanner.peek().map { $0 == "\n" ? ", found the end of the line" : ", found \($0)" } ?? ""),
                    position: label.position)
            }
            try checkNotEmpty(label)
            let attributes = try readAttributes(&scanner, inParentheses: true, opened: opened)
            return (label, attributes)
        } catch {
            // Resume after the first `)` of the line, the likeliest end of the spec. Without
            // one, "no closing )" is the better diagnosis, and the rest of the line is lost, so
            // the text can no longer be compared from here.
            scanner = start
            if scanner.hasAhead(")") {
                report(error.code, error.message, error.position)
                scanner.skipPastParenthesis()
            } else {
                report(.missingLabel, "the ( has no closing ) on its line", opened)
                scanner.skipToLineEnd()
                textUncertainFrom = textUncertainFrom ?? opened
            }
            return nil
        }
    }

    /// Reads `key=value` pairs up to `)` (inline) or the end of the line or a `#` comment (trailer).
    private mutating func readAttributes(_ scanner: inout InlineMarkupScanner, inParentheses: Bool, opened: Position)
        throws(InlineMarkupScanner.Failure) -> [ParsedAttribute]
    {
        var attributes: [ParsedAttribute] = []
        while true {
            scanner.skipBlanks()
            let s = scanner.peek()
            if inParentheses {
                if s == ")" {
                    scanner.advance()
                    return attributes
                }
                if s == nil || s == "\n" {
                    throw InlineMarkupScanner.Failure(
                        code: .missingLabel, message: "the ( has no closing ) on its line", position: opened)
                }
            } else if s == nil || s == "\n" || s == "#" {
                scanner.skipToLineEnd()
                return attributes
            }
            let key = try scanner.readToken()
            if key.isMissing {
                throw InlineMarkupScanner.Failure(
                    code: .malformedAttribute,
                    message: "expected key=value" + (inParentheses ? " or )" : "") + ", found \(scanner.peek()!)",
                    position: key.position)
            }
            if key.value.isEmpty {
                throw InlineMarkupScanner.Failure(
                    code: .malformedAttribute, message: "an attribute name must not be empty", position: key.position)
            }
            guard scanner.peek() == "=" else {
                throw InlineMarkupScanner.Failure(
                    code: .malformedAttribute,
                    message: "attribute \(InlineMarkupSyntax.token(key.value)) needs =VALUE (no spaces around =)",
                    position: scanner.position)
            }
            scanner.advance()
            let value = try scanner.readToken()
            if value.isMissing {
                throw InlineMarkupScanner.Failure(
                    code: .malformedAttribute,
                    message: "attribute \(InlineMarkupSyntax.token(key.value)) has no value "
                        + "(write \(InlineMarkupSyntax.token(key.value))=\"\" for an empty one)",
                    position: value.position)
            }
            if attributes.contains(where: { $0.key == key.value }) {
                report(
                    .duplicateAttribute, "attribute \(InlineMarkupSyntax.token(key.value)) is given twice",
                    key.position)
                continue
            }
            attributes.append(
                ParsedAttribute(
                    key: key.value, value: value.value, keyPosition: key.position, valuePosition: value.position))
        }
    }

    private func checkNotEmpty(_ label: InlineMarkupScanner.Token) throws(InlineMarkupScanner.Failure) {
        if label.value.isEmpty {
            throw InlineMarkupScanner.Failure(
                code: .missingLabel, message: "a label must not be empty", position: label.position)
        }
    }

    // MARK: - Trailer

    mutating func parseTrailer() {
        guard let trailerStart else { return }
        // The marker is on the line after the body's last line.
        let markerLine = scalars[..<trailerStart].reduce(1) { $1 == "\n" ? $0 + 1 : $0 } + 1
        var scanner = InlineMarkupScanner(scalars, from: trailerStart + 1, to: scalars.count, line: markerLine)
        scanner.skipToLineEnd()
        let length = originalScalars?.count ?? textCount
        while !scanner.atEnd {
            if scanner.peek() == "\n" { scanner.advance() }
            scanner.skipBlanks()
            guard let first = scanner.peek() else { break }
            if first == "\n" { continue }
            if first == "#" {
                scanner.skipToLineEnd()
                continue
            }
            do throws(InlineMarkupScanner.Failure) {
                try parseTrailerLine(&scanner, length: length)
            } catch {
                report(error.code, error.message, error.position)
                scanner.skipToLineEnd()
            }
        }
    }

    private mutating func parseTrailerLine(_ scanner: inout InlineMarkupScanner, length: Int)
        throws(InlineMarkupScanner.Failure)
    {
        let keyword = try scanner.readToken()
        guard !keyword.quoted, keyword.value == "label" || keyword.value == "span" else {
            let found = keyword.isMissing ? "\(scanner.peek()!)" : InlineMarkupSyntax.token(keyword.value)
            throw InlineMarkupScanner.Failure(
                code: .malformedTrailerLine,
                message: "a trailer line starts with label or span (or # for a comment), found \(found)",
                position: keyword.position)
        }
        let lineStart = keyword.position
        scanner.skipBlanks()
        let label = try scanner.readToken()
        if label.isMissing {
            throw InlineMarkupScanner.Failure(
                code: .malformedTrailerLine, message: "\(keyword.value) must be followed by a label",
                position: label.position)
        }
        try checkNotEmpty(label)
        if keyword.value == "label" {
            let attributes = try readAttributes(&scanner, inParentheses: false, opened: lineStart)
            labels.append(
                (
                    InlineMarkupLabel(label: label.value, attributes: Self.dictionary(attributes)), label.position,
                    attributes
                ))
            return
        }
        scanner.skipBlanks()
        let rangesToken = try scanner.readToken()
        let ranges = try Self.ranges(rangesToken, length: length)
        let attributes = try readAttributes(&scanner, inParentheses: false, opened: lineStart)
        spans.append(
            (
                InlineMarkupSpan(label: label.value, ranges: ranges, attributes: Self.dictionary(attributes)),
                label.position, attributes
            ))
    }

    /// `START-END[,START-END…]` into sorted, checked ranges.
    private static func ranges(_ token: InlineMarkupScanner.Token, length: Int) throws(InlineMarkupScanner.Failure)
        -> [TextRange]
    {
        func fail(_ code: FormatProblem.Code, _ message: String) -> InlineMarkupScanner.Failure {
            InlineMarkupScanner.Failure(code: code, message: message, position: token.position)
        }
        guard !token.isMissing, !token.quoted else {
            throw fail(.invalidOffsets, "span LABEL must be followed by START-END[,START-END …]")
        }
        var ranges: [TextRange] = []
        for part in token.value.split(separator: ",", omittingEmptySubsequences: false) {
            let ends = part.split(separator: "-", omittingEmptySubsequences: false)
            guard ends.count == 2, let start = Int(ends[0]), let end = Int(ends[1]), start >= 0,
                ends.allSatisfy({ $0.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 } })
            else {
                throw fail(
                    .invalidOffsets, "ranges are START-END[,START-END …] in code points, found \(token.value)")
            }
            guard start <= end else { throw fail(.invalidOffsets, "range \(start)-\(end) ends before it starts") }
            guard end <= length else {
                throw fail(.offsetsOutOfBounds, "range \(start)-\(end) is outside the text (0-\(length))")
            }
            ranges.append(TextRange(start, end))
        }
        ranges.sort()
        for (a, b) in zip(ranges, ranges.dropFirst()) where a.overlaps(b) || a == b {
            throw fail(.overlappingFragments, "ranges \(a) and \(b) overlap")
        }
        return ranges
    }

    // MARK: - Schema

    mutating func checkSchema(unchanged: InlineMarkupContent) {
        let schema = parser.schema
        guard !schema.isOpen else { return }
        let oldSpans = Set(unchanged.spans)
        let oldLabels = Set(unchanged.documentLabels)
        for (span, position, attributes) in spans where !oldSpans.contains(span) {
            if !schema.spanLabels.contains(span.label) {
                report(
                    .labelNotInSchema,
                    "span label \(InlineMarkupSyntax.token(span.label)) is not in the schema (span labels: "
                        + Self.list(schema.spanLabels) + ")", position)
            }
            checkAttributes(attributes, schema)
        }
        for (label, position, attributes) in labels where !oldLabels.contains(label) {
            if !schema.documentLabels.contains(label.label) {
                report(
                    .labelNotInSchema,
                    "document label \(InlineMarkupSyntax.token(label.label)) is not in the schema (document labels: "
                        + Self.list(schema.documentLabels) + ")", position)
            }
            checkAttributes(attributes, schema)
        }
    }

    private mutating func checkAttributes(_ attributes: [ParsedAttribute], _ schema: Schema) {
        for a in attributes {
            guard let rule = schema.attributes.first(where: { $0.name == a.key }) else {
                report(
                    .attributeNotInSchema,
                    "attribute \(InlineMarkupSyntax.token(a.key)) is not in the schema (attributes: "
                        + Self.list(schema.attributes.map(\.name)) + ")", a.keyPosition)
                continue
            }
            if !rule.values.isEmpty, !rule.values.contains(a.value) {
                report(
                    .attributeValueNotInSchema,
                    "attribute \(InlineMarkupSyntax.token(a.key)) cannot be \(InlineMarkupSyntax.quote(a.value)) "
                        + "(allowed: " + rule.values.joined(separator: ", ") + ")", a.valuePosition)
            }
        }
    }

    // MARK: - Helpers

    private static func list(_ items: [String]) -> String { items.isEmpty ? "none" : items.joined(separator: ", ") }

    private static func dictionary(_ attributes: [ParsedAttribute]) -> [String: String] {
        Dictionary(attributes.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
    }

    private mutating func report(_ code: FormatProblem.Code, _ message: String, _ position: Position) {
        problems.append(FormatProblem(code, message, file: parser.file, line: position.line, column: position.column))
    }
}
