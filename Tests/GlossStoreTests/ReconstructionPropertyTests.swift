import Testing
import GlossModel
@testable import GlossStore
@testable import GlossStoreSQLite
import GlossTestSupport

/// Property (b): reconstructing any document at any revision — from its latest snapshot or
/// chain base plus deltas — equals replaying every revision from 1 to that one, across many
/// snapshot boundaries (short chains force a snapshot every few revisions).
@Test(arguments: [(1, 3), (2, 5), (3, 50), (4, 2)] as [(UInt64, Int)])
func reconstructionEqualsReplay(seed: UInt64, chainLength: Int) throws {
    var rng = SplitMix64(seed: seed)
    let dir = try TemporaryDirectory("reconstruct")
    defer { dir.remove() }
    let store = try CorpusStore.sqlite(
        path: dir.path("corpus.sqlite"), snapshotPolicy: SnapshotPolicy(maxChainLength: chainLength, minimumChainBytes: 64))
    let docs: [DocumentID] = ["a", "b", "fed"]
    let owner = Minter("owner", replica: 1)
    let federation = try SharedData.federation()
    #expect(try store.append(owner.documents(base: 0, [("a", SampleTexts.news), ("b", SampleTexts.short), ("fed", federation)])).revision == 1)

    var writers = (0..<3).map { SimulatedReplica("w\($0)", replica: UInt64(50 + $0)) }
    for _ in 0..<150 {
        let i = rng.int(below: writers.count)
        try writers[i].edit(using: &rng)
        if rng.chance(40) { try writers[i].sync(with: store, using: &rng) }
    }
    for i in writers.indices { try writers[i].sync(with: store, using: &rng) }
    try writers[0].pull(from: store, using: &rng)  // it synced first: bring it up to the others

    // Replay: apply every revision's deltas in order, keeping each document's state per revision.
    let head = try store.headRevision()
    var states: [DocumentID: DocumentState] = [:]
    var expected: [[DocumentID: DocumentState]] = [[:]]
    var byRevision: [Int: [StoredBlob]] = [:]
    for blob in try store.storedDeltas(after: 0, through: head) { byRevision[blob.revision, default: []].append(blob) }
    for revision in 1...head {
        for blob in byRevision[revision] ?? [] {
            guard let doc = blob.document else { continue }
            for op in try blob.ops() { try states[doc, default: DocumentState()].apply(op) }
        }
        expected.append(states)
    }

    let summary = try store.storageSummary()
    if chainLength < 10 { #expect(summary.snapshotCount > 3, "seed \(seed): no snapshot boundary was crossed") }
    for revision in 0...head {
        for doc in docs {
            let rebuilt = try store.reconstruct(doc, at: revision)
            #expect(rebuilt == (expected[revision][doc] ?? DocumentState()), "seed \(seed), \(doc) at \(revision)")
        }
    }
    // The head table agrees with the newest reconstruction and with a replica's own model.
    for doc in docs {
        let newest = try store.reconstruct(doc, at: head).sortedAnnotations
        #expect(try store.headAnnotations(of: doc) == newest)
        #expect(writers[0].base.liveAnnotations(in: doc) == newest)
    }
}

@Test func snapshotPolicyBoundsChains() {
    let policy = SnapshotPolicy(maxChainLength: 50, maxChainRatio: 2, minimumChainBytes: 512)
    let entry = DocumentEntry(document: Document(id: "d", text: "x"), addedAt: 1)
    func record(_ length: Int, _ bytes: Int, base: Int) -> DocumentRecord {
        DocumentRecord(key: 1, entry: entry, chainLength: length, chainBytes: bytes, baseBytes: base)
    }
    #expect(!policy.needsSnapshot(record(49, 1000, base: 4000)))
    #expect(policy.needsSnapshot(record(50, 1000, base: 4000)))  // git's depth
    #expect(policy.needsSnapshot(record(3, 8001, base: 4000)))  // Mercurial's bytes rule
    #expect(!policy.needsSnapshot(record(3, 500, base: 10)))  // tiny documents do not churn
}

/// Reconstruction reads at most one snapshot and one chain, however long the history.
@Test func reconstructionReadsOneChain() throws {
    let dir = try TemporaryDirectory("chain")
    defer { dir.remove() }
    let inner = try SQLiteCorpusBackend(path: dir.path("c.sqlite"))
    let store = CorpusStore(backend: inner, snapshotPolicy: SnapshotPolicy(maxChainLength: 10))
    var m = Minter("m", replica: 3)
    #expect(try store.append(m.documents(base: 0, [("d", SampleTexts.news)])).revision == 1)
    let span = m.span("d", 0, 3, "A")
    #expect(try store.append(m.changeset(base: 1, [.create(span)])).revision == 2)
    for i in 0..<95 {
        #expect(try store.append(m.changeset(base: 2 + i, [.set("d", span.id, .label, .string("L\(i)"))])).revision == 3 + i)
    }
    let deltas = try inner.read { rows -> Int in
        let key = try rows.document("d")!.key
        let snapshot = try rows.latestSnapshot(document: key, atOrBefore: 97)!
        return try rows.deltas(document: key, after: snapshot.revision, through: 97).count
    }
    #expect(deltas < 10)
    #expect(try store.reconstruct("d", at: 97).annotations[span.id]?.label == "L94")
}
