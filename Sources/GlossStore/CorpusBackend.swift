import GlossModel

/// The seam between the versioned-store logic (``CorpusStore``) and a database.
///
/// A backend stores rows for one corpus; it knows nothing of merge, deltas or snapshots. The
/// embedded SQLite backend (GlossStoreSQLite) is the default, PostgreSQL (GlossStorePostgres)
/// lets several glossd nodes share one database, and ``MemoryCorpusBackend`` is the reference
/// for tests.
///
/// ## Blocking
/// Calls are synchronous and may block: SQLite waits for locks and fsync, PostgreSQL for a
/// round trip per statement. The store logic runs inside one transaction body, which needs its
/// reads answered in order, so the seam stays synchronous, and the policy is the caller's: run
/// every call on a thread that may wait (glossd's `StorageExecutor`, the CLI's own thread),
/// never on an event loop or Swift's cooperative pool. The async side of the server awaits that
/// executor. Because a call may cost a round trip, the reads a push's check makes for many
/// annotations come in batches (``CorpusReader/headRows(document:ids:)``,
/// ``CorpusReader/referrers(document:targets:)``, ``CorpusReader/revisions(_:)``), and a group
/// commit announces what it will read first (``CorpusReader/startBatch(of:prefetching:metaKeys:)``).
/// PostgreSQL's own I/O runs on event loops of its own, apart from those serving clients, so
/// that a waiting storage thread is answered as soon as the database answers.
///
/// ## Concurrency contract
/// Every backend keeps it, and `CorpusBackendContractTests` checks it on each:
/// - **Writes are atomic and serialised per corpus.** One ``write(_:)`` body runs at a time
///   for a corpus (across processes too, for a shared database); its writes appear together
///   when it returns, durably committed, or not at all when it throws. A body may therefore
///   read the head and write head + 1: no other write can take that number meanwhile.
/// - **A read sees one committed state.** Everything a ``read(_:)`` body reads comes from the
///   same committed state, whatever commits while it runs; a write body reads its own writes.
/// - **Nested transactions** (``CorpusWriter/nested(_:)``) undo exactly their own writes.
/// - **The unique keys hold**: one revision per number and per changeset id, one delta per
///   document and revision. Breaking one throws, and the transaction is not committed.
/// - A body must not call ``read(_:)`` or ``write(_:)`` on its own backend: its reader or
///   writer is the transaction.
public protocol CorpusBackend: Sendable {
    /// Runs `body` on a consistent read snapshot.
    func read<T>(_ body: (any CorpusReader) throws -> T) throws -> T
    /// Runs `body` in one transaction and returns only once it is durably committed.
    func write<T>(_ body: (any CorpusWriter) throws -> T) throws -> T
    /// Gives back the disk a write-ahead journal grew to, once it holds more than `bytes`
    /// (0: whatever it holds), so that the data directory at rest is the store itself.
    func compactJournal(above bytes: Int) throws
}

extension CorpusBackend {
    /// Backends without a journal file have nothing to give back.
    public func compactJournal(above bytes: Int) throws {}
}

/// A document row: its head entry plus the bookkeeping of its delta chain.
public struct DocumentRecord: Hashable, Sendable {
    /// The backend's small integer key for the document (0 is the corpus-level chain).
    public var key: Int64
    public var entry: DocumentEntry
    /// Deltas since the chain's base (the last snapshot, or the delta that added the document).
    public var chainLength: Int
    /// Their compressed bytes.
    public var chainBytes: Int
    /// Compressed bytes of the base.
    public var baseBytes: Int

    public init(key: Int64, entry: DocumentEntry, chainLength: Int = 0, chainBytes: Int = 0, baseBytes: Int = 0) {
        self.key = key
        self.entry = entry
        self.chainLength = chainLength
        self.chainBytes = chainBytes
        self.baseBytes = baseBytes
    }
}

