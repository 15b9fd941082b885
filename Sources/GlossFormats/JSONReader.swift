import GlossModel

/// A syntax error in JSON text, at a 1-based line and column (in scalars).
struct JSONSyntaxError: Error, Sendable {
    var message: String
    var line: Int
    var column: Int
}

/// Parses JSON text (RFC 8259) from UTF-8 bytes that are already known to be valid UTF-8.
struct JSONReader {
    /// Nesting deeper than this is refused, so that hostile input cannot exhaust the stack.
    static let maximumDepth = 512

    private let bytes: [UInt8]
    private var i = 0
    private var line = 1
    private var column = 1

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// Exactly one value, with only whitespace around it.
    static func parse(_ bytes: [UInt8]) throws(JSONSyntaxError) -> JSONValue {
        var reader = JSONReader(bytes)
        reader.skipWhitespace()
        let value = try reader.value(depth: 0)
        reader.skipWhitespace()
        guard reader.i == bytes.count else { throw reader.error("unexpected text after the JSON value") }
        return value
    }

    /// Every top-level value in the text, separated by whitespace: one value per line (JSONL), a
    /// single (possibly pretty-printed, multi-line) value, or several of either. After a syntax
    /// error the reader reports it and resumes at the first line after the broken value's first
    /// line that starts with `{` or `[`, so one broken JSONL record does not lose the rest.
    static func parseSequence(_ bytes: [UInt8]) -> (values: [JSONValue], errors: [JSONSyntaxError]) {
        var reader = JSONReader(bytes)
        var values: [JSONValue] = []
        var errors: [JSONSyntaxError] = []
        while true {
            reader.skipWhitespace()
            guard reader.i < bytes.count else { break }
            let start = (reader.i, reader.line, reader.column)
            do throws(JSONSyntaxError) {
                values.append(try reader.value(depth: 0))
                // Two values on one line without a separator would hide a broken record.
                reader.skipInlineWhitespace()
                if reader.i < bytes.count, reader.bytes[reader.i] != 0x0A, reader.bytes[reader.i] != 0x0D {
                    throw reader.error("expected a line break after the JSON value")
                }
            } catch {
                // A JSONL record that breaks off is noticed on a later line: report it where the
                // record starts, and resume after that line, so the next record is not lost.
                if error.line == start.1 {
                    errors.append(error)
                } else {
                    errors.append(
                        JSONSyntaxError(
                            message: "\(error.message) (at line \(error.line), column \(error.column))",
                            line: start.1, column: start.2))
                }
                (reader.i, reader.line, reader.column) = start
                reader.resynchronize()
            }
        }
        return (values, errors)
    }

    // MARK: Values

