import Foundation
import GlossTestSupport
import Testing

/// `gloss clone` is all or nothing: a clone that fails (no such corpus, the server dies) or
/// is interrupted (Ctrl-C, `kill -9`) leaves no workspace, so the same command run again
/// simply works. Before, each of these left a `.gloss` at "revision 0" that `sync` called
/// corrupt and a second clone refused.
@Suite struct CloneAtomicityTests {
    @Test func aCorpusThatDoesNotExistLeavesNothing() async throws {
        let f = try await CLIFixture("clone-missing")
        // Into a directory the clone would create, named or by default (the corpus name).
        let named = f.directory.url.appendingPathComponent("w")
        let missing = try await GlossProcesses.gloss(
            ["clone", "\(f.daemon.url)/nope", named.path, "--pin", f.daemon.pin], in: f.directory.url, env: f.admin)
        // Refused as access is (not-found: exit 4; names do not leak), naming the corpus.
        #expect(missing.status == 4, "\(missing.err)")
        #expect(missing.err.contains("\"nope\""), "\(missing.err)")
        #expect(!FileManager.default.fileExists(atPath: named.path))
        let byDefault = try await GlossProcesses.gloss(
            ["clone", "\(f.daemon.url)/nope", "--pin", f.daemon.pin], in: f.directory.url, env: f.admin)
        #expect(byDefault.status == 4, "\(byDefault.err)")
        #expect(!FileManager.default.fileExists(atPath: f.directory.path("nope")))
        // An empty directory that was there before stays, empty.
        let empty = f.directory.url.appendingPathComponent("empty")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: false)
        let intoEmpty = try await GlossProcesses.gloss(
            ["clone", "\(f.daemon.url)/nope", empty.path, "--pin", f.daemon.pin], in: f.directory.url, env: f.admin)
        #expect(intoEmpty.status == 4)
        #expect(try FileManager.default.contentsOfDirectory(atPath: empty.path) == [])
        // The same directory takes the clone of a corpus that exists.
        try await f.ok(["clone", "\(f.daemon.url)/news", empty.path, "--pin", f.daemon.pin], in: f.directory.url, env: f.admin)
        try await f.ok(["status"], in: empty)
        // A directory with something in it is refused as git refuses it, and left as it was.
        let full = try await GlossProcesses.gloss(
            ["clone", "\(f.daemon.url)/news", f.a.path, "--pin", f.daemon.pin], in: f.directory.url, env: f.admin)
        #expect(full.status == 6)
        #expect(full.err.contains("destination path '\(f.a.path)' already exists and is not an empty directory"), "\(full.err)")
        try await f.ok(["status"])
    }

    /// Interrupts clones of a corpus big enough to take a few seconds at moments chosen by
    /// what has appeared in the staging directory (never by sleeping), then runs the same
    /// command again; last, kills the server in the middle of a clone and restarts it.
    @Test(.timeLimit(.minutes(10))) func interruptedClonesLeaveNoWorkspace() async throws {
        let big = try await BigCorpus()
        defer { big.remove() }

        // A whole clone first: the middle moments are shares of the replica it installs, which
        // grows as the stream's pages land and then as each document's head is written.
        let whole = big.directory.url.appendingPathComponent("whole")
        try await CLIFixture.expectOK(
            GlossProcesses.gloss(big.cloneArguments(into: whole), in: big.directory.url, env: big.admin), ["clone"])
        let size = try #require(
            try FileManager.default.attributesOfItem(atPath: whole.appendingPathComponent(".gloss/replica.sqlite").path)[.size]
                as? Int)
        let points: [(name: String, signal: Int32, when: Staged.Moment)] = [
            ("int-start", SIGINT, .stagingCreated),
            ("int-middle", SIGINT, .replicaWritten(bytes: size * 3 / 10)),
            ("kill-start", SIGKILL, .replicaCreated),
            ("kill-middle", SIGKILL, .replicaWritten(bytes: size * 6 / 10)),
        ]
        var interrupted = 0
        for point in points {
            let target = big.directory.url.appendingPathComponent(point.name)
            let args = big.cloneArguments(into: target)
            let clone = try RunningGloss(args, in: big.directory.url, env: big.admin)
            let reached = await Staged.wait(for: point.when, in: target, while: clone)
            if reached { clone.signal(point.signal) }
            let end = try await clone.finish()
            let leftover = Staged.workspaceExists(target)
            if end.status == 0 && !end.signalled {
                // It finished before the signal landed: then it must be a whole workspace.
                #expect(leftover, "\(point.name): exit 0 without a workspace")
            } else {
                interrupted += 1
                #expect(!leftover, "\(point.name): an interrupted clone left .gloss: \(Staged.listing(target))")
                if point.signal == SIGINT {
                    // Ctrl-C cleans up, then exits as a shell reports an interrupted process.
                    #expect(end.status == 130 && !end.signalled, "\(point.name): \(end.status) \(end.err)")
                    #expect(!FileManager.default.fileExists(atPath: target.path), "\(point.name): \(Staged.listing(target))")
                } else if FileManager.default.fileExists(atPath: target.path) {
                    // kill -9 cannot clean up: what it leaves is not a workspace, only staging.
                    let names = try FileManager.default.contentsOfDirectory(atPath: target.path)
                    #expect(names.allSatisfy { $0.hasPrefix(".gloss-clone-partial-") }, "\(point.name): \(names)")
                    let status = try await GlossProcesses.gloss(["status"], in: target, env: big.admin)
                    #expect(status.status == 6 && status.err.contains("not inside a Gloss workspace"), "\(status.err)")
                }
                // The same command again simply works, whatever the killed clone left.
                let again = try await GlossProcesses.gloss(args, in: big.directory.url, env: big.admin)
                #expect(again.status == 0, "\(point.name): the second clone failed: \(again.err)")
            }
            try await big.expectComplete(target, point.name)
            try? FileManager.default.removeItem(at: target)
        }
        // Every moment is seconds before the clone's end: a clone that finished first means the
        // corpus has become too small to test anything.
        #expect(interrupted == points.count, "only \(interrupted) of \(points.count) clones were interrupted")

        // The server dies while the clone streams: no workspace, exit 3, the address named.
        var serverKills = 0
        for attempt in 1...3 {
            let target = big.directory.url.appendingPathComponent("server-\(attempt)")
            let clone = try RunningGloss(big.cloneArguments(into: target), in: big.directory.url, env: big.admin)
            // The clone request goes out right after the replica file is created: the server
            // cannot have streamed the corpus yet.
            let reached = await Staged.wait(for: .replicaCreated, in: target, while: clone)
            if reached { try await big.killServer() }
            let end = try await clone.finish()
            if end.status == 0 {
                try await big.expectComplete(target, "server-\(attempt)")  // it won the race: whole
            } else {
                serverKills += 1
                #expect(end.status == 3, "\(end.err)")
                #expect(end.err.contains(big.address), "the server is named: \(end.err)")
                ConnectionErrorTests.expectPlain(end.err)
                #expect(!FileManager.default.fileExists(atPath: target.path), "\(Staged.listing(target))")
            }
            // The restarted server (on another port) takes the same clone.
            try await big.restartServer()
            let again = try await GlossProcesses.gloss(big.cloneArguments(into: target), in: big.directory.url, env: big.admin)
            if end.status != 0 { #expect(again.status == 0, "\(again.err)") }
            try await big.expectComplete(target, "server-\(attempt) again")
            if serverKills > 0 { break }
        }
        #expect(serverKills > 0, "the clone always finished before the server was killed")
    }
}

