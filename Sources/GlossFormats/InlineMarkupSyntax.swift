import GlossModel

/// The lexical rules of inline markup, shared by the renderer and the parser (see
/// Docs/inline-markup.md).
enum InlineMarkupSyntax {
    /// The line that starts the trailer.
    static let marker = "%%% gloss"

    /// Scalars that end a bare token: whitespace and the markup punctuation.
    static func isDelimiter(_ s: Unicode.Scalar) -> Bool {
        switch s {
        case "(", ")", "[", "]", "\"", "=", "\\": true
        default: s.properties.isWhitespace
        }
    }

    /// Whether `s` can be written without quotes: not empty, no delimiter or control
    /// character, and not starting with `#` (which starts a trailer comment).
    static func isBare(_ s: String) -> Bool {
        guard let first = s.unicodeScalars.first, first != "#" else { return false }
        return s.unicodeScalars.allSatisfy { !isDelimiter($0) && $0.properties.generalCategory != .control }
    }

    /// A label, key or value as written: bare when possible, quoted otherwise.
    static func token(_ s: String) -> String { isBare(s) ? s : quote(s) }

    /// `"…"` with `\"`, `\\`, `\n`, `\r` and `\t` escaped, so a quoted string stays on one line.
    static func quote(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// ` key=value key2="quoted value"`, keys sorted; empty without attributes.
    static func attributes(_ attributes: [String: String]) -> String {
        attributes.sorted { $0.key < $1.key }.map { " " + token($0.key) + "=" + token($0.value) }.joined()
    }

    /// `0-3,5-8`.
    static func ranges(_ ranges: [TextRange]) -> String {
        ranges.map { "\($0.start)-\($0.end)" }.joined(separator: ",")
    }

    /// Appends a text scalar, escaping the three that markup uses.
    static func appendText(_ scalar: Unicode.Scalar, to out: inout String.UnicodeScalarView) {
        if scalar == "[" || scalar == "]" || scalar == "\\" { out.append("\\") }
        out.append(scalar)
    }

    /// A total order on attribute dictionaries (by sorted key/value pairs).
    static func attributeOrder(_ a: [String: String], _ b: [String: String]) -> Bool {
        let x = a.sorted { $0.key < $1.key }
        let y = b.sorted { $0.key < $1.key }
        return x.lexicographicallyPrecedes(y) { ($0.key, $0.value) < ($1.key, $1.value) }
    }

    /// Text for a message: control characters shown as escapes, cut after `limit` scalars.
    static func excerpt(_ scalars: some Collection<Unicode.Scalar>, limit: Int = 24) -> String {
        var out = ""
        for (i, s) in scalars.enumerated() {
            if i == limit {
                out += "…"
                break
            }
            switch s {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default: out.unicodeScalars.append(s)
            }
        }
        return out
    }
}

extension InlineMarkupSyntax {
    private static let markerScalars = Array(marker.unicodeScalars)

    /// Where the trailer begins: the index of the line break before the last line that is
    /// exactly the marker, or nil when no such line exists. The marker never counts on the
    /// first line, because the break before it separates the trailer from the text.
    static func trailerStart(_ scalars: [Unicode.Scalar]) -> Int? {
        let m = markerScalars.count
        var k = scalars.count - m - 1
        while k >= 0 {
            if scalars[k] == "\n", k + 1 + m == scalars.count || scalars[k + 1 + m] == "\n",
                scalars[(k + 1)..<(k + 1 + m)].elementsEqual(markerScalars)
            {
                return k
            }
            k -= 1
        }
        return nil
    }
}
