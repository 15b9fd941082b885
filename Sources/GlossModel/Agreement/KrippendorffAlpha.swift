/// Krippendorff's α for nominal data, by the coincidence-matrix method (Krippendorff,
/// "Computing Krippendorff's Alpha-Reliability", 2011): any number of coders, missing values
/// allowed.
///
/// Only units with at least two values are pairable. With `nᵤc` the number of values c in unit
/// u and `mᵤ` its number of values, the coincidences are `o_ck = Σᵤ (pairs c–k in u) / (mᵤ − 1)`,
/// `n_c = Σₖ o_ck` and `n = Σ_c n_c`; then `α = 1 − D_o / D_e` with observed disagreement
/// `D_o = Σ_{c≠k} o_ck / n` and expected disagreement `D_e = Σ_{c≠k} n_c n_k / (n(n − 1))`.
/// See ``AgreementCoefficient`` for when the value is undefined.
public enum KrippendorffAlpha {
    /// α for reliability data given unit by unit: `units[u]` lists the values the coders gave
    /// unit `u`, nil for a coder who gave none (missing). The position of a value in a unit does
    /// not matter for nominal α, so units may list their values in any order and any number.
    public static func nominal<Category: Hashable>(units: [[Category?]]) -> AgreementCoefficient {
        var pairable = 0  // n: values in pairable units
        var diagonal = 0.0  // Σ_c o_cc
        var totals: [Category: Int] = [:]  // n_c
        var unitCount = 0
        for unit in units {
            let values = unit.compactMap { $0 }
            guard values.count >= 2 else { continue }
            unitCount += 1
            let m = values.count
            var counts: [Category: Int] = [:]
            for v in values { counts[v, default: 0] += 1 }
            for (c, n) in counts {
                // Ordered pairs of two different values that are both c, weighted 1 / (m − 1).
                diagonal += Double(n * (n - 1)) / Double(m - 1)
                totals[c, default: 0] += n
            }
            pairable += m
        }
        guard pairable > 0 else { return .empty }
        let n = Double(pairable)
        let squaredTotals = totals.values.reduce(0) { $0 + $1 * $1 }
        let observedDisagreement = (n - diagonal) / n
        let expectedDisagreement = Double(pairable * pairable - squaredTotals) / (n * (n - 1))
        let undefined = squaredTotals == pairable * pairable
        return AgreementCoefficient(
            value: undefined ? nil : 1 - observedDisagreement / expectedDisagreement,
            observedAgreement: 1 - observedDisagreement, expectedAgreement: 1 - expectedDisagreement,
            items: unitCount)
    }
}
