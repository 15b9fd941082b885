import Foundation
import GRDB
import Testing
@testable import GlossModel
@testable import GlossStore
@testable import GlossStoreSQLite
import GlossTestSupport

/// The backends the store's behaviour is checked on: each must pass the same tests (the
/// seam's conformance suite). PostgreSQL joins them with its backend.
enum StoreBackendKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite
    case memory
    /// A new corpus in the database the test process shares on its throwaway PostgreSQL.
    case postgres

    var testDescription: String { rawValue }

    /// A new, empty corpus on this backend (the SQLite one a file in `dir`).
    func makeStore(in dir: TemporaryDirectory, policy: SnapshotPolicy = .default) async throws -> CorpusStore {
        switch self {
        case .sqlite: try CorpusStore.sqlite(path: dir.path("corpus.sqlite"), snapshotPolicy: policy)
        case .memory: CorpusStore(backend: MemoryCorpusBackend(), snapshotPolicy: policy)
        case .postgres: CorpusStore(backend: try await PostgresTestStores.shared().newBackend(), snapshotPolicy: policy)
        }
    }
}

/// A store in a temporary directory with one document holding two spans (revisions 1 and 2).
struct StoreFixture {
    let dir: TemporaryDirectory
    let store: CorpusStore
    var alice = Minter("alice", replica: 10)
    var bob = Minter("bob", replica: 20)
    let doc: DocumentID = "news/1"
    var per: Annotation
    var org: Annotation

    init(policy: SnapshotPolicy = .default, backend: StoreBackendKind = .sqlite) async throws {
        dir = try TemporaryDirectory("store")
        store = try await backend.makeStore(in: dir, policy: policy)
        try #require(try store.append(alice.documents(base: 0, [(doc, SampleTexts.news)])) == .accepted(revision: 1))
        per = alice.span(doc, 0, 12, "PER")
        org = alice.span(doc, 21, 27, "LOC")
        try #require(try store.append(alice.changeset(base: 1, [.create(per), .create(org)])) == .accepted(revision: 2))
    }
}

@Test func appendIsDurableAndReopens() async throws {
    let f = try await StoreFixture()
    defer { f.dir.remove() }
    // The settings that make a returned append durable.
    let backend = try #require(f.store.backend as? SQLiteCorpusBackend)
    let journal = try await backend.pool.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") }
    #expect(journal == "wal")
    // On the connection that commits (GRDB leaves the WAL writer at NORMAL unless told).
    #expect(try backend.writerSynchronousLevel() == 2)  // FULL
    let reopened = try CorpusStore.sqlite(path: f.dir.path("corpus.sqlite"))
    #expect(try reopened.headRevision() == 2)
    #expect(try reopened.headAnnotations(of: f.doc) == [f.per, f.org].sorted { $0.id < $1.id })
    #expect(try reopened.revisions().map(\.author) == ["alice", "alice"])
}

@Test(arguments: StoreBackendKind.allCases)
func appendingTheSameChangesetTwiceYieldsOneRevision(backend: StoreBackendKind) async throws {
    var f = try await StoreFixture(backend: backend)
    defer { f.dir.remove() }
    let cs = f.bob.changeset(base: 2, [.set(f.doc, f.per.id, .label, .string("ORG"))])
    #expect(try f.store.append(cs) == .accepted(revision: 3))
    #expect(try f.store.append(cs) == .duplicate(revision: 3))
    #expect(try f.store.append(batch: [cs, cs]) == [.duplicate(revision: 3), .duplicate(revision: 3)])
    #expect(try f.store.headRevision() == 3)
}

