import Foundation
import GlossTestSupport
import Testing

/// Random command sequences by two annotators against a real glossd, valid ones mixed with
/// refused and invalid ones (labels the schema lacks, offsets past the end, unknown ids, bad
/// resolutions, documents an annotator may not add, a role taken away and given back). After
/// every command `status` works; `sync` always ends in a state `status` explains; and in the
/// end, dropping what the server refused and resolving what conflicts, both workspaces
/// converge with the server.
@Suite(.serialized, .hangGuard, .timeLimit(.minutes(10)))
struct WorkspacePropertyTests {
    static let labels = ["TITLE", "ORG", "PER", "LOC"]

    @Test(arguments: [11, 29] as [UInt64])
    func everyStateHasAWayOut(seed: UInt64) async throws {
        var rng = SplitMix64(seed: seed)
        let f = try await CLIFixture("property-\(seed)", schema: #"{"spanLabels": ["TITLE", "ORG", "PER", "LOC"]}"#)
        try await f.addSample()
        let alice = try await f.annotator("alice"), bob = try await f.annotator("bob")
        let extra = f.directory.url.appendingPathComponent("extra.txt")
        try Data("Another document.".utf8).write(to: extra)
        var log: [String] = []

        for _ in 0..<28 {
            let (name, dir) = rng.chance(50) ? ("alice", alice) : ("bob", bob)
            let ids = try await Self.annotationIDs(f, dir)
            let args: [String]
            var env: [String: String] = [:]
            switch rng.int(below: 12) {
            case 0, 1:
                let start = rng.int(below: 120)
                let end = rng.chance(85) ? start + 1 + rng.int(below: 20) : 99_999
                let label = rng.chance(85) ? rng.pick(Self.labels) : "BOOK"
                args = ["span", "add", "fed", "\(start)", "\(end)", label]
            case 2:
                let id = ids.isEmpty || rng.chance(15) ? "zzzzzz" : rng.pick(ids)
                args = ["span", "set", id, "--label", rng.chance(85) ? rng.pick(Self.labels) : "BOOK"]
            case 3:
                args = ["span", "rm", ids.isEmpty || rng.chance(20) ? "zzzzzz" : rng.pick(ids)]
            case 4:
                args = ["doc", "add", extra.path, "--id", "extra-\(rng.int(below: 1000))"]
            case 5:
                let conflicts = try await f.gloss(["conflicts", "--json"], in: dir).jsonLines().compactMap { $0["id"] as? String }
                let id = conflicts.isEmpty ? "abcdef" : rng.pick(conflicts)
                args = rng.chance(50)
                    ? ["resolve", String(id.prefix(6)), "--value", rng.chance(60) ? rng.pick(Self.labels) : "BOOK"]
                    : ["resolve", String(id.prefix(6)), rng.chance(50) ? "--mine" : "--theirs"]
            case 6:
                let role = rng.pick(["viewer", "annotator", "annotator"])
                args = ["corpus", "grant", f.daemon.url, "news", name, role, "--pin", f.daemon.pin]
                env = f.admin
            case 7:
                let pending = try await f.gloss(["status", "--json"], in: dir).jsonLines().compactMap { $0["number"] as? Int }
                args = ["drop", pending.isEmpty ? "1" : "\(rng.pick(pending))"]
            case 8:
                args = rng.chance(20) ? ["reset"] : ["pull"]
            default:
                args = ["sync"]
            }
            let result = try await f.gloss(args, in: dir, env: env)
            log.append("\(name): gloss \(args.joined(separator: " ")) -> \(result.status) \(result.err.prefix(160))")
            #expect(
                [0, 1, 2, 4, 5, 6].contains(result.status), "unexpected exit: \(log.joined(separator: "\n"))")
            #expect(!result.err.contains(".swift:") && !result.err.contains("Fatal error"), "\(log.joined(separator: "\n"))")

            // status always works, and names anything that holds the workspace back.
            let status = try await f.gloss(["status"], in: dir)
            #expect(status.status == 0 || status.status == 1, "status broke: \(status.err)\n\(log.joined(separator: "\n"))")
            if args == ["sync"], result.status == 4 || result.status == 5 {
                #expect(status.out.contains("refused by the server"), "sync failed without a reason in status:\n\(status.out)")
            }
        }

        if ProcessInfo.processInfo.environment["GLOSS_TEST_LOG"] != nil { print(log.joined(separator: "\n")) }
        // The way out: annotators again, refused work dropped, conflicts resolved; then sync works.
        for (name, dir) in [("alice", alice), ("bob", bob)] {
            try await f.ok(["corpus", "grant", f.daemon.url, "news", name, "annotator", "--pin", f.daemon.pin], env: f.admin)
            for attempt in 0..<4 {
                let sync = try await f.gloss(["sync"], in: dir)
                if sync.status == 0 { break }
                let rows = try await f.gloss(["status", "--json"], in: dir).jsonLines()
                let refused = rows.filter { $0["refusedCode"] != nil }.compactMap { $0["number"] as? Int }
                if !refused.isEmpty { try await f.ok(["drop"] + refused.map(String.init), in: dir) }
                for conflict in rows.filter({ $0["type"] as? String == "conflict" }).compactMap({ $0["id"] as? String }) {
                    try await f.ok(["resolve", conflict, "--theirs"], in: dir)
                }
                #expect(attempt < 3, "sync never worked for \(name): \(sync.err)\n\(log.joined(separator: "\n"))")
            }
            #expect(try await f.ok(["status"], in: dir).out.contains("nothing to push"))
        }
        try await f.ok(["pull"], in: alice)
        try await f.ok(["pull"], in: bob)
        try await f.ok(["pull"])
        let a = try await Self.snapshot(f, alice), b = try await Self.snapshot(f, bob), admin = try await Self.snapshot(f, f.a)
        #expect(a == b && b == admin, "workspaces differ after sync:\n\(log.joined(separator: "\n"))")
    }

    static func annotationIDs(_ f: CLIFixture, _ dir: URL) async throws -> [String] {
        try await f.ok(["annotations", "--json"], in: dir).jsonLines().compactMap { ($0["id"] as? String).map { String($0.prefix(8)) } }
    }

    static func snapshot(_ f: CLIFixture, _ dir: URL) async throws -> [String] {
        try await f.ok(["annotations", "--json"], in: dir).jsonLines().map {
            "\($0["id"] ?? "") \($0["label"] ?? "") \($0["ranges"] ?? "")"
        }.sorted()
    }
}
