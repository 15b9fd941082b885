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

/// A revision as `gloss log` lists it: its row and the documents its deltas changed.
public struct RevisionSummary: Sendable {
    public var revision: Revision
    /// Sorted; empty for a revision that changed only the schema.
    public var documents: [DocumentID]
}

/// Pages of the revision log, each read in one transaction.
extension CorpusStore {
    /// The revisions in `(after, through]`, newest first, with the documents each changed.
    ///
    /// With `document`, only the revisions that changed it, each listing that document alone:
    /// its deltas are read first, and then only those revisions' rows.
    public func revisionSummaries(after: Int, through: Int, document: DocumentID? = nil) throws -> [RevisionSummary] {
        guard through > after else { return [] }
        return try backend.read { rows in
            if let document {
                guard let record = try rows.document(document) else { return [] }
                // The ids come with the blobs: the seam has no read of (revision, document) alone.
                return try rows.deltas(document: record.key, after: after, through: through).reversed().compactMap {
                    try rows.revision($0.revision).map { RevisionSummary(revision: $0, documents: [document]) }
                }
            }
            var touched: [Int: [DocumentID]] = [:]
            for (revision, document) in try rows.deltaDocuments(after: after, through: through) {
                if let document { touched[revision, default: []].append(document) }
            }
            return try rows.revisions(after: after, through: through).reversed().map { revision in
                var documents = touched[revision.number] ?? []
                if documents.count > 1 { documents.sort() }
                return RevisionSummary(revision: revision, documents: documents)
            }
        }
    }
}

extension CorpusStore {
    /// How many documents are live: a count, not a read of every document's row.
    public func liveDocumentCount() throws -> Int { try backend.read { try $0.liveDocumentCount() } }
}
