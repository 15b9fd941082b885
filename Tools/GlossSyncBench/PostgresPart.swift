import Foundation
import GlossServer
import GlossStore
import GlossStorePostgres
import GlossWire

// PostgreSQL beside SQLite in the same run (issue 11, point 9): the same seeded corpus on both
// backends, served by glossd nodes in this process; clones and 100 pushing clients against a
// SQLite node, one PostgreSQL node and two PostgreSQL nodes sharing the database; pgbench's
// single-row durable commits on the same PostgreSQL as its own baseline; the figures as ratios.

struct PostgresReport: Codable {
    struct Clone: Codable {
        var backend: String
        var round: Int
        var client: CloneResult
        /// Wall time of the child process, connect and exit included.
        var childSeconds: Double
        /// `RequestRouter.handle` of the clone into a counting sink, in process (no TLS, no client).
        var serverProduceSeconds: Double
        var serverProduceBytes: Int
        /// This process (every node in it) while the clone child ran.
        var serverCPU: CPUTime
        /// The PostgreSQL processes in the same interval (nil for SQLite).
        var postgresCPUSeconds: Double?
        /// The replica equals the SQLite node's corpus: head, documents, every document's live
        /// annotations, every revision row (so the PostgreSQL corpus holds the same history).
        var verifiedAnnotations: Int
        var contention: Contention
    }

    struct Push: Codable {
        /// "sqlite", "postgres, 1 node" or "postgres, 2 nodes".
        var backend: String
        var nodes: Int
        var round: Int
        /// The push child's seed (each phase pushes changesets of its own).
        var seed: UInt64
        var client: PushResult
        /// This process: every node in it (TLS, protocol, store, glossd's side of PostgreSQL).
        var serverCPU: CPUTime
        var postgresCPUSeconds: Double?
        /// The cluster's commits and WAL flushes during the phase (warm-up included).
        var counters: PostgresCounters?
        /// Accepted changesets per WAL flush: the group commit's batch as PostgreSQL saw it.
        var changesetsPerWALSync: Double?
        var headBefore: Int
        var headAfter: Int
        var contention: Contention
    }

    struct Ratios: Codable {
        /// Medians over the rounds.
        var sqlitePushRate: Double
        var postgresPushRate: Double
        var postgresTwoNodesPushRate: Double
        var sqliteP99Ms: Double
        var postgresP99Ms: Double
        var postgresTwoNodesP99Ms: Double
        /// pgbench with as many clients as pushers, before and after the push phases (mean).
        var pgbenchTPS: Double
        var sqliteCloneSeconds: Double
        var postgresCloneSeconds: Double
        /// PostgreSQL ÷ SQLite push rate (target ≥ 0.5).
        var postgresOverSQLite: Double
        /// PostgreSQL push rate ÷ pgbench single-row commits (target ≥ 1.0).
        var postgresOverPgbench: Double
        /// Two nodes ÷ one node, push rate.
        var twoNodesOverOne: Double
        /// Clone from PostgreSQL ÷ clone from SQLite.
        var cloneOverSQLite: Double
        /// The server producing the clone stream: PostgreSQL ÷ SQLite.
        var cloneProduceOverSQLite: Double
        /// SQLite push rate ÷ raw durable SQLite commits (the same ratio for SQLite's own baseline).
        var sqliteOverRawSQLite: Double
    }

    var postgresVersion: String
    var settings: [String: String]
    var url: String
    var poolSize: Int
    var storageThreads: Int
    var clients: Int
    var pushesPerClient: Int
    var rounds: Int
    /// How the PostgreSQL corpus was loaded.
    var loadMethod: String
    var sqliteBuild: CorpusBuild
    var postgresBuild: CorpusBuild
    /// The load child, start to exit (accounts, corpora, connections).
    var postgresLoadSeconds: Double
    var postgresDatabaseBytes: Int?
    var clones: [Clone]
    var pushes: [Push]
    var pgbench: [PgbenchResult]
    var rawSQLite: [RawDurability]
    /// Where a push's time goes: the store alone, in process, on each backend (after the
    /// pushes, nodes idle), and one statement's round trip through the storage API.
    var storeOnly: [String: [BatchAppend]]
    /// `SELECT 1` through `PostgresConnectionPool.withConnection` on a storage thread: median, p99 (ms).
    var statementRoundTripMs: Latency?
    var ratios: Ratios
    var targets: [Report.Target]
    var contention: Contention
    var seconds: Double
}

struct PostgresPart {
    let options: Options
    /// The run's directory: this part works in `postgres-part/` under it.
    let work: URL
    let clock = ContinuousClock()

