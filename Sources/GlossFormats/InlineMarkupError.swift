import GlossModel

/// Why edited inline markup was refused: every problem found, in file order (each a
/// ``FormatProblem`` with a code, a message and a 1-based line and column in the markup).
///
/// Parsing collects all problems rather than stopping at the first, so that `gloss edit` can
/// show them together and reopen the editor once.
public struct InlineMarkupError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The problems, never empty, sorted by line and column.
    public var problems: [FormatProblem]

    /// - Precondition: `problems` is not empty.
    public init(problems: [FormatProblem]) {
        precondition(!problems.isEmpty, "an InlineMarkupError needs at least one problem")
        self.problems = problems.enumerated().sorted { a, b in
            (a.element.line ?? 0, a.element.column ?? 0, a.offset) < (
                b.element.line ?? 0, b.element.column ?? 0, b.offset
            )
        }.map(\.element)
    }

    /// The code of the first problem.
    public var code: FormatProblem.Code { problems[0].code }

    /// One problem per line, `file:line:column: code: message`.
    public var description: String { problems.map(\.description).joined(separator: "\n") }
}