/// Property (c): whatever the changeset and however often and in whatever batches it is
/// appended, it becomes exactly one revision.
@Test(arguments: StoreBackendKind.allCases, Array(1...10) as [UInt64])
func repeatedAppendsAreIdempotent(backend: StoreBackendKind, seed: UInt64) async throws {
    var rng = SplitMix64(seed: seed)
    var f = try await StoreFixture(backend: backend)
    defer { f.dir.remove() }
    var changesets: [Changeset] = []
    for _ in 0..<20 {
        let start = rng.int(below: 60)
        changesets.append(f.bob.changeset(base: 2, [.create(f.bob.span(f.doc, start, start + 1 + rng.int(below: 10), "X"))]))
    }
    var firstRevision: [ChangesetID: Int] = [:]
    for _ in 0..<60 {
        let batch = (0...rng.int(below: 4)).map { _ in rng.pick(changesets) }
        for (cs, outcome) in zip(batch, try f.store.append(batch: batch)) {
            let revision = try #require(outcome.revision, "seed \(seed): \(outcome)")
            if let first = firstRevision[cs.id] {
                #expect(outcome == .duplicate(revision: first), "seed \(seed)")
            } else {
                firstRevision[cs.id] = revision
            }
        }
    }
    #expect(try f.store.headRevision() == 2 + firstRevision.count)
    #expect(Set(try f.store.revisions().map(\.changeset)).count == 2 + firstRevision.count)
}

@Test(arguments: StoreBackendKind.allCases)
func conflictingPushIsRefusedWithTypedConflicts(backend: StoreBackendKind) async throws {
    var f = try await StoreFixture(backend: backend)
    defer { f.dir.remove() }
    #expect(try f.store.append(f.alice.changeset(base: 2, [.set(f.doc, f.per.id, .label, .string("ORG"))])) == .accepted(revision: 3))
    let stale = f.bob.changeset(base: 2, [.set(f.doc, f.per.id, .label, .string("LOC"))])
    guard case .conflicts(let conflicts) = try f.store.append(stale) else {
        Issue.record("a conflicting push was accepted")
        return
    }
    #expect(conflicts.map(\.kind) == [.field(.label)])
    #expect(conflicts.first?.theirs == .string("ORG"))
    #expect(try f.store.headRevision() == 3)  // nothing written
}

@Test(arguments: StoreBackendKind.allCases)
func nonConflictingStalePushIsRebasedAndAccepted(backend: StoreBackendKind) async throws {
    var f = try await StoreFixture(backend: backend)
    defer { f.dir.remove() }
    #expect(try f.store.append(f.alice.changeset(base: 2, [.set(f.doc, f.per.id, .label, .string("ORG"))])) == .accepted(revision: 3))
    let stale = f.bob.changeset(base: 2, [.set(f.doc, f.per.id, .attribute("negated"), .string("no"))])
    #expect(try f.store.append(stale) == .accepted(revision: 4))
    let head = try f.store.headAnnotations(of: f.doc).first { $0.id == f.per.id }
    #expect(head?.label == "ORG")
    #expect(head?.attributes == ["negated": "no"])
}

@Test(arguments: StoreBackendKind.allCases)
func invalidChangesetsAreRefusedAndTheBatchGoesOn(backend: StoreBackendKind) async throws {
    var f = try await StoreFixture(backend: backend)
    defer { f.dir.remove() }
    let bad = f.bob.changeset(base: 2, [.create(f.bob.span(f.doc, 0, 10_000, "PER"))])
    let good = f.bob.changeset(base: 2, [.create(f.bob.span(f.doc, 0, 3, "PER"))])
    let outcomes = try f.store.append(batch: [bad, good])
    guard case .invalid(let error) = outcomes[0] else {
        Issue.record("out-of-bounds range accepted")
        return
    }
    #expect(error.code == .rangeOutOfBounds)
    #expect(error.opIndex == 0)
    #expect(outcomes[1] == .accepted(revision: 3))
}

@Test(arguments: StoreBackendKind.allCases)
func textsAreContentAddressedAndStoredOnce(backend: StoreBackendKind) async throws {
    var f = try await StoreFixture(backend: backend)
    defer { f.dir.remove() }
    let copy = f.alice.documents(base: 2, [("copy/1", SampleTexts.news), ("copy/2", SampleTexts.news)])
    #expect(try f.store.append(copy) == .accepted(revision: 3))
    let digest = TextDigest(of: SampleTexts.news)
    // Three documents, one stored text.
    let (stored, summary) = try f.store.backend.read { rows in (try rows.text(digest), try rows.storageSummary()) }
    #expect(summary.textBytes == stored?.data.count)
    #expect(try f.store.text(digest) == SampleTexts.news)
    #expect(try f.store.documents().map(\.document.id) == ["copy/1", "copy/2", "news/1"])
}