    static let loadMethod =
        "the build role's generator and Build.build, appending through CorpusStore.append(batch:) on a "
        + "PostgresCorpusBackend (import: batches of 50 changesets, edits: batches of 100; one durable transaction each), "
        + "then VACUUM ANALYZE and CHECKPOINT"

    func run() async throws -> PostgresReport {
        let o = options
        let start = clock.now
        let mark = Contention.Mark()
        let cpu0 = CPUTime.now().total + childrenCPU()
        let dir = work.appendingPathComponent("postgres-part")
        let sqliteWork = dir.appendingPathComponent("sqlite")
        try FileManager.default.createDirectory(at: sqliteWork, withIntermediateDirectories: true)

        // 0. The corpus on SQLite (the usual build, in a child) and a throwaway PostgreSQL.
        let (setup, setupPath) = try await Build.inChild(
            work: sqliteWork, options: o, documents: o.documents, annotations: o.annotations, changesets: o.changesets,
            singleImport: false)
        log("PostgreSQL: initdb and start")
        let pg = try await ThrowawayPostgres.start(in: dir.appendingPathComponent("postgres").path, settings: o.postgresSettings)
        var stopped = false
        defer {
            // The reaper would stop it once we exit; on an error path, stop it now.
            if !stopped {
                let master = pg.postmasterPID
                if let master { kill(master, SIGINT) }
            }
        }
        let version = try await pg.psql("SHOW server_version")
        let settings = try await pg.settings([
            "fsync", "synchronous_commit", "wal_sync_method", "full_page_writes", "shared_buffers", "wal_buffers",
            "commit_delay", "max_wal_size", "checkpoint_timeout",
        ])
        log("PostgreSQL \(version) on 127.0.0.1:\(pg.port) (\(filesystemType(of: pg.directory))); \(settings)")

        // 1. The same corpus into PostgreSQL, in a child; then as an operator would after a bulk load.
        let pgSetupPath = dir.appendingPathComponent("setup-postgres.json").path
        let node1Data = dir.appendingPathComponent("node-1")
        let l0 = clock.now
        try await runProcess(
            selfExecutable(),
            [
                "--role", Role.pgload.rawValue, "--url", pg.url, "--node-data", node1Data.path, "--setup", pgSetupPath,
                "--seed", "\(o.seed)", "--documents", "\(o.documents)", "--annotations", "\(o.annotations)", "--changesets",
                "\(o.changesets)", "--small-documents", "\(o.smallDocuments)", "--small-annotations", "\(o.smallAnnotations)",
                "--clients", "\(o.clients)",
            ]
        ).discard()
        let loadSeconds = seconds(clock.now - l0)
        let pgSetup = try Setup.load(pgSetupPath)
        try await pg.psql("VACUUM (ANALYZE)")
        try await pg.psql("CHECKPOINT")
        let databaseBytes = Int(try await pg.psql("SELECT pg_database_size(current_database())"))
        log("  loaded in \(fmt(loadSeconds, 1)) s (import \(fmt(pgSetup.big.importSeconds, 1)) s, edits \(fmt(pgSetup.big.editSeconds, 1)) s); database \(mb(databaseBytes))")

        // 2. Baselines before: pgbench with as many clients as pushers, and with one; raw SQLite.
        var pgbench: [PgbenchResult] = []
        var raw: [RawDurability] = []
        log("pgbench: single-row durable commits, \(o.clients) clients and 1 client, \(o.pgbenchSeconds) s each")
        pgbench.append(try await pg.pgbench(clients: o.clients, seconds: o.pgbenchSeconds, when: "before"))
        pgbench.append(try await pg.pgbench(clients: 1, seconds: max(3, o.pgbenchSeconds / 2), when: "before"))
        raw.append(try measureRawDurability(directory: sqliteWork.path, commits: o.rawCommits))
        try await pg.psql("CHECKPOINT")

        // 3. The nodes: SQLite, and PostgreSQL node 1 (node 2 only for its phases).
        let sqliteNode = try await BenchNode.sqlite(name: "sqlite", data: URL(fileURLWithPath: setup.dataDirectory), poolSize: o.postgresPool)
        let pgNode = try await BenchNode.postgres(name: "postgres-1", url: pg.url, poolSize: o.postgresPool, data: node1Data)
        let sqliteStore = try sqliteNode.server.router.corpora.handle(for: setup.bigCorpus).store
        let pgStore = try pgNode.server.router.corpora.handle(for: pgSetup.bigCorpus).store

        var clones: [PostgresReport.Clone] = []
        var pushes: [PostgresReport.Push] = []
        var storeOnly: [String: [BatchAppend]] = [:]
        var roundTrip: Latency?
        do {
            for round in 0..<o.postgresRounds {
                // Clones first in each round of the same history (round 0: as built on both).
                // Round 0's PostgreSQL replica is checked against the SQLite corpus: the same history.
                for (backend, node, nodeSetup, path) in [
                    ("sqlite", sqliteNode, setup, setupPath), ("postgres", pgNode, pgSetup, pgSetupPath),
                ] {
                    clones.append(
                        try await clone(
                            backend: backend, node: node, setup: nodeSetup, setupPath: path, round: round, pg: pg,
                            reference: backend == "sqlite" || round > 0 ? nil : sqliteStore, into: dir))
                }
                let seedBase = o.seed &+ UInt64(round * 2)
                pushes.append(
                    try await push(
                        backend: "sqlite", nodes: [sqliteNode], setupPath: setupPath, corpus: setup.bigCorpus, store: sqliteStore,
                        seed: seedBase, round: round, pg: nil))
                pushes.append(
                    try await push(
                        backend: "postgres, 1 node", nodes: [pgNode], setupPath: pgSetupPath, corpus: pgSetup.bigCorpus,
                        store: pgStore, seed: seedBase, round: round, pg: pg))
                let node2 = try await BenchNode.postgres(
                    name: "postgres-2", url: pg.url, poolSize: o.postgresPool, data: dir.appendingPathComponent("node-2"))
                do {
                    pushes.append(
                        try await push(
                            backend: "postgres, 2 nodes", nodes: [pgNode, node2], setupPath: pgSetupPath, corpus: pgSetup.bigCorpus,
                            store: pgStore, seed: seedBase &+ 1, round: round, pg: pg))
                } catch {
                    await node2.stop()
                    throw error
                }
                await node2.stop()
            }
            // Where the time goes, nodes idle: the store alone (no network, no committer), and
            // the cost of one statement on PostgreSQL, which a push pays once per statement.
            log("the store alone: append(batch:) of 1 and of 100 small changesets on each backend; SELECT 1 round trips")
            for (backend, node, corpus) in [("sqlite", sqliteNode, setup.bigCorpus), ("postgres", pgNode, pgSetup.bigCorpus)] {
                let store = try node.server.router.corpora.handle(for: corpus).store
                let seed = o.seed
                let statements = (store.backend as? PostgresCorpusBackend)?.statements
                storeOnly[backend] = try await onOwnThread {
                    let docs = try store.documents().filter(\.isLive).map { ($0.document.id, $0.document.length) }
                    return try measureBatchAppend(
                        store: store, seed: seed, sizes: [(1, 300), (100, 3000)], docs: docs, statements: statements)
                }
            }
            if let database = pgNode.storage.database {
                roundTrip = try await onOwnThread {
                    try database.withConnection { connection in
                        let clock = ContinuousClock()
                        var ms: [Double] = []
                        for i in 0..<2100 {
                            let t0 = clock.now
                            _ = try connection.query("SELECT 1")
                            if i >= 100 { ms.append(seconds(clock.now - t0) * 1000) }
                        }
                        return Latency(ms)
                    }
                }
            }
        } catch {
            await sqliteNode.stop()
            await pgNode.stop()
            throw error
        }
        await sqliteNode.stop()
        await pgNode.stop()

        // 4. Baselines after.
        log("pgbench again, after the pushes")
        try await pg.psql("CHECKPOINT")
        pgbench.append(try await pg.pgbench(clients: o.clients, seconds: o.pgbenchSeconds, when: "after"))
        raw.append(try measureRawDurability(directory: sqliteWork.path, commits: o.rawCommits))
        await pg.stop(keep: o.keep)
        stopped = true

        let ratios = Self.ratios(clones: clones, pushes: pushes, pgbench: pgbench, raw: raw, clients: o.clients)
        return PostgresReport(
            postgresVersion: version, settings: settings, url: pg.url, poolSize: o.postgresPool,
            storageThreads: BenchNode.storageThreads(poolSize: o.postgresPool), clients: o.clients, pushesPerClient: o.pushes,
            rounds: o.postgresRounds, loadMethod: Self.loadMethod, sqliteBuild: setup.big, postgresBuild: pgSetup.big,
            postgresLoadSeconds: loadSeconds, postgresDatabaseBytes: databaseBytes, clones: clones, pushes: pushes,
            pgbench: pgbench, rawSQLite: raw, storeOnly: storeOnly, statementRoundTripMs: roundTrip, ratios: ratios, targets: Self.targets(ratios, clients: o.clients),
            contention: mark.end(ours: CPUTime.now().total + childrenCPU() - cpu0), seconds: seconds(clock.now - start))
    }