/// A server whose corpus `big` holds tens of thousands of annotations, so that cloning it
/// takes seconds, and what a complete clone of it holds.
final class BigCorpus: @unchecked Sendable {
    let directory: TemporaryDirectory
    let data: URL
    private(set) var daemon: GlossDaemon
    let admin: [String: String]
    let documents: Int
    let revision: Int

    /// Documents × spans each: about 40,000 annotations in a few revisions (import commits
    /// 20,000 ops at a time).
    static let shape = (documents: 160, spans: 250)

    init() async throws {
        directory = try TemporaryDirectory("clone-big")
        data = directory.url.appendingPathComponent("srv")
        daemon = try await GlossDaemon(data: data)
        admin = ["GLOSS_TOKEN": daemon.adminToken]
        let owner = directory.url.appendingPathComponent("owner")
        for args in [
            ["corpus", "create", daemon.url, "big", "--pin", daemon.pin],
            ["clone", "\(daemon.url)/big", owner.path, "--pin", daemon.pin],
        ] {
            try CLIFixture.expectOK(await GlossProcesses.gloss(args, in: directory.url, env: admin), args)
        }
        let file = directory.url.appendingPathComponent("big.jsonl")
        try Self.doccano(Self.shape.documents, spans: Self.shape.spans).write(to: file)
        for args in [["import", "jsonl", file.path, "--quiet"], ["sync", "--quiet"]] {
            try CLIFixture.expectOK(await GlossProcesses.gloss(args, in: owner, env: admin), args)
        }
        let status = try await GlossProcesses.gloss(["status", "--json"], in: owner, env: admin)
        let first = try #require(try status.jsonLines().first)
        documents = try #require(first["documents"] as? Int)
        revision = try #require(first["revision"] as? Int)
        #expect(documents == Self.shape.documents)
    }