/// Reads of one corpus's rows.
public protocol CorpusReader {
    func headRevision() throws -> Int
    func revision(_ number: Int) throws -> Revision?
    func revisionNumber(of changeset: ChangesetID) throws -> Int?
    /// ``revisionNumber(of:)`` of several changesets in one read (a group commit's batch).
    func revisionNumbers(of changesets: [ChangesetID]) throws -> [ChangesetID: Int]
    /// Revisions in `(after, through]`, ascending.
    func revisions(after: Int, through: Int) throws -> [Revision]
    func document(_ id: DocumentID) throws -> DocumentRecord?
    func documents() throws -> [DocumentRecord]
    /// Documents (re)added in `(after, through]`: what a pull of that range needs texts for.
    func documents(addedAfter after: Int, through: Int) throws -> [DocumentRecord]
    /// A document's head is its ``HeadBlock`` plus head rows: ``HeadEntryCodec`` bodies of the
    /// annotations changed since the block was written, which win over the block's entries.
    /// ``DocumentHead`` reads the two together.
    func headBlock(document: Int64) throws -> HeadBlock?
    /// The number of entries in the document's block (0 without one) and of its head rows.
    func headLayout(document: Int64) throws -> (blockEntries: Int, rows: Int)
    /// One annotation's head row, if it changed since the block was written.
    func headRow(document: Int64, id: AnnotationID) throws -> [UInt8]?
    /// The document's head rows (not the block's entries).
    func headRows(document: Int64) throws -> [(id: AnnotationID, body: [UInt8])]
    /// The head rows of `ids` that the document has (those changed since its block was
    /// written), in one read: a push's check needs every annotation its ops touch.
    func headRows(document: Int64, ids: [AnnotationID]) throws -> [AnnotationID: [UInt8]]
    /// Annotations that referred to `target` at some point (candidates; callers re-check).
    func referrers(document: Int64, target: AnnotationID) throws -> [AnnotationID]
    /// ``referrers(document:target:)`` of several targets in one read (a push deleting many).
    func referrers(document: Int64, targets: [AnnotationID]) throws -> [AnnotationID: [AnnotationID]]
    /// The rows of the revisions among `numbers` that exist, in one read.
    func revisions(_ numbers: [Int]) throws -> [Revision]
    /// Deltas of one document in `(after, through]`, ascending.
    func deltas(document: Int64, after: Int, through: Int) throws -> [StoredBlob]
    /// Deltas of all documents in `(after, through]`, ordered by revision then document.
    func deltas(after: Int, through: Int) throws -> [StoredBlob]
    /// Which documents the deltas of revisions `(after, through]` belong to, without their
    /// bytes (nil for the corpus chain), by revision: what a log lists.
    func deltaDocuments(after: Int, through: Int) throws -> [(revision: Int, document: DocumentID?)]
    /// How many documents are live, counted without reading them (every list of corpora shows it).
    func liveDocumentCount() throws -> Int
    /// The latest revision ≤ `revision` whose delta added the document (a chain base).
    func latestBaseDelta(document: Int64, atOrBefore revision: Int) throws -> Int?
    /// Every delta in `(after, through]` that added its document (the chain bases), by revision
    /// then document: a pull needs the text of each, also of a document added more than once.
    func documentAdditions(after: Int, through: Int) throws -> [(revision: Int, document: DocumentID)]
    /// Documents whose text was last revised after `after` (their rows say when, not how often):
    /// a pull reads their deltas for the texts its revisions name.
    func documents(textRevisedAfter after: Int) throws -> [DocumentRecord]
    func latestSnapshot(document: Int64, atOrBefore revision: Int) throws -> StoredBlob?
    /// A text, compressed, with its length.
    func text(_ digest: TextDigest) throws -> (rawLength: Int, data: [UInt8])?
    func meta(_ key: String) throws -> [UInt8]?
    /// Bytes at rest, by part (for the benchmark and `glossd` metrics).
    func storageSummary() throws -> StorageSummary
    /// What a group commit reads before it checks anything: the head revision and the
    /// revisions of those of `changesets` the corpus has (``revisionNumbers(of:)``).
    ///
    /// `annotations` and `metaKeys` are hints: the documents, and the annotations of each, that
    /// the reads to come will ask about (the batch's changesets, before any is checked), and the
    /// meta values they will read. A backend where each read is a round trip may load their
    /// rows, head blocks, head rows and values now, in a few statements, and answer those reads
    /// from memory; every read stays exact. By default, the two reads one after the other.
    func startBatch(
        of changesets: [ChangesetID], prefetching annotations: [DocumentID: Set<AnnotationID>], metaKeys: [String]
    ) throws -> (head: Int, known: [ChangesetID: Int])
}

