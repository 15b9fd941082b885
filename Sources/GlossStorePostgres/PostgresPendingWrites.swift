import GlossModel
import GlossStore
import NIOCore
import PostgresNIO

/// The row writes of one append transaction, held back and sent as one statement.
///
/// On PostgreSQL every statement costs a round trip and a parse on both sides, and an append
/// writes several small rows per changeset (its revision, its deltas, the head rows and
/// referrers it changes, its document's chain bookkeeping, now and then a snapshot): a group commit of 100 changesets
/// was some 1,800 statements. Those writes wait here instead, and ``flush(_:)`` inserts them
/// all in one statement (one data-modifying CTE per table, arrays bound as parameters).
///
/// Reads stay exact: ``PostgresCorpusRows`` answers the reads a check makes (a revision, a
/// changeset's number, a document's row, head rows, referrers) from the database merged
/// with what waits here, and flushes before any other read. A write that must see the
/// database as it is (a savepoint, a new document's key, a head cleared) flushes first too,
/// so the statements reach the database in an order that gives the same rows as writing each
/// at once. A head block, which replaces every row of its document, drops the rows waiting
/// for that document instead of sending them first.
final class PostgresPendingWrites {
    /// Inserted revisions by number (at most one per number and per changeset: the unique keys).
    private(set) var revisions: [Int: Revision] = [:]
    private(set) var revisionByChangeset: [ChangesetID: Int] = [:]
    /// Document rows to upsert, by id; each one's key is known (the row exists).
    private(set) var documents: [DocumentID: DocumentRecord] = [:]
    /// Head rows to upsert, by document key then annotation id: the last body wins.
    private(set) var headRows: [Int64: [AnnotationID: [UInt8]]] = [:]
    /// Referrer pairs to insert, by document key then target.
    private(set) var referrers: [Int64: [AnnotationID: Set<AnnotationID>]] = [:]
    private var deltas: [Delta] = []
    /// Snapshots to upsert, by document key then revision: the last one wins.
    private(set) var snapshots: [Int64: [Int: Snapshot]] = [:]

    /// What the transaction knows of the rows already in the database.
    let known = PostgresHeadKnowledge()

    struct Delta {
        var document: Int64
        var revision: Int
        var isBase: Bool
        var rawLength: Int
        var data: [UInt8]
    }

    struct Snapshot {
        var rawLength: Int
        var data: [UInt8]
    }

    var isEmpty: Bool {
        revisions.isEmpty && documents.isEmpty && headRows.isEmpty && referrers.isEmpty && deltas.isEmpty
            && snapshots.isEmpty
    }

    /// The highest revision waiting here, if any.
    var highestRevision: Int? { revisions.keys.max() }

    func add(_ revision: Revision) {
        revisions[revision.number] = revision
        revisionByChangeset[revision.changeset] = revision.number
    }

    func add(_ record: DocumentRecord) {
        documents[record.entry.document.id] = record
    }

    func add(headRows entries: [(id: AnnotationID, body: [UInt8])], document: Int64) {
        for entry in entries { headRows[document, default: [:]][entry.id] = entry.body }
    }

    /// Forgets the head rows waiting for one document (a block that replaces them all is written).
    func dropHeadRows(document: Int64) { headRows[document] = nil }

    func addReferrer(document: Int64, target: AnnotationID, source: AnnotationID) {
        referrers[document, default: [:]][target, default: []].insert(source)
    }

    func add(_ delta: Delta) { deltas.append(delta) }

    func addSnapshot(document: Int64, revision: Int, _ snapshot: Snapshot) {
        snapshots[document, default: [:]][revision] = snapshot
    }

