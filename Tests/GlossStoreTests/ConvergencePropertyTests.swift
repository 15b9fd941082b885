import Testing
import GlossModel
import GlossStore
@testable import GlossStoreSQLite
import GlossTestSupport

/// 160 random steps by random replicas (edit, pull, push twice, sync), then everyone syncs until
/// nobody has anything left.
func churn(_ replicas: inout [SimulatedReplica], through store: CorpusStore, using rng: inout SplitMix64) throws {
    for i in replicas.indices { try replicas[i].pull(from: store, using: &rng) }
    for _ in 0..<160 {
        let i = rng.int(below: replicas.count)
        switch rng.int(below: 10) {
        case 0...4: try replicas[i].edit(using: &rng)
        case 5: try replicas[i].pull(from: store, using: &rng)
        case 6:
            // Push, then push again as a client does when the acknowledgement was lost; either
            // may be refused, to be pulled, merged and retried later.
            _ = try replicas[i].push(to: store)
            _ = try replicas[i].push(to: store)
        default: try replicas[i].sync(with: store, using: &rng)
        }
    }
    for _ in 0..<3 { for i in replicas.indices { try replicas[i].sync(with: store, using: &rng) } }
}

/// Property (a): N replicas make random edits, including conflicting ones, and sync in random
/// orders through one store; conflicts are resolved by a random policy. At the end every
/// replica equals the store's head, and no acknowledged changeset is lost or duplicated.
@Test(arguments: Array(1...40) as [UInt64])
func replicasConvergeThroughOneStore(seed: UInt64) throws {
    var rng = SplitMix64(seed: seed)
    let dir = try TemporaryDirectory("converge")
    defer { dir.remove() }
    let store = try CorpusStore.sqlite(path: dir.path("corpus.sqlite"), snapshotPolicy: SnapshotPolicy(maxChainLength: 4))

    // The owner adds three documents: plain, the sample text, and one with emoji and CRLF.
    let owner = Minter("owner", replica: 1)
    let federation = try SharedData.federation()
    let setup = owner.documents(
        base: 0, [("a", SampleTexts.short), ("fed/1923", String(federation.prefix(800))), ("b", SampleTexts.news)])
    #expect(try store.append(setup) == .accepted(revision: 1))

    let count = 3 + rng.int(below: 2)
    var replicas = (0..<count).map { SimulatedReplica("user\($0)", replica: UInt64(100 + $0)) }
    try churn(&replicas, through: store, using: &rng)

    let head = try store.headRevision()
    let revisions = try store.revisions()
    #expect(revisions.count == head)
    #expect(Set(revisions.map(\.changeset)).count == head, "a changeset became two revisions (seed \(seed))")
    for r in replicas {
        #expect(r.pending.isEmpty, "seed \(seed): \(r.minter.user) still has pending changes")
        #expect(r.base.revision == head)
        for (id, revision) in r.accepted {
            #expect(revisions[revision - 1].changeset == id, "seed \(seed): acknowledged changeset lost")
        }
        for doc in ["a", "fed/1923", "b"] as [DocumentID] {
            #expect(r.base.liveAnnotations(in: doc) == (try store.headAnnotations(of: doc)), "seed \(seed), \(doc)")
        }
    }
    // The test must have exercised merging, not just serial edits.
    let conflicts = replicas.map(\.conflictsSeen).reduce(0, +)
    let duplicates = replicas.map(\.duplicatesSeen).reduce(0, +)
    #expect(conflicts > 0, "seed \(seed) produced no conflicts")
    #expect(duplicates > 0, "seed \(seed) never re-pushed an accepted changeset")
    let fallbacks = replicas.map(\.fallbacks).reduce(0, +)
    #expect(fallbacks * 2 <= conflicts, "seed \(seed): most resolutions failed validation")
}

/// Property (a) with texts that change: replicas also revise documents' texts (typo fixes,
/// insertions, deletions, re-tokenised spaces, added CRLF lines) while others annotate the old
/// texts offline. At the end every replica equals the store: the same texts, the same
/// annotations with the same (re-anchored or flagged) ranges, and the store checks clean.
@Test(arguments: Array(1...24) as [UInt64])
func replicasConvergeWithTextRevisions(seed: UInt64) throws {
    var rng = SplitMix64(seed: seed &+ 1000)
    let dir = try TemporaryDirectory("converge-text")
    defer { dir.remove() }
    let store = try CorpusStore.sqlite(path: dir.path("corpus.sqlite"), snapshotPolicy: SnapshotPolicy(maxChainLength: 4))
    let owner = Minter("owner", replica: 1)
    let federation = try SharedData.federation()
    let setup = owner.documents(base: 0, [("fed/1923", String(federation.prefix(600))), ("b", SampleTexts.news)])
    #expect(try store.append(setup) == .accepted(revision: 1))

    var replicas = (0..<3).map { SimulatedReplica("user\($0)", replica: UInt64(100 + $0), revisesTexts: true) }
    try churn(&replicas, through: store, using: &rng)

    let head = try store.headRevision()
    let revisions = try store.revisions()
    #expect(Set(revisions.map(\.changeset)).count == head, "seed \(seed): a changeset became two revisions")
    for r in replicas {
        #expect(r.pending.isEmpty, "seed \(seed): \(r.minter.user) still has pending changes")
        #expect(r.base.revision == head)
        for (id, revision) in r.accepted { #expect(revisions[revision - 1].changeset == id, "seed \(seed): lost") }
        for doc in ["fed/1923", "b"] as [DocumentID] {
            #expect(r.base.document(doc)?.document == (try store.document(doc))?.document, "seed \(seed), \(doc)")
            #expect(r.base.liveAnnotations(in: doc) == (try store.headAnnotations(of: doc)), "seed \(seed), \(doc)")
        }
    }
    // The run must have revised texts under other replicas' offline work.
    #expect(replicas.map(\.textRevisionsMade).reduce(0, +) > 0, "seed \(seed) revised no text")
    let report = try store.checkIntegrity(corpus: "converge")
    #expect(report.problems.isEmpty, "seed \(seed): \(report.problems.prefix(3))")
}
