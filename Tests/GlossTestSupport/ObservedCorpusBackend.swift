import GlossModel
import GlossStore

/// A read a store made through an ``ObservedCorpusBackend``, with the document key it was for.
public enum ObservedRead: Sendable {
    case headBlock(document: Int64)
    case headRow(document: Int64)
    /// All of a document's head rows.
    case headRows(document: Int64)
    /// Several annotations' head rows or referrers (of a document), or revisions (nil), in one
    /// read: one round trip.
    case batch(document: Int64?, count: Int)
    /// Deltas of one document or of a range of revisions, or a snapshot.
    case history
}

/// Further steps an ``ObservedCorpusBackend`` reports to its `steps` observer: the order in
/// which a store reads and writes documents.
public enum ObservedStep: Sendable, Equatable {
    /// A document's row read by id (the first read of a document a check makes).
    case documentRead(DocumentID)
    /// A delta written: the last write of a document a commit makes.
    case deltaWritten(document: Int64)
    /// A nested transaction begun (``CorpusWriter/nested(_:)``).
    case nested
}

/// Wraps a backend, forwarding every call and telling `observe` of each head and history read,
/// so that tests can pin down what a store or a workspace reads (the cost of a check or a
/// command) without timing anything.
public struct ObservedCorpusBackend: CorpusBackend {
    let inner: any CorpusBackend
    let observe: @Sendable (ObservedRead) -> Void
    let steps: (@Sendable (ObservedStep) -> Void)?

    public init(
        _ inner: any CorpusBackend, observe: @escaping @Sendable (ObservedRead) -> Void,
        steps: (@Sendable (ObservedStep) -> Void)? = nil
    ) {
        self.inner = inner
        self.observe = observe
        self.steps = steps
    }

    public func read<T>(_ body: (any CorpusReader) throws -> T) throws -> T {
        // SQLite hands a writer-capable row object to reads too; the wrapper needs one type.
        try inner.read { rows in try body(Rows(rows: rows as! any CorpusWriter, observe: observe, steps: steps)) }
    }

    public func write<T>(_ body: (any CorpusWriter) throws -> T) throws -> T {
        try inner.write { rows in try body(Rows(rows: rows, observe: observe, steps: steps)) }
    }
}

private struct Rows: CorpusWriter {
    let rows: any CorpusWriter
    let observe: @Sendable (ObservedRead) -> Void
    let steps: (@Sendable (ObservedStep) -> Void)?

    func headBlock(document: Int64) throws -> HeadBlock? {
        observe(.headBlock(document: document))
        return try rows.headBlock(document: document)
    }
    func headRow(document: Int64, id: AnnotationID) throws -> [UInt8]? {
        observe(.headRow(document: document))
        return try rows.headRow(document: document, id: id)
    }
    func headRows(document: Int64) throws -> [(id: AnnotationID, body: [UInt8])] {
        observe(.headRows(document: document))
        return try rows.headRows(document: document)
    }
    func headRows(document: Int64, ids: [AnnotationID]) throws -> [AnnotationID: [UInt8]] {
        observe(.batch(document: document, count: ids.count))
        return try rows.headRows(document: document, ids: ids)
    }
    func referrers(document: Int64, targets: [AnnotationID]) throws -> [AnnotationID: [AnnotationID]] {
        observe(.batch(document: document, count: targets.count))
        return try rows.referrers(document: document, targets: targets)
    }
    func revisions(_ numbers: [Int]) throws -> [Revision] {
        observe(.batch(document: nil, count: numbers.count))
        return try rows.revisions(numbers)
    }
    func deltas(document: Int64, after: Int, through: Int) throws -> [StoredBlob] {
        observe(.history)
        return try rows.deltas(document: document, after: after, through: through)
    }
    func deltas(after: Int, through: Int) throws -> [StoredBlob] {
        observe(.history)
        return try rows.deltas(after: after, through: through)
    }
    func latestSnapshot(document: Int64, atOrBefore r: Int) throws -> StoredBlob? {
        observe(.history)
        return try rows.latestSnapshot(document: document, atOrBefore: r)
    }

    func headRevision() throws -> Int { try rows.headRevision() }
    func revision(_ n: Int) throws -> Revision? { try rows.revision(n) }
    func revisionNumber(of c: ChangesetID) throws -> Int? { try rows.revisionNumber(of: c) }
    func revisions(after: Int, through: Int) throws -> [Revision] { try rows.revisions(after: after, through: through) }
    func document(_ id: DocumentID) throws -> DocumentRecord? {
        steps?(.documentRead(id))
        return try rows.document(id)
    }
    func documents() throws -> [DocumentRecord] { try rows.documents() }
    func documents(addedAfter after: Int, through: Int) throws -> [DocumentRecord] {
        try rows.documents(addedAfter: after, through: through)
    }
    func headLayout(document: Int64) throws -> (blockEntries: Int, rows: Int) { try rows.headLayout(document: document) }
    func referrers(document: Int64, target: AnnotationID) throws -> [AnnotationID] {
        try rows.referrers(document: document, target: target)
    }
    func latestBaseDelta(document: Int64, atOrBefore r: Int) throws -> Int? {
        try rows.latestBaseDelta(document: document, atOrBefore: r)
    }
    func text(_ d: TextDigest) throws -> (rawLength: Int, data: [UInt8])? { try rows.text(d) }
    func meta(_ key: String) throws -> [UInt8]? { try rows.meta(key) }
    func storageSummary() throws -> StorageSummary { try rows.storageSummary() }
    func insertRevision(_ r: Revision) throws { try rows.insertRevision(r) }
    func putDocument(_ r: DocumentRecord) throws -> Int64 { try rows.putDocument(r) }
    func putHeadRows(document: Int64, _ entries: [(id: AnnotationID, body: [UInt8])]) throws {
        try rows.putHeadRows(document: document, entries)
    }
    func putHeadBlock(document: Int64, _ block: HeadBlock) throws { try rows.putHeadBlock(document: document, block) }
    func clearHead(document: Int64) throws { try rows.clearHead(document: document) }
    func addReferrer(document: Int64, target: AnnotationID, source: AnnotationID) throws {
        try rows.addReferrer(document: document, target: target, source: source)
    }
    func markBaseDelta(document: Int64, revision: Int) throws { try rows.markBaseDelta(document: document, revision: revision) }
    func insertSnapshot(document: Int64, revision: Int, rawLength: Int, data: [UInt8]) throws {
        try rows.insertSnapshot(document: document, revision: revision, rawLength: rawLength, data: data)
    }
    func putText(_ d: TextDigest, rawLength: Int, data: [UInt8]) throws { try rows.putText(d, rawLength: rawLength, data: data) }
    func setMeta(_ key: String, _ value: [UInt8]) throws { try rows.setMeta(key, value) }
    func nested(_ body: () throws -> NestedCompletion) throws {
        steps?(.nested)
        try rows.nested(body)
    }
    func insertDelta(document: Int64, revision: Int, isBase: Bool, rawLength: Int, data: [UInt8]) throws {
        steps?(.deltaWritten(document: document))
        try rows.insertDelta(document: document, revision: revision, isBase: isBase, rawLength: rawLength, data: data)
    }
}
