import GlossModel

/// Reads of a few annotations of one document, for a client that wants to know what its
/// pending ops touch without reading the document's whole head.
extension CorpusStore {
    /// The head entries (live or tombstones) of `ids` in `document`, by point lookups: their
    /// rows, and of the block only those entries decoded (unless the store keeps it decoded).
    public func headEntries(_ ids: Set<AnnotationID>, of document: DocumentID) throws -> [AnnotationID: HeadEntry] {
        guard !ids.isEmpty else { return [:] }
        return try backend.read { rows in
            guard let record = try rows.document(document) else { return [:] }
            return try DocumentHead.entries(ids, key: record.key, document: document, rows, cache: headCache)
        }
    }
}
