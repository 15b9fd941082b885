import GlossModel
import Synchronization

/// A corpus held in memory: the seam's reference backend, for pure tests of the store logic
/// and as the executable statement of what every backend must do.
///
/// It keeps the contract the SQLite and PostgreSQL backends keep:
/// - writes are serialised: one ``write(_:)`` runs at a time, and its changes appear all at once
///   when its body returns, or not at all when it throws;
/// - a ``read(_:)`` sees one committed state throughout, whatever commits meanwhile;
/// - the unique keys of the SQL schemas are enforced: one revision per number and per changeset
///   id, one delta per document and revision;
/// - ``CorpusWriter/nested(_:)`` undoes exactly its own writes.
///
/// Nothing is durable: the corpus lives as long as the backend.
public final class MemoryCorpusBackend: CorpusBackend {
    private let committed = Mutex(MemoryCorpusState())
    /// Held for the whole of a write, so that writes are serialised while reads go on.
    private let writer = Mutex(())

    public init() {}

    public func read<T>(_ body: (any CorpusReader) throws -> T) throws -> T {
        try body(MemoryCorpusRows(committed.withLock { $0 }))
    }

    public func write<T>(_ body: (any CorpusWriter) throws -> T) throws -> T {
        try writer.withLock { _ in
            let rows = MemoryCorpusRows(committed.withLock { $0 })
            let result = try body(rows)
            committed.withLock { $0 = rows.state }
            return result
        }
    }
}

/// Everything a corpus stores, as values: copying it is a snapshot.
struct MemoryCorpusState: Sendable {
    struct Delta: Sendable {
        var isBase: Bool
        var rawLength: Int
        var data: [UInt8]
    }

    var revisions: [Int: Revision] = [:]
    /// The highest revision number: every append reads it.
    var head = 0
    var revisionByChangeset: [ChangesetID: Int] = [:]
    var documents: [DocumentID: DocumentRecord] = [:]
    var documentByKey: [Int64: DocumentID] = [:]
    var nextDocumentKey: Int64 = 1
    var headBlocks: [Int64: HeadBlock] = [:]
    var headRows: [Int64: [AnnotationID: [UInt8]]] = [:]
    /// Per document: target → sources.
    var referrers: [Int64: [AnnotationID: Set<AnnotationID>]] = [:]
    /// Per document key (0: the corpus chain): revision → delta.
    var deltas: [Int64: [Int: Delta]] = [:]
    var snapshots: [Int64: [Int: (rawLength: Int, data: [UInt8])]] = [:]
    var texts: [TextDigest: (rawLength: Int, data: [UInt8])] = [:]
    var meta: [String: [UInt8]] = [:]
}

/// Reads and writes on one copy of the state: the committed one for a read, the transaction's
/// own for a write.
final class MemoryCorpusRows: CorpusWriter {
    var state: MemoryCorpusState

    init(_ state: MemoryCorpusState) {
        self.state = state
    }

    // MARK: Reads

    func headRevision() throws -> Int { state.head }

    func revision(_ number: Int) throws -> Revision? { state.revisions[number] }

    func revisionNumber(of changeset: ChangesetID) throws -> Int? { state.revisionByChangeset[changeset] }

    func revisions(after: Int, through: Int) throws -> [Revision] {
        state.revisions.filter { $0.key > after && $0.key <= through }.sorted { $0.key < $1.key }.map(\.value)
    }

    func document(_ id: DocumentID) throws -> DocumentRecord? { state.documents[id] }

    func documents() throws -> [DocumentRecord] { Self.byID(state.documents.values) }

    func documents(addedAfter after: Int, through: Int) throws -> [DocumentRecord] {
        Self.byID(state.documents.values.filter { $0.entry.addedAt > after && $0.entry.addedAt <= through })
    }

    func headBlock(document: Int64) throws -> HeadBlock? { state.headBlocks[document] }

    func headLayout(document: Int64) throws -> (blockEntries: Int, rows: Int) {
        (state.headBlocks[document]?.entries ?? 0, state.headRows[document]?.count ?? 0)
    }

