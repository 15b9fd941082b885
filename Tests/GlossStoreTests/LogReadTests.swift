import Foundation
import GlossModel
import GlossTestSupport
import Testing

@testable import GlossStore
@testable import GlossStoreSQLite

/// The cheap reads that listings make: which documents each revision touched, without the
/// deltas' bytes, revision rows read by column position (`gloss log`), and the count of live
/// documents (every list of corpora).
@Suite(.hangGuard, .timeLimit(.minutes(10)))
struct LogReadTests {
    @Test func deltaDocumentsNameWhatTheDeltasBelongTo() throws {
        let dir = try TemporaryDirectory("log-reads")
        defer { dir.remove() }
        let store = try CorpusStore.sqlite(path: dir.path("c.sqlite"))
        var m = Minter("alice", replica: 3)
        #expect(try store.append(m.documents(base: 0, [("a", SampleTexts.news), ("b", SampleTexts.short)])).revision == 1)
        #expect(try store.append(m.changeset(base: 1, [.create(m.span("b", 0, 3, "X")), .create(m.span("a", 1, 4, "Y"))])).revision == 2)
        #expect(try store.append(m.changeset(base: 2, [.setSchema(.open)])).revision == 3)
        var third = m.changeset(base: 3, [.create(m.span("a", 2, 5, "Z"))])
        third.message = "third"
        #expect(try store.append(third).revision == 4)

        let (cheap, fromBlobs) = try store.backend.read { rows in
            (try rows.deltaDocuments(after: 1, through: 4), try rows.deltas(after: 1, through: 4).map { ($0.revision, $0.document) })
        }
        #expect(cheap.map(\.revision) == fromBlobs.map(\.0))
        #expect(cheap.map(\.document) == fromBlobs.map(\.1))
        #expect(cheap.map(\.revision) == [2, 2, 3, 4])
        #expect(Set(cheap.filter { $0.revision == 2 }.compactMap(\.document)) == ["a", "b"])
        #expect(cheap.first { $0.revision == 3 }?.document == nil)

        let summaries = try store.revisionSummaries(after: 0, through: 4)
        #expect(summaries.map(\.revision.number) == [4, 3, 2, 1])
        #expect(summaries.map(\.documents) == [["a"], [], ["a", "b"], ["a", "b"]])
        #expect(summaries.first?.revision.message == "third")
        #expect(summaries.first?.revision.author == "alice")
        #expect(summaries.first?.revision.replica == ReplicaID(3))
        #expect(try store.revisions(after: 3, through: 4).first?.opCount == 1)
    }

    @Test func theLiveDocumentCountLeavesOutRemovedDocuments() throws {
        let dir = try TemporaryDirectory("live-count")
        defer { dir.remove() }
        let store = try CorpusStore.sqlite(path: dir.path("c.sqlite"))
        var m = Minter("alice", replica: 3)
        #expect(try store.liveDocumentCount() == 0)
        #expect(try store.append(m.documents(base: 0, [("a", SampleTexts.news), ("b", SampleTexts.short), ("c", "x")])).revision == 1)
        #expect(try store.liveDocumentCount() == 3)
        #expect(try store.append(m.changeset(base: 1, [.removeDocument("b")])).revision == 2)
        #expect(try store.liveDocumentCount() == 2)
        #expect(try store.liveDocumentCount() == (try store.documents().filter(\.isLive).count))
        #expect(try store.documents().count == 3)
    }
}
