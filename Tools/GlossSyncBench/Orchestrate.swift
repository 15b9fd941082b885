import GlossBenchCorpus
import Foundation
import GlossClient
import GlossModel
import GlossServer
import GlossStore
import GlossStoreSQLite
import GlossWire
import Logging
import NIOCore

// The parent process: the server (a real glossd in process, on a loopback port with TLS), the
// in-process measurements, and the children that play the clients.

struct Options {
    var seed: UInt64 = 42
    var documents = 2000
    var annotations = 1_000_000
    var changesets = 10_000
    var smallDocuments = 2
    var smallAnnotations = 1000
    var clients = 100
    var pushes = 150
    var pullReps = 40
    var rawCommits = 500
    var dir: String?
    var keep = false
    var jsonOut: String?
    var profile: String?
    /// git in the same run (needs git); `--no-git` skips it.
    var git = true
    /// Clones of each kind (bare, with checkout) over git daemon.
    var gitReps = 3
    /// A replica this many revisions behind pulls them (Gloss), a clone fetches as many
    /// commits (git); and a document is looked at this many revisions back.
    let behind = 1000
    let behindReps = 3
    /// The phases of the usual run (`--memory-only` and `--scale-only` leave them out).
    var usualPhases = true
    /// `--memory`: the real glossd's memory with idle connections, 100 pushing clients and one
    /// changeset of the whole import, and `gloss clone`'s.
    var memory = false
    var idleConnections = 200
    var idleSeconds = 5
    var bigPushTimeoutSeconds = 900
    /// `--scale`: the corpus at these sizes (annotations), ~`scalePerDocument` per document.
    var scale = false
    var scaleSizes = [100_000, 1_000_000, 10_000_000]
    var scalePerDocument = 500
    /// Edit changesets fixed at `changesets` rather than one per 100 annotations.
    var scaleHistoryFixed = false
    var scalePushes = 50
    var scalePullReps = 20
    /// Build role: also the single-import corpus and the empty corpus the big push goes to.
    var singleImport = false
    /// `--postgres`: the same corpus and pushes on a throwaway PostgreSQL beside SQLite.
    var postgres = false
    /// Rounds of (clone SQLite, clone PostgreSQL, push SQLite, push one node, push two nodes).
    var postgresRounds = 1
    /// Each PostgreSQL node's connection pool (glossd's `storage.pool_size` default).
    var postgresPool = 10
    /// Length of each pgbench run.
    var pgbenchSeconds = 10
    /// Extra `-c NAME=VALUE` for the throwaway PostgreSQL (diagnostics: `log_statement=all`,
    /// `shared_preload_libraries=pg_stat_statements`).
    var postgresSettings: [String] = []

    static let usage = """
        usage: gloss-sync-bench [--seed N] [--documents N] [--annotations N] [--changesets N]
                                [--small-documents N] [--small-annotations N] [--clients N] [--pushes N]
                                [--pull-reps N] [--raw-commits N] [--git-reps N] [--no-git] [--dir PARENT]
                                [--keep] [--json-out FILE] [--profile DIR]
                                [--memory | --memory-only] [--idle-connections N] [--idle-seconds N]
                                [--big-push-timeout SECONDS]
                                [--scale | --scale-only] [--scale-sizes 100k,1m,10m] [--scale-per-document N]
                                [--scale-history proportional|fixed] [--scale-pushes N] [--scale-pull-reps N]
                                [--postgres | --postgres-only] [--postgres-rounds N] [--postgres-pool N]
                                [--pgbench-seconds N] [--postgres-setting NAME=VALUE]...
        """
}

struct Report: Codable {
    struct Config: Codable {
        var seed: UInt64
        var clients: Int
        var pushesPerClient: Int
        var pullReps: Int
        var directory: String
        var filesystem: String
        var loadAverageBefore: [Double]
        var loadAverageAfter: [Double]
        var profiled: Bool
        /// Over the whole run; "ours" counts this process and its finished children.
        var contention: Contention
    }

    struct Clone: Codable {
        var corpus: String
        var annotations: Int
        var head: Int
        var client: CloneResult
        /// Wall time of the child process, connect and exit included.
        var childSeconds: Double
        var annotationsPerSecond: Double
        /// Loopback bytes (one direction counted) while the clone child ran.
        var loopbackBytes: Int?
        var serverCPU: CPUTime
        var serverVmHWMBytes: Int?
        var contention: Contention
        var verifiedDocuments: Int
        var verifiedAnnotations: Int
        var headRowsServer: Int
        var headRowsReplica: Int
        /// Replica revision rows whose op count differs from the server's.
        var revisionsWithDifferentOpCount: Int
        /// The clone's whole directory (the workspace: replica, configuration, token).
        var workspaceBytes: Int
    }