    /// doccano JSONL: documents of words, each word of the first `spans` a span.
    static func doccano(_ count: Int, spans: Int) -> Data {
        var generator = SplitMix64(seed: 7)
        let words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "theta", "kappa", "lambda", "omicron"]
        var lines = ""
        for d in 0..<count {
            var text = ""
            var labels: [String] = []
            for w in 0..<(spans + 50) {
                let word = generator.pick(words)
                if w > 0 { text += " " }
                if w < spans { labels.append("[\(text.unicodeScalars.count),\(text.unicodeScalars.count + word.count),\"L\(word.count % 3)\"]") }
                text += word
            }
            lines += "{\"id\":\"doc\(d)\",\"text\":\"\(text)\",\"label\":[\(labels.joined(separator: ","))]}\n"
        }
        return Data(lines.utf8)
    }

    var address: String { "127.0.0.1:\(daemon.port)" }

    func cloneArguments(into target: URL) -> [String] {
        ["clone", "\(daemon.url)/big", target.path, "--pin", daemon.pin]
    }

    /// SIGKILL: the server vanishes without a word, as when its machine dies.
    func killServer() async throws {
        kill(daemon.process.processIdentifier, SIGKILL)
        let process = daemon.process
        try await GlossProcesses.onOwnThread { try process.waitForExit(within: ChildLimits.shutdown) }
    }

    /// Starts glossd again on the same data directory (it listens on a new port).
    func restartServer() async throws {
        if daemon.process.isRunning { _ = await daemon.terminate() }
        daemon = try await GlossDaemon(data: data)
    }

    /// The workspace at `target` is whole: status works and shows the corpus's head.
    func expectComplete(_ target: URL, _ name: String, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let status = try await GlossProcesses.gloss(["status", "--json"], in: target, env: admin)
        #expect(status.status == 0, "\(name): status failed: \(status.err)", sourceLocation: sourceLocation)
        guard status.status == 0, let first = try status.jsonLines().first else { return }
        #expect(first["revision"] as? Int == revision, "\(name): \(status.out)", sourceLocation: sourceLocation)
        #expect(first["documents"] as? Int == documents, "\(name): \(status.out)", sourceLocation: sourceLocation)
        #expect(first["pending"] as? Int == 0, "\(name): \(status.out)", sourceLocation: sourceLocation)
    }

    func remove() {
        daemon.process.terminateAndWait()
        directory.remove()
    }
}

