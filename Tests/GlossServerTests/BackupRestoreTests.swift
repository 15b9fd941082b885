import Foundation
import GRDB
import GlossClient
import GlossModel
import GlossServer
import GlossStore
@testable import GlossStoreSQLite
import GlossTestSupport
import GlossWire
import Testing

/// `glossd backup` and `glossd restore`'s engine (``DataDirectory``) and the data directory lock.
@Suite(.serialized, .hangGuard, .timeLimit(.minutes(10)))
struct BackupRestoreTests {
    /// One acknowledged push: its changeset and the revision the server said it became.
    struct Ack: Sendable {
        var changeset: ChangesetID
        var corpus: String
        var revision: Int
        /// The span the push created.
        var annotation: AnnotationID
    }

    /// Pushes span creations from `pushers` connections in parallel until told to stop, and
    /// records every acknowledgement.
    final class Load: @unchecked Sendable {
        private let lock = NSLock()
        private var _acks: [Ack] = []
        private var _failures: [String] = []
        private var _stopped = false

        var acks: [Ack] { lock.withLock { _acks } }
        var failures: [String] { lock.withLock { _failures } }
        var stopped: Bool { lock.withLock { _stopped } }
        func stop() { lock.withLock { _stopped = true } }
        func record(_ ack: Ack) { lock.withLock { _acks.append(ack) } }
        func fail(_ why: String) { lock.withLock { _failures.append(why) } }
    }

    /// A server with corpora whose first revision adds a document each.
    static func startServer(corpora: [String]) async throws -> (TestServer, ClientConnection) {
        let server = try await TestServer.start()
        let admin = try await server.connect()
        for corpus in corpora {
            try await SyncOverTLSTests.createCorpus(admin, corpus)
            let cs = Minter("admin", replica: 1).documents(base: 0, [("d", try SharedData.federation())])
            #expect(try await SyncOverTLSTests.push(admin, corpus: corpus, cs).acceptedRevision == 1)
        }
        return (server, admin)
    }

