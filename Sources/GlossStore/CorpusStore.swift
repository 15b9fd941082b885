import Foundation
import GlossModel

/// The versioned store of one corpus: a linear revision log, per-document delta chains with
/// snapshots, content-addressed texts and the materialised head (``DocumentHead``).
///
/// The server keeps one per corpus; a client's local replica uses the same type. Every write
/// goes through ``append(_:)``, which runs ``AcceptanceCheck`` against the head table inside
/// the transaction, so concurrent pushes are serialised and checked in O(ops).
public final class CorpusStore: Sendable {
    public let backend: any CorpusBackend
    public let snapshotPolicy: SnapshotPolicy
    /// Documents' head blocks as decoded, for pushes to hot documents; nil in a store that
    /// reads each block about once (a command-line process), where filling it would decode
    /// whole blocks of which a few entries are wanted.
    let headCache: HeadBlockCache?

    /// Encoded changesets (``append(encoded:)``) with more ops than this are checked and written
    /// a document at a time; smaller ones are decoded whole, the cheapest for a small push.
    let streamingThreshold: Int

    /// The server's default for ``init(backend:snapshotPolicy:headCacheEntries:streamingThreshold:)``:
    /// about 30 MB per open corpus. A decoded entry costs about 1 KB (its annotation's strings,
    /// ranges and attributes, the dictionary's slot): at 100,000 entries glossd's peak while
    /// 100 clients pushed was 145–166 MB, at 10,000 it was 68 MB.
    public static let serverHeadCacheEntries = 30_000
    /// The default for ``init(backend:snapshotPolicy:headCacheEntries:streamingThreshold:)``:
    /// a few MB of decoded ops at most are held whole.
    public static let defaultStreamingThreshold = 4_096

    /// - Parameters:
    ///   - headCacheEntries: head entries kept decoded across calls (about 1 KB each), so
    ///     the documents pushes touch most are not decoded at every push; 0 for none.
    ///   - streamingThreshold: encoded changesets with more ops than this are checked and
    ///     written a document at a time (``append(encoded:)``); 0 streams every one that can be.
    public init(
        backend: any CorpusBackend, snapshotPolicy: SnapshotPolicy = .default,
        headCacheEntries: Int = serverHeadCacheEntries, streamingThreshold: Int = defaultStreamingThreshold
    ) {
        self.backend = backend
        self.snapshotPolicy = snapshotPolicy
        headCache = headCacheEntries > 0 ? HeadBlockCache(capacity: headCacheEntries) : nil
        self.streamingThreshold = streamingThreshold
    }

    /// A write-ahead journal larger than this is given back when its store goes idle (a large
    /// import grows it to its own size; the backend's limit alone acts only at the next write).
    public static let idleJournalLimit = 4 << 20

    enum MetaKey {
        static let schema = "schema"
        static let schemaRevision = "schema_revision"
        /// The revision ranges of documents a replica skipped (``HistoryGap``); rare, so one row.
        static let historyGaps = "history_gaps"
    }

    /// The key of the corpus-level chain (schema ops).
    static let corpusChain: Int64 = 0

    // MARK: - Writing

    /// Appends one changeset as the next revision, durably. Idempotent by changeset id.
    @discardableResult
    public func append(_ changeset: Changeset) throws -> AppendOutcome {
        try append(batch: [changeset])[0]
    }

    /// Appends several changesets in one transaction (group commit): each is checked against
    /// the head including the ones before it, and all outcomes are durable when this returns.
    public func append(batch: [Changeset]) throws -> [AppendOutcome] {
        try append(batch: batch, recording: nil)
    }

    /// What a replica keeps from the server for a pulled revision.
    struct Recording {
        var revision: Revision
        var storedDeltas: [DocumentID?: StoredBlob]
        /// Documents this revision brings up to date from a snapshot, with the last revision
        /// whose state the replica knew faithfully: recorded as gaps in the same transaction.
        var catchUps: [DocumentID: Int] = [:]
    }