@Test func storedDeltasAreTheBytesAtRest() async throws {
    var f = try await StoreFixture()
    defer { f.dir.remove() }
    let ops: [Op] = [.set(f.doc, f.per.id, .label, .string("ORG")), .delete(f.doc, f.org.id)]
    #expect(try f.store.append(f.bob.changeset(base: 2, ops)) == .accepted(revision: 3))
    let blobs = try f.store.storedDeltas(after: 0, through: 3)
    #expect(blobs.map(\.revision) == [1, 2, 3])
    let backend = try #require(f.store.backend as? SQLiteCorpusBackend)
    let raw = try await backend.pool.read { db in try Data.fetchAll(db, sql: "SELECT data FROM deltas ORDER BY rev") }
    #expect(blobs.map { Data($0.data) } == raw)
    // They inflate to exactly the encoded ops.
    #expect(try blobs[2].ops() == ops)
    #expect(blobs[2].rawLength == DeltaCodec.encode(ops, document: f.doc).count)
    #expect(blobs.allSatisfy { $0.document == f.doc })
}

@Test(arguments: StoreBackendKind.allCases)
func reconstructionGivesEveryRevision(backend: StoreBackendKind) async throws {
    var f = try await StoreFixture(backend: backend)
    defer { f.dir.remove() }
    #expect(try f.store.append(f.bob.changeset(base: 2, [.set(f.doc, f.per.id, .label, .string("ORG"))])) == .accepted(revision: 3))
    #expect(try f.store.append(f.bob.changeset(base: 3, [.delete(f.doc, f.org.id)])) == .accepted(revision: 4))
    #expect(try f.store.reconstruct(f.doc, at: 0).document == nil)
    #expect(try f.store.reconstruct(f.doc, at: 1).annotations.isEmpty)
    #expect(try f.store.reconstruct(f.doc, at: 2).annotations == [f.per.id: f.per, f.org.id: f.org])
    var relabelled = f.per
    relabelled.label = "ORG"
    #expect(try f.store.reconstruct(f.doc, at: 3).annotations == [f.per.id: relabelled, f.org.id: f.org])
    #expect(try f.store.reconstruct(f.doc, at: 4).annotations == [f.per.id: relabelled])
}

/// A group commit reads the schema and the batch's duplicates once, not per changeset: what
/// one changeset of the batch changes still holds for the next.
@Test(arguments: StoreBackendKind.allCases)
func aBatchSeesTheSchemaAndTheRevisionsItsOwnChangesetsMade(backend: StoreBackendKind) async throws {
    var f = try await StoreFixture(backend: backend)
    defer { f.dir.remove() }
    let restrict = f.alice.changeset(base: 2, [.setSchema(Schema(spanLabels: ["PER", "LOC"]))])
    let outside = f.bob.changeset(base: 3, [.create(f.bob.span(f.doc, 0, 2, "ORG"))])
    let inside = f.bob.changeset(base: 3, [.create(f.bob.span(f.doc, 3, 5, "LOC"))])
    let encoded = [restrict, outside, inside, inside, restrict].map(EncodedChangeset.init)
    let outcomes = try f.store.append(encoded: encoded).map { try $0.get() }
    #expect(outcomes[0] == .accepted(revision: 3))
    guard case .invalid(let error) = outcomes[1] else {
        Issue.record("a label the batch's own schema change forbids was accepted: \(outcomes[1])")
        return
    }
    #expect(error.code == .unknownLabel)
    #expect(outcomes[2] == .accepted(revision: 4))
    // The same changeset again in the same batch, and one from before: each stored once.
    #expect(outcomes[3] == .duplicate(revision: 4))
    #expect(outcomes[4] == .duplicate(revision: 3))
    #expect(try f.store.headRevision() == 4)
}

