import GlossBenchCorpus
import Foundation

// gloss-sync-bench: the sync benchmark (DESIGN.md, "Protocol" and "Performance model").
//
//   swift build -c release --scratch-path .build-syncbench --product gloss-sync-bench
//   .build-syncbench/release/gloss-sync-bench
//       [--seed 42] [--clients 100] [--pushes 150] [--pull-reps 40] [--dir PARENT] [--keep]
//       [--json-out FILE] [--profile DIR] [--git-reps 3] [--no-git]
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

enum Role: String {
    case build, clone, drain, push, git

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
        // Child roles only.
        case "--setup", "--port", "--corpus", "--into", "--request", "--work":
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

func main() async throws {
    let (role, values, options) = try parse(Array(CommandLine.arguments.dropFirst()))
    Role.current = role
    func need(_ key: String) throws -> String {
        guard let v = values[key] else { throw BenchError("role \(role?.rawValue ?? "?") needs \(key)") }
        return v
    }
    guard let role else {
        let report = try await Orchestrator(options: options).run()
        printTable(report)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let json = try encoder.encode(report)
        if let out = options.jsonOut { try json.write(to: URL(fileURLWithPath: out)) }
        return
    }
    switch role {
    case .build:
        let setup = try Build.run(
            BuildOptions(
                work: try need("--work"), seed: options.seed, documents: options.documents,
                annotations: options.annotations, changesets: options.changesets, smallDocuments: options.smallDocuments,
                smallAnnotations: options.smallAnnotations, clients: options.clients))
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
                setup: setup, port: Int(try need("--port"))!, corpus: try need("--corpus"), clients: options.clients,
                perClient: options.pushes, seed: options.seed))
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