    /// `recording`: for a replica applying pulled revisions, the server's revision rows to keep
    /// (its base and metadata) in place of the ones derived from the changesets.
    func append(batch: [Changeset], recording: [Recording]?) throws -> [AppendOutcome] {
        let wanted = PrefetchedHead.wanted(by: batch.lazy.flatMap(\.ops))
        return try backend.write { rows in
            var (head, known) = try rows.startBatch(
                of: batch.map(\.id), prefetching: wanted, metaKeys: PrefetchedHead.schemaMetaKeys)
            var schema: (schema: Schema, revision: Int)?
            var outcomes: [AppendOutcome] = []
            outcomes.reserveCapacity(batch.count)
            for (index, changeset) in batch.enumerated() {
                // A replica records the server's revisions as they are: no content to compare.
                let digest = recording == nil ? changeset.contentDigest : nil
                if let existing = known[changeset.id] {
                    outcomes.append(try repeated(changeset.id, digest: digest, at: existing, rows: rows))
                    continue
                }
                if schema == nil { schema = try PrefetchedHead.schema(in: rows) }
                let outcome = try appendWhole(
                    changeset, as: head + 1, recording: recording?[index], digest: digest, schema: schema, rows: rows)
                if case .accepted = outcome {
                    head += 1
                    known[changeset.id] = head
                    if changeset.setsSchema { schema = nil }
                }
                outcomes.append(outcome)
            }
            return outcomes
        }
    }

    /// Checks a changeset as a whole, all its ops decoded, and writes it as `revision` if it is accepted.
    /// `schema`: the corpus's schema as this transaction last read it (read here when nil).
    func appendWhole(
        _ changeset: Changeset, as revision: Int, recording: Recording?, digest: ChangesetContentDigest?,
        schema: (schema: Schema, revision: Int)? = nil, rows: any CorpusWriter
    ) throws -> AppendOutcome {
        let prefetched = try PrefetchedHead.load(
            ops: changeset.ops, base: changeset.base, schema: try schema ?? PrefetchedHead.schema(in: rows), from: rows,
            cache: headCache)
        let outcome: CheckOutcome
        do throws(ValidationError) {
            outcome = try AcceptanceCheck.check(changeset, against: prefetched, as: revision)
        } catch {
            return .invalid(error)
        }
        guard outcome.conflicts.isEmpty else { return .conflicts(outcome.conflicts) }
        try commit(
            outcome, of: changeset, as: revision, recording: recording, digest: digest, prefetched: prefetched, rows: rows)
        return .accepted(revision: revision)
    }

    /// A push of a changeset id the corpus has as `revision`: with the same content, an honest
    /// retry (`duplicate`); with other content, refused, since ids are never reused. A revision
    /// stored before digests were kept compares as the same.
    func repeated(_ id: ChangesetID, digest: ChangesetContentDigest?, at revision: Int, rows: any CorpusReader) throws
        -> AppendOutcome
    {
        guard let digest, let stored = try rows.revision(revision)?.contentDigest, stored != digest else {
            return .duplicate(revision: revision)
        }
        return .invalid(
            ValidationError(
                .changesetIDReused,
                "changeset \(id) is revision \(revision) already, with other content: a changeset id is never reused; nothing was stored (commit the change again to give it an id of its own)"
            ))
    }