    private mutating func value(depth: Int) throws(JSONSyntaxError) -> JSONValue {
        guard depth < Self.maximumDepth else { throw error("nesting deeper than \(Self.maximumDepth) levels") }
        guard i < bytes.count else { throw error("unexpected end of the text") }
        let (startLine, startColumn) = (line, column)
        let kind: JSONValue.Kind
        switch bytes[i] {
        case UInt8(ascii: "{"): kind = try object(depth: depth)
        case UInt8(ascii: "["): kind = try array(depth: depth)
        case UInt8(ascii: "\""): kind = .string(try string())
        case UInt8(ascii: "t"):
            try literal("true")
            kind = .bool(true)
        case UInt8(ascii: "f"):
            try literal("false")
            kind = .bool(false)
        case UInt8(ascii: "n"):
            try literal("null")
            kind = .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): kind = .number(try number())
        default: throw error("unexpected character \(describe(at: i))")
        }
        return JSONValue(kind, line: startLine, column: startColumn)
    }

    private mutating func object(depth: Int) throws(JSONSyntaxError) -> JSONValue.Kind {
        advance()  // {
        var members: [JSONValue.Member] = []
        skipWhitespace()
        if peek == UInt8(ascii: "}") {
            advance()
            return .object(members)
        }
        while true {
            skipWhitespace()
            guard peek == UInt8(ascii: "\"") else { throw error("expected a member name in quotes") }
            let key = try string()
            skipWhitespace()
            guard peek == UInt8(ascii: ":") else { throw error("expected ':' after member name \"\(key)\"") }
            advance()
            skipWhitespace()
            members.append(JSONValue.Member(key: key, value: try value(depth: depth + 1)))
            skipWhitespace()
            switch peek {
            case UInt8(ascii: ","): advance()
            case UInt8(ascii: "}"):
                advance()
                return .object(members)
            default: throw error("expected ',' or '}' in an object")
            }
        }
    }

    private mutating func array(depth: Int) throws(JSONSyntaxError) -> JSONValue.Kind {
        advance()  // [
        var elements: [JSONValue] = []
        skipWhitespace()
        if peek == UInt8(ascii: "]") {
            advance()
            return .array(elements)
        }
        while true {
            skipWhitespace()
            elements.append(try value(depth: depth + 1))
            skipWhitespace()
            switch peek {
            case UInt8(ascii: ","): advance()
            case UInt8(ascii: "]"):
                advance()
                return .array(elements)
            default: throw error("expected ',' or ']' in an array")
            }
        }
    }

    private mutating func string() throws(JSONSyntaxError) -> String {
        advance()  // opening quote
        var buffer: [UInt8] = []
        let start = i
        var escaped = false
        while true {
            guard i < bytes.count else { throw error("unterminated string") }
            let b = bytes[i]
            if b == UInt8(ascii: "\"") { break }
            if b < 0x20 { throw error("control character \(describe(at: i)) inside a string") }
            if b == UInt8(ascii: "\\") {
                if !escaped {
                    escaped = true
                    buffer.append(contentsOf: bytes[start..<i])
                }
                advance()
                guard i < bytes.count else { throw error("unterminated string") }
                let e = bytes[i]
                advance()
                switch e {
                case UInt8(ascii: "\""): buffer.append(0x22)
                case UInt8(ascii: "\\"): buffer.append(0x5C)
                case UInt8(ascii: "/"): buffer.append(0x2F)
                case UInt8(ascii: "b"): buffer.append(0x08)
                case UInt8(ascii: "f"): buffer.append(0x0C)
                case UInt8(ascii: "n"): buffer.append(0x0A)
                case UInt8(ascii: "r"): buffer.append(0x0D)
                case UInt8(ascii: "t"): buffer.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if (0xD800...0xDBFF).contains(scalar), peek == UInt8(ascii: "\\"),
                        i + 1 < bytes.count, bytes[i + 1] == UInt8(ascii: "u")
                    {
                        let save = (i, line, column)
                        advance()
                        advance()
                        let low = try hex4()
                        if (0xDC00...0xDFFF).contains(low) {
                            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        } else {
                            (i, line, column) = save
                        }
                    }
                    // A lone surrogate has no scalar: U+FFFD, as browsers do.
                    let u = Unicode.Scalar(scalar) ?? "\u{FFFD}"
                    buffer.append(contentsOf: Array(String(Character(u)).utf8))
                default: throw error("invalid escape \\\(Character(Unicode.Scalar(e)))")
                }
                continue
            }
            if escaped { buffer.append(b) }
            advance()
        }
        let result =
            escaped ? String(decoding: buffer, as: UTF8.self) : String(decoding: bytes[start..<i], as: UTF8.self)
        advance()  // closing quote
        return result
    }

    private mutating func hex4() throws(JSONSyntaxError) -> UInt32 {
        var v: UInt32 = 0
        for _ in 0..<4 {
            guard i < bytes.count, let d = Self.hexDigit(bytes[i]) else { throw error("invalid \\u escape") }
            v = v << 4 | d
            advance()
        }
        return v
    }

    private static func hexDigit(_ b: UInt8) -> UInt32? {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt32(b - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt32(b - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): UInt32(b - UInt8(ascii: "A") + 10)
        default: nil
        }
    }

    private mutating func number() throws(JSONSyntaxError) -> String {
        let start = i
        func digits(_ r: inout JSONReader) -> Int {
            var n = 0
            while r.i < r.bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(r.bytes[r.i]) {
                r.advance()
                n += 1
            }
            return n
        }
        if peek == UInt8(ascii: "-") { advance() }
        if peek == UInt8(ascii: "0") {
            advance()
        } else if digits(&self) == 0 {
            throw error("invalid number")
        }
        if peek == UInt8(ascii: ".") {
            advance()
            guard digits(&self) > 0 else { throw error("invalid number: no digits after '.'") }
        }
        if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
            advance()
            if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { advance() }
            guard digits(&self) > 0 else { throw error("invalid number: no digits in the exponent") }
        }
        return String(decoding: bytes[start..<i], as: UTF8.self)
    }

    private mutating func literal(_ word: StaticString) throws(JSONSyntaxError) {
        let expected = UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount)
        for b in expected {
            guard peek == b else { throw error("invalid literal (expected \(word))") }
            advance()
        }
    }

    // MARK: Position

    private var peek: UInt8? { i < bytes.count ? bytes[i] : nil }

    /// Moves past one byte, keeping line and column (columns count scalars, so continuation
    /// bytes do not move them).
    private mutating func advance() {
        let b = bytes[i]
        i += 1
        if b == 0x0A {
            line += 1
            column = 1
        } else if b & 0xC0 != 0x80 {
            column += 1
        }
    }

    private mutating func skipWhitespace() {
        while let b = peek, b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 { advance() }
    }

    private mutating func skipInlineWhitespace() {
        while let b = peek, b == 0x20 || b == 0x09 { advance() }
    }

    /// Skips to the next line that starts with `{` or `[` (or to the end).
    private mutating func resynchronize() {
        while i < bytes.count {
            while let b = peek, b != 0x0A { advance() }
            guard peek != nil else { return }
            advance()
            if let b = peek, b == UInt8(ascii: "{") || b == UInt8(ascii: "[") { return }
        }
    }

    private func error(_ message: String) -> JSONSyntaxError {
        JSONSyntaxError(message: message, line: line, column: column)
    }

    private func describe(at index: Int) -> String {
        let b = bytes[index]
        if b >= 0x20 && b < 0x7F { return "'\(Character(Unicode.Scalar(b)))'" }
        return "0x" + String(b, radix: 16, uppercase: true)
    }
}

extension ErrorCode where Domain == FormatProblem {
    /// A JSON file (or one JSONL record) that is not valid JSON; the record is skipped.
    public static let malformedJSON = Self(rawValue: "malformed-json")
}
