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