/// In a group commit each changeset sees what the ones before it wrote, though a backend may
/// hold those writes back to send them together (PostgreSQL): annotations, relations and
/// documents made earlier in the batch, head rows folded into a block mid-batch, and a
/// multi-document changeset undone in the middle. The memory backend is the reference: same
/// outcomes, same heads, same stored bytes.
@Test(arguments: [StoreBackendKind.sqlite, .postgres])
func aBatchSeesTheWritesOfItsEarlierChangesets(backend: StoreBackendKind) async throws {
    var f = try await StoreFixture(backend: backend)
    let reference = try await StoreFixture(backend: .memory)
    defer {
        f.dir.remove()
        reference.dir.remove()
    }
    let second: DocumentID = "news/2"
    var carol = Minter("carol", replica: 30)
    let s1 = f.bob.span(f.doc, 0, 6, "PER")
    let r1 = f.bob.relation(f.doc, s1.id, f.per.id, "KNOWS")
    var batch = [
        f.bob.changeset(base: 2, [.create(s1), .create(r1)]),  // 3
        f.alice.documents(base: 2, [(second, SampleTexts.short)]),  // 4: a new document's key
        f.alice.changeset(base: 4, [.create(f.alice.span(second, 0, 5, "PER"))]),  // 5: on it
        f.bob.changeset(base: 3, [.set(f.doc, s1.id, .label, .string("ORG"))]),  // 6: on s1, made in this batch
        carol.changeset(base: 2, [.set(f.doc, s1.id, .label, .string("LOC"))]),  // against a stale base
        f.alice.changeset(base: 6, [.delete(f.doc, f.per.id)]),  // the target of r1, made in this batch
    ]
    // Enough rows on one document that a write folds them into its block mid-batch.
    for i in 0..<8 {
        batch.append(f.bob.changeset(base: 3, (0..<5).map { j in .create(f.bob.span(f.doc, i + j, i + j + 2, "L\(j)")) }))
    }
    // Two documents, the second part refused: the first's writes are undone, the rest goes on.
    let halfBad = EncodedChangeset(
        carol.changeset(base: 2, [.create(carol.span(f.doc, 1, 3, "PER")), .create(carol.span(second, 0, 500, "PER"))]))
    let after = EncodedChangeset(f.bob.changeset(base: 3, [.set(f.doc, s1.id, .label, .string("MISC"))]))
    let encoded = batch.map(EncodedChangeset.init) + [halfBad, after, EncodedChangeset(batch[0])]

    let outcomes = try f.store.append(encoded: encoded).map { try $0.get() }
    let expected = try reference.store.append(encoded: encoded).map { try $0.get() }
    #expect(outcomes == expected)
    #expect(outcomes.count(where: { if case .accepted = $0 { true } else { false } }) >= 12, "\(outcomes)")
    #expect(outcomes.last == .duplicate(revision: 3))
    for doc in [f.doc, second] {
        #expect(try f.store.headAnnotations(of: doc) == reference.store.headAnnotations(of: doc), "\(doc)")
    }
    // The fixtures' own first two revisions have changeset ids of their own.
    #expect(try f.store.revisions(after: 2) == reference.store.revisions(after: 2))
    #expect(try f.store.documents() == reference.store.documents())
    let stored = try f.store.storedDeltas(after: 0, through: .max)
    let referenceDeltas = try reference.store.storedDeltas(after: 0, through: .max)
    #expect(stored.map(\.revision) == referenceDeltas.map(\.revision))
    #expect(stored.map(\.document) == referenceDeltas.map(\.document))
    #expect(stored.map(\.data) == referenceDeltas.map(\.data))
    #expect(try f.store.headEntries(of: f.doc) == reference.store.headEntries(of: f.doc))
}

