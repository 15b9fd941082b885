import GlossModel

/// A compressed blob exactly as stored: the bytes a pull streams without re-encoding.
public struct StoredBlob: Hashable, Sendable {
    public enum Kind: UInt8, Sendable {
        /// The ops of one revision on one document.
        case delta = 0
        /// A document's whole state at a revision.
        case snapshot = 1
    }

    public var kind: Kind
    public var revision: Int
    /// The document, or nil for corpus-level ops (the schema).
    public var document: DocumentID?
    /// Length after inflating; inflation must produce exactly this.
    public var rawLength: Int
    /// Raw deflate of a ``DeltaCodec`` encoding.
    public var data: [UInt8]

    public init(kind: Kind, revision: Int, document: DocumentID?, rawLength: Int, data: [UInt8]) {
        self.kind = kind
        self.revision = revision
        self.document = document
        self.rawLength = rawLength
        self.data = data
    }

    /// Inflates and decodes the ops.
    public func ops() throws(StoreError) -> [Op] {
        let what = "\(kind) of \(document?.rawValue ?? "corpus") at revision \(revision)"
        let raw = try BlobCompression.decompress(data, expectedLength: rawLength, what: what)
        do {
            return try DeltaCodec.decode(raw, what: what).ops
        } catch {
            throw StoreError(.corrupt, error.message, context: what)
        }
    }
}