    /// A replica `revisions` behind: `pusher` pushes them one after another, then
    /// `SyncEngine.pull()` in this process brings them.
    struct BehindPull: Codable {
        var corpus: String
        var revisions: Int
        var pull: Latency
        var pushSeconds: [Double]
        /// Loopback bytes during each pull (median).
        var loopbackBytes: Int?
    }

    /// `CorpusStore.reconstruct` of one document `back` revisions before the built head.
    struct Reconstruct: Codable {
        var document: String
        var revision: Int
        var back: Int
        /// On the fresh replica; nil with the error when it cannot (a clone that starts a
        /// document's history at a snapshot has nothing before it).
        var replica: Latency?
        var replicaError: String?
        var server: Latency
        /// Its live annotations then (git's file must have as many `T` lines).
        var annotations: Int
    }

    /// One Gloss figure beside git's.
    struct Comparison: Codable {
        var name: String
        var unit: String
        var gloss: Double
        var git: Double
        /// Gloss ÷ git.
        var ratio: Double
    }

    struct Git: Codable {
        var result: GitResult
        var comparisons: [Comparison]
    }

    /// What `--keep` leaves for Tools/compare-with-git.sh: the server's data directory as built
    /// (before any measurement added revisions), its corpus, and git's repository as built.
    struct Kept: Codable {
        var dataDirectory: String
        var corpus: String
        var gitRepository: String?
    }

    struct StreamCost: Codable {
        var request: String
        /// The server producing the stream into a counting sink in process (no TLS).
        var serverProduceSeconds: Double
        var serverItems: Int
        var serverBytes: Int
        /// A child receiving it over TLS and keeping the items, then decoding them.
        var client: DrainResult
        var loopbackBytes: Int?
        var serverCPU: CPUTime
    }

    struct Pull: Codable {
        var corpus: String
        var annotations: Int
        var headStart: Int
        var headEnd: Int
        var reps: Int
        var revisionsPerPull: Int
        /// `SyncEngine.pull()`.
        var pull: Latency
        /// The same pull stream received over TLS and dropped (server + transfer).
        var stream: Latency
        /// `RequestRouter.handle` of the pull into a counting sink, in process.
        var serverProduce: Latency
        /// The ten pushes before each pull, one after another.
        var tenPushes: Latency
        var streamBytes: Int
    }

    struct Push: Codable {
        var client: PushResult
        var serverCPU: CPUTime
        var serverVmHWMBytes: Int?
        var serverVmRSSBeforeBytes: Int?
        var syncCalls: Int?
        var meanBatch: Double?
        var headBefore: Int
        var headAfter: Int
        var loopbackBytes: Int?
        var contention: Contention
    }

    struct Target: Codable {
        var name: String
        var target: String
        var measured: String
        var met: Bool
    }

    var config: Config
    var big: CorpusBuild
    var small: CorpusBuild
    var clone: Clone
    var cloneStream: StreamCost
    var pullFromZeroStream: StreamCost
    var pulls: [Pull]
    var pullRatio: Double
    var behindPull: BehindPull
    var reconstruct: Reconstruct
    var push: Push
    var rawBefore: RawDurability
    var rawAfter: RawDurability
    var batchAppends: [BatchAppend]
    var inProcessCommitter: InProcessPush
    var inProcessRouter: InProcessPush
    var pushSteps: PushSteps
    var git: Git?
    /// `--memory`: the real glossd's memory and `gloss clone`'s.
    var memory: MemoryReport?
    /// `--scale`: the scale curve.
    var scale: ScaleReport?
    /// `--postgres`: PostgreSQL beside SQLite, one and two nodes.
    var postgres: PostgresReport?
    var kept: Kept?
    var targets: [Target]
    var totalSeconds: Double
}

struct Orchestrator {
    let options: Options
    let clock = ContinuousClock()

