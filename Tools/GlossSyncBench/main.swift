import GlossBenchCorpus
import Foundation

// gloss-sync-bench: the sync benchmark (DESIGN.md, "Protocol" and "Performance model").
//
//   swift build -c release --scratch-path .build-syncbench --product gloss-sync-bench
//   .build-syncbench/release/gloss-sync-bench
//       [--seed 42] [--clients 100] [--pushes 150] [--pull-reps 40] [--dir PARENT] [--keep]
//       [--json-out FILE] [--profile DIR] [--git-reps 3] [--no-git] [--memory] [--scale]
//       [--postgres | --postgres-only] [--postgres-rounds 1] [--postgres-pool 10] [--pgbench-seconds 10]
//       [--postgres-setting NAME=VALUE]...
//
// The real glossd's memory and the scale curve (issue 10, points 3 and 4) run the release
// `glossd` and `gloss` built beside this binary. SwiftPM builds only the last `--product` given,
// so build the three one after another:
//
//   for p in gloss glossd gloss-sync-bench; do swift build -c release --scratch-path .build-syncbench --product $p; done
//   .build-syncbench/release/gloss-sync-bench --memory-only --json-out memory.json   # about 1.5 min
//   .build-syncbench/release/gloss-sync-bench --scale-only --json-out scale.json     # about 6 min on 2 cores (the 10M build is most of it)
//
// `--memory` / `--scale` add the parts after the usual phases instead; `--memory-only` and
// `--scale-only` together run both parts alone.
//
// Memory (`--memory`, on a copy of the data directory as built; glossd's VmRSS sampled every
// 20 ms from /proc/PID/status and its VmHWM reset at each phase's start): a. a child holds
// `--idle-connections 200` connections made and authenticated with ClientConnection for
// `--idle-seconds 5`; b. the push phase's child, `--clients` × `--pushes`, against glossd;
// d (i). `gloss clone` of the usual history; c. one child pushes the whole import (`--documents`
// documents, `--annotations` spans) as one changeset into an empty corpus, over the protocol
// (`--big-push-timeout 900` s); d (ii). `gloss clone` of that history as the store built it,
// and as pushed when glossd accepted it. `gloss clone`'s peak is its own (wait4's ru_maxrss).
//
// Scale (`--scale`): for each of `--scale-sizes 100k,1m,10m` annotations, `--scale-per-document
// 500` per document and `--scale-history proportional` (one edit changeset per 100 annotations:
// 1k / 10k / 100k; `fixed` keeps `--changesets`), a fresh build, glossd on it, `gloss clone`,
// `--scale-pull-reps 20` incremental pulls of 10 in this process on the clone, `--clients` ×
// `--scale-pushes 50` pushes; then each figure's growth from one size to the next.
//
// One run: build the storage benchmark's corpus into a fresh server data directory (child) →
// raw durability baselines → start glossd in this process on a loopback port with TLS →
// clone (child) and verify → the clone's streams without a replica (child) → incremental
// pulls on the 1M and the 1k corpus, a replica 1,000 revisions behind (this process) →
// concurrent pushes (child holding every client) → in-process committer, router and
// append(batch:) baselines → raw baselines again → the server stops → git on the same
// history as brat files (child): fast-import, repack, clones over git daemon, fetches, show.
//
// This process is the server; the clients of the clone and push phases run as children
// (this binary with `--role`), so that peak memory and CPU time can be told apart.
//
// PostgreSQL beside SQLite (`--postgres` adds it after the usual phases, `--postgres-only` runs it
// alone; issue 11): a throwaway PostgreSQL (initdb + postgres as the postgres user, on a free
// loopback port, fsync=on, synchronous_commit=on), the same seeded corpus built into a SQLite
// data directory and loaded into PostgreSQL through the store API (child), then in this process
// a SQLite node and PostgreSQL nodes (GlossServer + ServerStorage.postgres, pool
// `--postgres-pool 10`): clone from each, `--clients` × `--pushes` against the SQLite node, one
// PostgreSQL node and two PostgreSQL nodes on the same database (clients split), `pgbench`
// single-row durable commits before and after (`--pgbench-seconds 10`), all `--postgres-rounds 1`
// times in turn; the figures as ratios.

enum Role: String {
    case build, clone, drain, push, git, idle, bigpush, pgload

    nonisolated(unsafe) static var current: Role?
}

