import Foundation
import Synchronization
import Testing
@testable import GlossModel
@testable import GlossStore
@testable import GlossStoreSQLite
import GlossTestSupport

// A large changeset appended as it arrives (encoded) is checked and written a document at a
// time (CorpusStore.append(encoded:)): these tests hold it to the whole check's outcomes and
// stored rows, to leaving no trace when a later document refuses it, and to bounded decoding.

/// Everything a store keeps, read back in a comparable form (document keys and chain
/// bookkeeping included).
private struct StoreDump: Equatable {
    var revisions: [Revision]
    var records: [DocumentRecord]
    var heads: [DocumentID: [HeadEntry]]
    var deltas: [StoredBlob]
    var snapshots: [DocumentID: [StoredBlob]]
    var texts: [TextDigest: String]
    var schema: Schema

    init(_ store: CorpusStore) throws {
        revisions = try store.revisions()
        records = try store.backend.read { try $0.documents() }
        heads = [:]
        snapshots = [:]
        texts = [:]
        let head = try store.headRevision()
        for record in records {
            let id = record.entry.document.id
            heads[id] = try store.headEntries(of: id)
            snapshots[id] = try (0...head).compactMap { try store.storedSnapshot(of: id, atOrBefore: $0) }
            texts[record.entry.document.digest] = try? store.text(record.entry.document.digest)
        }
        deltas = try store.storedDeltas(after: 0, through: .max)
        schema = try store.schema()
    }
}

/// Counts the steps of interest an observed store takes (nested transactions, document reads, delta writes).
private final class StepLog: Sendable {
    private let steps = Mutex<[ObservedStep]>([])
    var all: [ObservedStep] { steps.withLock { $0 } }
    var nestedCount: Int { all.filter { $0 == .nested }.count }
    func record(_ step: ObservedStep) { steps.withLock { $0.append(step) } }
    func reset() { steps.withLock { $0 = [] } }
}

private func observedStore(_ dir: TemporaryDirectory, _ name: String, log: StepLog, threshold: Int = 0,
    policy: SnapshotPolicy = .default) throws -> CorpusStore
{
    let backend = ObservedCorpusBackend(try SQLiteCorpusBackend(path: dir.path(name)), observe: { _ in }) { log.record($0) }
    return CorpusStore(backend: backend, snapshotPolicy: policy, streamingThreshold: threshold)
}

private let schema = Schema(spanLabels: ["PER", "ORG", "LOC"], relations: [.init(label: "rel")])

private func text(_ n: Int) -> String { String(repeating: "Alice met Bob in Paris. ", count: n) }

/// Appends to the whole-path store and the streamed one alike and expects the same outcomes.
private func appendBoth(_ batch: [Changeset], whole: CorpusStore, streamed: CorpusStore, _ note: Comment? = nil)
    throws -> [AppendOutcome]
{
    let expected = try whole.append(batch: batch)
    let got = try streamed.append(encoded: batch.map(EncodedChangeset.init)).map { try $0.get() }
    #expect(got == expected, note)
    return expected
}