    /// Runs blocking work off the cooperative pool, so the pushers keep their threads.
    static func offPool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try work() }) }.start()
        }
    }

    static func pushers(_ count: Int, server: TestServer, corpora: [String], load: Load) async throws -> [Task<Void, Never>] {
        var tasks: [Task<Void, Never>] = []
        for index in 0..<count {
            let connection = try await server.connect()
            let corpus = corpora[index % corpora.count]
            tasks.append(
                Task {
                    var minter = Minter("admin", replica: UInt64(100 + index))
                    var pushed = 0
                    while !load.stopped {
                        let start = (pushed * 13 + index) % 6000
                        let span = minter.span("d", start, start + 4, "PER")
                        let cs = minter.changeset(base: 1, [.create(span)])
                        do {
                            let answer = try await SyncOverTLSTests.push(connection, corpus: corpus, cs)
                            guard case .acceptedRevision(let revision)? = answer.outcome else {
                                load.fail("push \(pushed) of pusher \(index): \(answer)")
                                return
                            }
                            load.record(
                                Ack(changeset: cs.id, corpus: corpus, revision: Int(revision), annotation: span.id))
                        } catch {
                            load.fail("push \(pushed) of pusher \(index): \(error)")
                            return
                        }
                        pushed += 1
                    }
                    connection.close()
                })
        }
        return tasks
    }

    // MARK: Under load

    @Test func aBackupUnderLoadKeepsEveryAcknowledgedRevisionAndRestores() async throws {
        let corpora = ["load", "other"]
        let (server, admin) = try await Self.startServer(corpora: corpora)
        let scratch = try TemporaryDirectory("backup")
        defer {
            scratch.remove()
            Task { await server.stop() }
        }
        let load = Load()
        let tasks = try await Self.pushers(4, server: server, corpora: corpora, load: load)
        // Let the load build up before the backup starts.
        while load.acks.count < 40 && load.failures.isEmpty { try await Task.sleep(for: .milliseconds(5)) }
        let before = load.acks
        let destination = scratch.url.appendingPathComponent("backup")
        let data = server.directory.url
        let manifest = try await Self.offPool { try DataDirectory.backup(data: data, to: destination) }
        // The server keeps serving: more pushes are acknowledged after the backup too.
        let afterBackup = load.acks.count
        while load.acks.count < afterBackup + 20 && load.failures.isEmpty { try await Task.sleep(for: .milliseconds(5)) }
        load.stop()
        for task in tasks { await task.value }
        #expect(load.failures.isEmpty, "\(load.failures)")
        #expect(load.acks.count >= afterBackup + 20)
        var late = Minter("admin", replica: 999)
        let next = late.changeset(base: 1, [.create(late.span("d", 1, 3, "LOC"))])
        #expect(try await SyncOverTLSTests.push(admin, corpus: "load", next).acceptedRevision > 0)

        // The manifest names every corpus, at a head no older than what was acknowledged.
        #expect(manifest.corpora.map(\.name) == corpora)
        for corpus in manifest.corpora {
            let acknowledged = before.filter { $0.corpus == corpus.name }.map(\.revision).max() ?? 1
            #expect(corpus.headRevision >= acknowledged, "\(corpus.name)")
        }
        #expect(manifest.files.contains("tls/cert.pem") && manifest.files.contains("tls/key.pem"))
        #expect(manifest.files.contains("admin.token"))
        #expect(manifest.startedAt <= manifest.completedAt)
        // The same layout as a data directory, and nothing else: no -wal or -shm left beside a copy.
        var written: Set<String> = []
        let walker = FileManager.default.enumerator(atPath: destination.path)
        while let item = walker?.nextObject() as? String {
            var isDirectory: ObjCBool = false
            FileManager.default.fileExists(atPath: destination.appendingPathComponent(item).path, isDirectory: &isDirectory)
            if !isDirectory.boolValue { written.insert(item) }
        }
        let listed = [manifest.accounts, BackupManifest.fileName] + manifest.corpora.map(\.file) + manifest.files
        #expect(written == Set(listed))
        #expect(manifest.corpora.map(\.file) == corpora.map { "corpora/\($0).sqlite" })

        // Restore into a fresh directory and look at it as a server would.
        let restored = scratch.url.appendingPathComponent("restored")
        let result = try await Self.offPool { try DataDirectory.restore(from: destination, to: restored) }
        #expect(result.previous == nil)
        #expect(result.report.isClean, "\(result.report.summary)")
        #expect(try DataDirectory.check(data: restored).isClean)
        for corpus in corpora {
            let store = try CorpusStore.sqlite(path: restored.appendingPathComponent("corpora/\(corpus).sqlite").path)
            let head = try store.headRevision()
            #expect(head == manifest.corpora.first { $0.name == corpus }?.headRevision)
            #expect(try store.revisions().map(\.number) == Array(1...head), "revisions of \(corpus) are contiguous")
            for ack in before where ack.corpus == corpus {
                #expect(try store.revisionNumber(of: ack.changeset) == ack.revision, "acknowledged before the backup")
            }
            // Each acknowledged span is in the restored head as well.
            let live = Set(try store.headAnnotations(of: "d").map(\.id))
            for ack in before where ack.corpus == corpus {
                #expect(live.contains(ack.annotation), "span of revision \(ack.revision)")
            }
        }
        let accounts = try AccountStore(path: restored.appendingPathComponent("server.sqlite").path)
        #expect(try accounts.corpora().map(\.name) == corpora)
        #expect(try accounts.authenticate(token: server.adminToken)?.name == "admin")
        // The identity came along: clients' pinned fingerprints stay valid.
        let (identity, created) = try ServerIdentity.loadOrCreate(directory: restored)
        #expect(!created)
        #expect(identity.fingerprint == server.fingerprint)
    }

    // MARK: In-process copies

    @Test func storesCopyThemselvesWhileOpen() async throws {
        let scratch = try TemporaryDirectory("backup")
        defer { scratch.remove() }
        let store = try CorpusStore.sqlite(path: scratch.path("c.sqlite"))
        var m = Minter("alice", replica: 3)
        #expect(try store.append(m.documents(base: 0, [("d", SampleTexts.news)])) == .accepted(revision: 1))
        let span = m.span("d", 0, 6, "PER")
        #expect(try store.append(m.changeset(base: 1, [.create(span)])) == .accepted(revision: 2))
        try store.backup(to: scratch.path("copy.sqlite"))
        #expect(throws: StoreError.self) { try store.backup(to: scratch.path("copy.sqlite")) }
        let copy = try CorpusStore.sqlite(path: scratch.path("copy.sqlite"))
        #expect(try copy.headRevision() == 2)
        #expect(try copy.headAnnotations(of: "d") == [span])
        #expect(try copy.checkIntegrity(corpus: "c").isClean)

        let accounts = try AccountStore(path: scratch.path("server.sqlite"))
        try accounts.addUser("alice")
        try accounts.createCorpus(name: "c", owner: "alice")
        try accounts.backup(to: scratch.path("server-copy.sqlite"))
        let copied = try AccountStore(path: scratch.path("server-copy.sqlite"))
        #expect(try copied.users().map(\.name) == ["alice"])
        #expect(try copied.role(of: "alice", in: "c") == .owner)
    }

    // MARK: Refusals

    /// A stopped server's data directory with one corpus at revision 2.
    static func dataDirectory(in scratch: TemporaryDirectory, _ name: String = "data") throws -> URL {
        let data = scratch.url.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        let accounts = try AccountStore(path: data.appendingPathComponent("server.sqlite").path)
        try accounts.addUser("alice")
        try accounts.createCorpus(name: "c", owner: "alice")
        _ = try CorpusRegistry(directory: data)
        let store = try CorpusStore.sqlite(path: data.appendingPathComponent("corpora/c.sqlite").path)
        var m = Minter("alice", replica: 3)
        _ = try store.append(m.documents(base: 0, [("d", SampleTexts.news)]))
        _ = try store.append(m.changeset(base: 1, [.create(m.span("d", 0, 6, "PER"))]))
        return data
    }

    static func expectError(
        _ code: DataDirectoryError.Code, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void
    ) {
        do {
            try body()
            Issue.record("expected \(code), nothing was thrown", sourceLocation: sourceLocation)
        } catch let error as DataDirectoryError {
            #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
        } catch {
            Issue.record("expected \(code), got \(error)", sourceLocation: sourceLocation)
        }
    }

    @Test func backupRefusesADestinationThatIsNotEmpty() async throws {
        let scratch = try TemporaryDirectory("backup")
        defer { scratch.remove() }
        let data = try Self.dataDirectory(in: scratch)
        let destination = scratch.url.appendingPathComponent("b")
        try FileManager.default.createDirectory(at: destination, withIntermediateDirectories: true)
        let keep = destination.appendingPathComponent("keep.txt")
        try Data("mine".utf8).write(to: keep)
        Self.expectError(.notEmpty) { try DataDirectory.backup(data: data, to: destination) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: destination.path) == ["keep.txt"])
        Self.expectError(.notADataDirectory) {
            try DataDirectory.backup(data: scratch.url.appendingPathComponent("nothing"), to: scratch.url.appendingPathComponent("n"))
        }
        // An empty destination is fine.
        let empty = scratch.url.appendingPathComponent("empty")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        #expect(try DataDirectory.backup(data: data, to: empty).corpora.map(\.headRevision) == [2])
    }

    @Test func aDamagedSourceFailsItsBackupLoudlyAndLeavesNoManifest() async throws {
        let scratch = try TemporaryDirectory("backup")
        defer { scratch.remove() }
        let data = try Self.dataDirectory(in: scratch)
        let queue = try DatabaseQueue(path: data.appendingPathComponent("corpora/c.sqlite").path)
        try await queue.write { db in try db.execute(sql: "UPDATE documents SET chain_len = chain_len + 5") }
        try queue.close()
        let destination = scratch.url.appendingPathComponent("b")
        do {
            try DataDirectory.backup(data: data, to: destination)
            Issue.record("a damaged source was backed up without complaint")
        } catch let error as DataDirectoryError {
            #expect(error.code == .integrity)
            #expect(error.report?.problems.first?.kind == .chainBookkeeping)
        }
        #expect(FileManager.default.fileExists(atPath: destination.appendingPathComponent("corpora/c.sqlite").path))
        #expect(!FileManager.default.fileExists(atPath: destination.appendingPathComponent(BackupManifest.fileName).path))
        Self.expectError(.invalidManifest) {
            _ = try DataDirectory.restore(from: destination, to: scratch.url.appendingPathComponent("r"))
        }
    }

    @Test func restoreRefusesANonEmptyDirectoryUnlessForcedAndKeepsTheOldOne() async throws {
        let scratch = try TemporaryDirectory("backup")
        defer { scratch.remove() }
        let data = try Self.dataDirectory(in: scratch)
        let backup = scratch.url.appendingPathComponent("b")
        try DataDirectory.backup(data: data, to: backup)
        // The data directory moves on after the backup.
        let live = try CorpusStore.sqlite(path: data.appendingPathComponent("corpora/c.sqlite").path)
        var m = Minter("alice", replica: 4)
        _ = try live.append(m.changeset(base: 2, [.create(m.span("d", 7, 9, "LOC"))]))
        let liveHead = try live.headRevision()

        Self.expectError(.notEmpty) { _ = try DataDirectory.restore(from: backup, to: data) }
        #expect(try live.headRevision() == liveHead)

        let now = Date(timeIntervalSince1970: 1_750_000_000)
        let result = try DataDirectory.restore(from: backup, to: data, force: true, now: now)
        let previous = try #require(result.previous)
        // 1_750_000_000 is 2025-06-15 15:06:40 UTC.
        #expect(previous.lastPathComponent == "data.before-restore-20250615T150640Z")
        let old = try CorpusStore.sqlite(path: previous.appendingPathComponent("corpora/c.sqlite").path)
        #expect(try old.headRevision() == liveHead)
        let restored = try CorpusStore.sqlite(path: data.appendingPathComponent("corpora/c.sqlite").path)
        #expect(try restored.headRevision() == 2)
        #expect(!FileManager.default.fileExists(atPath: data.path + ".restore-tmp"))
    }

    @Test func restoreRefusesWhileAServerHoldsTheDirectory() async throws {
        let scratch = try TemporaryDirectory("backup")
        defer { scratch.remove() }
        let data = try Self.dataDirectory(in: scratch)
        let backup = scratch.url.appendingPathComponent("b")
        try DataDirectory.backup(data: data, to: backup)
        let lock = try DataDirectoryLock(directory: data)
        Self.expectError(.locked) { _ = try DataDirectory.restore(from: backup, to: data, force: true) }
        #expect(!FileManager.default.fileExists(atPath: data.path + ".restore-tmp"))
        lock.release()
        // A child forked elsewhere in the test process may share the lock's file description
        // until its exec (see the lock test): wait for the lock to be free, as an admin would.
        for _ in 0..<100 where DataDirectoryLock.isHeld(in: data) { try await Task.sleep(for: .milliseconds(50)) }
        #expect(try DataDirectory.restore(from: backup, to: data, force: true).previous != nil)
    }

    @Test func restoreChecksTheBackupBeforeTouchingTheDirectory() async throws {
        let scratch = try TemporaryDirectory("backup")
        defer { scratch.remove() }
        let data = try Self.dataDirectory(in: scratch)
        let backup = scratch.url.appendingPathComponent("b")
        try DataDirectory.backup(data: data, to: backup)
        // A bit flipped in the backup after it was written.
        let queue = try DatabaseQueue(path: backup.appendingPathComponent("corpora/c.sqlite").path)
        try await queue.write { db in
            let data = try #require(try Data.fetchOne(db, sql: "SELECT data FROM deltas WHERE rev = 2"))
            var bytes = [UInt8](data)
            bytes[0] |= 0b110
            try db.execute(sql: "UPDATE deltas SET data = ? WHERE rev = 2", arguments: [Data(bytes)])
        }
        try queue.close()
        let target = scratch.url.appendingPathComponent("fresh")
        do {
            _ = try DataDirectory.restore(from: backup, to: target)
            Issue.record("a damaged backup was restored")
        } catch let error as DataDirectoryError {
            #expect(error.code == .integrity)
            let problem = try #require(error.report?.problems.first)
            #expect(problem.kind == .blobCorrupt && problem.revision == 2 && problem.document == "d")
        }
        #expect(!FileManager.default.fileExists(atPath: target.path))
        #expect(!FileManager.default.fileExists(atPath: target.path + ".restore-tmp"))

        // A manifest whose head does not match the files is refused too.
        var manifest = try BackupManifest.read(from: backup)
        try FileManager.default.removeItem(at: backup.appendingPathComponent("corpora/c.sqlite"))
        try DataDirectory.backup(data: data, to: scratch.url.appendingPathComponent("b2"))
        try FileManager.default.copyItem(
            at: scratch.url.appendingPathComponent("b2/corpora/c.sqlite"), to: backup.appendingPathComponent("corpora/c.sqlite"))
        manifest.corpora[0].headRevision += 1
        try manifest.write(to: backup)
        Self.expectError(.integrity) { _ = try DataDirectory.restore(from: backup, to: target) }
        // And one that names a path outside the backup.
        manifest.files = ["../escape"]
        try manifest.write(to: backup)
        Self.expectError(.invalidManifest) { _ = try DataDirectory.restore(from: backup, to: target) }
        #expect(!FileManager.default.fileExists(atPath: target.path))
    }

    // MARK: Lock

    @Test func theDataDirectoryLockIsExclusiveAndReleasedWithItsHolder() async throws {
        let scratch = try TemporaryDirectory("lock")
        defer { scratch.remove() }
        #expect(!DataDirectoryLock.isHeld(in: scratch.url))
        var first: DataDirectoryLock? = try DataDirectoryLock(directory: scratch.url)
        #expect(DataDirectoryLock.isHeld(in: scratch.url))
        #expect(DataDirectoryLock.holder(of: scratch.url) == ProcessInfo.processInfo.processIdentifier)
        do {
            _ = try DataDirectoryLock(directory: scratch.url)
            Issue.record("a second lock was granted")
        } catch let error as DataDirectoryError {
            #expect(error.code == .locked)
            #expect(error.message.contains("\(ProcessInfo.processInfo.processIdentifier)"))
        }
        first = nil  // released when its holder goes away
        // A flock belongs to the open file description, which a child forked by another test at
        // that moment shares until its exec closes it (O_CLOEXEC): give such a child its moment.
        var held = DataDirectoryLock.isHeld(in: scratch.url)
        for _ in 0..<100 where held {
            try await Task.sleep(for: .milliseconds(50))
            held = DataDirectoryLock.isHeld(in: scratch.url)
        }
        #expect(!held)
        // isHeld's own probe may have been caught by a fork in the same way.
        var second: DataDirectoryLock?
        for _ in 0..<100 where second == nil {
            second = try? DataDirectoryLock(directory: scratch.url)
            if second == nil { try await Task.sleep(for: .milliseconds(50)) }
        }
        let taken = try #require(second, "the lock was never free again")
        taken.release()
        taken.release()
        _ = first
    }
}

