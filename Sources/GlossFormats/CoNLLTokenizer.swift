import GlossModel

/// Splits a document text into sentences and tokens for CoNLL export.
///
/// The rule: every line of the text is a sentence (lines are separated by `\n`, `\r\n` or
/// `\r`; blank lines hold no sentence). Within a line, tokens are the runs of non-whitespace
/// characters, from which punctuation and symbol characters at the start and at the end are
/// split off one character each: `"Obama's,"` → `"`, `Obama's`, `,`; `(U.S.)` → `(`, `U.S`,
/// `.`, `)`. Punctuation inside a run stays (`techno-based`, `3.5`).
struct CoNLLTokenizer {
    /// Scalar ranges of the tokens of each sentence, in text order.
    static func sentences(_ text: String) -> [[TextRange]] {
        let scalars = Array(text.unicodeScalars)
        var sentences: [[TextRange]] = []
        var current: [TextRange] = []
        var i = 0
        while i < scalars.count {
            let u = scalars[i]
            if u == "\n" || u == "\r" {
                if !current.isEmpty { sentences.append(current) }
                current = []
                i += 1
                continue
            }
            if isWhitespaceScalar(u) {
                i += 1
                continue
            }
            var end = i
            while end < scalars.count, !isWhitespaceScalar(scalars[end]) { end += 1 }
            current += split(scalars, i, end)
            i = end
        }
        if !current.isEmpty { sentences.append(current) }
        return sentences
    }

    /// One whitespace-free run, with leading and trailing punctuation split off.
    private static func split(_ scalars: [Unicode.Scalar], _ start: Int, _ end: Int) -> [TextRange] {
        var leading: [TextRange] = []
        var trailing: [TextRange] = []
        var s = start
        var e = end
        while s < e, isPunctuation(scalars[s]) {
            leading.append(TextRange(s, s + 1))
            s += 1
        }
        while e > s, isPunctuation(scalars[e - 1]) {
            trailing.insert(TextRange(e - 1, e), at: 0)
            e -= 1
        }
        return leading + (s < e ? [TextRange(s, e)] : []) + trailing
    }

    static func isPunctuation(_ u: Unicode.Scalar) -> Bool {
        switch u.properties.generalCategory {
        case .dashPunctuation, .openPunctuation, .closePunctuation, .initialPunctuation, .finalPunctuation,
            .otherPunctuation, .mathSymbol, .currencySymbol, .modifierSymbol, .otherSymbol:
            true
        default:
            false
        }
    }
}
