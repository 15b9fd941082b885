import Foundation
import GlossTestSupport
import Testing

/// The independent client of Tools/gloss-py, written from Protocol/ alone, against a real
/// glossd: if the specification and the server part ways, this fails (issue 12, point 5).
@Suite(.serialized, .hangGuard, .timeLimit(.minutes(10)))
struct IndependentClientTests {
    static let client = GlossProcesses.repositoryRoot.appendingPathComponent("Tools/gloss-py/glossclient.py")

    /// python3 on the PATH. The suite needs it (`.ci/run` installs it): its absence is a failure
    /// that says so, never a silent skip.
    static func python3() throws -> URL {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        let found = path.split(separator: ":").map { URL(fileURLWithPath: String($0)).appendingPathComponent("python3") }
            .first { FileManager.default.isExecutableFile(atPath: $0.path) }
        return try #require(
            found,
            "python3 is not installed (or not on PATH): the independent client in Tools/gloss-py needs it; `.ci/run` installs it (Debian package python3)"
        )
    }

    /// Runs the Python client with `args` in `dir`, as the admin.
    static func py(_ args: [String], _ f: CLIFixture, in dir: URL) async throws -> GlossProcesses.Result {
        try await GlossProcesses.tool(try python3(), [client.path] + args, in: dir, env: f.admin)
    }

    /// The first JSON object the client printed.
    static func object(_ result: GlossProcesses.Result) throws -> [String: Any] {
        let line = try #require(
            result.out.split(separator: "\n").first, "no output (status \(result.status)): \(result.err)")
        return try #require(
            try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "not JSON: \(line)")
    }

    /// Annotations as canonical JSON texts (sorted keys), by id: the same whichever side wrote them.
    static func canonical(_ objects: [[String: Any]]) throws -> [String: String] {
        var out: [String: String] = [:]
        for object in objects {
            let id = try #require(object["id"] as? String, "an annotation without id: \(object)")
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            out[id] = String(decoding: data, as: UTF8.self)
        }
        return out
    }

    /// What `gloss annotations --json` lists in the admin's workspace, by id.
    static func glossAnnotations(_ f: CLIFixture) async throws -> [String: String] {
        try canonical(try await f.ok(["annotations", "--json", "--no-pager"]).jsonLines())
    }

    @Test func pythonClientFromTheSpecWorksAgainstARealServer() async throws {
        _ = try Self.python3()
        let f = try await CLIFixture("pyclient")
        let work = f.directory.url
        let server = ["--server", f.daemon.url, "--pin", f.daemon.pin]

        // The vectors first: the client's protobuf and framing agree with Protocol/vectors.
        let selftest = try await Self.py(["selftest"], f, in: work)
        #expect(selftest.status == 0, "selftest: \(selftest.out) \(selftest.err)")

        // A document and annotations of every op kind gloss writes: create (with an attribute
        // and a relation), set (label, discontinuous ranges), delete.
        try await f.addSample()
        let det = try await f.ok(["span", "add", "fed", "1", "4", "DET"]).line
        let org = try await f.ok(["span", "add", "fed", "5", "15", "ORG", "--attr", "negated=no"]).line
        let gone = try await f.ok(["span", "add", "fed", "20", "30", "PER"]).line
        try await f.ok(["rel", "add", det, org, "works_for"])
        try await f.ok(["span", "set", org, "--label", "LOC"])
        try await f.ok(["span", "set", det, "--range", "0-3,5-9"])
        try await f.ok(["span", "rm", gone])
        try await f.ok(["sync"])

        // Handshake: TLS with the pin, preface, HELLO/WELCOME, AUTH.
        // Such an older client still clones a corpus without text revisions.
        let oldClone = try Self.object(try await Self.py(["clone"] + server + ["news", "--without", "text-revisions"], f, in: work))
        #expect(oldClone["head_revision"] as? Int != nil, "\(oldClone)")
        let hello = try Self.object(try await Self.py(["handshake"] + server, f, in: work))
        #expect(hello["user"] as? String == "admin")
        #expect(hello["version"] as? Int == 1)
        #expect(hello["capabilities"] as? [String] == ["deflate", "text-revisions"])
        #expect(hello["alpn"] as? String == "gloss/1")
        #expect(hello["pin"] as? String == f.daemon.pin)
        // A wrong pin is refused before anything is sent; a wrong token gets auth-failed.
        let wrongPin = "sha256:" + String(repeating: "0", count: 64)
        let refused = try await Self.py(["handshake", "--server", f.daemon.url, "--pin", wrongPin], f, in: work)
        #expect(refused.status == 3)
        let refusal = try Self.object(refused)
        #expect(refusal["error"] as? String == "pin-mismatch")
        #expect(refusal["actual"] as? String == f.daemon.pin)
        let badToken = try Self.object(try await Self.py(["handshake"] + server + ["--token", "gls_wrong"], f, in: work))
        #expect(badToken["error"] as? String == "auth-failed")

        // Clone: every document rebuilt from the stored deltas equals what gloss shows.
        let state = work.appendingPathComponent("py-replica.json").path
        let cloned = try await Self.py(["clone"] + server + ["news", "--state", state], f, in: work)
        #expect(cloned.status == 0, "clone: \(cloned.out) \(cloned.err)")
        let clone = try Self.object(cloned)
        let head = try #require(clone["head_revision"] as? Int)
        let cloneDocuments = try #require(clone["documents"] as? [[String: Any]])
        let glossDocuments = try await f.ok(["docs", "--json"]).jsonLines()
        #expect(cloneDocuments.map { $0["id"] as? String } == glossDocuments.map { $0["id"] as? String })
        #expect(cloneDocuments.map { $0["digest"] as? String } == glossDocuments.map { $0["digest"] as? String })
        #expect(cloneDocuments.map { $0["length"] as? Int } == glossDocuments.map { $0["length"] as? Int })
        #expect(cloneDocuments.allSatisfy { $0["text_ok"] as? Bool == true }, "texts: \(cloneDocuments)")
        let expected = try await Self.glossAnnotations(f)
        #expect(expected.count == 3)
        #expect(try Self.canonical(try #require(clone["annotations"] as? [[String: Any]])) == expected)

        // Push: a changeset the Python client encodes itself (a new document with its text and
        // two spans, and a span on fed in a second run), accepted as the next revision.
        let textFile = work.appendingPathComponent("alice.txt")
        try Data("Alice met Bob in Zürich.".utf8).write(to: textFile)
        let pushed = try await Self.py(
            ["push"] + server + [
                "news", "--base", String(head), "--message", "from python",
                "--add-document", "py/alice", textFile.path, "--document", "py/alice",
                "--span", "0", "5", "PER", "--span", "17", "23", "LOC", "--attr", "source=py",
            ], f, in: work)
        #expect(pushed.status == 0, "push: \(pushed.out) \(pushed.err)")
        let push = try Self.object(pushed)
        #expect(push["outcome"] as? String == "accepted_revision")
        #expect(push["value"] as? Int == head + 1)
        let created = try #require(push["created"] as? [String])
        let pushedFed = try Self.object(
            try await Self.py(
                ["push"] + server + ["news", "--base", String(head), "--document", "fed", "--span", "40", "45", "ORG"], f,
                in: work))
        #expect(pushedFed["outcome"] as? String == "accepted_revision")
        #expect(pushedFed["value"] as? Int == head + 2)
        let fedSpan = try #require((pushedFed["created"] as? [String])?.first)

        // gloss sees it, as the spec's encoding says.
        try await f.ok(["sync"])
        let afterPush = try await Self.glossAnnotations(f)
        #expect(afterPush.count == 6)
        let alice = try await f.ok(["annotations", "py/alice", "--json", "--no-pager"]).jsonLines()
        #expect(Set(alice.compactMap { $0["id"] as? String }) == Set(created))
        #expect(Set(alice.compactMap { $0["text"] as? String }) == ["Alice", "Zürich"])
        #expect(alice.allSatisfy { ($0["attributes"] as? [String: String]) == ["source": "py"] && $0["author"] as? String == "admin" })
        #expect(afterPush[fedSpan]?.contains(#""label":"ORG""#) == true)

        // Pull: gloss changes more; the replica saved by the clone catches up to the same state.
        try await f.ok(["span", "set", fedSpan, "--label", "PER"])
        try await f.ok(["span", "rm", created[1]])
        // And gives fed a new text: a sentence before it and a word changed inside a span, so
        // that the client re-anchors from the op (spans move, one is flagged) as gloss does.
        let sample = try String(contentsOf: GlossProcesses.sampleDocument, encoding: .utf8)
        var revised = Array(sample.unicodeScalars)
        revised.replaceSubrange(41..<43, with: "XY".unicodeScalars)
        let newText = work.appendingPathComponent("fed-revised.txt")
        try Data(("A note. " + String(String.UnicodeScalarView(revised))).utf8).write(to: newText)
        try await f.ok(["doc", "update", "fed", newText.path])
        try await f.ok(["sync"])
        // A client older than text revisions (no `text-revisions` in HELLO) is refused what it
        // could not read, in words, instead of being sent ops it would fail on.
        for command in [["pull", "--pin", f.daemon.pin, "--state", state], ["clone"] + server + ["news"]] {
            let old = try Self.object(try await Self.py(command + ["--without", "text-revisions"], f, in: work))
            #expect(old["error"] as? String == "upgrade-required", "\(command[0]): \(old)")
            #expect((old["message"] as? String)?.contains("upgrade gloss") == true)
        }
        let pulled = try await Self.py(["pull", "--pin", f.daemon.pin, "--state", state], f, in: work)
        #expect(pulled.status == 0, "pull: \(pulled.out) \(pulled.err)")
        let pull = try Self.object(pulled)
        #expect(pull["since_revision"] as? Int == head)
        let pulledHead = try #require(pull["head_revision"] as? Int)
        #expect(pulledHead >= head + 4)
        let afterPull = try await Self.glossAnnotations(f)
        #expect(afterPull.count == 5)
        #expect(try Self.canonical(try #require(pull["annotations"] as? [[String: Any]])) == afterPull)

        // Subscribe: confirmed first (the interim response), then a push made by gloss arrives
        // as a notification; after it the client cancels and gets the final response.
        let subscriber = try Subscriber(
            try Self.python3(), [Self.client.path, "subscribe"] + server + ["news", "--count", "1", "--timeout", "240"],
            in: work, env: f.admin)
        defer { subscriber.stop() }
        #expect(
            await subscriber.waitFor { $0.contains(#""subscribed": true"#) },
            "never subscribed: \(subscriber.output) \(subscriber.errorOutput)")
        try await f.ok(["span", "add", "fed", "50", "60", "ORG"])
        try await f.ok(["sync"])
        #expect(
            await subscriber.waitFor { $0.contains(#""final": true"#) },
            "no notification: \(subscriber.output) \(subscriber.errorOutput)")
        #expect(await subscriber.exitStatus() == 0, "subscribe: \(subscriber.output) \(subscriber.errorOutput)")
        let lines = try subscriber.output.split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        try #require(lines.count == 3, "subscribe printed: \(subscriber.output)")
        #expect(lines[0]["head_revision"] as? Int == pulledHead)
        let notification = try #require(lines[1]["notification"] as? [String: Any])
        #expect(notification["revision"] as? Int == pulledHead + 1)
        #expect(notification["corpus"] as? String == "news")
        #expect(notification["author"] as? String == "admin")
        #expect(notification["documents"] as? [String] == ["fed"])
        #expect(notification["summary"] as? String == "1 op on 1 document")
        #expect(lines[2]["head_revision"] as? Int == pulledHead + 1)
    }

    /// The Python client's `subscribe`, running while the test pushes; its output collected as it arrives.
    final class Subscriber: @unchecked Sendable {
        let process = Process()
        private let lock = NSLock()
        private var out = ""
        private var err = ""

        init(_ executable: URL, _ args: [String], in dir: URL, env: [String: String]) throws {
            process.executableURL = executable
            process.arguments = args
            process.currentDirectoryURL = dir
            process.environment = ProcessInfo.processInfo.environment.merging(env) { $1 }
            let outPipe = Pipe(), errPipe = Pipe()
            process.standardOutput = outPipe
            process.standardError = errPipe
            process.standardInput = FileHandle.nullDevice
            outPipe.fileHandleForReading.readabilityHandler = { [weak self] h in
                let data = h.availableData
                guard !data.isEmpty else { return h.readabilityHandler = nil }  // end of file
                let text = String(decoding: data, as: UTF8.self)
                self?.lock.withLock { self?.out += text }
            }
            errPipe.fileHandleForReading.readabilityHandler = { [weak self] h in
                let data = h.availableData
                guard !data.isEmpty else { return h.readabilityHandler = nil }  // end of file
                let text = String(decoding: data, as: UTF8.self)
                self?.lock.withLock { self?.err += text }
            }
            try GlossProcesses.launch(process)
        }

        var output: String { lock.withLock { out } }
        var errorOutput: String { lock.withLock { err } }

        /// Waits up to `seconds` for a condition on standard output.
        func waitFor(_ seconds: Double = 240, _ condition: (String) -> Bool) async -> Bool {
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline {
                if condition(output) { return true }
                try? await Task.sleep(for: .milliseconds(50))
            }
            return condition(output)
        }

        /// The exit status once it has ended by itself (-1 if it had to be killed).
        func exitStatus() async -> Int32 {
            nonisolated(unsafe) let process = process
            return (try? await GlossProcesses.onOwnThread {
                process.waitUntilExit(orKillAfter: .seconds(120)) ? process.terminationStatus : -1
            }) ?? -1
        }

        func stop() {
            if process.isRunning { process.terminate() }
            process.waitUntilExit(orKillAfter: ChildLimits.shutdown)
        }
    }
}