/// The built `glossd` driving the same through its commands. Enabled once `check`, `backup`
/// and `restore` are registered in `Glossd.subcommands`.
@Suite(.serialized, .hangGuard, .timeLimit(.minutes(10)))
struct BackupCommandProcessTests {
    static func glossd(_ args: [String], in dir: URL) async throws -> GlossProcesses.Result {
        try await GlossProcesses.glossd(args, in: dir)
    }

    @Test func checkReportsCleanAndDamagedDirectoriesWithDistinctStatuses() async throws {
        let scratch = try TemporaryDirectory("check-cli")
        defer { scratch.remove() }
        let data = try BackupRestoreTests.dataDirectory(in: scratch)
        let clean = try await Self.glossd(["check", "--data", data.path], in: scratch.url)
        #expect(clean.status == 0, "\(clean.err)")
        #expect(clean.out.contains("no problems found"))
        let json = try await Self.glossd(["check", "--data", data.path, "--json"], in: scratch.url)
        let report = try JSONDecoder().decode(IntegrityReport.self, from: Data(json.out.utf8))
        #expect(report.isClean && report.headRevisions["c"] == 2)

        let queue = try DatabaseQueue(path: data.appendingPathComponent("corpora/c.sqlite").path)
        try await queue.write { db in try db.execute(sql: "DELETE FROM revisions WHERE rev = 1") }
        try queue.close()
        let damaged = try await Self.glossd(["check", "--data", data.path, "--corpus", "c", "--json"], in: scratch.url)
        #expect(damaged.status == 7)
        let found = try JSONDecoder().decode(IntegrityReport.self, from: Data(damaged.out.utf8))
        #expect(found.problems.contains { $0.kind == .revisionGap && $0.revision == 1 })
        let missing = try await Self.glossd(["check", "--data", scratch.url.appendingPathComponent("none").path], in: scratch.url)
        #expect(missing.status == 1)
    }