/// A document removed and added again with another text: a pull of the range needs both texts
/// (each addDocument's), not only the latest one.
@Test(arguments: StoreBackendKind.allCases)
func textsAddedNamesEveryAdditionOfADocumentInTheRange(backend: StoreBackendKind) async throws {
    var f = try await StoreFixture(backend: backend)
    defer { f.dir.remove() }
    let other: DocumentID = "news/2"
    #expect(try f.store.append(f.alice.documents(base: 2, [(other, "First text.")])) == .accepted(revision: 3))
    #expect(try f.store.append(f.alice.changeset(base: 3, [.removeDocument(other)])) == .accepted(revision: 4))
    #expect(try f.store.append(f.alice.documents(base: 4, [(other, "Second text.")])) == .accepted(revision: 5))
    let first = TextDigest(of: "First text."), second = TextDigest(of: "Second text.")
    #expect(try f.store.textsAdded(after: 2, through: 5) == [first, second])
    #expect(try f.store.textsAdded(after: 3, through: 5) == [second])
    #expect(try f.store.textsAdded(after: 0, through: 5) == [TextDigest(of: SampleTexts.news), first, second])
    #expect(try f.store.textsAdded(after: 5, through: 5).isEmpty)
}

@Test(arguments: StoreBackendKind.allCases)
func schemaIsStoredAndEnforced(backend: StoreBackendKind) async throws {
    var f = try await StoreFixture(backend: backend)
    defer { f.dir.remove() }
    let schema = Schema(spanLabels: ["PER", "LOC"])
    #expect(try f.store.append(f.alice.changeset(base: 2, [.setSchema(schema)])) == .accepted(revision: 3))
    #expect(try f.store.schema() == schema)
    guard case .invalid(let error) = try f.store.append(f.bob.changeset(base: 3, [.create(f.bob.span(f.doc, 0, 2, "ORG"))])) else {
        Issue.record("label outside the schema accepted")
        return
    }
    #expect(error.code == .unknownLabel)
    // A stale schema change of another owner conflicts rather than silently replacing it.
    let other = Minter("carol", replica: 30).changeset(base: 2, [.setSchema(Schema(spanLabels: ["X"]))])
    guard case .conflicts(let conflicts) = try f.store.append(other) else {
        Issue.record("concurrent schema change accepted")
        return
    }
    #expect(conflicts.map(\.kind) == [.schema])
}

@Test(arguments: StoreBackendKind.allCases)
func documentRemovalAndReAdd(backend: StoreBackendKind) async throws {
    var f = try await StoreFixture(backend: backend)
    defer { f.dir.remove() }
    #expect(try f.store.append(f.alice.changeset(base: 2, [.removeDocument(f.doc)])) == .accepted(revision: 3))
    #expect(try f.store.headAnnotations(of: f.doc).isEmpty)
    #expect(try f.store.reconstruct(f.doc, at: 3).document == nil)
    guard case .conflicts(let c) = try f.store.append(f.bob.changeset(base: 2, [.set(f.doc, f.per.id, .label, .string("X"))])) else {
        Issue.record("an edit of a removed document was accepted")
        return
    }
    #expect(c.map(\.kind) == [.documentRemoved])
    #expect(try f.store.append(f.alice.documents(base: 3, [(f.doc, SampleTexts.short)])) == .accepted(revision: 4))
    let state = try f.store.reconstruct(f.doc, at: 4)
    #expect(state.document?.length == SampleTexts.short.unicodeScalars.count)
    #expect(state.annotations.isEmpty)
    #expect(try f.store.reconstruct(f.doc, at: 2).annotations.count == 2)
}

@Test func corruptBlobsAreReportedNotReturned() async throws {
    var f = try await StoreFixture()
    defer { f.dir.remove() }
    #expect(try f.store.append(f.bob.changeset(base: 2, [.delete(f.doc, f.org.id)])) == .accepted(revision: 3))
    let backend = try #require(f.store.backend as? SQLiteCorpusBackend)
    // Cut the last delta short: compress-nio alone would inflate it to partial output.
    try await backend.pool.write { db in
        try db.execute(sql: "UPDATE deltas SET data = substr(data, 1, length(data) - 2) WHERE rev = 3")
    }
    do {
        _ = try f.store.reconstruct(f.doc, at: 3)
        Issue.record("a truncated delta was applied")
    } catch let error as StoreError {
        #expect(error.code == .corrupt)
        #expect(error.context?.contains("revision 3") == true)
    }
    // A lying length is caught too.
    try await backend.pool.write { db in try db.execute(sql: "UPDATE deltas SET raw_len = raw_len - 1 WHERE rev = 2") }
    #expect(throws: StoreError.self) { try f.store.reconstruct(f.doc, at: 2) }
}