    // MARK: Clone

    /// A clone child against `node`; the replica is checked against `reference` (the SQLite
    /// node's store) when given, else against the node's own store.
    func clone(
        backend: String, node: BenchNode, setup: Setup, setupPath: String, round: Int, pg: ThrowawayPostgres,
        reference: CorpusStore?, into dir: URL
    ) async throws -> PostgresReport.Clone {
        let store = try node.server.router.corpora.handle(for: setup.bigCorpus).store
        // The server's part alone: the clone stream produced in process into a counting sink.
        let sink = CountingSink()
        let p0 = clock.now
        _ = try await node.server.router.handle(
            .with { $0.clone = .with { $0.corpus = setup.bigCorpus } }, user: Setup.reader, sink: sink)
        let produce = seconds(clock.now - p0)

        log("clone of \(setup.bigCorpus) from the \(backend) node (round \(round + 1))")
        let into = dir.appendingPathComponent("clone-\(backend)-\(round)").path
        let mark = Contention.Mark()
        let cpu0 = CPUTime.now()
        let pgCPU0 = backend == "sqlite" ? nil : pg.cpuSeconds()
        let c0 = clock.now
        let result = try await runRole(
            .clone, ["--setup", setupPath, "--port", "\(node.port)", "--corpus", setup.bigCorpus, "--into", into],
            as: CloneResult.self)
        let childSeconds = seconds(clock.now - c0)
        let cpu = CPUTime.now() - cpu0
        let pgCPU = pgCPU0.map { pg.cpuSeconds() - $0 }
        let contention = mark.end(ours: cpu.total + result.cpu.total + (pgCPU ?? 0))
        log("  \(backend): \(fmt(result.cloneSeconds, 2)) s (server produces the stream in \(fmt(produce, 2)) s)")
        let checkAgainst = reference ?? store
        let verified = try await onOwnThread {
            try Orchestrator(options: options).verifyClone(
                server: checkAgainst, replicaPath: into + "/.gloss/replica.sqlite", documents: setup.big.documents)
        }
        try? FileManager.default.removeItem(atPath: into)
        return PostgresReport.Clone(
            backend: backend, round: round, client: result, childSeconds: childSeconds, serverProduceSeconds: produce,
            serverProduceBytes: sink.bytes, serverCPU: cpu, postgresCPUSeconds: pgCPU, verifiedAnnotations: verified.annotations,
            contention: contention)
    }

