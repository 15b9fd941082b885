/// Input that an agreement computation cannot use: ratings of different lengths, too few
/// raters, a count table that is not square.
///
/// The code is stable and machine-readable; the message is for people; the context names the
/// item or annotator that was wrong, when there is one.
public struct AgreementError: ContextualError, Hashable, Sendable {
    public typealias Code = ErrorCode<AgreementError>

    public var code: Code
    public var message: String
    public var context: String?

    public init(_ code: Code, _ message: String, context: String? = nil) {
        self.code = code
        self.message = message
        self.context = context
    }
}

extension ErrorCode where Domain == AgreementError {
    /// Two raters' rating lists differ in length, or a table is not square.
    public static let mismatchedRatings = Self(rawValue: "agreement-mismatched-ratings")
    /// Fewer than two raters (or annotators) where a coefficient needs at least two.
    public static let tooFewRaters = Self(rawValue: "agreement-too-few-raters")
    /// Items rated by different numbers of raters where the coefficient needs a fixed number (Fleiss).
    public static let unequalRaterCounts = Self(rawValue: "agreement-unequal-rater-counts")
    /// A negative count in a table.
    public static let negativeCount = Self(rawValue: "agreement-negative-count")
    /// The same annotator listed twice.
    public static let duplicateAnnotator = Self(rawValue: "agreement-duplicate-annotator")
}
