import Foundation
import GlossModel

// gloss-text-bench: re-anchoring annotations when a document's text is revised.
//
//   swift build -c release --product gloss-text-bench && .build/release/gloss-text-bench
//       [--megabytes 10] [--ranges 100000] [--runs 3] [--seed 1923] [--no-baselines] [--only SCENARIO]
//
// For each scenario (typo fixes, a paragraph in and one out, CRLF → LF, a CoNLL-like
// re-tokenisation, 5 % of the lines rewritten) on a seeded ~10 MB text: the time of
// TextDiff(from:to:) and of mapping 100k annotation ranges through it, beside git diff
// --no-index and GNU diff on the same two texts in the same run, as ratios (the machine is
// noisy). Every moved range is checked to cover the same text, outside the timing.

struct Options {
    var megabytes = 10.0
    var ranges = 100_000
    var runs = 3
    var seed: UInt64 = 1923
    var baselines = true
    var only: String?

    static func parse(_ args: [String]) -> Options {
        var o = Options()
        var i = 0
        func value() -> String {
            i += 1
            guard i < args.count else { fail("\(args[i - 1]) needs a value") }
            return args[i]
        }
        while i < args.count {
            switch args[i] {
            case "--megabytes": o.megabytes = Double(value()) ?? o.megabytes
            case "--ranges": o.ranges = Int(value()) ?? o.ranges
            case "--runs": o.runs = max(1, Int(value()) ?? o.runs)
            case "--seed": o.seed = UInt64(value()) ?? o.seed
            case "--no-baselines": o.baselines = false
            case "--only": o.only = value()
            default: fail("unknown argument \(args[i])")
            }
            i += 1
        }
        return o
    }
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("gloss-text-bench: \(message)\n".utf8))
    exit(2)
}

func log(_ message: String) {
    FileHandle.standardError.write(Data("[text-bench] \(message)\n".utf8))
}

func now() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted[sorted.count / 2]
}

/// Annotation-like ranges over the old text: every k-th word, and every tenth of them
/// stretched over three words.
func sampleRanges(_ scalars: [UInt32], count: Int) -> [TextRange] {
    var words: [TextRange] = []
    var start = -1
    for (i, s) in scalars.enumerated() {
        let blank = s == 0x20 || s == 0x0A || s == 0x0D || s == 0x09
        if blank, start >= 0 {
            words.append(TextRange(start, i))
            start = -1
        } else if !blank, start < 0 {
            start = i
        }
    }
    if start >= 0 { words.append(TextRange(start, scalars.count)) }
    let step = max(1, words.count / count)
    var ranges: [TextRange] = []
    var index = 0
    while index < words.count, ranges.count < count {
        if ranges.count % 10 == 9, index + 2 < words.count {
            ranges.append(TextRange(words[index].start, words[index + 2].end))
        } else {
            ranges.append(words[index])
        }
        index += step
    }
    return ranges
}

/// Wall time of a child process to its end, output discarded. posix_spawn and waitpid rather
/// than Foundation's Process, whose wait polls and rounds every figure up to about 50 ms.
func runChild(_ path: String, _ arguments: [String]) -> Double {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
    let argv = ([path] + arguments).map { strdup($0) } + [nil]
    defer { for p in argv { free(p) } }
    var pid: pid_t = 0
    let start = now()
    guard posix_spawn(&pid, path, &actions, nil, argv, environ) == 0 else { fail("cannot run \(path)") }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0, errno == EINTR {}
    return now() - start
}

struct Row {
    var scenario: Scenario
    var oldMB: Double
    var newMB: Double
    var hunks: Int
    var replaced: Int
    var diffSeconds: Double
    var mapSeconds: Double
    var ranges: Int
    var moved: Int
    var changed: Int
    var vanished: Int
    var gitStat: Double?
    var gitDiff: Double?
    var gnuDiff: Double?
}

let options = Options.parse(Array(CommandLine.arguments.dropFirst()))
let bytes = Int(options.megabytes * 1_000_000)
log("generating texts of \(options.megabytes) MB (seed \(options.seed))")
let scenarios = Scenario.all(bytes: bytes, seed: options.seed)
let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("gloss-text-bench-\(getpid())")
try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(at: scratch) }