func parse(_ args: [String]) throws -> (Role?, [String: String], Options) {
    var o = Options()
    var values: [String: String] = [:]
    var role: Role?
    var i = 0
    func value() throws -> String {
        i += 1
        guard i < args.count else { throw BenchError("\(args[i - 1]) needs a value\n\(Options.usage)") }
        return args[i]
    }
    func int() throws -> Int {
        let v = try value()
        guard let n = Int(v.replacingOccurrences(of: "_", with: "")), n >= 0 else {
            throw BenchError("\(args[i - 1]): not a count: \(v)")
        }
        return n
    }
    while i < args.count {
        switch args[i] {
        case "--role":
            let v = try value()
            guard let r = Role(rawValue: v) else { throw BenchError("unknown role \(v)") }
            role = r
        case "--seed":
            guard let s = UInt64(try value()) else { throw BenchError("--seed: not an unsigned integer") }
            o.seed = s
        case "--documents": o.documents = try int()
        case "--annotations": o.annotations = try int()
        case "--changesets": o.changesets = try int()
        case "--small-documents": o.smallDocuments = max(1, try int())
        case "--small-annotations": o.smallAnnotations = try int()
        case "--clients": o.clients = max(1, try int())
        case "--pushes": o.pushes = max(1, try int())
        case "--pull-reps": o.pullReps = max(1, try int())
        case "--raw-commits": o.rawCommits = max(1, try int())
        case "--git-reps": o.gitReps = max(1, try int())
        case "--no-git": o.git = false
        case "--dir": o.dir = try value()
        case "--keep": o.keep = true
        case "--json-out": o.jsonOut = try value()
        case "--profile": o.profile = try value()
        case "--memory": o.memory = true
        case "--memory-only":
            o.memory = true
            o.usualPhases = false
        case "--idle-connections": o.idleConnections = max(1, try int())
        case "--idle-seconds": o.idleSeconds = try int()
        case "--big-push-timeout": o.bigPushTimeoutSeconds = max(1, try int())
        case "--scale": o.scale = true
        case "--scale-only":
            o.scale = true
            o.usualPhases = false
        case "--scale-sizes":
            let v = try value()
            let sizes = v.split(separator: ",").map { parseSize(String($0)) }
            guard !sizes.isEmpty, sizes.allSatisfy({ $0 != nil }) else { throw BenchError("--scale-sizes: not sizes: \(v)") }
            o.scaleSizes = sizes.map { $0! }
        case "--scale-per-document": o.scalePerDocument = max(60, try int())
        case "--scale-history":
            switch try value() {
            case "proportional": o.scaleHistoryFixed = false
            case "fixed": o.scaleHistoryFixed = true
            case let other: throw BenchError("--scale-history: proportional or fixed, not \(other)")
            }
        case "--postgres": o.postgres = true
        case "--postgres-only":
            o.postgres = true
            o.usualPhases = false
        case "--postgres-rounds": o.postgresRounds = max(1, try int())
        case "--postgres-pool": o.postgresPool = max(1, try int())
        case "--pgbench-seconds": o.pgbenchSeconds = max(1, try int())
        case "--postgres-setting":
            let v = try value()
            guard v.contains("="), !v.hasPrefix("=") else { throw BenchError("--postgres-setting: NAME=VALUE, not \(v)") }
            o.postgresSettings.append(v)
        case "--scale-pushes": o.scalePushes = max(1, try int())
        case "--scale-pull-reps": o.scalePullReps = max(1, try int())
        // Child roles only.
        case "--single-import": o.singleImport = true
        case "--setup", "--port", "--corpus", "--into", "--request", "--work", "--connections", "--url", "--node-data":
            let key = args[i]
            values[key] = try value()
        case "-h", "--help":
            print(Options.usage)
            exit(0)
        default: throw BenchError("unknown argument \(args[i])\n\(Options.usage)")
        }
        i += 1
    }
    guard o.documents >= 1, o.annotations >= o.documents * 60, o.smallAnnotations >= o.smallDocuments * 60 else {
        throw BenchError("need at least one document and 60 annotations per document")
    }
    return (role, values, o)
}

/// "7001" or "7001,7002": the nodes a push child spreads its clients over.
func ports(_ text: String) throws -> [Int] {
    let ports = text.split(separator: ",").compactMap { Int($0) }
    guard !ports.isEmpty, ports.count == text.split(separator: ",").count else { throw BenchError("--port: not ports: \(text)") }
    return ports
}