/// Writes, inside one transaction.
public protocol CorpusWriter: CorpusReader {
    func insertRevision(_ revision: Revision) throws
    /// Inserts or updates a document row; a new document gets a fresh key (the record's key is ignored).
    @discardableResult func putDocument(_ record: DocumentRecord) throws -> Int64
    /// Inserts or replaces head rows (``HeadEntryCodec`` bodies) of one document.
    func putHeadRows(document: Int64, _ entries: [(id: AnnotationID, body: [UInt8])]) throws
    /// Replaces the document's block with `block`, which has its head rows folded in: the rows go.
    func putHeadBlock(document: Int64, _ block: HeadBlock) throws
    /// Removes the document's whole head: block, rows and referrers.
    func clearHead(document: Int64) throws
    func addReferrer(document: Int64, target: AnnotationID, source: AnnotationID) throws
    func insertDelta(document: Int64, revision: Int, isBase: Bool, rawLength: Int, data: [UInt8]) throws
    /// Flags a stored delta as a chain base (it adds the document), for deltas written before
    /// that was known (``ReplicaInstaller``).
    func markBaseDelta(document: Int64, revision: Int) throws
    func insertSnapshot(document: Int64, revision: Int, rawLength: Int, data: [UInt8]) throws
    /// Stores a text unless one with the same digest is already there.
    func putText(_ digest: TextDigest, rawLength: Int, data: [UInt8]) throws
    func setMeta(_ key: String, _ value: [UInt8]) throws
    /// Runs `body` as a nested transaction of this one (an SQL `SAVEPOINT`): its writes stay
    /// when it returns ``NestedCompletion/keep``, and are undone, as if never made, when it
    /// returns ``NestedCompletion/undo`` or throws (then the error passes on); the enclosing
    /// transaction goes on either way. Reads inside `body` see its writes.
    func nested(_ body: () throws -> NestedCompletion) throws
}

/// How a ``CorpusWriter/nested(_:)`` transaction ends.
public enum NestedCompletion: Sendable {
    /// Its writes join the enclosing transaction.
    case keep
    /// Its writes are undone.
    case undo
}

/// Where the bytes of a corpus go.
public struct StorageSummary: Hashable, Sendable {
    public var deltaBytes: Int = 0
    public var deltaCount: Int = 0
    public var snapshotBytes: Int = 0
    public var snapshotCount: Int = 0
    public var textBytes: Int = 0
    /// Head entries: those in blocks plus head rows (an annotation changed since its block
    /// was written counts in both).
    public var headRows: Int = 0
    /// Compressed bytes of head blocks plus the bodies of head rows.
    public var headBytes: Int = 0
    /// The whole database on disk, indexes and head table included.
    public var fileBytes: Int = 0

    public init() {}

    /// The versioned history: deltas, snapshots and texts.
    public var historyBytes: Int { deltaBytes + snapshotBytes + textBytes }
}

/// A backend that can be read whole, for `glossd check`, and copied while it serves, for
/// `glossd backup`: the embedded SQLite backend.
///
/// Kept apart from ``CorpusBackend`` so that wrappers (such as the tests' counting backend) and
/// future backends are not forced to implement audit reads they never serve.
public protocol AuditableCorpusBackend: CorpusBackend {
    /// Runs `body` on one consistent read snapshot, with the reads only an audit needs.
    func audit<T>(_ body: (any CorpusAuditReader) throws -> T) throws -> T
    /// The database engine's own structural check (SQLite `PRAGMA integrity_check`): one line
    /// per problem found, at most `limit`; empty when the database passes.
    func databaseIntegrityProblems(limit: Int) throws -> [String]
    /// Writes a consistent copy of the whole store to a new database file at `path`, while
    /// other connections (in this process or another) keep reading and committing.
    func backup(to path: String) throws
}

/// Reads that walk a whole corpus for an integrity check, a bounded piece at a time.
public protocol CorpusAuditReader: CorpusReader {
    /// Documents ordered by id, strictly after `id` (nil: from the first), at most `limit`.
    func documents(after id: DocumentID?, limit: Int) throws -> [DocumentRecord]
    /// Every delta of one document in revision order, one at a time (a long chain is never held
    /// whole), with the row's chain-base flag. Key 0 is the corpus-level chain.
    func forEachDelta(document: Int64, _ body: (_ delta: StoredBlob, _ isBase: Bool) throws -> Void) throws
    /// The revisions at which a document has snapshots, ascending.
    func snapshotRevisions(document: Int64) throws -> [Int]
    /// One document's head rows, one at a time, as stored (``HeadEntryCodec`` bodies); its
    /// block comes from ``CorpusReader/headBlock(document:)``.
    func forEachHeadRow(document: Int64, _ body: (_ id: AnnotationID, _ body: [UInt8]) throws -> Void) throws
    /// Every referrer pair of one document (which annotation referred to which), as stored.
    func referrerPairs(document: Int64) throws -> [(target: AnnotationID, source: AnnotationID)]
    /// Every corpus-level key and value (the schema and its revision, history gaps …).
    func metaEntries() throws -> [(key: String, value: [UInt8])]
    /// Text digests exactly as stored (a damaged one may not be 32 bytes), in byte order,
    /// strictly after `digest` (nil: from the first), at most `limit`.
    func textDigests(after digest: [UInt8]?, limit: Int) throws -> [[UInt8]]
    /// A text by its digest exactly as stored, compressed, with its recorded length.
    func text(storedDigest digest: [UInt8]) throws -> (rawLength: Int, data: [UInt8])?
    /// Rows that point at nothing: deltas, snapshots, head blocks and rows of a document key with no
    /// document row, and deltas or snapshots of a revision with no revision row (with the
    /// document's id when it has a row). `missing` is `"document"` or `"revision"`. At most `limit`.
    func danglingRows(limit: Int) throws
        -> [(table: String, documentKey: Int64, document: DocumentID?, revision: Int?, missing: String)]
}