    private func commit(
        _ outcome: CheckOutcome, of changeset: Changeset, as revision: Int, recording: Recording?,
        digest: ChangesetContentDigest?, prefetched: PrefetchedHead, rows: any CorpusWriter
    ) throws {
        try rows.insertRevision(
            recording?.revision
                ?? Revision(
                    number: revision, changeset: changeset.id, author: changeset.author, replica: changeset.replica,
                    base: changeset.base, message: changeset.message, timestamp: changeset.timestamp,
                    opCount: outcome.accepted.count, contentDigest: digest))

        // Documents first: a new one needs its key before its rows.
        var records = prefetched.records
        for (id, entry) in outcome.documents.sorted(by: { $0.key < $1.key }) {
            records[id] = try writeDocumentEntry(entry, record: records[id], revision: revision, texts: changeset.texts, rows: rows)
        }

        var byDocument: [DocumentID: [(key: AnnotationKey, entry: HeadEntry)]] = [:]
        for (key, entry) in outcome.entries { byDocument[key.document, default: []].append((key, entry)) }
        for (document, entries) in byDocument {
            guard let docKey = records[document]?.key else { continue }
            try writeHead(entries.map { ($0.key.id, $0.entry) }, key: docKey, document: document, rows: rows, cache: headCache)
        }

        if let catchUps = recording?.catchUps, !catchUps.isEmpty {
            var gaps = try Self.historyGaps(in: rows)
            for (document, knownThrough) in catchUps {
                gaps[document, default: []].append(HistoryGap(knownThrough: knownThrough, caughtUpAt: revision))
            }
            try rows.setMeta(MetaKey.historyGaps, HistoryGap.encode(gaps))
        }

        if let schema = outcome.schema { try writeSchema(schema, revision: revision, rows: rows) }

        // One delta per touched document, in op order.
        var groups: [DocumentID?: [Op]] = [:]
        var order: [DocumentID?] = []
        for op in outcome.accepted {
            if groups[op.document] == nil { order.append(op.document) }
            groups[op.document, default: []].append(op)
        }
        for document in order {
            try writeDelta(
                groups[document]!, document: document, record: document.flatMap { records[$0] }, revision: revision,
                stored: recording?.storedDeltas[document], rows: rows, cache: headCache)
        }
    }

    /// Writes a document's row as an op of `revision` left it (added, removed or its text
    /// revised): a new one gets its key, its head starts afresh, and an added or revised one's
    /// text is stored. Returns the row.
    func writeDocumentEntry(
        _ entry: DocumentEntry, record: DocumentRecord?, revision: Int, texts: [TextDigest: String], rows: any CorpusWriter
    ) throws -> DocumentRecord {
        var record = record ?? DocumentRecord(key: 0, entry: entry)
        record.entry = entry
        record.key = try rows.putDocument(record)
        if entry.addedAt == revision || entry.removedAt == revision {
            try rows.clearHead(document: record.key)
        }
        if entry.addedAt == revision || entry.textRevisedAt == revision, let text = texts[entry.document.digest] {
            let raw = Array(text.utf8)
            try rows.putText(entry.document.digest, rawLength: raw.count, data: BlobCompression.compress(raw))
        }
        return record
    }

    /// Writes a document's changed head entries and the references they make.
    func writeHead(
        _ entries: [(id: AnnotationID, entry: HeadEntry)], key: Int64, document: DocumentID, rows: any CorpusWriter,
        cache: (any DecodedBlockCache)?
    ) throws {
        // In id order: B-tree inserts that append are cheaper than random ones.
        let sorted = entries.sorted { $0.id < $1.id }
        try DocumentHead.write(sorted, key: key, document: document, rows, cache: cache)
        for (id, entry) in sorted {
            for target in entry.annotation.references {
                try rows.addReferrer(document: key, target: target, source: id)
            }
        }
    }

    func writeSchema(_ schema: Schema, revision: Int, rows: any CorpusWriter) throws {
        try rows.setMeta(MetaKey.schema, Array(DeltaCodec.encode([.setSchema(schema)], document: nil)))
        try rows.setMeta(MetaKey.schemaRevision, Self.encodeInt(revision))
    }

    /// Writes the delta of one document's accepted ops (or of the corpus-level ops, with a nil
    /// document), then the document's chain bookkeeping and, when its chain grew too long, a snapshot.
    func writeDelta(
        _ ops: [Op], document: DocumentID?, record: DocumentRecord?, revision: Int, stored: StoredBlob?,
        rows: any CorpusWriter, cache: (any DecodedBlockCache)?
    ) throws {
        let data: [UInt8]
        let rawLength: Int
        if let stored {
            // The server's bytes for exactly these ops: keep them, as the server does.
            (data, rawLength) = (stored.data, stored.rawLength)
        } else {
            let raw = DeltaCodec.encode(ops, document: document)
            (data, rawLength) = (BlobCompression.compress(raw), raw.count)
        }
        guard document != nil, var record else {
            try rows.insertDelta(document: Self.corpusChain, revision: revision, isBase: false, rawLength: rawLength, data: data)
            return
        }
        let isBase = ops.contains { if case .addDocument = $0 { true } else { false } }
        try rows.insertDelta(document: record.key, revision: revision, isBase: isBase, rawLength: rawLength, data: data)
        if isBase {
            (record.chainLength, record.chainBytes, record.baseBytes) = (0, 0, data.count)
        } else {
            record.chainLength += 1
            record.chainBytes += data.count
        }
        if record.entry.isLive && snapshotPolicy.needsSnapshot(record) {
            let snapshotBytes = try writeSnapshot(record, revision: revision, rows: rows, cache: cache)
            (record.chainLength, record.chainBytes, record.baseBytes) = (0, 0, snapshotBytes)
        }
        try rows.putDocument(record)
    }