/// Random work on a few documents (spans, relations, edits, deletes, documents added and
/// removed, schema changes first or late, stale bases that conflict, invalid labels and
/// ranges), appended through both paths: the outcomes and every stored row must agree.
@Test(arguments: Array(1...8) as [UInt64])
func streamedAppendStoresWhatTheWholeAppendStores(seed: UInt64) throws {
    var rng = SplitMix64(seed: seed)
    let dir = try TemporaryDirectory("streamed")
    defer { dir.remove() }
    let log = StepLog()
    let policy = SnapshotPolicy(maxChainLength: 3, maxChainRatio: 2, minimumChainBytes: 64)
    let whole = try CorpusStore.sqlite(path: dir.path("whole.sqlite"), snapshotPolicy: policy)
    let streamed = try observedStore(dir, "streamed.sqlite", log: log, policy: policy)
    var minters = [Minter("alice", replica: 1), Minter("bob", replica: 2)]
    var documents: [DocumentID] = ["d/a", "d/b", "d/c", "d/d"]

    var first = minters[0].changeset(base: 0, [.setSchema(schema)])
    for d in documents { first.addDocument(d, text: text(3)) }
    _ = try appendBoth([first], whole: whole, streamed: streamed)

    for round in 0..<40 {
        let head = try whole.headRevision()
        var batch: [Changeset] = []
        for _ in 0...rng.int(below: 3) {
            let who = rng.int(below: 2)
            // Often stale: made before revisions another replica pushed.
            let base = max(1, head - rng.int(below: 4))
            var ops: [Op] = []
            var texts: [TextDigest: String] = [:]
            if rng.int(below: 6) == 0 { ops.append(.setSchema(schema)) }
            for _ in 0..<(1 + rng.int(below: 24)) {
                let doc = rng.pick(documents)
                let live = try whole.headAnnotations(of: doc)
                switch rng.int(below: 10) {
                case 0...3:
                    let start = rng.int(below: 60)
                    let label = rng.int(below: 25) == 0 ? "BAD" : rng.pick(["PER", "ORG", "LOC"])
                    let end = rng.int(below: 30) == 0 ? 100_000 : start + 1 + rng.int(below: 8)
                    ops.append(.create(minters[who].span(doc, start, end, label)))
                case 4, 5:
                    guard let a = live.filter({ $0.kind == .span }).randomElement(using: &rng) else { continue }
                    ops.append(.set(doc, a.id, .label, .string(rng.pick(["PER", "ORG", "LOC"]))))
                case 6:
                    guard let a = live.randomElement(using: &rng) else { continue }
                    ops.append(.delete(doc, a.id))
                case 7:
                    let spans = live.filter { $0.kind == .span }
                    guard spans.count >= 2 else { continue }
                    let (from, to) = (rng.pick(spans), rng.pick(spans))
                    guard from.id != to.id else { continue }
                    ops.append(.create(minters[who].relation(doc, from.id, to.id, "rel")))
                case 8:
                    if rng.int(below: 4) == 0, documents.count < 8 {
                        let id = DocumentID(storedRawValue: "d/n\(round)")
                        var cs = Changeset(author: "", replica: ReplicaID(0), base: 0, ops: [])
                        cs.addDocument(id, text: text(2 + rng.int(below: 3)))
                        documents.append(id)
                        ops += cs.ops
                        texts.merge(cs.texts) { $1 }
                    } else if rng.int(below: 6) == 0 {
                        ops.append(.removeDocument(doc))
                    }
                default:
                    // A schema change after document ops: the parts do not commute; checked whole.
                    if rng.int(below: 8) == 0 { ops.append(.setSchema(schema)) }
                }
            }
            batch.append(minters[who].changeset(base: base, ops, texts: texts))
        }
        _ = try appendBoth(batch, whole: whole, streamed: streamed, "seed \(seed), round \(round)")
        #expect(try StoreDump(streamed) == StoreDump(whole), "seed \(seed), round \(round)")
    }
    #expect(log.nestedCount > 0, "the streamed store never checked a changeset a document at a time")
}