    func run() async throws -> Report {
        let o = options
        let runStart = clock.now
        let work = try Self.makeWorkDirectory(o)
        defer { if !o.keep { try? FileManager.default.removeItem(at: work) } }
        if let profile = o.profile { try FileManager.default.createDirectory(atPath: profile, withIntermediateDirectories: true) }
        let loadBefore = loadAverage()
        let runMark = Contention.Mark()
        let runCPU0 = CPUTime.now()

        // 0. Build the corpora and accounts in a child, then the raw baselines on this disk.
        let (setup, setupPath) = try await Build.inChild(
            work: work, options: o, documents: o.documents, annotations: o.annotations, changesets: o.changesets,
            singleImport: o.memory)
        // The glossd memory phases run at the end, on the data directory as built.
        let memoryData: String? = if o.memory { try MemoryPhases.copyData(of: setup, into: work) } else { nil }
        var kept: Report.Kept?
        if o.keep {
            // The measurements add revisions: the comparison script gets the corpus as built.
            let asBuilt = work.appendingPathComponent("glossd-as-built").path
            try FileManager.default.copyItem(atPath: setup.dataDirectory, toPath: asBuilt)
            kept = Report.Kept(dataDirectory: asBuilt, corpus: setup.bigCorpus, gitRepository: nil)
        }
        log("baseline: raw durable commits")
        let rawBefore = try measureRawDurability(directory: work.path, commits: o.rawCommits)

        // 1. The server.
        let data = URL(fileURLWithPath: setup.dataDirectory)
        let accounts = try AccountStore(path: data.appendingPathComponent("server.sqlite").path)
        let (identity, _) = try ServerIdentity.loadOrCreate(directory: data)
        var logger = Logger(label: "sync-bench-glossd")
        logger.logLevel = .warning
        let server = try GlossServer(
            configuration: ServerConfiguration(port: 0, dataDirectory: data, maxConnections: 1024),
            identity: identity, accounts: accounts, corpora: try CorpusRegistry(directory: data), logger: logger)
        let serverTask = Task { try await server.run() }
        for _ in 0..<500 where server.localAddress == nil { try await Task.sleep(for: .milliseconds(10)) }
        guard let port = server.localAddress?.port else { throw BenchError("the server did not start") }
        log("glossd listening on 127.0.0.1:\(port)")
        let bigStore = try server.router.corpora.handle(for: setup.bigCorpus).store
        let common = ["--setup", setupPath, "--port", "\(port)"]

        // 2. Clone, in a child process of its own.
        log("clone of \(setup.bigCorpus) (\(setup.big.annotations) annotations, head \(setup.big.head))")
        let cloneDir = work.appendingPathComponent("clone-big").path
        let recordClone = o.profile.flatMap { PerfSession.record(output: "\($0)/server-clone.data") }
        resetPeakMemory()
        let cloneMark = Contention.Mark()
        let lo0 = loopbackBytes()
        let cpu0 = CPUTime.now()
        let c0 = clock.now
        let cloneSyncs = work.appendingPathComponent("clone-syncs.txt").path
        var cloned = try await runRole(
            .clone, common + ["--corpus", setup.bigCorpus, "--into", cloneDir], profile: o.profile,
            countSyncsTo: cloneSyncs, as: CloneResult.self)
        cloned.syncCalls = PerfSession.syncCount(in: cloneSyncs)
        let childSeconds = seconds(clock.now - c0)
        let cloneServerCPU = CPUTime.now() - cpu0
        let cloneLo = loopbackBytes().flatMap { a in lo0.map { a - $0 } }
        let cloneServerPeak = procStatus("VmHWM")
        let cloneContention = cloneMark.end(ours: cloneServerCPU.total + cloned.cpu.total)
        recordClone?.stop()
        log("  clone: \(String(format: "%.2f", cloned.cloneSeconds)) s; verifying the replica")
        let verified = try verifyClone(server: bigStore, replicaPath: cloneDir + "/.gloss/replica.sqlite", documents: setup.big.documents)
        let workspaceBytes = directoryBytes(cloneDir)
        let reconstruct = try measureReconstruct(
            server: bigStore, replicaPath: cloneDir + "/.gloss/replica.sqlite", head: setup.big.head)
        let clone = Report.Clone(
            corpus: setup.bigCorpus, annotations: setup.big.annotations, head: setup.big.head, client: cloned,
            childSeconds: childSeconds, annotationsPerSecond: rate(setup.big.annotations, cloned.cloneSeconds),
            loopbackBytes: cloneLo, serverCPU: cloneServerCPU, serverVmHWMBytes: cloneServerPeak,
            contention: cloneContention, verifiedDocuments: verified.documents, verifiedAnnotations: verified.annotations,
            headRowsServer: verified.serverRows, headRowsReplica: verified.replicaRows,
            revisionsWithDifferentOpCount: verified.opCountDiffers, workspaceBytes: workspaceBytes)

        // 3. Where the clone's time goes: the streams alone, produced in process and received
        // over TLS without a replica.
        log("clone breakdown: the clone stream, and a pull from revision 0, without a replica")
        let cloneStream = try await streamCost(server: server, setup: setup, common: common, request: "clone")
        let pullZeroStream = try await streamCost(server: server, setup: setup, common: common, request: "pull")

        // 4. Incremental pulls on both corpora, in this process.
        log("incremental pulls: \(o.pullReps) × (10 pushes by another client, then pull) on each corpus")
        let recordPulls = o.profile.flatMap { PerfSession.record(output: "\($0)/server-pull.data") }
        let pulls = try await measurePulls(server: server, setup: setup, port: port, cloneDir: cloneDir, work: work)
        recordPulls?.stop()
        let pullRatio = pulls[0].pull.p50Ms / pulls[1].pull.p50Ms
        log("pull of \(o.behind) revisions behind: \(o.behindReps) × (\(o.behind) pushes by another client, then pull)")
        let behindPull = try await measureBehindPull(setup: setup, port: port, cloneDir: cloneDir)

        // 5. Concurrent pushes from a child process holding every client.
        log("push: \(o.clients) clients × \(o.pushes) changesets of 1–3 span creates")
        let headBefore = try bigStore.headRevision()
        let rssBefore = procStatus("VmRSS")
        resetPeakMemory()
        let record = o.profile.flatMap { PerfSession.record(output: "\($0)/server-push.data") }
        let syncs = o.profile == nil ? PerfSession.countSyncs(output: work.appendingPathComponent("push-syncs.txt").path) : nil
        let pushMark = Contention.Mark()
        let plo0 = loopbackBytes()
        let pcpu0 = CPUTime.now()
        let pushed = try await runRole(
            .push, common + ["--corpus", setup.bigCorpus, "--clients", "\(o.clients)", "--pushes", "\(o.pushes)", "--seed", "\(o.seed)"],
            profile: o.profile, as: PushResult.self)
        let pushCPU = CPUTime.now() - pcpu0
        let pushLo = loopbackBytes().flatMap { a in plo0.map { a - $0 } }
        let pushPeak = procStatus("VmHWM")
        let pushContention = pushMark.end(ours: pushCPU.total + pushed.cpu.total)
        syncs?.stop()
        record?.stop()
        let headAfter = try bigStore.headRevision()
        guard headAfter == headBefore + pushed.accepted + o.clients, pushed.refused == 0, pushed.duplicates == 0 else {
            throw BenchError("push: head went \(headBefore) → \(headAfter) for \(pushed.accepted) accepted (+\(o.clients) warm-up), \(pushed.refused) refused")
        }
        let syncCount = syncs?.syncCount()
        let push = Report.Push(
            client: pushed, serverCPU: pushCPU, serverVmHWMBytes: pushPeak, serverVmRSSBeforeBytes: rssBefore,
            syncCalls: syncCount, meanBatch: syncCount.map { Double(pushed.accepted) / Double(max(1, $0)) },
            headBefore: headBefore, headAfter: headAfter, loopbackBytes: pushLo, contention: pushContention)

        // 6. In-process baselines on the same store, server idle.
        log("baselines: in-process GroupCommitter and RequestRouter pushes, append(batch:), raw commits")
        let docs = try bigStore.documents().filter(\.isLive).map { ($0.document.id, $0.document.length) }
        let perTask = max(10, o.pushes / 3)
        let committer = try await measureInProcessPushes(
            server: server, corpus: setup.bigCorpus, seed: o.seed, viaRouter: false, tasks: o.clients, perTask: perTask, docs: docs,
            syncCounter: o.profile == nil ? work.appendingPathComponent("committer-syncs.txt").path : nil)
        let recordRouter = o.profile.flatMap { PerfSession.record(output: "\($0)/server-router.data") }
        let routed = try await measureInProcessPushes(
            server: server, corpus: setup.bigCorpus, seed: o.seed, viaRouter: true, tasks: o.clients, perTask: perTask, docs: docs,
            syncCounter: o.profile == nil ? work.appendingPathComponent("router-syncs.txt").path : nil)
        recordRouter?.stop()
        let batches = try measureBatchAppend(
            store: bigStore, seed: o.seed, sizes: [(1, 1000), (10, 3000), (32, 3200), (100, 5000)], docs: docs)
        let rawAfter = try measureRawDurability(directory: work.path, commits: o.rawCommits)
        let steps = try measurePushSteps(
            accounts: accounts, corpus: setup.bigCorpus, user: Setup.client(0), seed: o.seed, docs: docs, count: 2000)

        await server.shutdown()
        _ = try? await serverTask.value

        // 7. git on the same history, in a child, with the server stopped.
        var git: Report.Git?
        if o.git {
            log("git: the same history as brat files, in a child")
            let result = try await runRole(
                .git,
                [
                    "--work", work.path, "--seed", "\(o.seed)", "--documents", "\(o.documents)", "--annotations",
                    "\(o.annotations)", "--changesets", "\(o.changesets)", "--pull-reps", "\(o.pullReps)", "--git-reps",
                    "\(o.gitReps)",
                ], as: GitResult.self)
            guard result.liveAnnotations == clone.verifiedAnnotations, result.showSpans == reconstruct.annotations else {
                throw BenchError(
                    "git and Gloss differ: \(result.liveAnnotations) spans at git's head, \(clone.verifiedAnnotations) live annotations in Gloss; "
                        + "\(result.showDocument) \(result.showBack) back: \(result.showSpans) T lines, \(reconstruct.annotations) annotations")
            }
            git = Report.Git(result: result, comparisons: compare(clone: clone, pull: pulls[0], behind: behindPull, reconstruct: reconstruct, big: setup.big, git: result))
            kept?.gitRepository = result.repository
        }

        // 8. The real glossd's memory, and the scale curve (each with its own servers).
        var memory: MemoryReport?
        if let memoryData {
            memory = try await MemoryPhases(options: o, setup: setup, setupPath: setupPath, dataCopy: memoryData, work: work).run()
        }
        let scale: ScaleReport? = if o.scale { try await ScaleCurve(options: o, work: work).run() } else { nil }
        let postgres: PostgresReport? = if o.postgres { try await PostgresPart(options: o, work: work).run() } else { nil }

        var targets = [
            Report.Target(
                name: "clone of \(grouped(setup.big.annotations)) annotations over loopback TLS", target: "≤ 5 s",
                measured: String(format: "%.2f s", clone.client.cloneSeconds), met: clone.client.cloneSeconds <= 5),
            Report.Target(
                name: "incremental pull of 10: \(setup.bigCorpus) ÷ \(setup.smallCorpus)", target: "≤ 1.5",
                measured: String(format: "%.2f (%.2f / %.2f ms)", pullRatio, pulls[0].pull.p50Ms, pulls[1].pull.p50Ms),
                met: pullRatio <= 1.5),
            Report.Target(
                name: "\(o.clients) concurrent clients: durable changesets/s", target: "≥ 3,000",
                measured: String(format: "%.0f", push.client.changesetsPerSecond), met: push.client.changesetsPerSecond >= 3000),
            Report.Target(
                name: "\(o.clients) concurrent clients: p99 push latency", target: "≤ 50 ms",
                measured: String(format: "%.1f ms", push.client.latency.p99Ms), met: push.client.latency.p99Ms <= 50),
        ]
        for c in git?.comparisons ?? [] {
            guard let bound = Self.gitTargets[c.name] else { continue }
            targets.append(
                Report.Target(
                    name: "Gloss ÷ git: \(c.name)", target: "≤ \(fmt(bound, 1))", measured: fmt(c.ratio, 2), met: c.ratio <= bound))
        }
        targets += memory?.targets ?? []
        targets += postgres?.targets ?? []
        if let kept {
            log("kept \(work.path): the glossd data directory as built, \(kept.dataDirectory) (corpus \(kept.corpus))"
                + (kept.gitRepository.map { ", and git's repository as built, \($0)" } ?? ""))
            if let repository = kept.gitRepository {
                log(
                    "compare the commands as users run them: Tools/compare-with-git.sh \(kept.dataDirectory) \(kept.corpus) \(repository) \(reconstruct.document)")
            }
        }
        return Report(
            config: .init(
                seed: o.seed, clients: o.clients, pushesPerClient: o.pushes, pullReps: o.pullReps, directory: work.path,
                filesystem: filesystemType(of: work.path), loadAverageBefore: loadBefore, loadAverageAfter: loadAverage(),
                profiled: o.profile != nil,
                contention: runMark.end(ours: (CPUTime.now() - runCPU0).total + childrenCPU())),
            big: setup.big, small: setup.small, clone: clone, cloneStream: cloneStream, pullFromZeroStream: pullZeroStream,
            pulls: pulls, pullRatio: pullRatio, behindPull: behindPull, reconstruct: reconstruct, push: push,
            rawBefore: rawBefore, rawAfter: rawAfter, batchAppends: batches, inProcessCommitter: committer,
            inProcessRouter: routed, pushSteps: steps, git: git, memory: memory, scale: scale, postgres: postgres, kept: kept, targets: targets,
            totalSeconds: seconds(clock.now - runStart))
    }

