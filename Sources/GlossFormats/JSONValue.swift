import GlossModel

/// A JSON value as the JSON-based formats (doccano, Label Studio, W3C Web Annotation) read
/// and write it: object members keep their order, numbers keep their text (so offsets are
/// never rounded through a `Double`), and every parsed value knows the 1-based line and
/// column (in Unicode scalars) where it starts, for problem reports.
///
/// The module has no Foundation dependency, so this is its own small reader and writer.
struct JSONValue: Sendable {
    enum Kind: Sendable {
        case null
        case bool(Bool)
        /// The number exactly as written (validated against the JSON grammar).
        case number(String)
        case string(String)
        case array([JSONValue])
        case object([Member])
    }

    /// One `"key": value` pair of an object.
    struct Member: Sendable {
        var key: String
        var value: JSONValue
    }

    var kind: Kind
    /// 1-based line of the value's first character; 0 for values built in code.
    var line: Int
    /// 1-based column (in Unicode scalars) of the value's first character; 0 when built in code.
    var column: Int

    init(_ kind: Kind, line: Int = 0, column: Int = 0) {
        self.kind = kind
        self.line = line
        self.column = column
    }

    // MARK: - Reading

// MARK: - Reading values

    /// The first member named `key`, when this is an object.
    subscript(key: String) -> JSONValue? {
        guard case .object(let members) = kind else { return nil }
        return members.first { $0.key == key }?.value
    }

    var string: String? {
        if case .string(let s) = kind { return s }
        return nil
    }

    /// An integer, also from an integral number written with a fraction or exponent (`12.0`).
    var int: Int? {
        guard case .number(let text) = kind else { return nil }
        if let n = Int(text) { return n }
        guard let d = Double(text), d.rounded() == d, abs(d) < 9.0e15 else { return nil }
        return Int(d)
    }

    var double: Double? {
        if case .number(let text) = kind { return Double(text) }
        return nil
    }

    var bool: Bool? {
        if case .bool(let b) = kind { return b }
        return nil
    }

    var array: [JSONValue]? {
        if case .array(let a) = kind { return a }
        return nil
    }

    var members: [Member]? {
        if case .object(let m) = kind { return m }
        return nil
    }

    var isNull: Bool {
        if case .null = kind { return true }
        return false
    }

    var isObject: Bool { members != nil }

    /// A string, or a number's text: for ids that tools write either way (`"id": 7` or `"id": "7"`).
    var text: String? {
        switch kind {
        case .string(let s): s
        case .number(let n): n
        default: nil
        }
    }

    /// `line:column`, for messages about files where many records share a line.
    var place: String { "\(line):\(column)" }

    // MARK: - Building values

    static let null = JSONValue(.null)
    static func string(_ s: String) -> JSONValue { JSONValue(.string(s)) }
    static func int(_ n: Int) -> JSONValue { JSONValue(.number(String(n))) }
    static func bool(_ b: Bool) -> JSONValue { JSONValue(.bool(b)) }
    static func array(_ a: [JSONValue]) -> JSONValue { JSONValue(.array(a)) }
    static func object(_ pairs: [(String, JSONValue)]) -> JSONValue {
        JSONValue(.object(pairs.map { Member(key: $0.0, value: $0.1) }))
    }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByArrayLiteral,
    ExpressibleByDictionaryLiteral, ExpressibleByBooleanLiteral
{
    init(stringLiteral value: String) { self.init(.string(value)) }
    init(integerLiteral value: Int) { self.init(.number(String(value))) }
    init(arrayLiteral elements: JSONValue...) { self.init(.array(elements)) }
    init(booleanLiteral value: Bool) { self.init(.bool(value)) }
    /// Members in the order written (a dictionary literal keeps it).
    init(dictionaryLiteral elements: (String, JSONValue)...) {
        self.init(.object(elements.map { Member(key: $0.0, value: $0.1) }))
    }
}

// MARK: - Writing

extension JSONValue {
    /// The value as JSON text: compact on one line, or pretty with two-space indents. Non-ASCII
    /// characters are written as UTF-8, not escaped.
    func rendered(pretty: Bool = false) -> String {
        var out = ""
        write(to: &out, pretty: pretty, depth: 0)
        return out
    }

    private func write(to out: inout String, pretty: Bool, depth: Int) {
        switch kind {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .number(let n): out += n
        case .string(let s): Self.writeString(s, to: &out)
        case .array(let elements):
            guard !elements.isEmpty else {
                out += "[]"
                return
            }
            // Arrays of scalars (doccano's `[0, 5, "ORG"]`) stay on one line even when pretty.
            let flat = !pretty || elements.allSatisfy { $0.members == nil && $0.array == nil }
            out += "["
            for (i, e) in elements.enumerated() {
                if i > 0 { out += flat && pretty ? ", " : "," }
                if !flat { Self.newline(&out, depth: depth + 1) }
                e.write(to: &out, pretty: pretty, depth: depth + 1)
            }
            if !flat { Self.newline(&out, depth: depth) }
            out += "]"
        case .object(let members):
            guard !members.isEmpty else {
                out += "{}"
                return
            }
            out += "{"
            for (i, m) in members.enumerated() {
                if i > 0 { out += "," }
                if pretty { Self.newline(&out, depth: depth + 1) }
                Self.writeString(m.key, to: &out)
                out += pretty ? ": " : ":"
                m.value.write(to: &out, pretty: pretty, depth: depth + 1)
            }
            if pretty { Self.newline(&out, depth: depth) }
            out += "}"
        }
    }

    private static func newline(_ out: inout String, depth: Int) {
        out += "\n"
        out += String(repeating: "  ", count: depth)
    }

    private static func writeString(_ s: String, to out: inout String) {
        out += "\""
        var scalars = String.UnicodeScalarView()
        for u in s.unicodeScalars {
            switch u {
            case "\"": scalars.append(contentsOf: "\\\"".unicodeScalars)
            case "\\": scalars.append(contentsOf: "\\\\".unicodeScalars)
            case "\n": scalars.append(contentsOf: "\\n".unicodeScalars)
            case "\r": scalars.append(contentsOf: "\\r".unicodeScalars)
            case "\t": scalars.append(contentsOf: "\\t".unicodeScalars)
            case "\u{08}": scalars.append(contentsOf: "\\b".unicodeScalars)
            case "\u{0C}": scalars.append(contentsOf: "\\f".unicodeScalars)
            default:
                if u.value < 0x20 {
                    let hex = String(u.value, radix: 16)
                    scalars.append(
                        contentsOf: ("\\u" + String(repeating: "0", count: 4 - hex.count) + hex).unicodeScalars)
                } else {
                    scalars.append(u)
                }
            }
        }
        out += String(scalars)
        out += "\""
    }
}