/// The check reads only what a changeset touches: a one-op push on a long history reads a
/// handful of rows and its document's head block, never deltas or snapshots.
@Test(arguments: StoreBackendKind.allCases)
func acceptanceCheckCostsOpsNotHistory(backend: StoreBackendKind) async throws {
    var f = try await StoreFixture(backend: backend)
    defer { f.dir.remove() }
    var spans: [Annotation] = []
    for i in 0..<40 {
        let batch = (0..<25).map { j in f.alice.span(f.doc, (i + j) % 60, (i + j) % 60 + 1, "L\(j)") }
        spans += batch
        #expect(try f.store.append(f.alice.changeset(base: 2 + i, batch.map(Op.create))).revision != nil)
    }
    let counting = CountingBackend(inner: f.store.backend)
    let store = CorpusStore(backend: counting)
    let outcome = try store.append(f.bob.changeset(base: 3, [.set(f.doc, spans[0].id, .label, .string("X"))]))
    #expect(outcome.revision == 43)
    #expect(counting.counts.headEntryReads == 0)
    #expect(counting.counts.batches <= 2)
    #expect(counting.counts.blockReads <= 1)
    #expect(counting.counts.scans == 0)
}

/// A push touching many annotations reads their head rows, their referrers and the revisions
/// that last changed them each in one batch (one round trip on PostgreSQL), not one per op.
@Test(arguments: StoreBackendKind.allCases)
func aPushReadsWhatItsOpsTouchInBatchesNotOneLookupPerOp(backend: StoreBackendKind) async throws {
    var f = try await StoreFixture(backend: backend)
    defer { f.dir.remove() }
    let spans = (0..<60).map { i in f.alice.span(f.doc, i, i + 1, "L") }
    #expect(try f.store.append(f.alice.changeset(base: 2, spans.map(Op.create))).revision == 3)
    // Relations onto the first twenty: deleting those must find them (referrers).
    let relations = (0..<20).map { i in f.alice.relation(f.doc, spans[i + 20].id, spans[i].id, "R") }
    #expect(try f.store.append(f.alice.changeset(base: 3, relations.map(Op.create))).revision == 4)
    // Changed since the block was written: these live in head rows.
    let relabel = (40..<60).map { i in Op.set(f.doc, spans[i].id, .label, .string("M")) }
    #expect(try f.store.append(f.alice.changeset(base: 4, relabel)).revision == 5)

    let counting = CountingBackend(inner: f.store.backend)
    let store = CorpusStore(backend: counting, headCacheEntries: 0)
    let ops = (0..<20).map { i in Op.delete(f.doc, spans[i].id) } + relations.map { Op.delete(f.doc, $0.id) }
        + (40..<60).map { i in Op.set(f.doc, spans[i].id, .label, .string("N")) }
    #expect(try store.append(f.bob.changeset(base: 5, ops)).revision == 6)
    let counts = counting.counts
    #expect(counts.headEntryReads == 0, "one lookup per annotation: \(counts.headEntryReads)")
    // Referrers, head rows and revisions: a batch each, whatever the number of ops.
    #expect(counts.batches <= 3, "\(counts.batches) batches")
    #expect(counts.batchedItems >= 60)
    #expect(try store.headAnnotations(of: f.doc).count == 2 + 60 - 20)
}

@Test func grdbSmoke() throws {
    // GRDB's Linux support is community-maintained: keep its basics under test.
    let dir = try TemporaryDirectory("grdb")
    defer { dir.remove() }
    let pool = try DatabasePool(path: dir.path("smoke.sqlite"))
    try pool.write { db in
        try db.execute(sql: "CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB)")
        try db.execute(sql: "INSERT INTO t(v) VALUES (?)", arguments: [Data([1, 2, 3])])
    }
    #expect(try pool.read { db in try Data.fetchOne(db, sql: "SELECT v FROM t") } == Data([1, 2, 3]))
}

