/// One document's input to agreement: its text and, per annotator (layer name), that layer's
/// annotations. Only spans count; other kinds are ignored. An annotator without an entry has no
/// spans in the document.
public struct AgreementDocument: Sendable {
    public var text: String
    public var layers: [String: [Annotation]]

    public init(text: String, layers: [String: [Annotation]]) {
        self.text = text
        self.layers = layers
    }

    /// The spans of `annotator`'s layer, keeping only `labels` when given.
    func spans(of annotator: String, labels: Set<String>?) -> [Annotation] {
        (layers[annotator] ?? []).filter { $0.kind == .span && (labels?.contains($0.label) ?? true) }
    }
}