/// Five documents with twenty spans each, by alice, as revisions 1 (schema and documents) and 2.
private func fiveDocuments(_ stores: [CorpusStore], alice: inout Minter) throws -> [DocumentID: [Annotation]] {
    let docs: [DocumentID] = ["p/1", "p/2", "p/3", "p/4", "p/5"]
    var first = alice.changeset(base: 0, [.setSchema(schema)])
    for d in docs { first.addDocument(d, text: text(4)) }
    for store in stores { try #require(try store.append(first) == .accepted(revision: 1)) }
    var spans: [DocumentID: [Annotation]] = [:]
    var ops: [Op] = []
    for d in docs {
        spans[d] = (0..<20).map { i in alice.span(d, i, i + 3, "PER") }
        ops += spans[d]!.map(Op.create)
    }
    let second = alice.changeset(base: 1, ops)
    for store in stores { try #require(try store.append(second) == .accepted(revision: 2)) }
    return spans
}

/// A changeset over five documents whose fourth and fifth conflict is refused with both
/// conflicts, and the three documents written before are undone, while the next changeset of
/// the same transaction is accepted; the shared block cache keeps nothing of the undone part.
@Test func aLaterDocumentsConflictLeavesNoTraceWhileTheBatchGoesOn() throws {
    let dir = try TemporaryDirectory("streamed-conflict")
    defer { dir.remove() }
    let log = StepLog()
    let store = try observedStore(dir, "corpus.sqlite", log: log)
    let twin = try CorpusStore.sqlite(path: dir.path("twin.sqlite"))
    var alice = Minter("alice", replica: 1)
    var bob = Minter("bob", replica: 2)
    let spans = try fiveDocuments([store, twin], alice: &alice)
    // Alice relabels in p/4 and p/5 (revision 3); bob, on base 2, sets the same labels otherwise.
    let theirs: [Op] = [
        .set("p/4", spans["p/4"]![0].id, .label, .string("ORG")), .set("p/5", spans["p/5"]![1].id, .label, .string("ORG")),
    ]
    let third = alice.changeset(base: 2, theirs)
    #expect(try store.append(third) == .accepted(revision: 3))
    #expect(try twin.append(third) == .accepted(revision: 3))
    // Bob's changeset adds a document and twenty spans to each of p/1..p/3 (enough to fold
    // their head blocks), then conflicts in p/4 and p/5.
    var stale = bob.changeset(base: 2, [])
    stale.addDocument("p/0", text: text(2))
    for d in ["p/1", "p/2", "p/3"] as [DocumentID] { stale.ops += (0..<20).map { i in .create(bob.span(d, i, i + 2, "LOC")) } }
    stale.ops.append(.set("p/5", spans["p/5"]![1].id, .label, .string("LOC")))
    stale.ops.append(.set("p/4", spans["p/4"]![0].id, .label, .string("LOC")))
    let next = alice.changeset(base: 3, [.create(alice.span("p/2", 30, 33, "ORG"))])

    // The cache holds every block it will be asked for before the refused changeset comes.
    for d in spans.keys { _ = try store.headEntries(of: d) }
    let cache = try #require(store.headCache)
    let held = cache.held
    log.reset()
    let outcomes = try store.append(encoded: [EncodedChangeset(stale), EncodedChangeset(next)]).map { try $0.get() }
    let expected = try twin.append(batch: [stale, next])
    #expect(outcomes == expected)
    guard case .conflicts(let conflicts) = outcomes[0] else {
        Issue.record("the stale changeset was accepted: \(outcomes[0])")
        return
    }
    // Both, in op order (p/5's op comes first), though p/4 is checked first.
    #expect(conflicts.map(\.document) == ["p/5", "p/4"])
    #expect(outcomes[1] == .accepted(revision: 4))
    #expect(log.nestedCount == 1)
    #expect(log.all.contains(.deltaWritten(document: 2)), "p/1 was never written before the conflict was found")
    #expect(try StoreDump(store) == StoreDump(twin))
    #expect(try store.storedText(TextDigest(of: text(2))) == nil)
    // The blocks p/1..p/3 had before are still cached; none of the undone ones was added.
    for d in ["p/1", "p/3"] as [DocumentID] {
        let key = try #require(try store.backend.read { try $0.document(d) }).key
        let block = try #require(try store.backend.read { try $0.headBlock(document: key) })
        #expect(cache.entries(for: HeadBlockCache.Key(document: key, block: block)) != nil)
    }
    #expect(cache.held.blocks == held.blocks && cache.held.entries == held.entries)
}

/// A changeset whose runs interleave documents reports, like the whole check, the invalid op
/// with the lowest changeset-wide index, though its document is checked after another invalid
/// one; and nothing of it stays.
@Test func anInvalidOpInALaterDocumentIsReportedByItsGlobalIndex() throws {
    let dir = try TemporaryDirectory("streamed-invalid")
    defer { dir.remove() }
    let log = StepLog()
    let store = try observedStore(dir, "corpus.sqlite", log: log)
    var alice = Minter("alice", replica: 1)
    var ops: [Op] = [.setSchema(schema)]
    var cs = alice.changeset(base: 0, [])
    cs.addDocument("a/doc", text: text(2))
    cs.addDocument("z/doc", text: text(2))
    ops += cs.ops
    let good = alice.span("a/doc", 0, 3, "PER")
    let badInZ = alice.span("z/doc", 0, 3, "NOPE")  // index 4: the one reported
    let badInA = alice.span("a/doc", 0, 3, "ALSO-NOPE")  // index 6: checked first (a < z)
    ops += [.create(good), .create(badInZ), .create(alice.span("z/doc", 1, 4, "ORG")), .create(badInA)]
    let changeset = alice.changeset(base: 0, ops, texts: cs.texts)
    let outcome = try store.append(encoded: [EncodedChangeset(changeset)])[0].get()
    guard case .invalid(let error) = outcome else {
        Issue.record("accepted: \(outcome)")
        return
    }
    #expect(error.code == .unknownLabel)
    #expect(error.opIndex == 4)
    #expect(error.document == "z/doc")
    #expect(error.annotation == badInZ.id)
    let whole = try CorpusStore.sqlite(path: dir.path("whole.sqlite"))
    #expect(try whole.append(changeset) == outcome)
    #expect(log.nestedCount == 1)
    #expect(try store.headRevision() == 0)
    #expect(try store.documents().isEmpty)
    #expect(try store.storedDeltas(after: 0, through: .max).isEmpty)
    #expect(try store.storedText(TextDigest(of: text(2))) == nil)
    #expect(try store.schema() == .open)
}

/// The savepoint seam: writes of an undone nested transaction vanish, a kept one's stay, a
/// throwing one's vanish with its error passed on, and the enclosing transaction commits the
/// rest; in every backend (the bulk backend, which has no journal, refuses to undo instead).
@Test func nestedTransactionsUndoInEveryBackend() throws {
    let dir = try TemporaryDirectory("nested")
    defer { dir.remove() }
    struct Boom: Error {}
    let digests = (0..<4).map { TextDigest(of: "text \($0)") }
    func exercise(_ backend: any CorpusBackend) throws {
        try backend.write { rows in
            try rows.putText(digests[0], rawLength: 1, data: [0])
            try rows.nested {
                try rows.putText(digests[1], rawLength: 1, data: [1])
                #expect(try rows.text(digests[1]) != nil)  // seen inside
                return .undo
            }
            try rows.nested {
                try rows.putText(digests[2], rawLength: 1, data: [2])
                return .keep
            }
            #expect(throws: Boom.self) {
                try rows.nested {
                    try rows.putText(digests[3], rawLength: 1, data: [3])
                    throw Boom()
                }
            }
        }
        let kept = try backend.read { rows in try digests.map { try rows.text($0) != nil } }
        #expect(kept == [true, false, true, false])
    }
    let sqlite = try SQLiteCorpusBackend(path: dir.path("a.sqlite"))
    try exercise(sqlite)
    try exercise(ObservedCorpusBackend(try SQLiteCorpusBackend(path: dir.path("b.sqlite")), observe: { _ in }))
    try exercise(CountingBackend(inner: try SQLiteCorpusBackend(path: dir.path("c.sqlite"))))

    let bulk = try SQLiteBulkBackend(path: dir.path("d.sqlite"))
    try bulk.write { rows in
        try rows.nested {
            try rows.putText(digests[0], rawLength: 1, data: [0])
            return .keep
        }
    }
    #expect(throws: StoreError.self) {
        try bulk.write { rows in try rows.nested { .undo } }
    }
    #expect(try bulk.read { try $0.text(digests[0]) } != nil)
    try bulk.close()
}