    /// A fresh directory under `--dir` (or the temporary directory) for one run.
    static func makeWorkDirectory(_ o: Options) throws -> URL {
        let parent = URL(fileURLWithPath: o.dir ?? NSTemporaryDirectory(), isDirectory: true)
        let work = parent.appendingPathComponent("gloss-sync-bench-\(getpid())")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        log("working in \(work.path) (\(filesystemType(of: work.path)))")
        return work
    }

    // MARK: git beside Gloss

    /// The issue's bounds on Gloss ÷ git, for the comparisons measured in process.
    static let gitTargets: [String: Double] = [
        "clone (SyncEngine.clone) vs git clone --bare": 0.5,
        "server store after a checkpoint vs pack after repack -adf": 1.0,
        "replica workspace vs git clone (.git + checkout)": 1.0,
        "incremental pull of 10 (SyncEngine.pull) vs git fetch": 0.1,
        "pull 1,000 revisions behind vs git fetch of 1,000 commits": 0.2,
    ]

    func compare(
        clone: Report.Clone, pull: Report.Pull, behind: Report.BehindPull, reconstruct: Report.Reconstruct, big: CorpusBuild,
        git g: GitResult
    ) -> [Report.Comparison] {
        func c(_ name: String, _ unit: String, _ gloss: Double, _ git: Double) -> Report.Comparison {
            Report.Comparison(name: name, unit: unit, gloss: gloss, git: git, ratio: gloss / git)
        }
        let bare = median(g.bareClones.map(\.seconds))
        let checkout = median(g.checkoutClones.map(\.seconds))
        var out = [
            c("clone (SyncEngine.clone) vs git clone --bare", "s", clone.client.cloneSeconds, bare),
            c("clone (SyncEngine.clone) vs git clone with checkout", "s", clone.client.cloneSeconds, checkout),
            c("clone child process (connect to exit) vs git clone --bare", "s", clone.childSeconds, bare),
            c("clone client CPU vs git clone --bare CPU", "s", clone.client.cpu.total, median(g.bareClones.map(\.cpuSeconds))),
        ]
        if let lo = clone.loopbackBytes {
            let gitLo = g.bareClones.compactMap(\.loopbackBytes).map(Double.init)
            if !gitLo.isEmpty { out.append(c("clone bytes on loopback vs git clone --bare", "B", Double(lo), median(gitLo))) }
        }
        if let peak = clone.client.vmHWMBytes {
            let gitPeak = g.bareClones.compactMap(\.maxRSSBytes).map(Double.init)
            if !gitPeak.isEmpty { out.append(c("clone client peak memory vs git clone --bare", "B", Double(peak), median(gitPeak))) }
        }
        out += [
            c("server store after a checkpoint vs pack after repack -adf", "B", Double(big.fileBytes), Double(g.repack.packBytes)),
            c("server store after a checkpoint vs pack after gc --aggressive", "B", Double(big.fileBytes), Double(g.aggressive.packBytes)),
            c(
                "replica workspace vs git clone (.git + checkout)", "B", Double(clone.workspaceBytes),
                Double(g.checkoutGitBytes + g.checkoutWorktreeBytes)),
            c("incremental pull of 10 (SyncEngine.pull) vs git fetch", "ms", pull.pull.p50Ms, g.fetch10.p50Ms),
            c(
                "pull 1,000 revisions behind vs git fetch of 1,000 commits", "ms", behind.pull.p50Ms,
                median(g.fetchBehind.map { $0.seconds * 1000 })),
            c("reconstruct 1,000 back (server) vs git show HEAD~1000:DOC.ann", "ms", reconstruct.server.p50Ms, g.show.p50Ms),
        ]
        if let replica = reconstruct.replica {
            out.append(c("reconstruct 1,000 back (replica) vs git show HEAD~1000:DOC.ann", "ms", replica.p50Ms, g.show.p50Ms))
        }
        return out
    }

