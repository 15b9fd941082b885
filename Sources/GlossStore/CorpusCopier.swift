import GlossModel

/// Copies a corpus row for row from one backend to another (`glossd migrate-store`): every
/// revision, document, text, delta, snapshot, head block and row, referrer and corpus-level
/// value, the stored bytes unchanged, so that the copy serves byte-identical clones and pulls.
///
/// The source is read on one snapshot (``AuditableCorpusBackend/audit(_:)``), so a consistent
/// copy needs no pause of anything but writers; the destination is written a page of documents
/// per transaction, so that a large corpus is never one huge transaction. Revision rows go in
/// the last one: until it commits, the copy's head is 0 and nothing serves it as a corpus.
public enum CorpusCopier {
    /// What a copy wrote.
    public struct Counts: Hashable, Sendable {
        public var revisions = 0
        public var documents = 0
        public var texts = 0
        public var deltas = 0
        public var snapshots = 0
        public var headRows = 0
    }

    /// Documents per destination transaction.
    public static let documentsPerTransaction = 100

    /// Copies `source` into `destination`, which must hold no revision yet.
    ///
    /// - Throws: ``StoreError`` `backend` when the destination is not empty; the backends' errors.
    @discardableResult
    public static func copy(from source: any AuditableCorpusBackend, to destination: any CorpusBackend) throws -> Counts {
        guard try destination.read({ try $0.headRevision() }) == 0 else {
            throw StoreError(.backend, "the destination corpus already has revisions; copy into an empty one")
        }
        return try source.audit { rows in
            var counts = Counts()
            try copyTexts(rows, to: destination, counts: &counts)
            var after: DocumentID?
            while true {
                let page = try rows.documents(after: after, limit: documentsPerTransaction)
                guard let last = page.last else { break }
                try destination.write { writer in
                    for record in page { try copyDocument(record, from: rows, to: writer, counts: &counts) }
                }
                after = last.entry.document.id
            }
            try destination.write { writer in
                // The corpus-level chain (schema ops) has key 0 on every backend.
                try rows.forEachDelta(document: CorpusStore.corpusChain) { blob, isBase in
                    try writer.insertDelta(
                        document: CorpusStore.corpusChain, revision: blob.revision, isBase: isBase, rawLength: blob.rawLength,
                        data: blob.data)
                    counts.deltas += 1
                }
                for (key, value) in try rows.metaEntries() { try writer.setMeta(key, value) }
                for revision in try rows.revisions(after: 0, through: try rows.headRevision()) {
                    try writer.insertRevision(revision)
                    counts.revisions += 1
                }
            }
            return counts
        }
    }

    private static func copyTexts(_ rows: any CorpusAuditReader, to destination: any CorpusBackend, counts: inout Counts) throws {
        var after: [UInt8]?
        while true {
            let digests = try rows.textDigests(after: after, limit: documentsPerTransaction)
            guard let last = digests.last else { return }
            try destination.write { writer in
                for stored in digests {
                    guard let digest = TextDigest(bytes: stored), let text = try rows.text(storedDigest: stored) else {
                        throw StoreError(.corrupt, "a text's digest is not 32 bytes; run glossd check on the source")
                    }
                    try writer.putText(digest, rawLength: text.rawLength, data: text.data)
                    counts.texts += 1
                }
            }
            after = last
        }
    }

    private static func copyDocument(
        _ record: DocumentRecord, from rows: any CorpusAuditReader, to writer: any CorpusWriter, counts: inout Counts
    ) throws {
        // Keys are each backend's own: the copy gets a fresh one.
        let key = try writer.putDocument(record)
        counts.documents += 1
        try rows.forEachDelta(document: record.key) { blob, isBase in
            try writer.insertDelta(document: key, revision: blob.revision, isBase: isBase, rawLength: blob.rawLength, data: blob.data)
            counts.deltas += 1
        }
        for revision in try rows.snapshotRevisions(document: record.key) {
            guard let blob = try rows.latestSnapshot(document: record.key, atOrBefore: revision), blob.revision == revision else {
                throw StoreError(.corrupt, "the snapshot at r\(revision) does not read back", context: record.entry.document.id.rawValue)
            }
            try writer.insertSnapshot(document: key, revision: revision, rawLength: blob.rawLength, data: blob.data)
            counts.snapshots += 1
        }
        // The block first: writing one replaces the rows.
        if let block = try rows.headBlock(document: record.key) { try writer.putHeadBlock(document: key, block) }
        var headRows: [(id: AnnotationID, body: [UInt8])] = []
        try rows.forEachHeadRow(document: record.key) { id, body in headRows.append((id, body)) }
        if !headRows.isEmpty { try writer.putHeadRows(document: key, headRows) }
        counts.headRows += headRows.count
        for (target, source) in try rows.referrerPairs(document: record.key) {
            try writer.addReferrer(document: key, target: target, source: source)
        }
    }
}
