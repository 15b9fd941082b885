/// Where a span was anchored before a text revision changed the text it covered: its ranges
/// in the text with digest ``text``. A span that has one is an *anchor problem*: its current
/// ranges are only a proposal (or empty, when its text vanished), for a person to confirm, fix
/// or delete (`gloss conflicts`, `gloss resolve`). Clearing the field (`set anchor none`)
/// confirms the current ranges.
public struct TextAnchor: Hashable, Sendable, CustomStringConvertible {
    /// A stable id (hex) for the anchor problem of annotation `id` in `document`, the same on
    /// every machine, in the form of a ``Conflict/id``: `gloss conflicts` lists both kinds.
    public func problemID(annotation id: AnnotationID, in document: DocumentID) -> String {
        Conflict.stableID("anchor|\(document)|\(id)|\(text)|\(ranges.map(\.description).joined(separator: ","))")
    }

    /// The text the ranges are offsets into.
    public var text: TextDigest
    /// The span's ranges in that text, as they were.
    public var ranges: [TextRange]

    /// An anchor.
    public init(text: TextDigest, ranges: [TextRange]) {
        self.text = text
        self.ranges = ranges
    }

    /// `3-7,9-12 in sha256:…` (the digest shortened to 12 hex digits).
    public var description: String {
        let digest = String(text.description.dropFirst("sha256:".count).prefix(12))
        return "\(ranges.map(\.description).joined(separator: ",")) in sha256:\(digest)"
    }
}