    // MARK: A document long ago, and a replica far behind

    /// `CorpusStore.reconstruct` of the most edited document `behind` revisions before the built
    /// head, on the server's store and on the fresh replica: 3 warm-ups, then `pullReps` timed.
    func measureReconstruct(server: CorpusStore, replicaPath: String, head: Int) throws -> Report.Reconstruct {
        let document = hotDocument(seed: options.seed, documents: options.documents, annotations: options.annotations)
        let revision = head - min(options.behind, head - 1)
        let replica = try CorpusStore.sqlite(path: replicaPath)
        var annotations = -1
        func time(_ store: CorpusStore) throws -> Latency {
            var ms: [Double] = []
            for rep in 0..<(3 + options.pullReps) {
                let t0 = clock.now
                let state = try store.reconstruct(document, at: revision)
                if rep >= 3 { ms.append(seconds(clock.now - t0) * 1000) }
                guard annotations < 0 || annotations == state.annotations.count else {
                    throw BenchError("\(document) at \(revision): \(state.annotations.count) annotations, before \(annotations)")
                }
                annotations = state.annotations.count
            }
            return Latency(ms)
        }
        let onServer = try time(server)
        var onReplica: Latency?
        var replicaError: String?
        do {
            onReplica = try time(replica)
        } catch {
            replicaError = "\(error)"
            log("  the replica cannot reconstruct \(document) at \(revision): \(error)")
        }
        return Report.Reconstruct(
            document: document.rawValue, revision: revision, back: head - revision, replica: onReplica,
            replicaError: replicaError, server: onServer, annotations: annotations)
    }