/// A 20-document changeset is decoded one document at a time: at most one document's ops are
/// held decoded at once, and each document is written before the next is read.
@Test func aLargeChangesetIsDecodedOneDocumentAtATime() throws {
    let dir = try TemporaryDirectory("streamed-bounded")
    defer { dir.remove() }
    let log = StepLog()
    let store = try observedStore(dir, "corpus.sqlite", log: log)
    var alice = Minter("alice", replica: 1)
    var changeset = alice.changeset(base: 0, [.setSchema(schema)])
    let docs = (0..<20).map { DocumentID(storedRawValue: "doc/\(String(format: "%02d", $0))") }
    for d in docs { changeset.addDocument(d, text: text(3)) }
    // Spans of each document in two runs, interleaved with the others'.
    for round in 0..<2 {
        for d in docs { changeset.ops += (0..<25).map { i in .create(alice.span(d, round * 25 + i, round * 25 + i + 2, "PER")) } }
    }
    var encoded = EncodedChangeset(changeset)
    let meter = DecodeMeter()
    encoded.decodeMeter = meter
    log.reset()
    #expect(try store.append(encoded: [encoded])[0].get() == .accepted(revision: 1))
    #expect(meter.total == changeset.ops.count)
    #expect(meter.peak <= 51, "ops of more than one document were held decoded at once: \(meter.peak)")
    #expect(meter.live == 0)
    // Document i's first read comes after document i-1's delta was written.
    let steps = log.all
    let writes = steps.indices.filter { if case .deltaWritten(let k) = steps[$0] { k != 0 } else { false } }
    #expect(writes.count == docs.count)
    for (i, d) in docs.enumerated().dropFirst() {
        let firstRead = try #require(steps.firstIndex(of: .documentRead(d)))
        #expect(firstRead > writes[i - 1], "\(d) was read before the document before it was written")
    }
    // The same as decoding it whole.
    let whole = try CorpusStore.sqlite(path: dir.path("whole.sqlite"))
    #expect(try whole.append(changeset) == .accepted(revision: 1))
    #expect(try StoreDump(store) == StoreDump(whole))
}