    /// Sends everything waiting in one statement and empties the buffers, whether it succeeds
    /// or not (a failed statement wrote nothing, and its transaction or savepoint is undone).
    /// Blocking; one round trip, none when nothing waits. `withNextStatement`: it goes with the
    /// connection's next statement instead (``BlockingPostgresConnection/sendWithNext(_:)``).
    func flush(corpus: Int32, _ connection: BlockingPostgresConnection, withNextStatement: Bool = false) throws {
        guard !isEmpty else { return }
        defer { discardRows() }
        typealias Rows = PostgresCorpusRows
        let revisionRows = revisions.values.sorted { $0.number < $1.number }
        let documentRows = documents.values.sorted { $0.entry.document.id < $1.entry.document.id }
        var head: [(doc: Int64, id: AnnotationID, body: [UInt8])] = []
        for (doc, rows) in headRows.sorted(by: { $0.key < $1.key }) {
            // In id order: B-tree inserts that append are cheaper than random ones.
            for (id, body) in rows.sorted(by: { $0.key < $1.key }) { head.append((doc, id, body)) }
        }
        var refs: [(doc: Int64, target: AnnotationID, source: AnnotationID)] = []
        for (doc, targets) in referrers {
            for (target, sources) in targets { for source in sources { refs.append((doc, target, source)) } }
        }
        var snapshotRows: [(doc: Int64, revision: Int, snapshot: Snapshot)] = []
        for (doc, byRevision) in snapshots {
            for (revision, snapshot) in byRevision { snapshotRows.append((doc, revision, snapshot)) }
        }
        let documentRemoved = documentRows.map { Int64($0.entry.removedAt ?? -1) }
        let documentRevised = documentRows.map { Int64($0.entry.textRevisedAt ?? -1) }
        let statement: PostgresQuery = """
            WITH r AS (
                INSERT INTO revisions(corpus, rev, changeset, replica, author, base, message, time, ops, content)
                SELECT \(corpus), u.rev, u.changeset, u.replica, u.author, u.base, u.message, u.time, u.ops,
                    NULLIF(u.content, ''::bytea)
                FROM unnest(\(revisionRows.map { Int64($0.number) })::bigint[],
                    \(revisionRows.map { Rows.buffer($0.changeset.bytes) })::bytea[],
                    \(revisionRows.map { Rows.int($0.replica.rawValue) })::bigint[], \(revisionRows.map(\.author))::text[],
                    \(revisionRows.map { Int64($0.base) })::bigint[], \(revisionRows.map(\.message))::text[],
                    \(revisionRows.map(\.timestamp))::bigint[], \(revisionRows.map { Int64($0.opCount) })::bigint[],
                    \(revisionRows.map { Rows.buffer($0.contentDigest?.bytes ?? []) })::bytea[])
                    AS u(rev, changeset, replica, author, base, message, time, ops, content)),
            d AS (
                INSERT INTO documents(
                    corpus, id, digest, length, metadata, added, removed, chain_len, chain_bytes, base_bytes, text_revised)
                SELECT \(corpus), u.id, u.digest, u.length, u.metadata, u.added, NULLIF(u.removed, -1), u.chain_len,
                    u.chain_bytes, u.base_bytes, NULLIF(u.text_revised, -1)
                FROM unnest(\(documentRows.map(\.entry.document.id.rawValue))::text[],
                    \(documentRows.map { Rows.buffer($0.entry.document.digest.bytes) })::bytea[],
                    \(documentRows.map { Int64($0.entry.document.length) })::bigint[],
                    \(documentRows.map { Rows.buffer(MetadataCodec.encode($0.entry.document.metadata)) })::bytea[],
                    \(documentRows.map { Int64($0.entry.addedAt) })::bigint[], \(documentRemoved)::bigint[],
                    \(documentRows.map { Int64($0.chainLength) })::bigint[], \(documentRows.map { Int64($0.chainBytes) })::bigint[],
                    \(documentRows.map { Int64($0.baseBytes) })::bigint[], \(documentRevised)::bigint[])
                    AS u(id, digest, length, metadata, added, removed, chain_len, chain_bytes, base_bytes, text_revised)
                ON CONFLICT (corpus, id) DO UPDATE SET digest = excluded.digest, length = excluded.length,
                    metadata = excluded.metadata, added = excluded.added, removed = excluded.removed,
                    chain_len = excluded.chain_len, chain_bytes = excluded.chain_bytes, base_bytes = excluded.base_bytes,
                    text_revised = excluded.text_revised),
            h AS (
                INSERT INTO head(corpus, doc, replica, counter, body)
                SELECT \(corpus), * FROM unnest(\(head.map(\.doc))::bigint[], \(head.map { Rows.int($0.id.replica.rawValue) })::bigint[],
                    \(head.map { Rows.int($0.id.counter) })::bigint[], \(head.map { Rows.buffer($0.body) })::bytea[])
                ON CONFLICT (corpus, doc, replica, counter) DO UPDATE SET body = excluded.body),
            f AS (
                INSERT INTO refs(corpus, doc, t_replica, t_counter, s_replica, s_counter)
                SELECT \(corpus), * FROM unnest(\(refs.map(\.doc))::bigint[],
                    \(refs.map { Rows.int($0.target.replica.rawValue) })::bigint[], \(refs.map { Rows.int($0.target.counter) })::bigint[],
                    \(refs.map { Rows.int($0.source.replica.rawValue) })::bigint[], \(refs.map { Rows.int($0.source.counter) })::bigint[])
                ON CONFLICT DO NOTHING),
            s AS (
                INSERT INTO snapshots(corpus, doc, rev, raw_len, data)
                SELECT \(corpus), * FROM unnest(\(snapshotRows.map(\.doc))::bigint[],
                    \(snapshotRows.map { Int64($0.revision) })::bigint[], \(snapshotRows.map { Int64($0.snapshot.rawLength) })::bigint[],
                    \(snapshotRows.map { Rows.buffer($0.snapshot.data) })::bytea[])
                ON CONFLICT (corpus, doc, rev) DO UPDATE SET raw_len = excluded.raw_len, data = excluded.data)
            INSERT INTO deltas(corpus, rev, doc, base, raw_len, data)
            SELECT \(corpus), * FROM unnest(\(deltas.map { Int64($0.revision) })::bigint[], \(deltas.map(\.document))::bigint[],
                \(deltas.map(\.isBase))::boolean[], \(deltas.map { Int64($0.rawLength) })::bigint[],
                \(deltas.map { Rows.buffer($0.data) })::bytea[])
            """
        if withNextStatement {
            connection.sendWithNext(statement)
        } else {
            try connection.execute(statement)
        }
    }

    /// Forgets the rows waiting here.
    func discardRows() {
        revisions = [:]
        revisionByChangeset = [:]
        documents = [:]
        headRows = [:]
        referrers = [:]
        deltas = []
        snapshots = [:]
    }
}
