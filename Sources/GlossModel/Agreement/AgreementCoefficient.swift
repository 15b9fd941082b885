/// The value of a chance-corrected agreement coefficient (Cohen's κ, Fleiss' κ, Krippendorff's
/// α) with the two agreements it is made of: `value = (observed − expected) / (1 − expected)`.
///
/// `value` is nil when the coefficient is undefined, so that reports never carry NaN:
/// - with no items (nothing pairable, for α), and
/// - when expected agreement is 1: every rating falls in one category, so chance alone
///   explains the agreement and agreement beyond chance cannot be measured (0 / 0). Such data
///   shows no variation; report "n/a" rather than 1 or 0.
public struct AgreementCoefficient: Hashable, Sendable, Codable {
    /// The coefficient, 1 for perfect agreement and 0 for chance level; nil when undefined.
    public var value: Double?
    /// Observed agreement: the share of agreeing pairs (for α, 1 − observed disagreement).
    public var observedAgreement: Double?
    /// Agreement expected by chance from the category distribution (for α, 1 − expected disagreement).
    public var expectedAgreement: Double?
    /// The number of items (units) that entered the computation.
    public var items: Int

    public init(value: Double?, observedAgreement: Double?, expectedAgreement: Double?, items: Int) {
        self.value = value
        self.observedAgreement = observedAgreement
        self.expectedAgreement = expectedAgreement
        self.items = items
    }

    /// The coefficient for no items: everything undefined.
    static let empty = AgreementCoefficient(value: nil, observedAgreement: nil, expectedAgreement: nil, items: 0)

    /// κ-style value from the two agreements; undefined when chance agreement is total.
    static func chanceCorrected(observed: Double, expected: Double, expectedIsTotal: Bool, items: Int)
        -> AgreementCoefficient
    {
        AgreementCoefficient(
            value: expectedIsTotal ? nil : (observed - expected) / (1 - expected), observedAgreement: observed,
            expectedAgreement: expected, items: items)
    }
}
