/// Fleiss' κ (Fleiss 1971): chance-corrected agreement of a fixed number `m ≥ 2` of ratings per
/// item on nominal categories, with chance agreement from the pooled category distribution.
///
/// `Pᵢ = (Σⱼ nᵢⱼ² − m) / (m(m − 1))`, `P̄` their mean, `pⱼ` category j's share of all ratings,
/// `P̄ₑ = Σⱼ pⱼ²`, `κ = (P̄ − P̄ₑ) / (1 − P̄ₑ)`. See ``AgreementCoefficient`` for when the
/// value is undefined.
public enum FleissKappa {
    /// κ from ratings: `ratings[i]` lists the categories item `i` received, one per rater; every
    /// item must have the same number of ratings.
    ///
    /// - Throws: ``AgreementError/Code/tooFewRaters`` with fewer than two ratings per item,
    ///   ``AgreementError/Code/unequalRaterCounts`` when items have different numbers.
    public static func compute<Category: Hashable>(ratings: [[Category]]) throws(AgreementError)
        -> AgreementCoefficient
    {
        var index: [Category: Int] = [:]
        for item in ratings { for c in item where index[c] == nil { index[c] = index.count } }
        let counts = ratings.map { item in
            item.reduce(into: [Int](repeating: 0, count: index.count)) { $0[index[$1]!] += 1 }
        }
        return try compute(counts: counts)
    }

    /// κ from a count table: `counts[i][j]` raters put item `i` in category `j`; every row must
    /// sum to the same number of raters `m ≥ 2`.
    ///
    /// - Throws: ``AgreementError/Code/tooFewRaters``, ``AgreementError/Code/unequalRaterCounts``,
    ///   ``AgreementError/Code/mismatchedRatings`` (rows of different lengths),
    ///   ``AgreementError/Code/negativeCount``.
    public static func compute(counts: [[Int]]) throws(AgreementError) -> AgreementCoefficient {
        guard let first = counts.first else { return .empty }
        let categories = first.count
        let raters = first.reduce(0, +)
        for (i, row) in counts.enumerated() {
            guard row.count == categories else {
                throw AgreementError(
                    .mismatchedRatings, "item \(i) has \(row.count) category counts, item 0 has \(categories)")
            }
            if let bad = row.firstIndex(where: { $0 < 0 }) {
                throw AgreementError(.negativeCount, "item \(i), category \(bad) has a negative count: \(row[bad])")
            }
            let sum = row.reduce(0, +)
            guard sum == raters else {
                throw AgreementError(
                    .unequalRaterCounts,
                    "item \(i) has \(sum) ratings, item 0 has \(raters); Fleiss' κ needs the same number for every item"
                )
            }
        }
        guard raters >= 2 else {
            throw AgreementError(.tooFewRaters, "Fleiss' κ needs at least 2 ratings per item, got \(raters)")
        }
        let items = counts.count
        var agreementSum = 0.0
        var totals = [Int](repeating: 0, count: categories)
        for row in counts {
            let squares = row.reduce(0) { $0 + $1 * $1 }
            agreementSum += Double(squares - raters) / Double(raters * (raters - 1))
            for (j, n) in row.enumerated() { totals[j] += n }
        }
        let all = items * raters
        let squaredTotals = totals.reduce(0) { $0 + $1 * $1 }
        return .chanceCorrected(
            observed: agreementSum / Double(items),
            expected: Double(squaredTotals) / (Double(all) * Double(all)),
            expectedIsTotal: squaredTotals == all * all, items: items)
    }
}
