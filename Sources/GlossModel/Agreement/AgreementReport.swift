/// Inter-annotator agreement over one or more documents: span F1 (exact and overlap) per pair
/// of annotators, and token-level κ/α, per label and overall. Codable for `gloss agree --json`.
///
/// Spans:
/// - *exact*: same label and same ranges; *overlap*: same label and at least one shared scalar,
///   matched one-to-one (a maximum matching). Pairs take the earlier-listed annotator as the
///   reference for precision and recall; F1 is symmetric. Counts are summed over documents
///   before the ratios are taken (micro average); ``SpanAgreement/meanF1`` averages over pairs.
///
/// Tokens (see ``AgreementTokenizer`` for what a token is):
/// - each annotator gives each token a category: the label of the span of their layer that
///   covers it (shares a scalar with it, so a span ending mid-word marks the whole word; an
///   empty span covers nothing), `O` when none does; a token covered by spans with several
///   labels gets the distinct labels sorted and joined with `+` (`LOC+ORG`). A label literally
///   named `O` is indistinguishable from "no span" here.
/// - a label row uses two categories per token: inside a span with that label, or not.
/// - tokens of all documents are pooled into one set of items.
public struct AgreementReport: Hashable, Sendable, Codable {
    /// The category of a token no span covers.
    public static let outside = "O"

    /// The annotators compared, in the order given.
    public var annotators: [String]
    /// The number of documents.
    public var documents: Int
    /// All labels together.
    public var overall: AgreementRow
    /// One row per label any annotator used, sorted by label.
    public var labels: [AgreementRow]

    public init(annotators: [String], documents: Int, overall: AgreementRow, labels: [AgreementRow]) {
        self.annotators = annotators
        self.documents = documents
        self.overall = overall
        self.labels = labels
    }

    /// Computes the report.
    ///
    /// - Parameters:
    ///   - documents: the documents with each annotator's layer.
    ///   - annotators: the layers to compare (at least two, distinct).
    ///   - labels: only spans with these labels count (`gloss agree --label`); nil counts all.
    /// - Throws: ``AgreementError/Code/tooFewRaters``, ``AgreementError/Code/duplicateAnnotator``.
    public static func compute(
        documents: [AgreementDocument], annotators: [String], labels: Set<String>? = nil
    ) throws(AgreementError) -> AgreementReport {
        guard annotators.count >= 2 else {
            throw AgreementError(
                .tooFewRaters, "agreement needs at least two annotators, got \(annotators.count)",
                context: annotators.joined(separator: ", "))
        }
        var seen = Set<String>()
        for a in annotators where !seen.insert(a).inserted {
            throw AgreementError(.duplicateAnnotator, "annotator \(a) is listed twice", context: a)
        }

        // Per document, each annotator's spans; the label set is what anyone used.
        let spans = documents.map { doc in annotators.map { doc.spans(of: $0, labels: labels) } }
        let usedLabels = Set(spans.flatMap { $0.flatMap { $0.map(\.label) } }).sorted()

        // Tokens with each annotator's set of labels, pooled over documents.
        var coverage: [[Set<String>]] = []  // [token][annotator]
        for (doc, layerSpans) in zip(documents, spans) {
            coverage += tokenCoverage(text: doc.text, spans: layerSpans)
        }

        let overall = AgreementRow(
            label: nil,
            exact: spanAgreement(annotators, spans, SpanMatcher.exactMatches),
            overlap: spanAgreement(annotators, spans, SpanMatcher.overlapMatches),
            tokens: TokenAgreement(
                categories: coverage.map { $0.map(category) }, annotators: annotators.count))
        let rows = usedLabels.map { label in
            let only = spans.map { $0.map { $0.filter { $0.label == label } } }
            return AgreementRow(
                label: label,
                exact: spanAgreement(annotators, only, SpanMatcher.exactMatches),
                overlap: spanAgreement(annotators, only, SpanMatcher.overlapMatches),
                tokens: TokenAgreement(
                    categories: coverage.map { $0.map { $0.contains(label) ? label : "not \(label)" } },
                    annotators: annotators.count))
        }
        return AgreementReport(annotators: annotators, documents: documents.count, overall: overall, labels: rows)
    }

    /// A token's category from the labels covering it.
    static func category(_ labels: Set<String>) -> String {
        labels.isEmpty ? outside : labels.sorted().joined(separator: "+")
    }

    /// For each token of the text, the labels of each annotator's spans that share a scalar with it.
    static func tokenCoverage(text: String, spans: [[Annotation]]) -> [[Set<String>]] {
        let tokens = AgreementTokenizer.tokens(in: text)
        var coverage = [[Set<String>]](
            repeating: [Set<String>](repeating: [], count: spans.count), count: tokens.count)
        for (a, layer) in spans.enumerated() {
            for span in layer {
                for range in span.ranges where range.length > 0 {
                    // The first token that ends after the range starts, then on while tokens
                    // start before it ends: tokens are sorted and disjoint.
                    var t = firstToken(endingAfter: range.start, tokens: tokens)
                    while t < tokens.count, tokens[t].start < range.end {
                        coverage[t][a].insert(span.label)
                        t += 1
                    }
                }
            }
        }
        return coverage
    }

    private static func firstToken(endingAfter offset: Int, tokens: [TextRange]) -> Int {
        var low = 0
        var high = tokens.count
        while low < high {
            let mid = (low + high) / 2
            if tokens[mid].end <= offset { low = mid + 1 } else { high = mid }
        }
        return low
    }

    /// Pairwise span scores, summed over documents, for one matching rule.
    private static func spanAgreement(
        _ annotators: [String], _ spans: [[[Annotation]]], _ matches: ([Annotation], [Annotation]) -> Int
    ) -> SpanAgreement {
        var pairs: [SpanPairScore] = []
        for i in annotators.indices {
            for j in annotators.indices where j > i {
                var score = SpanPairScore(
                    reference: annotators[i], other: annotators[j], matched: 0, referenceSpans: 0, otherSpans: 0)
                for doc in spans {
                    score.add(
                        SpanPairScore(
                            reference: annotators[i], other: annotators[j], matched: matches(doc[i], doc[j]),
                            referenceSpans: doc[i].count, otherSpans: doc[j].count))
                }
                pairs.append(score)
            }
        }
        return SpanAgreement(pairs: pairs)
    }
}