    /// Writes the document's current head state as a snapshot; returns its compressed size.
    private func writeSnapshot(
        _ record: DocumentRecord, revision: Int, rows: any CorpusWriter, cache: (any DecodedBlockCache)?
    ) throws -> Int {
        var state = DocumentState(document: record.entry.document)
        for (id, entry) in try DocumentHead.entries(
            key: record.key, document: record.entry.document.id, rows, cache: cache)
        where entry.isLive {
            state.annotations[id] = entry.annotation
        }
        let raw = DeltaCodec.encode(state.asOps, document: record.entry.document.id)
        let data = BlobCompression.compress(raw)
        try rows.insertSnapshot(document: record.key, revision: revision, rawLength: raw.count, data: data)
        return data.count
    }

    // MARK: - Reading

    public func headRevision() throws -> Int { try backend.read { try $0.headRevision() } }

    /// Revisions in `(after, through]`, ascending.
    public func revisions(after: Int = 0, through: Int = .max) throws -> [Revision] {
        try backend.read { try $0.revisions(after: after, through: through) }
    }

    /// The revision a changeset became, if it was accepted.
    public func revisionNumber(of changeset: ChangesetID) throws -> Int? {
        try backend.read { try $0.revisionNumber(of: changeset) }
    }

    /// Documents in the head, live and removed.
    public func documents() throws -> [DocumentEntry] {
        try backend.read { try $0.documents().map(\.entry) }
    }

    /// One document's entry, by point lookup (nil when the corpus never had it).
    public func document(_ id: DocumentID) throws -> DocumentEntry? {
        try backend.read { try $0.document(id)?.entry }
    }

    /// Documents (re)added in `(after, through]`, by an indexed range read: a pull's cost must
    /// not grow with the corpus.
    public func documents(addedAfter after: Int, through: Int) throws -> [DocumentEntry] {
        try backend.read { try $0.documents(addedAfter: after, through: through).map(\.entry) }
    }

    /// The digest of every text an `addDocument` or `reviseText` in `(after, through]` names,
    /// each once, in document-id order: what a pull sends before its revisions. A document added
    /// or revised more than once in the range needs each of its texts, not only its latest.
    public func textsAdded(after: Int, through: Int) throws -> [TextDigest] {
        try backend.read { rows in
            // Every document added in the range has its latest addition there too: one range
            // read gives their rows, and the digest of each latest addition.
            var records: [DocumentID: DocumentRecord] = [:]
            for record in try rows.documents(addedAfter: after, through: through) { records[record.entry.document.id] = record }
            var digests: [(DocumentID, Int, TextDigest)] = []
            for (revision, document) in try rows.documentAdditions(after: after, through: through) {
                guard let record = records[document] else { continue }
                // The row names the text as it is: the addition's own, unless revised since.
                if record.entry.addedAt == revision && record.entry.textRevisedAt == nil {
                    digests.append((document, revision, record.entry.document.digest))
                    continue
                }
                // An earlier addition: its delta says which text it had.
                for blob in try rows.deltas(document: record.key, after: revision - 1, through: revision) {
                    for case .addDocument(let added) in try blob.ops() { digests.append((document, revision, added.digest)) }
                }
            }
            // Revised texts: rare, so their documents' deltas in the range are read for them.
            for record in try rows.documents(textRevisedAfter: after) {
                for recorded in try rows.textRevisions(of: record, after: after, through: through) {
                    digests.append((record.entry.document.id, recorded.revision, recorded.change.to))
                }
            }
            var seen: Set<TextDigest> = []
            return digests.sorted { ($0.0, $0.1) < ($1.0, $1.1) }.map(\.2).filter { seen.insert($0).inserted }
        }
    }

