import Foundation
import GlossModel

/// Builds a replica from a clone stream by installing what the server sent instead of
/// replaying it revision by revision.
///
/// The server's history was accepted once already and arrives over a pinned connection, so
/// the installer first writes it as it comes: revision rows, deltas and texts exactly as the
/// server stored them (no decode, no re-encode, no re-deflate), a page of revisions per
/// transaction. A snapshot that starts a document's chain becomes that document's base delta
/// at its revision, as an incremental pull would record it. Then ``finish()`` builds the head
/// one document at a time: it reads the document's deltas back, runs each through the same
/// ``AcceptanceCheck`` as every push (so a stream that does not apply is refused, never
/// installed), and writes the document's head block, its row, its referrers and the snapshots
/// the store's policy asks for.
///
/// Memory stays bounded by a page of revisions and one document, whatever the corpus's size.
/// The store should be a fresh one made for the purpose (`SQLiteCorpusBackend.bulkLoader(path:)`
/// skips the journal); an interrupted install is thrown away, never resumed.
public final class ReplicaInstaller {
    private let store: CorpusStore
    /// Revisions and blobs received but not yet written.
    private var page: [(revision: Revision, deltas: [StoredBlob])] = []
    private var pageBytes = 0
    private var texts: [(digest: TextDigest, rawLength: Int, data: [UInt8])] = []
    /// Snapshots by the revision whose item they precede.
    private var snapshots: [Int: [StoredBlob]] = [:]
    /// Documents by the key their placeholder rows got, in first-seen order.
    private var keys: [DocumentID: Int64] = [:]
    /// Documents whose chain starts at a server snapshot, with its revision.
    private var caughtUp: [DocumentID: Int] = [:]
    /// Schema changes (corpus-level ops) by revision, for checking each document's ops as of then.
    private var corpusOps: [(revision: Int, ops: [Op])] = []
    private var lastRevision = 0
    /// Compressed delta bytes per document, to size the batches of ``finish(head:)``.
    private var deltaBytes: [DocumentID: Int] = [:]

    /// Revisions per transaction, and the received bytes that end a page early: small pages
    /// keep the client's memory flat, and without a journal a transaction costs little.
    static let pageRevisions = 512
    static let pageByteLimit = 64 << 10
    /// Documents built at once (one per core at a time), and the compressed deltas that end a
    /// batch early: what the client holds while it builds the head.
    static let batchDocuments = 32
    static let batchByteLimit = 4 << 20

    /// - Parameter store: an empty store (revision 0).
    public init(into store: CorpusStore) throws {
        self.store = store
        guard try store.headRevision() == 0 else {
            throw StoreError(.corrupt, "a clone installs into an empty replica", context: "replica")
        }
    }

    /// A text the documents need, deflated as the server stores it, kept as received. It is
    /// checked once, in ``finish(head:)``: the document that adds it carries it through the
    /// acceptance check, which compares it with the document's digest and length.
    public func text(digest: TextDigest, rawLength: Int, deflated: [UInt8]) throws {
        texts.append((digest, rawLength, deflated))
        // A corpus imported in one changeset sends every text before its first revision.
        pageBytes += deflated.count
        if pageBytes >= Self.pageByteLimit { try flush() }
    }

    /// A document's snapshot, which starts its chain at the revision that comes next.
    public func snapshot(_ blob: StoredBlob) throws {
        guard let document = blob.document else {
            throw StoreError(.corrupt, "a snapshot without a document", context: "snapshot at revision \(blob.revision)")
        }
        guard blob.revision > lastRevision else {
            throw StoreError(
                .corrupt, "a snapshot of revision \(blob.revision) after revision \(lastRevision)",
                context: "snapshot of \(document)")
        }
        snapshots[blob.revision, default: []].append(blob)
    }

    /// The next revision, with its stored deltas: the documents' ops in that revision.
    public func revision(_ revision: Revision, deltas: [StoredBlob]) throws {
        guard revision.number == lastRevision + 1 else {
            throw StoreError(
                .corrupt, "revision \(revision.number) arrived after revision \(lastRevision)",
                context: "revision \(revision.number)")
        }
        lastRevision = revision.number
        var blobs = deltas
        for snapshot in snapshots.removeValue(forKey: revision.number) ?? [] {
            let document = snapshot.document!
            guard !blobs.contains(where: { $0.document == document }) else {
                throw StoreError(
                    .corrupt, "both a snapshot and a delta of \(document)", context: "revision \(revision.number)")
            }
            // A snapshot is a delta that adds the document with its annotations: kept as such.
            blobs.append(StoredBlob(kind: .delta, revision: revision.number, document: document, rawLength: snapshot.rawLength, data: snapshot.data))
            caughtUp[document] = revision.number
        }
        for blob in blobs where blob.document == nil {
            corpusOps.append((revision.number, try blob.ops()))
        }
        page.append((revision, blobs))
        pageBytes += blobs.reduce(0) { $0 + $1.data.count }
        if page.count >= Self.pageRevisions || pageBytes >= Self.pageByteLimit { try flush() }
    }

