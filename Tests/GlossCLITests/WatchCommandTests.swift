import Foundation
import GlossTestSupport
import Testing

/// `gloss watch`: a running process that prints others' revisions as the server announces them.
@Suite(.serialized, .hangGuard, .timeLimit(.minutes(10)))
struct WatchCommandTests {
    /// A `gloss watch` process whose standard output is collected as it arrives.
    final class Watcher: @unchecked Sendable {
        let process = Process()
        private let lock = NSLock()
        private var buffer = ""
        private var errors = ""

        init(_ args: [String], in dir: URL) throws {
            process.executableURL = GlossProcesses.products.appendingPathComponent("gloss")
            process.arguments = ["watch"] + args
            process.currentDirectoryURL = dir
            let out = Pipe(), err = Pipe()
            process.standardOutput = out
            process.standardError = err
            out.fileHandleForReading.readabilityHandler = { [weak self] h in
                let text = String(decoding: h.availableData, as: UTF8.self)
                self?.lock.withLock { self?.buffer += text }
            }
            err.fileHandleForReading.readabilityHandler = { [weak self] h in
                let text = String(decoding: h.availableData, as: UTF8.self)
                self?.lock.withLock { self?.errors += text }
            }
            try GlossProcesses.launch(process)
        }

        var output: String { lock.withLock { buffer } }
        var errorOutput: String { lock.withLock { errors } }

        /// Waits up to `seconds` for a condition on the output.
        func waitFor(_ seconds: Double = 60, _ condition: (String, String) -> Bool) async -> Bool {
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline {
                if condition(output, errorOutput) { return true }
                try? await Task.sleep(for: .milliseconds(20))
            }
            return false
        }

        func stop() {
            process.interrupt()
            if !process.waitUntilExit(orKillAfter: ChildLimits.shutdown) {
                Issue.record("gloss watch did not exit on SIGINT; killed it")
            }
        }
    }

    @Test func watchPrintsOthersRevisionsAndPullAppliesThem() async throws {
        let f = try await CLIFixture("watch")
        try await f.addSample()
        let bob = try await f.annotator("bob")
        let plain = try Watcher(["--json"], in: f.a)
        defer { plain.stop() }
        let pulling = try Watcher(["fed", "--pull"], in: f.a)
        defer { pulling.stop() }
        let other = try Watcher(["other-doc"], in: f.a)
        defer { other.stop() }
        for w in [plain, pulling, other] {
            #expect(await w.waitFor { _, err in err.contains("watching") }, "watch never confirmed: \(w.errorOutput)")
        }

        // The admin's own revision is not announced to the admin.
        try await f.ok(["span", "add", "fed", "1", "4", "DET"])
        try await f.ok(["sync"])
        try await f.ok(["span", "add", "fed", "5", "15", "ORG"], in: bob)
        try await f.ok(["sync"], in: bob)

        #expect(await plain.waitFor { out, _ in out.contains("\"author\":\"bob\"") }, "no notice: \(plain.output) \(plain.errorOutput)")
        let line = try #require(plain.output.split(separator: "\n").first)
        let notice = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
        #expect(notice["revision"] as? Int == 3)
        #expect(notice["documents"] as? [String] == ["fed"])
        #expect(notice["summary"] as? String == "1 op on 1 document")
        #expect(!plain.output.contains("\"author\":\"admin\""))

        #expect(await pulling.waitFor { out, _ in out.contains("r3\tbob") }, "no notice: \(pulling.output)")
        // --pull applied it: the admin's workspace has bob's span without running pull.
        #expect(try await f.ok(["annotations", "--json"]).jsonLines().contains { $0["label"] as? String == "ORG" })
        // A watcher of another document heard nothing.
        #expect(other.output.isEmpty)
    }

    @Test func watchReconnectsWhenTheServerRestarts() async throws {
        let f = try await CLIFixture("watch-restart")
        try await f.addSample()
        let bob = try await f.annotator("bob")
        let watcher = try Watcher([], in: f.a)
        defer { watcher.stop() }
        #expect(await watcher.waitFor { _, err in err.contains("watching") }, "watch never confirmed: \(watcher.errorOutput)")

        // The server stops; the watcher keeps trying instead of exiting.
        let port = f.daemon.port
        #expect(await f.daemon.terminate() == 0)
        #expect(await watcher.waitFor { _, err in err.contains("reconnecting") }, "\(watcher.errorOutput)")
        #expect(watcher.process.isRunning)

        // The same server comes back on the same port; a revision made then is announced.
        let again = try await GlossDaemon(data: f.daemon.data, arguments: ["--listen", "127.0.0.1:\(port)"])
        defer { _ = again }
        #expect(await watcher.waitFor { _, err in err.contains("reconnected") || err.components(separatedBy: "watching").count > 2 }, "\(watcher.errorOutput)")
        try await f.ok(["span", "add", "fed", "5", "15", "ORG"], in: bob)
        try await f.ok(["sync"], in: bob)
        #expect(await watcher.waitFor { out, _ in out.contains("\tbob\t") }, "no notice after the restart: \(watcher.output) \(watcher.errorOutput)")
    }
}
