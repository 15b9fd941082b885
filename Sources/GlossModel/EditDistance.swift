/// Levenshtein distance, for the "did you mean" of misspelt keys, labels and commands.
public enum EditDistance {
    /// The fewest single-character insertions, deletions and substitutions turning `a` into `b`.
    public static func between(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        guard !a.isEmpty else { return b.count }
        var row = Array(0...b.count)
        for i in 1...a.count {
            var previous = row[0]
            row[0] = i
            for j in stride(from: 1, through: b.count, by: 1) {
                let old = row[j]
                row[j] = min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] == b[j - 1] ? 0 : 1))
                previous = old
            }
        }
        return row[b.count]
    }

    /// The candidate closest to `word` (case ignored) if it is close enough to be a likely typo:
    /// within a third of the word's length, and at least two edits, or containing the word.
    public static func suggestion(for word: String, among candidates: [String]) -> String? {
        let lowered = word.lowercased()
        let scored = candidates.map { ($0, between($0.lowercased(), lowered)) }
        if let best = scored.min(by: { $0.1 < $1.1 }), best.1 <= max(2, word.count / 3) { return best.0 }
        // A word that names part of a candidate ("labels" for "spanLabels").
        guard word.count >= 4 else { return nil }
        return candidates.first { $0.lowercased().contains(lowered) }
    }
}
