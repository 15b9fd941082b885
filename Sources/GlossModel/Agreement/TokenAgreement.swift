/// Token-level agreement: chance-corrected coefficients over the category each annotator gives
/// each token (see ``AgreementReport`` for the categories).
///
/// Cohen's κ is given for exactly two annotators, Fleiss' κ for three or more, Krippendorff's α
/// always.
public struct TokenAgreement: Hashable, Sendable, Codable {
    /// The number of tokens compared (pooled over documents).
    public var tokens: Int
    public var cohensKappa: AgreementCoefficient?
    public var fleissKappa: AgreementCoefficient?
    public var krippendorffAlpha: AgreementCoefficient

    public init(
        tokens: Int, cohensKappa: AgreementCoefficient?, fleissKappa: AgreementCoefficient?,
        krippendorffAlpha: AgreementCoefficient
    ) {
        self.tokens = tokens
        self.cohensKappa = cohensKappa
        self.fleissKappa = fleissKappa
        self.krippendorffAlpha = krippendorffAlpha
    }

    /// The coefficients for `categories[t][a]`: annotator a's category for token t.
    init(categories: [[String]], annotators: Int) {
        tokens = categories.count
        if annotators == 2 {
            // Two raters, each rating every token: the tables cannot mismatch.
            cohensKappa = try? CohensKappa.compute(categories.map { $0[0] }, categories.map { $0[1] })
        }
        if annotators > 2 { fleissKappa = try? FleissKappa.compute(ratings: categories) }
        krippendorffAlpha = KrippendorffAlpha.nominal(units: categories.map { $0.map(Optional.some) })
    }
}