    @Test func backupWhileServingThenRestoreIntoAFreshDirectory() async throws {
        let scratch = try TemporaryDirectory("backup-cli")
        defer { scratch.remove() }
        let data = scratch.url.appendingPathComponent("data")
        let daemon = try await GlossDaemon(data: data)
        let pin = try #require(CertificateFingerprint(parsing: daemon.pin))
        let admin = try await ClientConnection.connect(
            .init(host: "127.0.0.1", port: daemon.port, trust: .pinned(pin), token: daemon.adminToken))
        try await SyncOverTLSTests.createCorpus(admin, "c")
        var m = Minter("admin", replica: 7)
        var acknowledged = [
            try await SyncOverTLSTests.push(admin, corpus: "c", m.documents(base: 0, [("d", SampleTexts.news)]))
                .acceptedRevision
        ]
        for i in 0..<5 {
            let cs = m.changeset(base: 1, [.create(m.span("d", i, i + 3, "PER"))])
            acknowledged.append(try await SyncOverTLSTests.push(admin, corpus: "c", cs).acceptedRevision)
        }
        #expect(acknowledged == Array(1...6))

        let backup = scratch.url.appendingPathComponent("b")
        let made = try await Self.glossd(["backup", backup.path, "--data", data.path], in: scratch.url)
        #expect(made.status == 0, "\(made.err)")
        let manifest = try BackupManifest.read(from: backup)
        #expect(manifest.corpora.map(\.headRevision) == [Int(acknowledged.last!)])
        let again = try await Self.glossd(["backup", backup.path, "--data", data.path], in: scratch.url)
        #expect(again.status == 1)

        // Refused while the server holds the directory, even with --force.
        let refused = try await Self.glossd(["restore", backup.path, "--data", data.path, "--force"], in: scratch.url)
        #expect(refused.status == 1)
        #expect(refused.err.contains("in use"), "\(refused.err)")
        admin.close()
        #expect(await daemon.terminate() == 0)

        let fresh = scratch.url.appendingPathComponent("fresh")
        let restored = try await Self.glossd(["restore", backup.path, "--data", fresh.path], in: scratch.url)
        #expect(restored.status == 0, "\(restored.err)")
        #expect(try await Self.glossd(["check", "--data", fresh.path], in: scratch.url).status == 0)
        let notEmpty = try await Self.glossd(["restore", backup.path, "--data", fresh.path], in: scratch.url)
        #expect(notEmpty.status == 1)
        let forced = try await Self.glossd(["restore", backup.path, "--data", fresh.path, "--force"], in: scratch.url)
        #expect(forced.status == 0, "\(forced.err)")
        #expect(forced.out.contains("fresh.before-restore-"))
        // The restored directory serves, with the same identity.
        let served = try await GlossDaemon(data: fresh)
        #expect(served.pin == daemon.pin)
        #expect(await served.terminate() == 0)
    }

    @Test func aDamagedBackupIsRefusedWithTheDamageStatus() async throws {
        let scratch = try TemporaryDirectory("restore-cli")
        defer { scratch.remove() }
        let data = try BackupRestoreTests.dataDirectory(in: scratch)
        let backup = scratch.url.appendingPathComponent("b")
        #expect(try await Self.glossd(["backup", backup.path, "--data", data.path], in: scratch.url).status == 0)
        let queue = try DatabaseQueue(path: backup.appendingPathComponent("corpora/c.sqlite").path)
        try await queue.write { db in try db.execute(sql: "UPDATE documents SET length = length + 1") }
        try queue.close()
        let refused = try await Self.glossd(
            ["restore", backup.path, "--data", scratch.url.appendingPathComponent("fresh").path], in: scratch.url)
        #expect(refused.status == 7)
        #expect(refused.err.contains("document-mismatch"))
    }
}
