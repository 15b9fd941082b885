import Foundation
import GlossModel

// gloss-local-bench: local commands as users run them (issue 10, point 6).
//
//   swift build -c release --scratch-path .build-localbench
//   .build-localbench/release/gloss-local-bench [--runs 5] [--json-out FILE] [--keep] …
//
// One run: the synthetic corpus (1,000 documents, 500k annotations by default) written into a
// fresh glossd data directory → the real glossd serves it → the real `gloss clone` → 1,000
// pending edits (label and range changes, new spans, removals, spread over the documents) →
// every timed command run several times as a whole process, each measured with wait4 (wall
// time, CPU time, the child's own peak resident set) → optionally `git status` in a git
// repository of the same annotations as brat files, with the same documents modified.

func parse(_ args: [String]) throws -> Options {
    var o = Options()
    var i = 0
    func value() throws -> String {
        i += 1
        guard i < args.count else { throw BenchError("\(args[i - 1]) needs a value\n\(Options.usage)") }
        return args[i]
    }
    func count() throws -> Int {
        let v = try value()
        guard let n = Int(v.replacingOccurrences(of: "_", with: "")), n >= 0 else {
            throw BenchError("\(args[i - 1]): not a count: \(v)")
        }
        return n
    }
    while i < args.count {
        switch args[i] {
        case "--seed":
            guard let s = UInt64(try value()) else { throw BenchError("--seed: not an unsigned integer") }
            o.seed = s
        case "--documents": o.documents = max(1, try count())
        case "--annotations": o.annotations = try count()
        case "--server-edits": o.serverEdits = try count()
        case "--pending": o.pending = try count()
        case "--runs": o.runs = max(1, try count())
        case "--dir": o.dir = try value()
        case "--keep": o.keep = true
        case "--json-out": o.jsonOut = try value()
        case "--no-git": o.git = false
        case "--bin": o.bin = try value()
        case "-h", "--help":
            print(Options.usage)
            exit(0)
        default: throw BenchError("unknown argument \(args[i])\n\(Options.usage)")
        }
        i += 1
    }
    // The generator keeps every document populated with at least 50 live spans.
    guard o.annotations >= o.documents * 60 else { throw BenchError("give at least 60 annotations per document") }
    return o
}

/// The commands, in the order they run, with their targets (issue 10, point 6).
struct Timed {
    var name: String
    var targetSeconds: Double
    /// The arguments of run `k`.
    var arguments: (Int) -> [String]
}

func main() throws {
    let o = try parse(Array(CommandLine.arguments.dropFirst()))
    let bin = o.bin ?? URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent().path
    let gloss = bin + "/gloss", glossd = bin + "/glossd"
    for tool in [gloss, glossd] where !FileManager.default.isExecutableFile(atPath: tool) {
        throw BenchError("\(tool) is missing: build the package (`swift build -c release`) or pass --bin DIR")
    }
    let parent = URL(fileURLWithPath: o.dir ?? NSTemporaryDirectory())
    let work = parent.appendingPathComponent("gloss-local-bench-\(getpid())")
    try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
    defer { if !o.keep { try? FileManager.default.removeItem(at: work) } }
    log("work directory \(work.path)\(o.keep ? " (kept)" : "")")

    let (prepared, daemon) = try Setup.run(o, work: work, gloss: gloss, glossd: glossd)
    // Local commands need no server: it goes before anything is timed.
    daemon.stop()
    let ws = prepared.workspace.path

    // Once, apart: the first `docs` after the clone and the pending edits pays for what later
    // commands reuse (the index of the replica, the rebase of the pending work).
    let first = try Child.run(gloss, ["docs"], in: ws, keepOutput: false)
    log(String(format: "first docs: %.3f s, %.0f MB", first.wallSeconds, Double(first.peakRSS) / 1e6))

    let commands: [Timed] = [
        Timed(name: "status", targetSeconds: 0.100) { _ in ["status"] },
        Timed(name: "docs", targetSeconds: 0.100) { _ in ["docs"] },
        Timed(name: "conflicts", targetSeconds: 0.100) { _ in ["conflicts"] },
        Timed(name: "show DOC", targetSeconds: .nan) { _ in ["show", prepared.document, "--no-pager"] },
        Timed(name: "annotations --doc DOC", targetSeconds: .nan) { _ in
            ["annotations", "--doc", prepared.document, "--no-pager"]
        },
        Timed(name: "span add", targetSeconds: 0.050) { k in ["span", "add"] + prepared.addTargets[k] },
        Timed(name: "span set", targetSeconds: 0.050) { k in ["span", "set", prepared.setTargets[k], "--label", "MISC"] },
        Timed(name: "span rm", targetSeconds: 0.050) { k in ["span", "rm", prepared.removeTargets[k]] },
    ]
    var rows: [Row] = []
    for command in commands {
        var runs: [ChildRun] = []
        for k in 0..<o.runs {
            let run = try Child.run(gloss, command.arguments(k), in: ws, keepOutput: true)
            // `conflicts` exits 1 while conflicts wait: there must be none here.
            guard run.status == 0 else {
                throw BenchError("gloss \(command.arguments(k).joined(separator: " ")) exited \(run.status): \(run.stderr)")
            }
            runs.append(run)
        }
        let row = Row(command: "gloss " + command.name, target: command.targetSeconds, runs)
        log(row.line)
        rows.append(row)
    }

    var git: Row?
    if o.git { git = try GitBaseline.measure(prepared, gloss: gloss, work: work, runs: o.runs) }

    let report = Report(
        options: ReportOptions(o), pending: try pendingCount(ws), figures: prepared.figures,
        firstDocs: RunFigures(first), rows: rows, git: git)
    print(report.table)
    if let path = o.jsonOut {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(report).write(to: URL(fileURLWithPath: path))
        log("wrote \(path)")
    }
}

/// Pending changesets in the workspace, from its directory (the bench's own count, not gloss's).
func pendingCount(_ workspace: String) throws -> Int {
    try FileManager.default.contentsOfDirectory(atPath: workspace + "/.gloss/pending").filter { $0.hasSuffix(".cs") }.count
}

do {
    try main()
} catch {
    log("error: \(error)")
    exit(1)
}