    // MARK: Pushes

    /// The push child with `options.clients` clients spread over `nodes`, each pushing
    /// `options.pushes` changesets of 1–3 span creates, awaiting each acknowledgement.
    func push(
        backend: String, nodes: [BenchNode], setupPath: String, corpus: String, store: CorpusStore, seed: UInt64, round: Int,
        pg: ThrowawayPostgres?
    ) async throws -> PostgresReport.Push {
        let o = options
        log("push, \(backend) (round \(round + 1)): \(o.clients) clients × \(o.pushes) changesets")
        let headBefore = try await onOwnThread { try store.headRevision() }
        let counters0 = try await pg?.counters()
        let profileName = backend.replacingOccurrences(of: ", ", with: "-").replacingOccurrences(of: " ", with: "-")
        let record = o.profile.flatMap { PerfSession.recordAll(output: "\($0)/push-\(profileName)-\(round).data") }
        let mark = Contention.Mark()
        let cpu0 = CPUTime.now()
        let pgCPU0 = pg?.cpuSeconds()
        let pushed = try await runRole(
            .push,
            [
                "--setup", setupPath, "--port", nodes.map { "\($0.port)" }.joined(separator: ","), "--corpus", corpus, "--clients",
                "\(o.clients)", "--pushes", "\(o.pushes)", "--seed", "\(seed)",
            ], as: PushResult.self)
        let cpu = CPUTime.now() - cpu0
        let pgCPU = pgCPU0.map { (pg?.cpuSeconds() ?? 0) - $0 }
        let contention = mark.end(ours: cpu.total + pushed.cpu.total + (pgCPU ?? 0))
        record?.stop()
        let counters = try await pg?.counters()
        let delta = counters.flatMap { a in counters0.map { a - $0 } }
        let headAfter = try await onOwnThread { try store.headRevision() }
        guard headAfter == headBefore + pushed.accepted + o.clients, pushed.refused == 0, pushed.duplicates == 0 else {
            throw BenchError(
                "push (\(backend)): head went \(headBefore) → \(headAfter) for \(pushed.accepted) accepted (+\(o.clients) warm-up), "
                    + "\(pushed.refused) refused, \(pushed.duplicates) duplicates")
        }
        log(
            "  \(backend): \(groupedD(pushed.changesetsPerSecond)) changesets/s, p99 \(fmt(pushed.latency.p99Ms, 1)) ms"
                + (delta.map { "; \(grouped($0.walSyncs)) WAL flushes" } ?? ""))
        return PostgresReport.Push(
            backend: backend, nodes: nodes.count, round: round, seed: seed, client: pushed, serverCPU: cpu,
            postgresCPUSeconds: pgCPU, counters: delta,
            changesetsPerWALSync: delta.map { Double(pushed.accepted + o.clients) / Double(max(1, $0.walSyncs)) },
            headBefore: headBefore, headAfter: headAfter, contention: contention)
    }

