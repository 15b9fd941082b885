import GlossModel
import GlossTestSupport
import Testing

/// Cohen's κ, Fleiss' κ and Krippendorff's α against published worked examples, edge cases and
/// identities that tie the three together.
@Suite(.hangGuard, .timeLimit(.minutes(10)))
struct AgreementCoefficientTests {
    // Wikipedia, "Cohen's kappa", worked example (50 grant proposals read by A and B):
    // yes/yes 20, yes/no 5, no/yes 10, no/no 15 → pₒ = 0.7, pₑ = 0.5, κ = 0.4.
    // Verified against https://en.wikipedia.org/wiki/Cohen%27s_kappa and the same problem at
    // http://howcodex.com/statistics/cohen_kappa_coefficient.htm.
    @Test func cohenWikipediaExample() throws {
        let k = try CohensKappa.compute(table: [[20, 5], [10, 15]])
        #expect(abs(try #require(k.value) - 0.4) < 1e-12)
        #expect(abs(try #require(k.observedAgreement) - 0.7) < 1e-12)
        #expect(abs(try #require(k.expectedAgreement) - 0.5) < 1e-12)
        #expect(k.items == 50)

        // The same data as two rating lists gives the same κ.
        let a = Array(repeating: "yes", count: 25) + Array(repeating: "no", count: 25)
        let b =
            Array(repeating: "yes", count: 20) + Array(repeating: "no", count: 5)
            + Array(repeating: "yes", count: 10) + Array(repeating: "no", count: 15)
        #expect(try CohensKappa.compute(a, b) == k)
    }

