import GlossModel

/// One brat `.ann` file as written: every line in order, verbatim, with its parsed
/// ``BratEntry`` and its line terminator.
///
/// This is the round-trip record. Gloss annotations are derived from it (``BratImporter``);
/// ``BratExporter`` walks it again, writing each line whose annotations did not change
/// byte for byte as it was, re-rendering the changed ones in place, dropping deleted ones and
/// appending new ones, so that what Gloss cannot represent (normalizations, equivalences,
/// event structure, note types, line order, spacing, unparsable lines) survives.
public struct BratDocument: Hashable, Sendable {
    /// One line of the file.
    public struct Line: Hashable, Sendable {
        /// 1-based line number in the file.
        public var number: Int
        /// The line exactly as written, without its terminator.
        public var text: String
        /// `"\n"`, `"\r\n"`, or `""` for a last line without a newline.
        public var terminator: String
        /// What the line says, parsed.
        public var entry: BratEntry
        /// Whether ``BratImporter`` turned the line into Gloss data (or, for `N` and `*` lines,
        /// found every annotation it refers to). ``BratExporter`` re-renders or drops imported
        /// lines as their annotations change and writes every other line back verbatim.
        public var isImported: Bool

        /// A line as read (or to be written).
        public init(number: Int, text: String, terminator: String, entry: BratEntry, isImported: Bool = false) {
            self.number = number
            self.text = text
            self.terminator = terminator
            self.entry = entry
            self.isImported = isImported
        }
    }

    /// Every line of the file, in order.
    public var lines: [Line]
    /// The unit the file's offsets are counted in. brat and Gloss count Unicode scalars;
    /// JavaScript tools write UTF-16 code units. ``BratImporter`` detects it; the exporter
    /// writes changed and new lines in the same unit so that the file stays consistent.
    public var offsetUnit: OffsetError.Unit

    /// A document from lines (empty by default: a file with no lines).
    public init(lines: [Line] = [], offsetUnit: OffsetError.Unit = .scalar) {
        self.lines = lines
        self.offsetUnit = offsetUnit
    }

    /// Parses an `.ann` file. Never fails: lines that do not parse become ``BratEntry/unparsed``
    /// and come back as problems naming their line (and column when known).
    ///
    /// - Parameter file: the name problems should carry (for example the file's path).
    public static func parse(_ ann: String, file: String? = nil) -> (document: BratDocument, problems: [FormatProblem])
    {
        var lines: [Line] = []
        var problems: [FormatProblem] = []
        // Split on the byte "\n" (a Character-level split would treat "\r\n" as one character).
        let utf8 = ann.utf8
        var start = utf8.startIndex
        var number = 0
        while start < utf8.endIndex {
            number += 1
            let newline = utf8[start...].firstIndex(of: UInt8(ascii: "\n"))
            var end = newline ?? utf8.endIndex
            var terminator = newline == nil ? "" : "\n"
            if end > start, utf8[utf8.index(before: end)] == UInt8(ascii: "\r") {
                end = utf8.index(before: end)
                terminator = newline == nil ? "\r" : "\r\n"
            }
            let text = Substring(ann[start..<end])
            let (entry, failures) = BratEntry.parse(text)
            for failure in failures {
                problems.append(
                    FormatProblem(failure.code, failure.message, file: file, line: number, column: failure.column))
            }
            lines.append(Line(number: number, text: String(text), terminator: terminator, entry: entry))
            start = newline.map { utf8.index(after: $0) } ?? utf8.endIndex
        }
        return (BratDocument(lines: lines), problems)
    }

    /// The file exactly as parsed: every line's text and terminator, in order.
    public var verbatim: String {
        var out = ""
        for line in lines {
            out += line.text
            out += line.terminator
        }
        return out
    }

    /// The line terminator new lines should use: the first one the file uses, else `"\n"`.
    var preferredTerminator: String {
        lines.first { !$0.terminator.isEmpty && $0.terminator != "\r" }?.terminator ?? "\n"
    }
}