    /// The clone's workspace (at the head after the pull phase) falls `behind` revisions behind
    /// while `pusher` pushes that many changesets of 1–3 span creates; then one pull brings them.
    func measureBehindPull(setup: Setup, port: Int, cloneDir: String) async throws -> Report.BehindPull {
        let reader = try await connect(port: port, setup: setup, user: Setup.reader)
        let pusher = try await connect(port: port, setup: setup, user: Setup.pusher)
        defer {
            reader.close()
            pusher.close()
        }
        let engine = SyncEngine(workspace: try Workspace.open(containing: URL(fileURLWithPath: cloneDir)), connection: reader)
        _ = try await engine.pull()
        let (start, docs) = try await documentList(pusher, corpus: setup.bigCorpus)
        var head = start
        var gen = SmallChangesets(user: Setup.pusher, seed: streamSeed(options.seed, .behind, 0), documents: docs)
        var pulls: [Double] = []
        var pushes: [Double] = []
        var bytes: [Double] = []
        for _ in 0..<options.behindReps {
            let p0 = clock.now
            for _ in 0..<options.behind {
                let r = try await pusher.request(pushRequest(setup.bigCorpus, gen.next(base: head)))
                guard case .acceptedRevision(let rev)? = r.push.outcome else { throw BenchError("behind: push refused: \(r.push)") }
                head = Int(rev)
            }
            pushes.append(seconds(clock.now - p0))
            let lo0 = loopbackBytes()
            let t0 = clock.now
            let summary = try await engine.pull()
            pulls.append(seconds(clock.now - t0) * 1000)
            if let lo = loopbackBytes(), let lo0 { bytes.append(Double(lo - lo0)) }
            guard summary.revisions == options.behind, summary.head == head else {
                throw BenchError("behind: the pull brought \(summary.revisions) revisions to \(summary.head), expected \(options.behind) to \(head)")
            }
        }
        return Report.BehindPull(
            corpus: setup.bigCorpus, revisions: options.behind, pull: Latency(pulls), pushSeconds: pushes,
            loopbackBytes: bytes.isEmpty ? nil : Int(median(bytes)))
    }

