import Foundation
import GlossModel
import GlossServer
import GlossStore
@testable import GlossStoreSQLite
import GlossTestSupport
import Testing

/// The data directory at rest is the store: a large push's WAL is given back once the corpus
/// goes idle, and a shutdown leaves no WAL at all.
@Suite(.serialized, .hangGuard, .timeLimit(.minutes(10)))
struct DiskHygieneTests {
    static func walSize(_ server: TestServer, _ corpus: String) -> Int {
        let wal = server.directory.url.appendingPathComponent(DataDirectory.corpusFile(corpus)).path + "-wal"
        return (try? FileManager.default.attributesOfItem(atPath: wal)[.size] as? Int) ?? 0
    }

    @Test func aLargePushesJournalIsGivenBackWhenIdleAndAtShutdown() async throws {
        let corpus = "big"
        let (server, admin) = try await ClientSyncTests.startCorpus(corpus, documents: [("d", SampleTexts.news)])
        defer { Task { await server.stop() } }
        // One changeset of 150,000 spans: its transaction grows the WAL well past the limit.
        var m = Minter("admin", replica: 5)
        let ops = (0..<150_000).map { i in Op.create(m.span("d", i % 50, i % 50 + 1 + i % 7, "X")) }
        let answer = try await ClientSyncTests.push(admin, corpus: corpus, m.changeset(base: 1, ops))
        #expect(answer.acceptedRevision == 2)
        // The committer, idle again, checkpoints and truncates; wait for it (no wall-clock bound
        // on how soon, only on how long a failing test waits).
        var size = Self.walSize(server, corpus)
        for _ in 0..<600 where size > SQLiteCorpusBackend.journalSizeLimit {
            try await Task.sleep(for: .milliseconds(100))
            size = Self.walSize(server, corpus)
        }
        #expect(size <= SQLiteCorpusBackend.journalSizeLimit, "the WAL kept \(size) bytes after the push")
        // A small push after it, then a shutdown: no WAL left behind.
        let small = try await ClientSyncTests.push(admin, corpus: corpus, m.changeset(base: 2, [.create(m.span("d", 0, 3, "Y"))]))
        #expect(small.acceptedRevision == 3)
        await server.server.shutdown()
        #expect(Self.walSize(server, corpus) == 0)
        let accounts = server.directory.url.appendingPathComponent(DataDirectory.accountsFile).path + "-wal"
        #expect(((try? FileManager.default.attributesOfItem(atPath: accounts)[.size] as? Int) ?? 0) == 0)
        // Everything acknowledged is in the store.
        #expect(try ClientSyncTests.store(server, corpus).headRevision() == 3)
    }
}