var rows: [Row] = []
for scenario in scenarios where options.only == nil || options.only == scenario.name {
    log("\(scenario.name): \(scenario.what)")
    var diffTimes: [Double] = []
    var diff: TextDiff!
    for _ in 0..<options.runs {
        let start = now()
        diff = TextDiff(from: scenario.old, to: scenario.new)
        diffTimes.append(now() - start)
    }
    let oldScalars = scenario.old.unicodeScalars.map(\.value)
    let newScalars = scenario.new.unicodeScalars.map(\.value)
    let ranges = sampleRanges(oldScalars, count: options.ranges)
    var mapTimes: [Double] = []
    var mappings: [TextDiff.RangeMapping] = []
    for _ in 0..<options.runs {
        mappings.removeAll(keepingCapacity: true)
        let start = now()
        for range in ranges { mappings.append(diff.map(range)) }
        mapTimes.append(now() - start)
    }
    var moved = 0
    var changed = 0
    var vanished = 0
    for (range, mapping) in zip(ranges, mappings) {
        switch mapping {
        case .moved(let r):
            guard oldScalars[range.start..<range.end] == newScalars[r.start..<r.end] else {
                fail("\(scenario.name): \(range) moved to \(r), which covers different text")
            }
            moved += 1
        case .changed(let proposal):
            if proposal == nil { vanished += 1 } else { changed += 1 }
        }
    }
    var row = Row(
        scenario: scenario, oldMB: Double(scenario.old.utf8.count) / 1e6, newMB: Double(scenario.new.utf8.count) / 1e6,
        hunks: diff.hunks.count, replaced: diff.hunks.filter { $0.kind == .replace }.count,
        diffSeconds: median(diffTimes), mapSeconds: median(mapTimes), ranges: ranges.count, moved: moved,
        changed: changed, vanished: vanished)
    if options.baselines {
        let oldFile = scratch.appendingPathComponent("old.txt").path
        let newFile = scratch.appendingPathComponent("new.txt").path
        try Data(scenario.old.utf8).write(to: URL(fileURLWithPath: oldFile))
        try Data(scenario.new.utf8).write(to: URL(fileURLWithPath: newFile))
        let git = "/usr/bin/git"
        if FileManager.default.isExecutableFile(atPath: git) {
            row.gitStat = median(
                (0..<options.runs).map { _ in
                    runChild(git, ["diff", "--no-index", "--no-color", "--stat", oldFile, newFile])
                })
            row.gitDiff = median(
                (0..<options.runs).map { _ in runChild(git, ["diff", "--no-index", "--no-color", oldFile, newFile]) })
        }
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/diff") {
            row.gnuDiff = median((0..<options.runs).map { _ in runChild("/usr/bin/diff", [oldFile, newFile]) })
        }
    }
    log(
        String(
            format: "%@: diff %.1f ms, map %.1f ms, %d hunks, moved %d / changed %d / vanished %d", row.scenario.name,
            row.diffSeconds * 1e3, row.mapSeconds * 1e3, row.hunks, moved, changed, vanished))
    rows.append(row)
}

func ms(_ seconds: Double?) -> String { seconds.map { String(format: "%.0f", $0 * 1e3) } ?? "–" }
func ratio(_ a: Double, _ b: Double?) -> String { b.map { String(format: "%.2f", a / $0) } ?? "–" }

var usage = rusage()
getrusage(RUSAGE_SELF.rawValue, &usage)
print(
    "| scenario | old / new MB | hunks (replaced) | TextDiff ms | map \(options.ranges / 1000)k ms | moved / changed / vanished | git diff --stat ms | git diff ms | GNU diff ms | ours ÷ git --stat | ours ÷ GNU diff |"
)
print("|---|---|---|---|---|---|---|---|---|---|---|")
for row in rows {
    let ours = row.diffSeconds + row.mapSeconds
    print(
        "| \(row.scenario.name) | \(String(format: "%.2f / %.2f", row.oldMB, row.newMB)) | \(row.hunks) (\(row.replaced)) | \(ms(row.diffSeconds)) | \(ms(row.mapSeconds)) | \(row.moved) / \(row.changed) / \(row.vanished) | \(ms(row.gitStat)) | \(ms(row.gitDiff)) | \(ms(row.gnuDiff)) | \(ratio(ours, row.gitStat)) | \(ratio(ours, row.gnuDiff)) |"
    )
}
print("\nmedian of \(options.runs) runs; ours = TextDiff + mapping; peak RSS \(usage.ru_maxrss / 1024) MiB")
