import Foundation
import Synchronization
import Testing
@testable import GlossModel
@testable import GlossStore
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