/// What a clone has put in its staging directory (`TARGET/.gloss-clone-partial-PID/`).
enum Staged {
    enum Moment {
        /// The staging directory exists (the corpus was found; nothing else is there yet).
        case stagingCreated
        /// The replica being installed exists: the clone request is about to go out.
        case replicaCreated
        /// The replica being installed holds at least this many bytes.
        case replicaWritten(bytes: Int)
    }

    /// The replica a clone installs, in the staging directory until the workspace is made.
    static let installing = "replica.installing"

    static func stagingDirectories(_ target: URL) -> [URL] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: target.path)) ?? []
        return names.filter { $0.hasPrefix(".gloss-clone-partial-") }.map { target.appendingPathComponent($0) }
    }

    static func reached(_ moment: Moment, in target: URL) -> Bool {
        let staging = stagingDirectories(target)
        switch moment {
        case .stagingCreated:
            return !staging.isEmpty
        case .replicaCreated:
            return staging.contains { FileManager.default.fileExists(atPath: $0.appendingPathComponent(installing).path) }
        case .replicaWritten(let bytes):
            return staging.contains { root in
                let size = try? FileManager.default.attributesOfItem(atPath: root.appendingPathComponent(installing).path)[.size]
                return (size as? Int ?? 0) >= bytes
            }
        }
    }

    /// Polls until `moment` (true), or until the process ends or a minute passes (false).
    static func wait(for moment: Moment, in target: URL, while process: RunningGloss) async -> Bool {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline && process.isRunning {
            if reached(moment, in: target) { return true }
            try? await Task.sleep(for: .milliseconds(2))
        }
        return false
    }

    /// A finished workspace: `TARGET/.gloss`.
    static func workspaceExists(_ target: URL) -> Bool {
        FileManager.default.fileExists(atPath: target.appendingPathComponent(".gloss").path)
    }

    /// Everything under `target`, for failure messages.
    static func listing(_ target: URL) -> [String] {
        let walker = FileManager.default.enumerator(atPath: target.path)
        return (walker?.allObjects as? [String]) ?? []
    }
}

/// A `gloss` process run in the background, to be signalled before it ends.
final class RunningGloss: @unchecked Sendable {
    let process = Process()
    private let errors = Pipe()
    private let collected = Collected()

    /// Standard error, read to its end on a thread of its own so that the child never blocks.
    private final class Collected: @unchecked Sendable {
        let lock = NSLock()
        var data = Data()
        let done = DispatchSemaphore(value: 0)
    }

    init(_ args: [String], in dir: URL, env: [String: String]) throws {
        process.executableURL = GlossProcesses.products.appendingPathComponent("gloss")
        process.arguments = args
        process.currentDirectoryURL = dir
        process.environment = ProcessInfo.processInfo.environment.merging(["NO_COLOR": "1"]) { $1 }.merging(env) { $1 }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = errors
        process.standardInput = FileHandle.nullDevice
        try GlossProcesses.launch(process)
        let (handle, collected) = (errors.fileHandleForReading, collected)
        Thread.detachNewThread {
            let data = handle.readDataToEndOfFile()
            collected.lock.withLock { collected.data = data }
            collected.done.signal()
        }
    }

    var isRunning: Bool { process.isRunning }

    func signal(_ number: Int32) { kill(process.processIdentifier, number) }

    /// Waits (off the cooperative pool) for the exit and the whole of standard error.
    func finish() async throws -> (status: Int32, signalled: Bool, err: String) {
        let (process, collected) = (self.process, self.collected)
        return try await GlossProcesses.onOwnThread {
            try process.waitForExit(within: ChildLimits.command)
            collected.done.wait()
            let err = collected.lock.withLock { String(decoding: collected.data, as: UTF8.self) }
            return (process.terminationStatus, process.terminationReason == .uncaughtSignal, err)
        }
    }
}