    // MARK: Clone checks

    /// The replica must have the server's head revision, live documents, revision metadata and,
    /// for every live document, exactly the server's head annotations. (Head rows are only
    /// reported: tombstones of deletions that a snapshot covers do not reach a replica.)
    func verifyClone(server: CorpusStore, replicaPath: String, documents: Int) throws
        -> (documents: Int, annotations: Int, serverRows: Int, replicaRows: Int, opCountDiffers: Int)
    {
        let replica = try CorpusStore.sqlite(path: replicaPath)
        guard try replica.headRevision() == server.headRevision() else {
            throw BenchError("clone: replica head \(try replica.headRevision()) ≠ server head \(try server.headRevision())")
        }
        let serverRows = try server.storageSummary().headRows
        let replicaRows = try replica.storageSummary().headRows
        let live = try server.documents().filter(\.isLive).map(\.document.id)
        guard try replica.documents().filter(\.isLive).map(\.document.id) == live else {
            throw BenchError("clone: the replica's live documents differ from the server's")
        }
        // Every live document: the replica's head annotations must equal the server's.
        var annotations = 0
        for id in live {
            let a = try server.headAnnotations(of: id)
            let b = try replica.headAnnotations(of: id)
            guard a == b else {
                throw BenchError("clone: \(id) has \(b.count) live annotations in the replica, \(a.count) on the server, or they differ")
            }
            annotations += a.count
        }
        // Revision metadata must match the server's exactly. (Until 2bc8599 a replica derived
        // a revision's op count from the deltas it received, and a revision whose deltas a
        // snapshot covered arrived with none: 2,621 of 12,000 rows differed after a clone.)
        let serverRevisions = try server.revisions(after: 0)
        let replicaRevisions = try replica.revisions(after: 0)
        guard serverRevisions.count == replicaRevisions.count else {
            throw BenchError("clone: \(replicaRevisions.count) revisions in the replica, \(serverRevisions.count) on the server")
        }
        var opCountDiffers = 0
        for (a, var b) in zip(serverRevisions, replicaRevisions) {
            if a.opCount != b.opCount { opCountDiffers += 1 }
            b.opCount = a.opCount
            // The content digest tells a retry from a reused id at the server; a replica records
            // the server's revisions without one, by design.
            b.contentDigest = a.contentDigest
            guard a == b else { throw BenchError("clone: revision metadata differ: server \(a) / replica \(b)") }
        }
        guard opCountDiffers == 0 else {
            throw BenchError("clone: \(opCountDiffers) replica revision rows have another op count than the server's")
        }
        return (live.count, annotations, serverRows, replicaRows, opCountDiffers)
    }

    // MARK: Stream costs

    func streamCost(server: GlossServer, setup: Setup, common: [String], request: String) async throws -> Report.StreamCost {
        let sink = CountingSink()
        let wire: Gloss_V1_Request =
            request == "clone"
            ? .with { $0.clone = .with { $0.corpus = setup.bigCorpus } }
            : .with {
                $0.pull = .with {
                    $0.corpus = setup.bigCorpus
                    $0.sinceRevision = 0
                }
            }
        let t0 = clock.now
        _ = try await server.router.handle(wire, user: Setup.reader, sink: sink)
        let produce = seconds(clock.now - t0)
        let lo0 = loopbackBytes()
        let cpu0 = CPUTime.now()
        let drained = try await runRole(
            .drain, common + ["--corpus", setup.bigCorpus, "--request", request], as: DrainResult.self)
        let cpu = CPUTime.now() - cpu0
        let lo = loopbackBytes().flatMap { a in lo0.map { a - $0 } }
        return Report.StreamCost(
            request: request, serverProduceSeconds: produce, serverItems: sink.items, serverBytes: sink.bytes,
            client: drained, loopbackBytes: lo, serverCPU: cpu)
    }