/// A client replica is a CorpusStore too: it replays pulled revisions under the server's
/// numbers and rebases pending work with the same check, giving the same answer as the
/// in-memory model.
@Test(arguments: StoreBackendKind.allCases)
func replicaStoreMirrorsTheServerAndRebasesLikeTheModel(backend: StoreBackendKind) async throws {
    var f = try await StoreFixture(backend: backend)
    defer { f.dir.remove() }
    #expect(try f.store.append(f.alice.changeset(base: 2, [.set(f.doc, f.per.id, .label, .string("ORG"))])) == .accepted(revision: 3))
    #expect(try f.store.append(f.alice.changeset(base: 3, [.delete(f.doc, f.org.id)])) == .accepted(revision: 4))

    let replica = try CorpusStore.sqlite(path: f.dir.path("replica.sqlite"))
    var model = HeadState()
    let blobs = try f.store.storedDeltas(after: 0, through: 4)
    for revision in try f.store.revisions() {
        let ops = try blobs.filter { $0.revision == revision.number }.flatMap { try $0.ops() }
        var texts: [TextDigest: String] = [:]
        for case .addDocument(let d) in ops { texts[d.digest] = try f.store.text(d.digest) }
        try replica.applyPulled(revision, ops: ops, texts: texts)
        try replica.applyPulled(revision, ops: ops, texts: texts)  // a repeated pull is harmless
        try model.apply(
            Changeset(id: revision.changeset, author: revision.author, replica: revision.replica, base: revision.number - 1, ops: ops, texts: texts),
            as: revision.number)
    }
    #expect(try replica.revisions() == (try f.store.revisions()))
    #expect(try replica.headAnnotations(of: f.doc) == (try f.store.headAnnotations(of: f.doc)))

    // Bob worked offline from revision 2: one clash, one edit/delete, one clean edit.
    let pending = [
        f.bob.changeset(base: 2, [.set(f.doc, f.per.id, .label, .string("LOC"))]),
        f.bob.changeset(base: 2, [.set(f.doc, f.org.id, .attribute("a"), .string("1"))]),
        f.bob.changeset(base: 2, [.set(f.doc, f.per.id, .attribute("b"), .string("2"))]),
    ]
    let fromStore = try replica.rebase(pending)
    let fromModel = try Rebaser.rebase(pending, onto: model, at: 4)
    #expect(fromStore.changesets == fromModel.changesets)
    #expect(fromStore.conflicts == fromModel.conflicts)
    #expect(fromStore.conflicts[pending[0].id]?.map(\.kind) == [.field(.label), .editDelete])
}

@Test func databaseFailuresAreTypedStoreErrors() throws {
    let dir = try TemporaryDirectory("broken")
    defer { dir.remove() }
    // Not a database at all.
    try Data("this is not an SQLite file, just text that is long enough to have a header".utf8)
        .write(to: dir.url.appendingPathComponent("bad.sqlite"))
    do {
        _ = try CorpusStore.sqlite(path: dir.path("bad.sqlite"))
        Issue.record("opened a file that is not a database")
    } catch let error as StoreError {
        #expect(error.code == .backend)
        #expect(error.context == dir.path("bad.sqlite"))
    }
}

@Test(arguments: StoreBackendKind.allCases)
func documentsAddedInARangeAreFoundWithoutAFullScan(backend: StoreBackendKind) async throws {
    let f = try await StoreFixture(backend: backend)
    defer { f.dir.remove() }
    #expect(try f.store.append(f.alice.documents(base: 2, [("late/1", "one")])) == .accepted(revision: 3))
    #expect(try f.store.append(f.alice.documents(base: 3, [("late/2", "two")])) == .accepted(revision: 4))
    #expect(try f.store.documents(addedAfter: 0, through: 4).map(\.document.id) == ["late/1", "late/2", f.doc])
    #expect(try f.store.documents(addedAfter: 2, through: 3).map(\.document.id) == ["late/1"])
    #expect(try f.store.documents(addedAfter: 4, through: 4).isEmpty)
}
