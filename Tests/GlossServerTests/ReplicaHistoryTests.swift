import Foundation
import GlossClient
import GlossModel
import GlossStore
import GlossTestSupport
import Testing

/// A clone carries every revision of the documents it brings, so history commands work on a
/// fresh replica as on the server. A replica that caught up from a snapshot in a pull knows
/// which revisions it skipped: history commands refuse to show those instead of showing a
/// wrong state.
@Suite(.serialized, .hangGuard, .timeLimit(.minutes(10)))
struct ReplicaHistoryTests {
    /// 60 one-span revisions: the server's chain for d gets a snapshot at revision 51.
    static func pushSpans(_ admin: GlossClient.ClientConnection, corpus: String, from: Int, count: Int, _ m: inout Minter)
        async throws
    {
        for i in from..<(from + count) {
            let answer = try await ClientSyncTests.push(
                admin, corpus: corpus, m.changeset(base: i + 1, [.create(m.span("d", i % 50, i % 50 + 1, "X"))]))
            #expect(answer.acceptedRevision == UInt64(i + 2))
        }
    }

    @Test func aFreshCloneShowsEveryRevisionEvenPastTheServersSnapshots() async throws {
        let corpus = "full-history"
        let (server, admin) = try await ClientSyncTests.startCorpus(corpus, documents: [("d", SampleTexts.news)])
        let tmp = try TemporaryDirectory("gloss-full-history")
        defer {
            tmp.remove()
            Task { await server.stop() }
        }
        var m = Minter("admin", replica: 5)
        try await Self.pushSpans(admin, corpus: corpus, from: 0, count: 60, &m)
        let server_ = try ClientSyncTests.store(server, corpus)
        #expect(try server_.storedSnapshot(of: "d", atOrBefore: 61) != nil)

        let alice = try await ClientSyncTests.annotator("alice", server: server, corpus: corpus, directory: tmp)
        let w = alice.workspace
        #expect(try w.replica.historyGaps().isEmpty)
        for revision in 1...61 {
            #expect(try w.state(of: "d", at: revision) == server_.reconstruct("d", at: revision), "revision \(revision)")
        }
        #expect(try w.changes(in: 10).first?.changes.count == 1)
        // The replica's deltas are the server's, byte for byte.
        #expect(try w.replica.storedDeltas(of: "d") == server_.storedDeltas(of: "d"))
        // blame names the revision and author that made each span, none hidden by a catch-up.
        let blame = try w.blame("d")
        #expect(blame.allSatisfy { $0.caughtUp == nil && $0.author == "admin" })
        #expect(Set(blame.compactMap(\.revision)).isSuperset(of: [2, 51, 61]))
    }

    @Test func aPullFromASnapshotRecordsTheSkippedRevisions() async throws {
        let corpus = "gaps"
        let (server, admin) = try await ClientSyncTests.startCorpus(corpus, documents: [("d", SampleTexts.news)])
        let tmp = try TemporaryDirectory("gloss-gaps")
        defer {
            tmp.remove()
            Task { await server.stop() }
        }
        // Alice clones first, then falls 60 revisions behind: the pull sends d's snapshot,
        // which is smaller than the 60 deltas it replaces.
        let alice = try await ClientSyncTests.annotator("alice", server: server, corpus: corpus, directory: tmp)
        let w = alice.workspace
        var m = Minter("admin", replica: 5)
        try await Self.pushSpans(admin, corpus: corpus, from: 0, count: 60, &m)
        try await alice.engine.pull()
        let gaps = try w.replica.historyGaps(of: "d")
        #expect(gaps.count == 1)
        let gap = try #require(gaps.first)
        #expect(gap.knownThrough == 1)
        // States the replica holds are right; the skipped ones are refused, not invented.
        let server_ = try ClientSyncTests.store(server, corpus)
        #expect(try w.state(of: "d", at: 1) == server_.reconstruct("d", at: 1))
        #expect(try w.state(of: "d", at: 61) == server_.reconstruct("d", at: 61))
        #expect(try w.state(of: "d", at: gap.caughtUpAt) == server_.reconstruct("d", at: gap.caughtUpAt))
        #expect(throws: StoreError.self) { try w.state(of: "d", at: 10) }
        do {
            _ = try w.changes(in: gap.caughtUpAt - 1)
            Issue.record("a skipped revision's diff was shown")
        } catch let error as StoreError {
            #expect(error.code == .historyUnavailable)
            #expect(error.message.contains("skipped revisions 2...\(gap.caughtUpAt - 1)"))
        }
        // The log still lists every revision (the revision rows all came with the pull).
        #expect(try w.log().count == 61)

        // A later pull that gets plain deltas keeps the history complete from there on.
        let answer = try await ClientSyncTests.push(
            admin, corpus: corpus, m.changeset(base: 61, [.create(m.span("d", 3, 9, "Y"))]))
        #expect(answer.acceptedRevision == 62)
        try await alice.engine.pull()
        #expect(try w.replica.historyGaps(of: "d") == gaps)
        #expect(try w.changes(in: 62).first?.changes.count == 1)

        // blame is honest about the gap: what the snapshot brought shows the catch-up revision
        // with the gap it hides and no author, never as if the catch-up revision had made it.
        let blame = try w.blame("d")
        let early = blame.filter { $0.revision! <= gap.caughtUpAt }
        #expect(!early.isEmpty && early.allSatisfy { $0.caughtUp == gap && $0.author == "?" })
        let late = try #require(blame.first { $0.revision == 62 })
        #expect(late.caughtUp == nil && late.author == "admin")
    }
}