extension CorpusReader {
    /// One lookup per id, for backends where a lookup costs no round trip (SQLite, memory).
    public func headRows(document: Int64, ids: [AnnotationID]) throws -> [AnnotationID: [UInt8]] {
        var found: [AnnotationID: [UInt8]] = [:]
        for id in ids { if let body = try headRow(document: document, id: id) { found[id] = body } }
        return found
    }

    /// One lookup per target, for backends where a lookup costs no round trip.
    public func referrers(document: Int64, targets: [AnnotationID]) throws -> [AnnotationID: [AnnotationID]] {
        var found: [AnnotationID: [AnnotationID]] = [:]
        for target in targets { found[target] = try referrers(document: document, target: target) }
        return found
    }

    /// One lookup per changeset, for backends where a lookup costs no round trip.
    public func revisionNumbers(of changesets: [ChangesetID]) throws -> [ChangesetID: Int] {
        var found: [ChangesetID: Int] = [:]
        for id in changesets { if let number = try revisionNumber(of: id) { found[id] = number } }
        return found
    }

    /// One lookup per revision, for backends where a lookup costs no round trip.
    public func revisions(_ numbers: [Int]) throws -> [Revision] {
        try numbers.compactMap { try revision($0) }
    }

    /// The text revisions in a document's deltas of `(after, through]`, oldest first: what a
    /// push's check carries old offsets through, a pull sends texts for and `gloss log` marks.
    /// Read only for documents whose row says they were revised (few).
    public func textRevisions(of record: DocumentRecord, after: Int, through: Int) throws -> [RecordedTextRevision] {
        var found: [RecordedTextRevision] = []
        for blob in try deltas(document: record.key, after: after, through: through) {
            for case .reviseText(_, let change) in try blob.ops() {
                found.append(RecordedTextRevision(revision: blob.revision, change: change))
            }
        }
        return found
    }

    /// Every document read, for backends where that costs no round trip.
    public func documents(textRevisedAfter after: Int) throws -> [DocumentRecord] {
        try documents().filter { ($0.entry.textRevisedAt ?? 0) > after }
    }

    /// From the rows themselves, for backends without a cheaper read: each delta's document,
    /// then whether that delta is the document's chain base.
    public func documentAdditions(after: Int, through: Int) throws -> [(revision: Int, document: DocumentID)] {
        var keys: [DocumentID: Int64] = [:]
        var found: [(revision: Int, document: DocumentID)] = []
        for (revision, document) in try deltaDocuments(after: after, through: through) {
            guard let document else { continue }
            if keys[document] == nil { keys[document] = try self.document(document)?.key }
            guard let key = keys[document], try latestBaseDelta(document: key, atOrBefore: revision) == revision else { continue }
            found.append((revision, document))
        }
        return found
    }

    /// The hints ignored: nothing to gain where a read costs no round trip.
    public func startBatch(
        of changesets: [ChangesetID], prefetching annotations: [DocumentID: Set<AnnotationID>], metaKeys: [String]
    ) throws -> (head: Int, known: [ChangesetID: Int]) {
        (try headRevision(), try revisionNumbers(of: changesets))
    }

    /// From the rows themselves, for backends without a cheaper read.
    public func liveDocumentCount() throws -> Int { try documents().filter(\.entry.isLive).count }

    /// From the blobs themselves, for backends without a cheaper read.
    public func deltaDocuments(after: Int, through: Int) throws -> [(revision: Int, document: DocumentID?)] {
        try deltas(after: after, through: through).map { ($0.revision, $0.document) }
    }
}
