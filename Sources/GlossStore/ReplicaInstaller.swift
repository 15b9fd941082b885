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
/// The store should be a fresh one made for the purpose (``SQLiteCorpusBackend/bulkLoader(path:)``
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

    /// Revisions per transaction, and the received bytes that end a page early: small pages
    /// keep the client's memory flat, and without a journal a transaction costs little.
    static let pageRevisions = 512
    static let pageByteLimit = 64 << 10

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
    private static func placeholder(_ document: DocumentID) -> DocumentRecord {
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
        for (document, key) in keys.sorted(by: { $0.value < $1.value }) {
            try Task.checkCancellation()  // Ctrl-C during a long build
            try store.backend.write { rows in try install(document, key: key, schemas: schemas, rows) }
        }
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

    /// Replays one document's deltas into its head, and writes the head, the document's row
    /// with its chain bookkeeping, its referrers and the snapshots the policy asks for.
    private func install(
        _ document: DocumentID, key: Int64, schemas: [(revision: Int, schema: Schema)], _ rows: any CorpusWriter
    ) throws {
        var head = HeadState()
        var record = DocumentRecord(key: key, entry: Self.placeholder(document).entry)
        var schemaIndex = 0
        for delta in try rows.deltas(document: key, after: 0, through: lastRevision) {
            let place = "\(document) at revision \(delta.revision)"
            guard let revision = try rows.revision(delta.revision) else {
                throw StoreError(.corrupt, "a delta of a revision that never came", context: place)
            }
            // Schema changes of this revision first, as a replica applying the pull does.
            var ops: [Op] = []
            while schemaIndex < schemas.count, schemas[schemaIndex].revision <= delta.revision {
                ops.append(.setSchema(schemas[schemaIndex].schema))
                schemaIndex += 1
            }
            let documentOps = try delta.ops()
            ops += documentOps
            // An added document's text goes with it, as in a push: the check verifies it.
            var texts: [TextDigest: String] = [:]
            for case .addDocument(let added) in documentOps {
                guard let stored = try rows.text(added.digest) else {
                    throw StoreError(.corrupt, "the server sent no text for the document", context: place)
                }
                let raw = try BlobCompression.decompress(
                    stored.data, expectedLength: stored.rawLength, what: "text \(added.digest)")
                guard let text = String(validating: raw, as: UTF8.self) else {
                    throw StoreError(.corrupt, "the server sent a text that is not UTF-8", context: place)
                }
                texts[added.digest] = text
            }
            let changeset = Changeset(
                id: revision.changeset, author: revision.author, replica: revision.replica, base: delta.revision - 1,
                message: revision.message, timestamp: revision.timestamp, ops: ops, texts: texts)
            let outcome: CheckOutcome
            do {
                outcome = try head.apply(changeset, as: delta.revision)
            } catch {
                throw StoreError(.corrupt, "the server's ops do not apply: \(error)", context: place)
            }
            guard outcome.conflicts.isEmpty else {
                throw StoreError(
                    .corrupt, "the server's ops do not apply cleanly (\(outcome.conflicts.count) conflicts)",
                    context: place)
            }
            guard let entry = head.document(document) else {
                throw StoreError(.corrupt, "ops of a document that was never added", context: place)
            }
            record.entry = entry
            let isBase = documentOps.contains { if case .addDocument = $0 { true } else { false } }
            if isBase {
                (record.chainLength, record.chainBytes, record.baseBytes) = (0, 0, delta.data.count)
            } else {
                record.chainLength += 1
                record.chainBytes += delta.data.count
            }
            if entry.isLive && store.snapshotPolicy.needsSnapshot(record) {
                let state = DocumentState(
                    document: entry.document,
                    annotations: head.entries(in: document).compactMapValues { $0.isLive ? $0.annotation : nil })
                let raw = DeltaCodec.encode(state.asOps, document: document)
                let data = BlobCompression.compress(raw)
                try rows.insertSnapshot(document: key, revision: delta.revision, rawLength: raw.count, data: data)
                (record.chainLength, record.chainBytes, record.baseBytes) = (0, 0, data.count)
            }
            if isBase {
                // The chain-base flag, which the first pass could not know without decoding.
                try rows.markBaseDelta(document: key, revision: delta.revision)
            }
        }
        try rows.putDocument(record)
        let entries = head.entries(in: document)
        guard !entries.isEmpty else { return }
        try rows.putHeadBlock(document: key, DocumentHead.block(of: entries.values))
        for (id, entry) in entries.sorted(by: { $0.key < $1.key }) {
            for target in entry.annotation.references {
                try rows.addReferrer(document: key, target: target, source: id)
            }
        }
    }
}