    // MARK: Incremental pulls

    func measurePulls(server: GlossServer, setup: Setup, port: Int, cloneDir: String, work: URL) async throws -> [Report.Pull] {
        let reader = try await connect(port: port, setup: setup, user: Setup.reader)
        let pusher = try await connect(port: port, setup: setup, user: Setup.pusher)
        defer {
            reader.close()
            pusher.close()
        }
        let bigWorkspace = try Workspace.open(containing: URL(fileURLWithPath: cloneDir))
        let smallWorkspace = try await SyncEngine.clone(
            url: GlossURL(host: "127.0.0.1", port: port, corpus: setup.smallCorpus),
            into: work.appendingPathComponent("clone-small"), connection: reader,
            pin: CertificateFingerprint(parsing: setup.fingerprint), caFile: nil, token: try setup.token(Setup.reader))

        struct Lane {
            var corpus: String
            var annotations: Int
            var engine: SyncEngine
            var gen: SmallChangesets
            var base: Int
            var headStart: Int
            var pull: [Double] = []
            var stream: [Double] = []
            var produce: [Double] = []
            var pushes: [Double] = []
            var streamBytes = 0
        }
        var lanes: [Lane] = []
        for (corpus, annotations, workspace) in [
            (setup.bigCorpus, setup.big.annotations, bigWorkspace), (setup.smallCorpus, setup.small.annotations, smallWorkspace),
        ] {
            let (head, docs) = try await documentList(pusher, corpus: corpus)
            lanes.append(
                Lane(
                    corpus: corpus, annotations: annotations, engine: SyncEngine(workspace: workspace, connection: reader),
                    gen: SmallChangesets(user: Setup.pusher, seed: streamSeed(options.seed, .pull, lanes.count), documents: docs),
                    base: head, headStart: head))
        }
        let warmup = 3
        for rep in 0..<(warmup + options.pullReps) {
            // Alternate which corpus goes first, so drift in the disk's latency hits both alike.
            for l in (rep % 2 == 0 ? [0, 1] : [1, 0]) {
                var lane = lanes[l]
                let p0 = clock.now
                for _ in 0..<10 {
                    let r = try await pusher.request(pushRequest(lane.corpus, lane.gen.next(base: lane.base)))
                    guard case .acceptedRevision(let rev)? = r.push.outcome else { throw BenchError("pull phase: push refused: \(r.push)") }
                    lane.base = Int(rev)
                }
                let pushMs = seconds(clock.now - p0) * 1000
                let since = try lane.engine.workspace.replica.headRevision()
                let request: Gloss_V1_Request = .with {
                    $0.pull = .with {
                        $0.corpus = lane.corpus
                        $0.sinceRevision = UInt64(since)
                    }
                }
                let sink = CountingSink()
                let s0 = clock.now
                _ = try await server.router.handle(request, user: Setup.reader, sink: sink)
                let produceMs = seconds(clock.now - s0) * 1000
                var bytes = 0
                let d0 = clock.now
                _ = try await reader.streaming(request) { event in
                    if case .item(let b) = event { bytes += b.readableBytes }
                }
                let streamMs = seconds(clock.now - d0) * 1000
                let t0 = clock.now
                let summary = try await lane.engine.pull()
                let pullMs = seconds(clock.now - t0) * 1000
                guard summary.revisions == 10, summary.head == lane.base else {
                    throw BenchError("pull of \(lane.corpus) brought \(summary.revisions) revisions to \(summary.head), expected 10 to \(lane.base)")
                }
                if rep >= warmup {
                    lane.pull.append(pullMs)
                    lane.stream.append(streamMs)
                    lane.produce.append(produceMs)
                    lane.pushes.append(pushMs)
                    lane.streamBytes = bytes
                }
                lanes[l] = lane
            }
        }
        return lanes.map { lane in
            Report.Pull(
                corpus: lane.corpus, annotations: lane.annotations, headStart: lane.headStart, headEnd: lane.base,
                reps: lane.pull.count, revisionsPerPull: 10, pull: Latency(lane.pull), stream: Latency(lane.stream),
                serverProduce: Latency(lane.produce), tenPushes: Latency(lane.pushes), streamBytes: lane.streamBytes)
        }
    }
}

extension Data {
    func discard() {}
}