    // MARK: Ratios and targets

    static func ratios(
        clones: [PostgresReport.Clone], pushes: [PostgresReport.Push], pgbench: [PgbenchResult], raw: [RawDurability], clients: Int
    ) -> PostgresReport.Ratios {
        func rate(_ backend: String) -> Double { median(pushes.filter { $0.backend == backend }.map(\.client.changesetsPerSecond)) }
        func p99(_ backend: String) -> Double { median(pushes.filter { $0.backend == backend }.map(\.client.latency.p99Ms)) }
        func clone(_ backend: String) -> Double { median(clones.filter { $0.backend == backend }.map(\.client.cloneSeconds)) }
        func produce(_ backend: String) -> Double { median(clones.filter { $0.backend == backend }.map(\.serverProduceSeconds)) }
        let sqlite = rate("sqlite")
        let one = rate("postgres, 1 node")
        let two = rate("postgres, 2 nodes")
        let matching = pgbench.filter { $0.clients == clients }.map(\.tps)
        let tps = matching.isEmpty ? .nan : matching.reduce(0, +) / Double(matching.count)
        let rawRate = raw.isEmpty ? .nan : raw.map(\.commitsPerSecond).reduce(0, +) / Double(raw.count)
        return PostgresReport.Ratios(
            sqlitePushRate: sqlite, postgresPushRate: one, postgresTwoNodesPushRate: two, sqliteP99Ms: p99("sqlite"),
            postgresP99Ms: p99("postgres, 1 node"), postgresTwoNodesP99Ms: p99("postgres, 2 nodes"), pgbenchTPS: tps,
            sqliteCloneSeconds: clone("sqlite"), postgresCloneSeconds: clone("postgres"), postgresOverSQLite: one / sqlite,
            postgresOverPgbench: one / tps, twoNodesOverOne: two / one, cloneOverSQLite: clone("postgres") / clone("sqlite"),
            cloneProduceOverSQLite: produce("postgres") / produce("sqlite"), sqliteOverRawSQLite: sqlite / rawRate)
    }

    static func targets(_ r: PostgresReport.Ratios, clients: Int) -> [Report.Target] {
        [
            Report.Target(
                name: "PostgreSQL ÷ SQLite: push rate, \(clients) clients on one node", target: "≥ 0.5",
                measured: "\(fmt(r.postgresOverSQLite, 2)) (\(groupedD(r.postgresPushRate)) / \(groupedD(r.sqlitePushRate)) changesets/s)",
                met: r.postgresOverSQLite >= 0.5),
            Report.Target(
                name: "PostgreSQL push rate ÷ pgbench single-row durable commits (\(clients) clients)", target: "≥ 1.0",
                measured: "\(fmt(r.postgresOverPgbench, 2)) (\(groupedD(r.postgresPushRate)) / \(groupedD(r.pgbenchTPS)) per s)",
                met: r.postgresOverPgbench >= 1.0),
            Report.Target(
                name: "PostgreSQL, one node: p99 push latency, \(clients) clients", target: "≤ 50 ms",
                measured: "\(fmt(r.postgresP99Ms, 1)) ms", met: r.postgresP99Ms <= 50),
            Report.Target(
                name: "PostgreSQL, two nodes: p99 push latency, \(clients) clients", target: "≤ 50 ms",
                measured: "\(fmt(r.postgresTwoNodesP99Ms, 1)) ms", met: r.postgresTwoNodesP99Ms <= 50),
        ]
    }
}
