import GlossModel

/// A cursor over the scalars of a markup file that knows its 1-based line and column, and reads
/// the tokens labels, keys and values are made of.
struct InlineMarkupScanner {
    /// A place in the markup file: 1-based line, and 1-based column in Unicode scalars.
    struct Position: Hashable {
        var line: Int
        var column: Int
    }

    /// A lexical error at a position; the caller turns it into a problem.
    struct Failure: Error {
        var code: FormatProblem.Code
        var message: String
        var position: Position
    }

    /// A token and whether it was quoted (`""` is an empty token, nothing at all is a missing one).
    struct Token {
        var value: String
        var quoted: Bool
        var position: Position
        var isMissing: Bool { !quoted && value.isEmpty }
    }

    let scalars: [Unicode.Scalar]
    /// One past the last scalar this scanner reads.
    let end: Int
    private(set) var index: Int
    private(set) var line: Int
    private var lineStart: Int

    init(_ scalars: [Unicode.Scalar], from start: Int = 0, to end: Int, line: Int = 1) {
        self.scalars = scalars
        self.end = end
        index = start
        self.line = line
        lineStart = start
    }

    var position: Position { Position(line: line, column: index - lineStart + 1) }
    var atEnd: Bool { index >= end }

    func peek(_ ahead: Int = 0) -> Unicode.Scalar? { index + ahead < end ? scalars[index + ahead] : nil }

    mutating func advance() {
        if scalars[index] == "\n" {
            line += 1
            lineStart = index + 1
        }
        index += 1
    }

    /// Skips spaces, tabs and carriage returns (never a line feed).
    mutating func skipBlanks() {
        while let s = peek(), s == " " || s == "\t" || s == "\r" { advance() }
    }

    /// Skips to the line feed that ends the line (not past it).
    mutating func skipToLineEnd() {
        while let s = peek(), s != "\n" { advance() }
    }

    /// Whether `scalar` occurs between here and the end of the line.
    func hasAhead(_ scalar: Unicode.Scalar) -> Bool {
        var i = index
        while i < end, scalars[i] != "\n" {
            if scalars[i] == scalar { return true }
            i += 1
        }
        return false
    }

    /// Skips past the next `)` on this line, or to the line's end: recovery after a bad `(…)`.
    mutating func skipPastParenthesis() {
        while let s = peek(), s != "\n" {
            advance()
            if s == ")" { return }
        }
    }

    /// Reads a bare token (up to whitespace or markup punctuation; possibly empty) or a quoted
    /// string with `\"`, `\\`, `\n`, `\r`, `\t` escapes.
    mutating func readToken() throws(Failure) -> Token {
        let start = position
        guard peek() == "\"" else {
            var value = String.UnicodeScalarView()
            while let s = peek(), !InlineMarkupSyntax.isDelimiter(s) {
                value.append(s)
                advance()
            }
            return Token(value: String(value), quoted: false, position: start)
        }
        advance()
        var value = String.UnicodeScalarView()
        while true {
            guard let s = peek(), s != "\n" else {
                throw Failure(
                    code: .malformedAttribute, message: "the quoted string has no closing quote on its line",
                    position: start)
            }
            if s == "\"" {
                advance()
                return Token(value: String(value), quoted: true, position: start)
            }
            if s == "\\" {
                let escape = position
                advance()
                switch peek() {
                case "\"": value.append("\"")
                case "\\": value.append("\\")
                case "n": value.append("\n")
                case "r": value.append("\r")
                case "t": value.append("\t")
                default:
                    throw Failure(
                        code: .invalidEscape,
                        message: "in quotes a backslash must be followed by \", \\, n, r or t",
                        position: escape)
                }
                advance()
                continue
            }
            value.append(s)
            advance()
        }
    }
}
