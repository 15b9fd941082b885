import GlossModel

/// The problems of one import or export of one file, in the order found; sorted by place at the end.
struct ProblemLog {
    let file: String?
    private(set) var problems: [FormatProblem] = []

    init(file: String?) { self.file = file }

    mutating func add(_ code: FormatProblem.Code, _ message: String, line: Int? = nil, column: Int? = nil) {
        problems.append(FormatProblem(code, message, file: file, line: line, column: column))
    }

    /// A problem at a parsed JSON value's place.
    mutating func add(_ code: FormatProblem.Code, _ message: String, at value: JSONValue) {
        add(code, message, line: value.line > 0 ? value.line : nil, column: value.column > 0 ? value.column : nil)
    }

    mutating func append(_ problem: FormatProblem) { problems.append(problem) }

    /// In line and column order (stable for problems at one place).
    var sorted: [FormatProblem] {
        problems.enumerated().sorted { a, b in
            (a.element.line ?? 0, a.element.column ?? 0, a.offset) < (
                b.element.line ?? 0, b.element.column ?? 0, b.offset
            )
        }.map(\.element)
    }

    /// Throws the first problem in strict mode; otherwise returns the import.
    func finish(_ documents: [ImportedDocument], strict: Bool) throws(FormatProblem) -> FormatImport {
        let ordered = sorted
        if strict, let first = ordered.first { throw first }
        return FormatImport(documents: documents, problems: ordered)
    }
}

extension ProblemLog {
    /// Reads a JSON-based file (UTF-8, one value, a JSON Lines sequence or a pretty-printed
    /// object): its values, and a log that already holds one problem per stretch that did not
    /// parse, saying what was skipped (`"the record"`, `"the tasks there"` …).
    static func readJSON(_ bytes: some Collection<UInt8>, file: String?, skipping skipped: String) throws(FormatProblem)
        -> (values: [JSONValue], log: ProblemLog)
    {
        let contents = try decodeUTF8(bytes, file: file)
        var log = ProblemLog(file: file)
        let (values, errors) = JSONReader.parseSequence(Array(contents.utf8))
        for e in errors {
            log.add(.malformedJSON, "\(e.message); \(skipped) skipped", line: e.line, column: e.column)
        }
        return (values, log)
    }
}