/// A small changeset (under the threshold) is checked whole, with no savepoint: a push costs
/// what it did.
@Test func aSmallChangesetIsCheckedWhole() throws {
    let dir = try TemporaryDirectory("streamed-small")
    defer { dir.remove() }
    let log = StepLog()
    let store = try observedStore(dir, "corpus.sqlite", log: log, threshold: CorpusStore.defaultStreamingThreshold)
    var alice = Minter("alice", replica: 1)
    var first = alice.changeset(base: 0, [])
    first.addDocument("s/1", text: text(2))
    first.addDocument("s/2", text: text(2))
    #expect(try store.append(encoded: [EncodedChangeset(first)])[0].get() == .accepted(revision: 1))
    let edit = alice.changeset(base: 1, [.create(alice.span("s/1", 0, 2, "X")), .create(alice.span("s/2", 0, 2, "Y"))])
    var encoded = EncodedChangeset(edit)
    let meter = DecodeMeter()
    encoded.decodeMeter = meter
    #expect(try store.append(encoded: [encoded])[0].get() == .accepted(revision: 2))
    #expect(log.nestedCount == 0)
    #expect(meter.total == 0)  // decoded whole, not by parts
}

/// A run whose ops do not decode, in a document checked after others were written, fails
/// that changeset alone (its written documents undone) while the next of the batch is accepted.
@Test func aRunThatDoesNotDecodeFailsItsChangesetAlone() throws {
    let dir = try TemporaryDirectory("streamed-malformed")
    defer { dir.remove() }
    let log = StepLog()
    let store = try observedStore(dir, "corpus.sqlite", log: log)
    var alice = Minter("alice", replica: 1)
    var cs = alice.changeset(base: 0, [])
    for d in ["m/1", "m/2", "m/3"] as [DocumentID] { cs.addDocument(d, text: text(2)) }
    let good = EncodedChangeset(cs)
    var runs = good.runs.map(\.bytes)
    runs[2] = runs[2].prefix(runs[2].count - 3)  // m/3's addDocument, cut short: its header still reads
    let bad = try EncodedChangeset(
        id: .random(), author: "alice", replica: alice.replica, base: 0, message: "", timestamp: 0, runs: runs,
        texts: good.texts)
    let results = try store.append(encoded: [bad, good])
    guard case .failure(let error) = results[0] else {
        Issue.record("a run that does not decode was taken: \(results[0])")
        return
    }
    #expect(error.message.contains("ops run 2"))
    #expect(try results[1].get() == .accepted(revision: 1))
    #expect(log.nestedCount == 2)  // both went a document at a time
    #expect(try store.revisions().map(\.changeset) == [good.id])
}