    func headRow(document: Int64, id: AnnotationID) throws -> [UInt8]? { state.headRows[document]?[id] }

    func headRows(document: Int64) throws -> [(id: AnnotationID, body: [UInt8])] {
        (state.headRows[document] ?? [:]).sorted { Self.key($0.key) < Self.key($1.key) }.map { ($0.key, $0.value) }
    }

    func referrers(document: Int64, target: AnnotationID) throws -> [AnnotationID] {
        (state.referrers[document]?[target] ?? []).sorted { Self.key($0) < Self.key($1) }
    }

    func deltas(document: Int64, after: Int, through: Int) throws -> [StoredBlob] {
        (state.deltas[document] ?? [:]).filter { $0.key > after && $0.key <= through }.sorted { $0.key < $1.key }
            .map { blob(.delta, document: document, revision: $0.key, rawLength: $0.value.rawLength, data: $0.value.data) }
    }

    func deltas(after: Int, through: Int) throws -> [StoredBlob] {
        deltaRows(after: after, through: through).map {
            blob(.delta, document: $0.document, revision: $0.revision, rawLength: $0.delta.rawLength, data: $0.delta.data)
        }
    }

    func deltaDocuments(after: Int, through: Int) throws -> [(revision: Int, document: DocumentID?)] {
        deltaRows(after: after, through: through).map { ($0.revision, state.documentByKey[$0.document]) }
    }

    func liveDocumentCount() throws -> Int { state.documents.values.count { $0.entry.isLive } }

    func documentAdditions(after: Int, through: Int) throws -> [(revision: Int, document: DocumentID)] {
        var found: [(revision: Int, document: DocumentID)] = []
        for (key, deltas) in state.deltas {
            guard let document = state.documentByKey[key] else { continue }
            for (revision, delta) in deltas where delta.isBase && revision > after && revision <= through {
                found.append((revision, document))
            }
        }
        return found.sorted { ($0.revision, $0.document) < ($1.revision, $1.document) }
    }

    func latestBaseDelta(document: Int64, atOrBefore revision: Int) throws -> Int? {
        (state.deltas[document] ?? [:]).filter { $0.key <= revision && $0.value.isBase }.keys.max()
    }

    func latestSnapshot(document: Int64, atOrBefore revision: Int) throws -> StoredBlob? {
        guard let (number, snapshot) = (state.snapshots[document] ?? [:]).filter({ $0.key <= revision }).max(by: { $0.key < $1.key })
        else { return nil }
        return blob(.snapshot, document: document, revision: number, rawLength: snapshot.rawLength, data: snapshot.data)
    }

    func text(_ digest: TextDigest) throws -> (rawLength: Int, data: [UInt8])? { state.texts[digest] }

    func meta(_ key: String) throws -> [UInt8]? { state.meta[key] }

    func storageSummary() throws -> StorageSummary {
        var s = StorageSummary()
        for chain in state.deltas.values {
            s.deltaCount += chain.count
            s.deltaBytes += chain.values.reduce(0) { $0 + $1.data.count }
        }
        for chain in state.snapshots.values {
            s.snapshotCount += chain.count
            s.snapshotBytes += chain.values.reduce(0) { $0 + $1.data.count }
        }
        s.textBytes = state.texts.values.reduce(0) { $0 + $1.data.count }
        let rows = state.headRows.values
        s.headRows = rows.reduce(0) { $0 + $1.count } + state.headBlocks.values.reduce(0) { $0 + $1.entries }
        s.headBytes = rows.reduce(0) { $0 + $1.values.reduce(0) { $0 + $1.count } }
            + state.headBlocks.values.reduce(0) { $0 + $1.data.count }
        // No file: what is held.
        s.fileBytes = s.historyBytes + s.headBytes
        return s
    }

    // MARK: Writes

    func insertRevision(_ revision: Revision) throws {
        guard state.revisions[revision.number] == nil else {
            throw StoreError(.backend, "revision \(revision.number) exists already (unique key)")
        }
        guard state.revisionByChangeset[revision.changeset] == nil else {
            throw StoreError(.backend, "changeset \(revision.changeset) is a revision already (unique key)")
        }
        state.revisions[revision.number] = revision
        state.revisionByChangeset[revision.changeset] = revision.number
        state.head = max(state.head, revision.number)
    }

