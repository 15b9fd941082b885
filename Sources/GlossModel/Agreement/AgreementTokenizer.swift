/// Splits a text into the tokens token-level agreement compares.
///
/// The rule: a token is a maximal run of letters, marks and numbers (Unicode general
/// categories L*, M* and N*, so `e` + U+0301 and `Zürich` stay whole, and `2023` is one token);
/// every other scalar that is not whitespace (punctuation, symbols, emoji, ZWJ) is a token of
/// its own; whitespace separates tokens and is never one. CJK ideographs are letters, so a run
/// of them is one token. The rule needs no language data, so every installation counts alike.
public enum AgreementTokenizer {
    /// The tokens of `text` as half-open Unicode scalar ranges, in text order.
    public static func tokens(in text: String) -> [TextRange] {
        var tokens: [TextRange] = []
        var runStart: Int?
        var offset = 0
        for scalar in text.unicodeScalars {
            defer { offset += 1 }
            if isWordScalar(scalar) {
                if runStart == nil { runStart = offset }
                continue
            }
            if let start = runStart {
                tokens.append(TextRange(start, offset))
                runStart = nil
            }
            if !scalar.properties.isWhitespace { tokens.append(TextRange(offset, offset + 1)) }
        }
        if let start = runStart { tokens.append(TextRange(start, offset)) }
        return tokens
    }

    private static func isWordScalar(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
            .nonspacingMark, .spacingMark, .enclosingMark,
            .decimalNumber, .letterNumber, .otherNumber:
            true
        default:
            false
        }
    }
}