/// "100k", "1m", "10m", "250000", "1_000_000".
func parseSize(_ text: String) -> Int? {
    let t = text.lowercased().replacingOccurrences(of: "_", with: "")
    let (digits, factor) =
        t.hasSuffix("k") ? (t.dropLast(), 1000) : t.hasSuffix("m") ? (t.dropLast(), 1_000_000) : (Substring(t), 1)
    return Int(digits).map { $0 * factor }.flatMap { $0 > 0 ? $0 : nil }
}

func main() async throws {
    let (role, values, options) = try parse(Array(CommandLine.arguments.dropFirst()))
    Role.current = role
    func need(_ key: String) throws -> String {
        guard let v = values[key] else { throw BenchError("role \(role?.rawValue ?? "?") needs \(key)") }
        return v
    }
    guard let role else {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let json: Data
        if options.usualPhases {
            let report = try await Orchestrator(options: options).run()
            printTable(report)
            json = try encoder.encode(report)
        } else {
            let report = try await PartsRun(options: options).run()
            printParts(report)
            json = try encoder.encode(report)
        }
        if let out = options.jsonOut { try json.write(to: URL(fileURLWithPath: out)) }
        return
    }
    switch role {
    case .build:
        let setup = try Build.run(
            BuildOptions(
                work: try need("--work"), seed: options.seed, documents: options.documents,
                annotations: options.annotations, changesets: options.changesets, smallDocuments: options.smallDocuments,
                smallAnnotations: options.smallAnnotations, clients: options.clients, singleImport: options.singleImport))
        try JSONEncoder().encode(setup).write(to: URL(fileURLWithPath: try need("--setup")))
    case .clone:
        let setup = try Setup.load(try need("--setup"))
        try emit(
            try await CloneRole.run(
                setup: setup, port: Int(try need("--port"))!, corpus: try need("--corpus"), into: try need("--into")))
    case .drain:
        let setup = try Setup.load(try need("--setup"))
        try emit(
            try await DrainRole.run(
                setup: setup, port: Int(try need("--port"))!, corpus: try need("--corpus"), request: try need("--request")))
    case .push:
        let setup = try Setup.load(try need("--setup"))
        try emit(
            try await PushRole.run(
                setup: setup, ports: try ports(try need("--port")), corpus: try need("--corpus"), clients: options.clients,
                perClient: options.pushes, seed: options.seed))
    case .idle:
        let setup = try Setup.load(try need("--setup"))
        guard let count = Int(try need("--connections")) else { throw BenchError("--connections: not a count") }
        try emit(try await IdleRole.run(setup: setup, port: Int(try need("--port"))!, count: count))
    case .pgload:
        // Blocking store calls on PostgreSQL: on a thread of their own, off the cooperative pool.
        let o = options
        let url = try need("--url")
        let nodeData = try need("--node-data")
        let setupPath = try need("--setup")
        let setup = try await onOwnThread {
            try PostgresLoad.run(
                url: url, nodeData: nodeData, seed: o.seed, documents: o.documents, annotations: o.annotations,
                changesets: o.changesets, smallDocuments: o.smallDocuments, smallAnnotations: o.smallAnnotations,
                clients: o.clients)
        }
        try JSONEncoder().encode(setup).write(to: URL(fileURLWithPath: setupPath))
    case .bigpush:
        let setup = try Setup.load(try need("--setup"))
        try emit(
            try await BigPushRole.run(
                setup: setup, port: Int(try need("--port"))!, corpus: try need("--corpus"), seed: options.seed,
                documents: options.documents, annotations: options.annotations,
                timeout: .seconds(options.bigPushTimeoutSeconds)))
    case .git:
        // Blocking work, and git processes (the daemon among them) that SIGTERM must stop.
        let o = options
        let work = try need("--work")
        try emit(
            try await onOwnThread {
                try GitRole.run(
                    GitOptions(
                        work: work, seed: o.seed, documents: o.documents, annotations: o.annotations, changesets: o.changesets,
                        pullReps: o.pullReps, cloneReps: o.gitReps, behind: o.behind, behindReps: o.behindReps))
            })
    }
}

do {
    try await main()
} catch {
    log("error: \(error)")
    exit(1)
}