    /// Every revision that revised a text, with the documents it revised: read from the deltas of
    /// the documents whose rows say they were ever revised (few), not from the whole history.
    public func textRevisions() throws -> [Int: [DocumentID]] {
        try backend.read { rows in
            var found: [Int: [DocumentID]] = [:]
            for record in try rows.documents(textRevisedAfter: 0) {
                let revisions = try rows.textRevisions(of: record, after: 0, through: record.entry.textRevisedAt ?? 0)
                // One revision may revise a text twice; it revised the document once.
                for revision in Set(revisions.map(\.revision)) { found[revision, default: []].append(record.entry.document.id) }
            }
            return found
        }
    }

    /// Documents whose text was last revised after `after`, by id.
    public func documentsRevised(after: Int) throws -> [DocumentEntry] {
        try backend.read { try $0.documents(textRevisedAfter: after).map(\.entry) }
    }

    public func schema() throws -> Schema {
        try backend.read { rows in try rows.meta(MetaKey.schema).map(Self.decodeSchema) ?? .open }
    }

    /// The schema with the revision that last set it (0: never set), read together.
    public func schemaWithRevision() throws -> (schema: Schema, revision: Int) {
        try backend.read { rows in try PrefetchedHead.schema(in: rows) }
    }

    /// A text by digest, inflated and checked against its length.
    public func text(_ digest: TextDigest) throws -> String {
        guard let stored = try backend.read({ try $0.text(digest) }) else {
            throw StoreError(.notFound, "no text with digest \(digest)")
        }
        let raw = try BlobCompression.decompress(stored.data, expectedLength: stored.rawLength, what: "text \(digest)")
        return String(decoding: raw, as: UTF8.self)
    }

    /// One annotation's head entry (live or tombstone), by point lookup.
    public func headEntry(_ key: AnnotationKey) throws -> HeadEntry? {
        try backend.read { rows in
            guard let record = try rows.document(key.document) else { return nil }
            return try DocumentHead.entries([key.id], key: record.key, document: key.document, rows, cache: headCache)[key.id]
        }
    }

    /// A text by digest exactly as stored (raw deflate), for streaming.
    public func storedText(_ digest: TextDigest) throws -> (rawLength: Int, data: [UInt8])? {
        try backend.read { try $0.text(digest) }
    }

    /// The live annotations of a document in the head, sorted by id.
    public func headAnnotations(of document: DocumentID) throws -> [Annotation] {
        try backend.read { rows in
            guard let record = try rows.document(document) else { return [] }
            return try DocumentHead.entries(key: record.key, document: document, rows, cache: headCache).values
                .compactMap { $0.isLive ? $0.annotation : nil }.sorted { $0.id < $1.id }
        }
    }

    /// A document as it was at `revision`: the latest snapshot or chain base at or before it,
    /// plus at most a chain's worth of deltas.
    ///
    /// - Throws: ``StoreError/Code/historyUnavailable`` on a replica that skipped that
    ///   revision of the document (see ``historyGaps(of:)``).
    public func reconstruct(_ document: DocumentID, at revision: Int) throws -> DocumentState {
        try backend.read { rows in
            guard let record = try rows.document(document) else {
                throw StoreError(.notFound, "no document \(document)")
            }
            if let gap = try Self.historyGaps(in: rows)[document]?.first(where: { $0.hides(revision) }) {
                throw StoreError(
                    .historyUnavailable,
                    "this replica skipped revisions \(gap.knownThrough + 1)...\(gap.caughtUpAt - 1) of \(document): "
                        + "it caught up from a snapshot at revision \(gap.caughtUpAt)",
                    context: "\(document) at revision \(revision)")
            }
            let snapshot = try rows.latestSnapshot(document: record.key, atOrBefore: revision)
            let baseDelta = try rows.latestBaseDelta(document: record.key, atOrBefore: revision)
            var state = DocumentState()
            let after: Int
            if let snapshot, snapshot.revision >= (baseDelta ?? 0) {
                try apply(snapshot.ops(), to: &state, what: snapshot)
                after = snapshot.revision
            } else if let baseDelta {
                after = baseDelta - 1
            } else {
                return state  // not yet added at that revision
            }
            for delta in try rows.deltas(document: record.key, after: after, through: revision) {
                try apply(delta.ops(), to: &state, what: delta)
            }
            return state
        }
    }

