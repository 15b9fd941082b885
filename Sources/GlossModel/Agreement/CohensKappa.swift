/// Cohen's κ (Cohen 1960): chance-corrected agreement of exactly two raters on nominal
/// categories, with chance agreement from each rater's own category distribution.
///
/// `κ = (pₒ − pₑ) / (1 − pₑ)`, `pₒ` the share of items both rate alike,
/// `pₑ = Σₖ (rater 1's share of k)(rater 2's share of k)`. See ``AgreementCoefficient`` for
/// when the value is undefined.
public enum CohensKappa {
    /// κ for two raters' ratings of the same items, item `i` rated `first[i]` and `second[i]`.
    ///
    /// - Throws: ``AgreementError/Code/mismatchedRatings`` when the lists differ in length.
    public static func compute<Category: Hashable>(_ first: [Category], _ second: [Category]) throws(AgreementError)
        -> AgreementCoefficient
    {
        guard first.count == second.count else {
            throw AgreementError(
                .mismatchedRatings,
                "the raters rated \(first.count) and \(second.count) items; Cohen's κ needs the same items")
        }
        var index: [Category: Int] = [:]
        for c in first + second where index[c] == nil { index[c] = index.count }
        var table = [[Int]](repeating: [Int](repeating: 0, count: index.count), count: index.count)
        for (a, b) in zip(first, second) { table[index[a]!][index[b]!] += 1 }
        return try compute(table: table)
    }

    /// κ from a square contingency table: `table[i][j]` items rater 1 put in category `i` and
    /// rater 2 in category `j`.
    ///
    /// - Throws: ``AgreementError/Code/mismatchedRatings`` when the table is not square,
    ///   ``AgreementError/Code/negativeCount`` for a negative cell.
    public static func compute(table: [[Int]]) throws(AgreementError) -> AgreementCoefficient {
        let k = table.count
        for (i, row) in table.enumerated() {
            guard row.count == k else {
                throw AgreementError(
                    .mismatchedRatings, "row \(i) has \(row.count) cells; a \(k)-category table needs \(k)")
            }
            if let bad = row.firstIndex(where: { $0 < 0 }) {
                throw AgreementError(.negativeCount, "cell (\(i), \(bad)) is negative: \(row[bad])")
            }
        }
        let n = table.reduce(0) { $0 + $1.reduce(0, +) }
        guard n > 0 else { return .empty }
        let agreeing = (0..<k).reduce(0) { $0 + table[$1][$1] }
        let rows = table.map { $0.reduce(0, +) }
        let columns = (0..<k).map { j in table.reduce(0) { $0 + $1[j] } }
        // In integers, so that "chance agreement is total" is an exact test.
        let chance = zip(rows, columns).reduce(0) { $0 + $1.0 * $1.1 }
        return .chanceCorrected(
            observed: Double(agreeing) / Double(n), expected: Double(chance) / (Double(n) * Double(n)),
            expectedIsTotal: chance == n * n, items: n)
    }
}