    // Wikipedia, "Fleiss' kappa", worked example: 10 subjects, 14 raters, 5 categories;
    // P̄ = 0.378, P̄ₑ = 0.213, κ = 0.210 (same table in dnafinder/Fleiss and Shamya/FleissKappa).
    static let fleissWikipedia = [
        [0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
        [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7],
    ]

    @Test func fleissWikipediaExample() throws {
        let k = try FleissKappa.compute(counts: Self.fleissWikipedia)
        #expect(abs(try #require(k.value) - 0.210) < 0.0005)
        #expect(abs(try #require(k.observedAgreement) - 0.378) < 0.0005)
        #expect(abs(try #require(k.expectedAgreement) - 0.213) < 0.0005)
        #expect(k.items == 10)
    }

    // Fleiss (1971), "Measuring nominal scale agreement among many raters", Psychological
    // Bulletin 76(5), Table 1: 30 patients, 6 psychiatrists, 5 diagnoses, κ = .430 (the table as
    // reproduced in Shamya/FleissKappa's example_kappa.py).
    @Test func fleiss1971Example() throws {
        let counts = [
            [0, 0, 0, 6, 0], [0, 3, 0, 0, 3], [0, 1, 4, 0, 1], [0, 0, 0, 0, 6], [0, 3, 0, 3, 0],
            [2, 0, 4, 0, 0], [0, 0, 4, 0, 2], [2, 0, 3, 1, 0], [2, 0, 0, 4, 0], [0, 0, 0, 0, 6],
            [1, 0, 0, 5, 0], [1, 1, 0, 4, 0], [0, 3, 3, 0, 0], [1, 0, 0, 5, 0], [0, 2, 0, 3, 1],
            [0, 0, 5, 0, 1], [3, 0, 0, 1, 2], [5, 1, 0, 0, 0], [0, 2, 0, 4, 0], [1, 0, 2, 0, 3],
            [0, 0, 0, 0, 6], [0, 1, 0, 5, 0], [0, 2, 0, 1, 3], [2, 0, 0, 4, 0], [1, 0, 0, 4, 1],
            [0, 5, 0, 1, 0], [4, 0, 0, 0, 2], [0, 2, 0, 4, 0], [1, 0, 5, 0, 0], [0, 0, 0, 0, 6],
        ]
        let k = try FleissKappa.compute(counts: counts)
        #expect(abs(try #require(k.value) - 0.430) < 0.0005)
    }

    @Test func fleissFromRatingsMatchesCounts() throws {
        // Expand the Wikipedia table into 14 ratings per subject, shuffled.
        var rng = SplitMix64(seed: 7)
        let ratings = Self.fleissWikipedia.map { row in
            row.enumerated().flatMap { category, n in Array(repeating: "c\(category)", count: n) }.shuffled(using: &rng)
        }
        let fromRatings = try FleissKappa.compute(ratings: ratings)
        let fromCounts = try FleissKappa.compute(counts: Self.fleissWikipedia)
        #expect(abs(try #require(fromRatings.value) - #require(fromCounts.value)) < 1e-12)
    }

    // Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section C (nominal data,
    // 4 observers, 12 units, missing values): α = 0.743. The same data is the "C" example of R's
    // irr::kripp.alpha (https://rdrr.io/cran/irr/man/kripp.alpha.html).
    static let krippendorffC: [[Int?]] = [
        // Observers A, B, C, D for units 1…12.
        [1, 1, nil, 1], [2, 2, 3, 2], [3, 3, 3, 3], [3, 3, 3, 3], [2, 2, 2, 2], [1, 2, 3, 4],
        [4, 4, 4, 4], [1, 1, 2, 1], [2, 2, 2, 2], [nil, 5, 5, 5], [nil, nil, 1, 1], [nil, nil, 3, nil],
    ]

    @Test func krippendorff2011NominalExample() throws {
        let alpha = KrippendorffAlpha.nominal(units: Self.krippendorffC)
        #expect(abs(try #require(alpha.value) - 0.743) < 0.0005)
        // Unit 12 has a single value and is not pairable.
        #expect(alpha.items == 11)
        // Where a value sits in its unit does not matter for nominal α.
        var rng = SplitMix64(seed: 3)
        let shuffled = KrippendorffAlpha.nominal(units: Self.krippendorffC.map { $0.shuffled(using: &rng) })
        #expect(abs(try #require(shuffled.value) - #require(alpha.value)) < 1e-12)
    }

    // MARK: - Edge cases

    @Test func perfectAgreementIsOne() throws {
        let a = ["x", "y", "z", "x"]
        #expect(try CohensKappa.compute(a, a).value == 1)
        #expect(try FleissKappa.compute(ratings: a.map { [$0, $0, $0] }).value == 1)
        #expect(KrippendorffAlpha.nominal(units: a.map { [$0, $0, nil] }).value == 1)
    }

    /// All ratings in one category: agreement is total but so is chance agreement, so every
    /// coefficient is undefined (nil), as AgreementCoefficient documents.
    @Test func oneCategoryIsUndefined() throws {
        let a = ["x", "x", "x"]
        let cohen = try CohensKappa.compute(a, a)
        #expect(cohen.value == nil)
        #expect(cohen.observedAgreement == 1 && cohen.expectedAgreement == 1)
        #expect(try FleissKappa.compute(ratings: a.map { [$0, $0] }).value == nil)
        let alpha = KrippendorffAlpha.nominal(units: a.map { [$0, $0] })
        #expect(alpha.value == nil && alpha.items == 3)
    }

    @Test func noItemsIsUndefined() throws {
        let cohen = try CohensKappa.compute([String](), [])
        #expect(cohen == AgreementCoefficient(value: nil, observedAgreement: nil, expectedAgreement: nil, items: 0))
        #expect(try FleissKappa.compute(counts: []).value == nil)
        let alpha = KrippendorffAlpha.nominal(units: [[1, nil], [nil, 2]] as [[Int?]])
        #expect(alpha.value == nil && alpha.items == 0)
    }

    @Test func systematicDisagreementIsBelowZero() throws {
        // Two categories, the raters always disagree and use both equally.
        let k = try CohensKappa.compute(["a", "b", "a", "b"], ["b", "a", "b", "a"])
        #expect(try #require(k.value) == -1)
        #expect(try #require(KrippendorffAlpha.nominal(units: [["a", "b"], ["b", "a"]]).value) < 0)
    }

    @Test func invalidInputThrows() {
        #expect(throws: AgreementError.self) { try CohensKappa.compute(["a"], ["a", "b"]) }
        #expect(throws: AgreementError.self) { try CohensKappa.compute(table: [[1, 2], [3]]) }
        #expect(throws: AgreementError.self) { try CohensKappa.compute(table: [[1, -2], [3, 4]]) }
        do {
            _ = try FleissKappa.compute(counts: [[2, 1], [1, 1]])
            Issue.record("unequal rater counts accepted")
        } catch {
            #expect(error.code == .unequalRaterCounts)
            #expect(error.description.hasPrefix("agreement-unequal-rater-counts: item 1 has 2 ratings"))
        }
        do {
            _ = try FleissKappa.compute(counts: [[1, 0], [0, 1]])
            Issue.record("one rater accepted")
        } catch {
            #expect(error.code == .tooFewRaters)
        }
    }

    // MARK: - Identities on random data

    /// κ does not depend on the order of items or the names of categories, and is symmetric in
    /// the raters; for two coders without missing values, α and Scott's π (Fleiss' κ with two
    /// raters) satisfy 1 − α = (1 − π)(n − 1)/n with n = 2·items.
    @Test func identitiesOnRandomRatings() throws {
        var rng = SplitMix64(seed: 0x5eed)
        for _ in 0..<200 {
            let items = 2 + rng.int(below: 40)
            let categories = 1 + rng.int(below: 4)
            let a = (0..<items).map { _ in rng.int(below: categories) }
            // Mostly agree, sometimes not.
            let b = a.map { rng.chance(70) ? $0 : rng.int(below: categories) }
            let kappa = try CohensKappa.compute(a, b)
            #expect(try CohensKappa.compute(b, a) == kappa)
            let order = Array(0..<items).shuffled(using: &rng)
            let renamed = try CohensKappa.compute(order.map { "r\(a[$0])" }, order.map { "r\(b[$0])" })
            #expect(close(renamed.value, kappa.value))

            let pi = try FleissKappa.compute(ratings: zip(a, b).map { [$0, $1] })
            let alpha = KrippendorffAlpha.nominal(units: zip(a, b).map { [$0, $1] })
            #expect((pi.value == nil) == (alpha.value == nil))
            if let p = pi.value, let al = alpha.value {
                let n = Double(2 * items)
                #expect(abs((1 - al) - (1 - p) * (n - 1) / n) < 1e-9)
            }
        }
    }
}

/// Whether two optional coefficients are both undefined or equal up to rounding.
func close(_ a: Double?, _ b: Double?, tolerance: Double = 1e-12) -> Bool {
    switch (a, b) {
    case (nil, nil): true
    case (let x?, let y?): abs(x - y) <= tolerance
    default: false
    }
}