    private func apply(_ ops: [Op], to state: inout DocumentState, what blob: StoredBlob) throws {
        do {
            for op in ops { try state.apply(op) }
        } catch {
            throw StoreError(
                .corrupt, "does not apply: \(error)", context: "\(blob.kind) at revision \(blob.revision)")
        }
    }

    /// The compressed deltas of revisions `(after, through]` exactly as stored, for streaming.
    public func storedDeltas(after: Int, through: Int) throws -> [StoredBlob] {
        try backend.read { try $0.deltas(after: after, through: through) }
    }

    /// One document's compressed deltas in `(after, through]`, ascending: the revisions that touched it.
    public func storedDeltas(of document: DocumentID, after: Int = 0, through: Int = .max) throws -> [StoredBlob] {
        try backend.read { rows in
            guard let record = try rows.document(document) else { return [] }
            return try rows.deltas(document: record.key, after: after, through: through)
        }
    }

    /// Every annotation of a document in the head, live and deleted, with the revisions that
    /// last changed each field (what `gloss blame` shows).
    public func headEntries(of document: DocumentID) throws -> [HeadEntry] {
        try backend.read { rows in
            guard let record = try rows.document(document) else { return [] }
            return try DocumentHead.entries(key: record.key, document: document, rows, cache: headCache).values
                .sorted { $0.annotation.id < $1.annotation.id }
        }
    }

    /// The revision ranges of a document this replica skipped by catching up from snapshots;
    /// always empty on a server.
    public func historyGaps(of document: DocumentID) throws -> [HistoryGap] {
        try historyGaps()[document] ?? []
    }

    /// Every document's history gaps (see ``historyGaps(of:)``).
    public func historyGaps() throws -> [DocumentID: [HistoryGap]] {
        try backend.read { try Self.historyGaps(in: $0) }
    }

    static func historyGaps(in rows: any CorpusReader) throws -> [DocumentID: [HistoryGap]] {
        guard let bytes = try rows.meta(MetaKey.historyGaps) else { return [:] }
        guard let gaps = HistoryGap.decode(bytes) else {
            throw StoreError(.corrupt, "the replica's record of skipped revisions does not decode", context: "meta")
        }
        return gaps
    }

    /// The latest stored snapshot of a document at or before a revision, as stored.
    public func storedSnapshot(of document: DocumentID, atOrBefore revision: Int) throws -> StoredBlob? {
        try backend.read { rows in
            guard let record = try rows.document(document) else { return nil }
            return try rows.latestSnapshot(document: record.key, atOrBefore: revision)
        }
    }

    public func storageSummary() throws -> StorageSummary { try backend.read { try $0.storageSummary() } }

    // MARK: - Meta encodings

    static func decodeSchema(_ bytes: [UInt8]) throws -> Schema {
        do {
            guard case .setSchema(let schema)? = try DeltaCodec.decode(bytes, what: "stored schema").ops.first else {
                throw StoreError(.corrupt, "stored schema holds no schema")
            }
            return schema
        } catch let error as CodecError {
            throw StoreError(.corrupt, error.message, context: "schema")
        }
    }

    static func encodeInt(_ value: Int) -> [UInt8] {
        var w = BinaryWriter()
        w.varint(value)
        return w.bytes
    }

    static func decodeInt(_ bytes: [UInt8]) -> Int? {
        var r = BinaryReader(bytes, what: "integer")
        return try? r.int(max: .max, "integer")
    }
}
