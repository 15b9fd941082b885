import GlossBenchCorpus
import Foundation
import GlossModel
import GlossServer
import GlossStore
import GlossStorePostgres
import GlossWire
import NIOCore
import Synchronization

// Baselines measured in the same run, on the same disk: raw durable SQLite commits and
// fdatasync, and the store and group committer driven in process (no TLS, no protocol).

// MARK: - Raw SQLite, through the system library the store links

/// The few sqlite3 C functions the baseline needs, looked up in the libsqlite3 that GRDB
/// already loaded (this target does not depend on GRDB itself).
private struct SQLiteC {
    typealias Open = @convention(c) (UnsafePointer<CChar>, UnsafeMutablePointer<OpaquePointer?>, Int32, UnsafePointer<CChar>?) -> Int32
    typealias Exec = @convention(c) (OpaquePointer?, UnsafePointer<CChar>, OpaquePointer?, OpaquePointer?, UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32
    typealias Close = @convention(c) (OpaquePointer?) -> Int32
    typealias Version = @convention(c) () -> UnsafePointer<CChar>

    let open: Open
    let exec: Exec
    let close: Close
    let version: String

    init() throws {
        guard let lib = dlopen("libsqlite3.so.0", RTLD_NOW) ?? dlopen(nil, RTLD_NOW) else {
            throw BenchError("cannot load libsqlite3")
        }
        func sym<T>(_ name: String, _: T.Type) throws -> T {
            guard let p = dlsym(lib, name) else { throw BenchError("libsqlite3 has no \(name)") }
            return unsafeBitCast(p, to: T.self)
        }
        open = try sym("sqlite3_open_v2", Open.self)
        exec = try sym("sqlite3_exec", Exec.self)
        close = try sym("sqlite3_close", Close.self)
        version = String(cString: try sym("sqlite3_libversion", Version.self)())
    }
}

struct RawDurability: Codable {
    var sqliteVersion: String
    var commits: Int
    /// One-row INSERT transactions, WAL, synchronous = FULL (one fdatasync of the WAL each).
    var commitsPerSecond: Double
    var commitMedianMs: Double
    /// 4 KiB write + fdatasync on a file of its own.
    var fdatasyncsPerSecond: Double
}

func measureRawDurability(directory: String, commits: Int) throws -> RawDurability {
    let c = try SQLiteC()
    let path = directory + "/raw-baseline.sqlite"
    for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    var db: OpaquePointer?
    guard c.open(path, &db, 0x02 | 0x04, nil) == 0 else { throw BenchError("sqlite3_open_v2 failed") }  // READWRITE | CREATE
    defer {
        _ = c.close(db)
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    }
    func exec(_ sql: String) throws {
        guard c.exec(db, sql, nil, nil, nil) == 0 else { throw BenchError("sqlite3_exec failed: \(sql)") }
    }
    try exec("PRAGMA journal_mode = WAL")
    try exec("PRAGMA synchronous = FULL")
    try exec("CREATE TABLE commits(id INTEGER PRIMARY KEY, rev INTEGER NOT NULL, body BLOB NOT NULL)")
    let body = "x'" + String(repeating: "ab", count: 120) + "'"
    for i in 0..<20 { try exec("INSERT INTO commits(rev, body) VALUES (\(i), \(body))") }  // grow the WAL first
    let clock = ContinuousClock()
    var latencies: [Double] = []
    let start = clock.now
    for i in 0..<commits {
        let t0 = clock.now
        try exec("INSERT INTO commits(rev, body) VALUES (\(i), \(body))")
        latencies.append(seconds(clock.now - t0) * 1000)
    }
    let commitRate = rate(commits, seconds(clock.now - start))

    let syncPath = directory + "/raw-fdatasync.bin"
    let fd = open(syncPath, O_RDWR | O_CREAT | O_TRUNC, 0o600)
    guard fd >= 0 else { throw BenchError("cannot create \(syncPath)") }
    defer {
        close(fd)
        unlink(syncPath)
    }
    let page = [UInt8](repeating: 7, count: 4096)
    let syncStart = clock.now
    for i in 0..<commits {
        _ = page.withUnsafeBytes { pwrite(fd, $0.baseAddress, 4096, off_t((i % 256) * 4096)) }
        guard fdatasync(fd) == 0 else { throw BenchError("fdatasync failed") }
    }
    return RawDurability(
        sqliteVersion: c.version, commits: commits, commitsPerSecond: commitRate, commitMedianMs: median(latencies),
        fdatasyncsPerSecond: rate(commits, seconds(clock.now - syncStart)))
}

// MARK: - The store and the committer, in process

struct BatchAppend: Codable {
    var batchSize: Int
    var changesets: Int
    var changesetsPerSecond: Double
    var batchMedianMs: Double
    /// PostgreSQL only: statements sent per changeset, and the share of the time spent waiting
    /// for their answers (the rest is the store's own work).
    var statementsPerChangeset: Double?
    var waitingShare: Double?
}

/// `CorpusStore.append(batch:)` of the push workload's changesets, one durable transaction per
/// batch, on the server's own store (the server idle).
func measureBatchAppend(
    store: CorpusStore, seed: UInt64, sizes: [(size: Int, changesets: Int)], docs: [(id: DocumentID, length: Int)],
    statements: PostgresStatementCounter? = nil
) throws -> [BatchAppend] {
    let clock = ContinuousClock()
    var out: [BatchAppend] = []
    for (index, (size, total)) in sizes.enumerated() {
        var gen = SmallChangesets(user: Setup.client(index), seed: streamSeed(seed, .batch, index), documents: docs)
        var head = try store.headRevision()
        var done = 0
        var latencies: [Double] = []
        let (statements0, waited0) = (statements?.value ?? 0, statements?.waitedSeconds ?? 0)
        let start = clock.now
        while done < total {
            let n = min(size, total - done)
            let batch = (0..<n).map { _ in gen.next(base: head) }
            let t0 = clock.now
            let outcomes = try store.append(batch: batch)
            latencies.append(seconds(clock.now - t0) * 1000)
            try Build.check(outcomes, first: head + 1, what: "append(batch:) of \(size)")
            head += n
            done += n
        }
        let elapsed = seconds(clock.now - start)
        out.append(
            BatchAppend(
                batchSize: size, changesets: total, changesetsPerSecond: rate(total, elapsed),
                batchMedianMs: median(latencies),
                statementsPerChangeset: statements.map { Double($0.value - statements0) / Double(total) },
                waitingShare: statements.map { ($0.waitedSeconds - waited0) / elapsed }))
    }
    return out
}

struct InProcessPush: Codable {
    var path: String
    var tasks: Int
    var perTask: Int
    var accepted: Int
    var seconds: Double
    var changesetsPerSecond: Double
    var latency: Latency
    var syncCalls: Int?
    var cpu: CPUTime
}

/// A sink that counts what a request handler streams and drops it.
final class CountingSink: ResponseSink {
    private let counts = Mutex((items: 0, bytes: 0))
    func stream(_ item: ByteBuffer) async throws { counts.withLock { $0.items += 1; $0.bytes += item.readableBytes } }
    func interim(_ response: Gloss_V1_Response) async throws {}
    var items: Int { counts.withLock { $0.items } }
    var bytes: Int { counts.withLock { $0.bytes } }
}

/// `tasks` concurrent pushers in this process, each awaiting its acknowledgement before the
/// next: through the corpus's `GroupCommitter` alone, or through `RequestRouter.handle` (which
/// adds the account look-ups, the protobuf decode and the authorisation of a real push).
func measureInProcessPushes(
    server: GlossServer, corpus: String, seed: UInt64, viaRouter: Bool, tasks: Int, perTask: Int,
    docs: [(id: DocumentID, length: Int)], syncCounter: String?
) async throws -> InProcessPush {
    let handle = try server.router.corpora.handle(for: corpus)
    let head = try handle.store.headRevision()
    let clock = ContinuousClock()
    let perf = syncCounter.flatMap { PerfSession.countSyncs(output: $0) }
    let cpu0 = CPUTime.now()
    let start = clock.now
    let results = try await withThrowingTaskGroup(of: ([Double], Int).self) { group in
        for i in 0..<tasks {
            let user = Setup.client(i)
            let router = server.router
            group.addTask {
                var gen = SmallChangesets(user: user, seed: streamSeed(seed, viaRouter ? .router : .committer, i), documents: docs)
                var base = head
                var latencies: [Double] = []
                var accepted = 0
                for _ in 0..<perTask {
                    let changeset = gen.next(base: base)
                    let t0 = clock.now
                    let revision: Int?
                    if viaRouter {
                        let response = try await router.handle(
                            pushRequest(corpus, changeset), user: user, sink: CountingSink())
                        if case .acceptedRevision(let r)? = response.push.outcome { revision = Int(r) } else { revision = nil }
                    } else {
                        revision = try await handle.committer.append(changeset).revision
                    }
                    latencies.append(seconds(clock.now - t0) * 1000)
                    guard let revision else { throw BenchError("an in-process push was not accepted") }
                    base = max(base, revision)
                    accepted += 1
                }
                return (latencies, accepted)
            }
        }
        var all: [([Double], Int)] = []
        for try await r in group { all.append(r) }
        return all
    }
    let elapsed = seconds(clock.now - start)
    let cpu = CPUTime.now() - cpu0
    perf?.stop()
    let accepted = results.reduce(0) { $0 + $1.1 }
    return InProcessPush(
        path: viaRouter ? "RequestRouter.handle" : "GroupCommitter.append", tasks: tasks, perTask: perTask,
        accepted: accepted, seconds: elapsed, changesetsPerSecond: rate(accepted, elapsed),
        latency: Latency(results.flatMap(\.0)), syncCalls: perf?.syncCount(), cpu: cpu)
}

// MARK: - Where one small push's server CPU goes

/// The CPU steps of a push redone outside the server on the push workload's changesets, per
/// changeset, in microseconds (the storage benchmark's import breakdown, for small changesets).
struct PushSteps: Codable {
    var changesets: Int
    var meanOps: Double
    /// `Gloss_V1_Request(serializedBytes:)` and `.push.changeset.changeset()`.
    var wireDecode: Double
    /// `AccountStore.corpus(named:)` twice and `role(of:in:)` once: what `RequestRouter.push`
    /// looks up before it queues the changeset.
    var accountLookups: Double
    /// `AcceptanceCheck.check` against an in-memory `HeadState` holding the documents.
    var check: Double
    var deltaEncode: Double
    /// `BlobCompression.compress` of the encoded delta (zlib level 6, one stream per call).
    var deflate: Double
    var headEncode: Double
    var deltaRawBytes: Double
}

func measurePushSteps(
    accounts: AccountStore, corpus: String, user: String, seed: UInt64, docs: [(id: DocumentID, length: Int)], count: Int
) throws -> PushSteps {
    let clock = ContinuousClock()
    let subset = Array(docs.prefix(50))
    // A head holding the documents (synthetic texts of the same lengths).
    var head = HeadState()
    var revision = 0
    for doc in subset {
        var cs = Changeset(author: "admin", replica: ReplicaID(1), base: revision, ops: [])
        cs.addDocument(doc.id, text: String(repeating: "a", count: doc.length))
        revision += 1
        head.commit(try AcceptanceCheck.check(cs, against: head, as: revision), revision: revision, replica: ReplicaID(1))
    }
    var gen = SmallChangesets(user: user, seed: streamSeed(seed, .batch, 99), documents: subset)
    let changesets = (0..<count).map { _ in gen.next(base: revision) }
    let wire = try changesets.map { try pushRequest(corpus, $0).serializedBytes() as [UInt8] }

    var decode = Duration.zero, lookups = Duration.zero, check = Duration.zero
    var encode = Duration.zero, deflate = Duration.zero, headEncode = Duration.zero
    var raw = 0
    for (cs, bytes) in zip(changesets, wire) {
        let t0 = clock.now
        let decoded = try Gloss_V1_Request(serializedBytes: bytes).push.changeset.changeset()
        let t1 = clock.now
        _ = try accounts.corpus(named: corpus)
        _ = try accounts.role(of: user, in: corpus)
        _ = try accounts.corpus(named: corpus)
        let t2 = clock.now
        let outcome = try AcceptanceCheck.check(decoded, against: head, as: revision + 1)
        let t3 = clock.now
        let delta = DeltaCodec.encode(outcome.accepted, document: cs.ops.first?.document)
        let t4 = clock.now
        let compressed = BlobCompression.compress(delta)
        let t5 = clock.now
        var bodies = 0
        for entry in outcome.entries.values { bodies += HeadEntryCodec.encode(entry).count }
        let t6 = clock.now
        precondition(outcome.conflicts.isEmpty && !compressed.isEmpty && bodies > 0)
        revision += 1
        head.commit(outcome, revision: revision, replica: cs.replica)
        raw += delta.count
        decode += t1 - t0
        lookups += t2 - t1
        check += t3 - t2
        encode += t4 - t3
        deflate += t5 - t4
        headEncode += t6 - t5
    }
    func us(_ d: Duration) -> Double { seconds(d) * 1e6 / Double(count) }
    return PushSteps(
        changesets: count, meanOps: Double(changesets.reduce(0) { $0 + $1.ops.count }) / Double(count),
        wireDecode: us(decode), accountLookups: us(lookups), check: us(check), deltaEncode: us(encode),
        deflate: us(deflate), headEncode: us(headEncode), deltaRawBytes: Double(raw) / Double(count))
}
