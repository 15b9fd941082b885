import GlossModel

/// A W3C `TextQuoteSelector` (`exact`, `prefix`, `suffix`) and where it lies in a text.
struct W3CTextQuote: Sendable {
    var exact: [Unicode.Scalar]
    var prefix: [Unicode.Scalar]
    var suffix: [Unicode.Scalar]

    /// Where a quote was found.
    enum Location: Equatable {
        /// The only occurrence whose prefix and suffix both match.
        case found(TextRange)
        /// The best occurrence, whose prefix or suffix differs from the text (the text changed,
        /// or the quote was recorded carelessly); no other occurrence matches as well.
        case foundWithDifferentContext(TextRange)
        /// The quote occurs nowhere.
        case notFound
        /// Several occurrences match equally well.
        case ambiguous(Int)
    }

    init(exact: String, prefix: String?, suffix: String?) {
        self.exact = Array(exact.unicodeScalars)
        self.prefix = Array((prefix ?? "").unicodeScalars)
        self.suffix = Array((suffix ?? "").unicodeScalars)
    }

    /// Finds the quote: every occurrence of `exact` is scored by how much of the prefix ends
    /// right before it and how much of the suffix starts right after it; the best one wins
    /// when it is the only one with that score.
    func locate(in text: [Unicode.Scalar]) -> Location {
        guard !exact.isEmpty, exact.count <= text.count else { return .notFound }
        var best = -1
        var bestAt: [Int] = []
        let first = exact[0]
        for start in 0...(text.count - exact.count) where text[start] == first {
            guard matches(text, at: start) else { continue }
            let score = prefixScore(text, before: start) + suffixScore(text, after: start + exact.count)
            if score > best {
                best = score
                bestAt = [start]
            } else if score == best {
                bestAt.append(start)
            }
        }
        guard let at = bestAt.first else { return .notFound }
        guard bestAt.count == 1 else { return .ambiguous(bestAt.count) }
        let range = TextRange(at, at + exact.count)
        return best == prefix.count + suffix.count ? .found(range) : .foundWithDifferentContext(range)
    }

    private func matches(_ text: [Unicode.Scalar], at start: Int) -> Bool {
        for i in 0..<exact.count where text[start + i] != exact[i] { return false }
        return true
    }

    /// How many characters at the end of `prefix` equal the text just before `before`.
    private func prefixScore(_ text: [Unicode.Scalar], before: Int) -> Int {
        var n = 0
        while n < prefix.count, before - n - 1 >= 0, text[before - n - 1] == prefix[prefix.count - n - 1] { n += 1 }
        return n
    }

    /// How many characters at the start of `suffix` equal the text from `after` on.
    private func suffixScore(_ text: [Unicode.Scalar], after: Int) -> Int {
        var n = 0
        while n < suffix.count, after + n < text.count, text[after + n] == suffix[n] { n += 1 }
        return n
    }
}