    @discardableResult
    func putDocument(_ record: DocumentRecord) throws -> Int64 {
        let id = record.entry.document.id
        var stored = record
        if let existing = state.documents[id] {
            stored.key = existing.key
        } else {
            stored.key = state.nextDocumentKey
            state.nextDocumentKey += 1
            state.documentByKey[stored.key] = id
        }
        state.documents[id] = stored
        return stored.key
    }

    func putHeadRows(document: Int64, _ entries: [(id: AnnotationID, body: [UInt8])]) throws {
        for (id, body) in entries { state.headRows[document, default: [:]][id] = body }
    }

    func putHeadBlock(document: Int64, _ block: HeadBlock) throws {
        state.headBlocks[document] = block
        state.headRows[document] = nil
    }

    func clearHead(document: Int64) throws {
        state.headBlocks[document] = nil
        state.headRows[document] = nil
        state.referrers[document] = nil
    }

    func addReferrer(document: Int64, target: AnnotationID, source: AnnotationID) throws {
        state.referrers[document, default: [:]][target, default: []].insert(source)
    }

    func insertDelta(document: Int64, revision: Int, isBase: Bool, rawLength: Int, data: [UInt8]) throws {
        guard state.deltas[document]?[revision] == nil else {
            throw StoreError(.backend, "a delta of document key \(document) at revision \(revision) exists already (unique key)")
        }
        state.deltas[document, default: [:]][revision] = .init(isBase: isBase, rawLength: rawLength, data: data)
    }

    func markBaseDelta(document: Int64, revision: Int) throws {
        state.deltas[document]?[revision]?.isBase = true
    }

    func insertSnapshot(document: Int64, revision: Int, rawLength: Int, data: [UInt8]) throws {
        state.snapshots[document, default: [:]][revision] = (rawLength, data)
    }

    func putText(_ digest: TextDigest, rawLength: Int, data: [UInt8]) throws {
        if state.texts[digest] == nil { state.texts[digest] = (rawLength, data) }
    }

    func setMeta(_ key: String, _ value: [UInt8]) throws { state.meta[key] = value }

    func nested(_ body: () throws -> NestedCompletion) throws {
        let before = state
        do {
            if try body() == .undo { state = before }
        } catch {
            state = before
            throw error
        }
    }

    // MARK: Ordering as the SQL backends order

    /// Documents by id, compared as UTF-8 bytes (SQL's binary collation).
    private static func byID(_ records: some Sequence<DocumentRecord>) -> [DocumentRecord] {
        records.sorted { Array($0.entry.document.id.rawValue.utf8).lexicographicallyPrecedes($1.entry.document.id.rawValue.utf8) }
    }

    /// An annotation id as the SQL backends' primary keys order it: signed 64-bit columns.
    private static func key(_ id: AnnotationID) -> SortKey {
        SortKey(replica: Int64(bitPattern: id.replica.rawValue), counter: Int64(bitPattern: id.counter))
    }

    private struct SortKey: Comparable {
        var replica: Int64
        var counter: Int64
        static func < (a: Self, b: Self) -> Bool { (a.replica, a.counter) < (b.replica, b.counter) }
    }

    /// Deltas of every document in `(after, through]`, by revision then document key.
    private func deltaRows(after: Int, through: Int) -> [(revision: Int, document: Int64, delta: MemoryCorpusState.Delta)] {
        state.deltas.flatMap { document, chain in
            chain.filter { $0.key > after && $0.key <= through }.map { (revision: $0.key, document: document, delta: $0.value) }
        }.sorted { ($0.revision, $0.document) < ($1.revision, $1.document) }
    }

    private func blob(_ kind: StoredBlob.Kind, document: Int64, revision: Int, rawLength: Int, data: [UInt8]) -> StoredBlob {
        StoredBlob(kind: kind, revision: revision, document: state.documentByKey[document], rawLength: rawLength, data: data)
    }
}