    /// Writes the revisions received so far, with their deltas and texts, in one transaction.
    public func flush() throws {
        guard !page.isEmpty || !texts.isEmpty else { return }
        let (page, texts) = (self.page, self.texts)
        var keys = self.keys
        try store.backend.write { rows in
            for (digest, rawLength, data) in texts { try rows.putText(digest, rawLength: rawLength, data: data) }
            for (revision, deltas) in page {
                try rows.insertRevision(revision)
                for blob in deltas {
                    let key: Int64
                    if let document = blob.document {
                        deltaBytes[document, default: 0] += blob.data.count
                        if let known = keys[document] {
                            key = known
                        } else {
                            key = try rows.putDocument(Self.placeholder(document))
                            keys[document] = key
                        }
                    } else {
                        key = CorpusStore.corpusChain
                    }
                    try rows.insertDelta(
                        document: key, revision: blob.revision, isBase: false, rawLength: blob.rawLength, data: blob.data)
                }
            }
        }
        self.keys = keys
        self.page.removeAll(keepingCapacity: true)
        self.texts.removeAll()
        pageBytes = 0
    }

    /// A document's row until ``finish()`` writes the real one (a key for its deltas).
    static func placeholder(_ document: DocumentID) -> DocumentRecord {
        DocumentRecord(
            key: 0,
            entry: DocumentEntry(
                document: Document(id: document, digest: TextDigest(bytes: [UInt8](repeating: 0, count: 32))!, length: 0),
                addedAt: 0))
    }

    /// Writes what is left, then builds every document's head from its deltas, checking each
    /// revision's ops as a push is checked.
    ///
    /// - Throws: ``StoreError`` `corrupt` when the stream does not apply (a revision missing,
    ///   ops that break the check, a text missing), naming the document and revision.
    public func finish(head: Int) throws {
        try flush()
        guard lastRevision == head else {
            throw StoreError(
                .corrupt, "the stream ended at revision \(lastRevision) where the server's head is \(head)",
                context: "clone")
        }
        guard snapshots.isEmpty else {
            throw StoreError(.corrupt, "snapshots for revisions that never came", context: "clone")
        }
        let schemas = try schemaHistory()
        var batch: [(document: DocumentID, key: Int64)] = []
        var batchBytes = 0
        for (document, key) in keys.sorted(by: { $0.value < $1.value }) {
            batch.append((document, key))
            batchBytes += deltaBytes[document, default: 0]
            if batch.count >= Self.batchDocuments || batchBytes >= Self.batchByteLimit {
                try install(batch, schemas: schemas)
                (batch, batchBytes) = ([], 0)
            }
        }
        if !batch.isEmpty { try install(batch, schemas: schemas) }
        try store.backend.write { rows in
            if let (revision, schema) = schemas.last {
                try rows.setMeta(CorpusStore.MetaKey.schema, Array(DeltaCodec.encode([.setSchema(schema)], document: nil)))
                try rows.setMeta(CorpusStore.MetaKey.schemaRevision, CorpusStore.encodeInt(revision))
            }
            var gaps: [DocumentID: [HistoryGap]] = [:]
            for (document, revision) in caughtUp { gaps[document] = [HistoryGap(knownThrough: 0, caughtUpAt: revision)] }
            if !gaps.isEmpty { try rows.setMeta(CorpusStore.MetaKey.historyGaps, HistoryGap.encode(gaps)) }
        }
    }

    /// The schema in force after each revision that set one, in order.
    private func schemaHistory() throws -> [(revision: Int, schema: Schema)] {
        corpusOps.flatMap { revision, ops in
            ops.compactMap { op in if case .setSchema(let s) = op { (revision, s) } else { nil } }
        }
    }

    /// Builds a batch of documents: reads their deltas and texts back, builds their heads on
    /// every core (pure work, no database), then writes them in one transaction.
    private func install(_ batch: [(document: DocumentID, key: Int64)], schemas: [(revision: Int, schema: Schema)])
        throws
    {
        try Task.checkCancellation()  // Ctrl-C during a long build
        let last = lastRevision
        var work: [DocumentInstall] = try store.backend.read { rows in
            var revisions: [Int: Revision] = [:]
            return try batch.map { document, key in
                let deltas = try rows.deltas(document: key, after: 0, through: last).map { blob in
                    if let known = revisions[blob.revision] { return (blob, known) }
                    guard let revision = try rows.revision(blob.revision) else {
                        throw StoreError(
                            .corrupt, "a delta of a revision that never came", context: "\(document) at revision \(blob.revision)")
                    }
                    revisions[blob.revision] = revision
                    return (blob, revision)
                }
                return DocumentInstall(document: document, key: key, deltas: deltas)
            }
        }
        let decoded = work
        let digests = try ParallelWork.map(decoded.indices) { i in
            var w = decoded[i]
            let digests = try w.decode()
            return (w.ops, digests)
        }
        for (i, (ops, _)) in digests.enumerated() { work[i].ops = ops }
        try store.backend.read { rows in
            for (i, (_, wanted)) in digests.enumerated() {
                // A missing one is refused by the build, which knows the revision that needs it.
                for digest in wanted where work[i].texts[digest] == nil {
                    work[i].texts[digest] = try rows.text(digest)
                }
            }
        }
        let (ready, policy) = (work, store.snapshotPolicy)
        let built = try ParallelWork.map(ready.indices) { i in try ready[i].build(schemas: schemas, policy: policy) }
        try store.backend.write { rows in
            for document in built {
                let key = document.record.key
                try rows.putDocument(document.record)
                for snapshot in document.snapshots {
                    try rows.insertSnapshot(
                        document: key, revision: snapshot.revision, rawLength: snapshot.rawLength, data: snapshot.data)
                }
                // The chain-base flag, which the first pass could not know without decoding.
                for revision in document.bases { try rows.markBaseDelta(document: key, revision: revision) }
                if let block = document.block { try rows.putHeadBlock(document: key, block) }
                for (target, source) in document.referrers {
                    try rows.addReferrer(document: key, target: target, source: source)
                }
            }
        }
    }
}
