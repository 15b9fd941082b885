import GlossModel

/// A span whose text a revision changed or removed (its ``Annotation/anchor`` is set): listed by
/// `gloss conflicts` beside merge conflicts, settled by `gloss resolve`.
public struct AnchorProblem: Sendable {
    /// Stable across machines (``TextAnchor/problemID(annotation:in:)``).
    public var id: String
    /// The span as it stands: its ranges are the proposal (empty when its text vanished).
    public var annotation: Annotation
    /// Where it was.
    public var anchor: TextAnchor
    /// The text it covered there, when this replica has that text.
    public var previousText: String?
    /// The text its proposed ranges cover now.
    public var proposedText: String

    /// How to settle one.
    public enum Resolution: Sendable {
        /// The proposal is right: keep the current ranges.
        case keep
        /// Place the span here instead.
        case ranges([TextRange])
        /// The annotation no longer applies.
        case delete
    }

    /// `anchor: span 33ee… PER in fed was "Teh cat" (4-11); now proposed 4-11 "The cat"`.
    public var description: String {
        let was = previousText.map { "\"\($0)\"" } ?? "at \(anchor.ranges.map(\.description).joined(separator: ","))"
        let now =
            annotation.ranges.isEmpty
            ? "its text is gone"
            : "proposed \(annotation.ranges.map(\.description).joined(separator: ",")) \"\(proposedText)\""
        return "anchor: span \(annotation.id) \(annotation.label) in \(annotation.document) covered \(was) before the text changed; \(now)"
    }
}
