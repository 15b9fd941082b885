import Foundation
import GlossTestSupport
import Testing

/// Drives the built `glossd` and `gloss` binaries as processes, as a user would.
@Suite(.serialized)
struct BinaryEndToEndTests {
    /// The directory holding the built products (next to the test bundle).
    static let products: URL = {
        let candidates = [
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent(),
            URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().appendingPathComponent(".build/debug"),
        ]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.appendingPathComponent("gloss").path) }
            ?? candidates[0]
    }()

    struct Result {
        var status: Int32
        var out: String
        var err: String
    }

    /// Runs `gloss` with arguments in a directory, with extra environment.
    static func gloss(_ args: [String], in dir: URL, env: [String: String] = [:]) throws -> Result {
        let process = Process()
        process.executableURL = products.appendingPathComponent("gloss")
        process.arguments = args
        process.currentDirectoryURL = dir
        process.environment = ProcessInfo.processInfo.environment.merging(env) { $1 }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus, out: String(decoding: outData, as: UTF8.self),
            err: String(decoding: errData, as: UTF8.self))
    }

    /// A running glossd process on a free port.
    final class Daemon {
        let process = Process()
        let port: Int
        let pin: String
        let adminToken: String
        let data: URL

        init(data: URL) throws {
            self.data = data
            process.executableURL = BinaryEndToEndTests.products.appendingPathComponent("glossd")
            process.arguments = ["serve", "--data", data.path, "--listen", "127.0.0.1:0"]
            let out = Pipe()
            process.standardOutput = out
            process.standardError = FileHandle.nullDevice
            try process.run()
            var text = ""
            let handle = out.fileHandleForReading
            while !text.contains("listening on") {
                let chunk = handle.availableData
                guard !chunk.isEmpty else { break }
                text += String(decoding: chunk, as: UTF8.self)
            }
            guard let pinRange = text.range(of: #"sha256:[0-9a-f]{64}"#, options: .regularExpression),
                let portRange = text.range(of: #"listening on [0-9.]+:([0-9]+)"#, options: .regularExpression)
            else { throw CocoaError(.fileReadCorruptFile) }
            pin = String(text[pinRange])
            port = Int(text[portRange].split(separator: ":").last!)!
            adminToken = try String(contentsOf: data.appendingPathComponent("admin.token"), encoding: .utf8)
                .trimmingCharacters(in: .whitespacesAndNewlines)
        }

        var url: String { "gloss://127.0.0.1:\(port)" }

        func addUser(_ name: String) throws -> String {
            let process = Process()
            process.executableURL = BinaryEndToEndTests.products.appendingPathComponent("glossd")
            process.arguments = ["user", "add", name, "--data", data.path]
            let out = Pipe()
            process.standardOutput = out
            process.standardError = FileHandle.nullDevice
            try process.run()
            let token = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            return token.trimmingCharacters(in: .whitespacesAndNewlines)
        }

        /// SIGTERM, and the exit status once it has drained.
        func terminate() -> Int32 {
            process.terminate()
            process.waitUntilExit()
            return process.terminationStatus
        }
    }

    @Test func annotatorsCloneAnnotateConflictResolveAndConverge() throws {
        let dir = try TemporaryDirectory("e2e")
        defer { dir.remove() }
        let daemon = try Daemon(data: dir.url.appendingPathComponent("srv"))
        let admin = ["GLOSS_TOKEN": daemon.adminToken]

        #expect(try Self.gloss(["corpus", "create", daemon.url, "news", "--pin", daemon.pin], in: dir.url, env: admin).status == 0)
        let bob = try daemon.addUser("bob")
        let vic = try daemon.addUser("vic")
        #expect(try Self.gloss(["corpus", "grant", daemon.url, "news", "bob", "annotator", "--pin", daemon.pin], in: dir.url, env: admin).status == 0)
        #expect(try Self.gloss(["corpus", "grant", daemon.url, "news", "vic", "viewer", "--pin", daemon.pin], in: dir.url, env: admin).status == 0)

        // Without a pin and without a terminal, the client refuses and shows the fingerprint.
        let unpinned = try Self.gloss(["clone", "\(daemon.url)/news", "x"], in: dir.url, env: admin)
        #expect(unpinned.status == 3)
        #expect(unpinned.err.contains(daemon.pin))

        let a = dir.url.appendingPathComponent("a"), b = dir.url.appendingPathComponent("b")
        #expect(try Self.gloss(["clone", "\(daemon.url)/news", a.path, "--pin", daemon.pin], in: dir.url, env: admin).status == 0)
        let sample = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Examples/federation-1923.txt")
        #expect(try Self.gloss(["doc", "add", sample.path, "--id", "fed"], in: a).status == 0)
        let added = try Self.gloss(["span", "add", "fed", "1", "35", "TITLE"], in: a)
        #expect(added.status == 0)
        let spanID = added.out.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try Self.gloss(["sync"], in: a).status == 0)

        #expect(try Self.gloss(["clone", "\(daemon.url)/news", b.path, "--pin", daemon.pin, "--token", bob], in: dir.url).status == 0)
        let listed = try Self.gloss(["annotations", "fed"], in: b)
        #expect(listed.out.contains("\"The Federation of Soviet Republics\""))

        // Both relabel the same span; the second to sync has a conflict (exit 1).
        #expect(try Self.gloss(["span", "set", String(spanID.prefix(8)), "--label", "ORG"], in: a).status == 0)
        #expect(try Self.gloss(["sync"], in: a).status == 0)
        #expect(try Self.gloss(["span", "set", String(spanID.prefix(8)), "--label", "EVENT"], in: b).status == 0)
        #expect(try Self.gloss(["sync"], in: b).status == 1)
        let conflicts = try Self.gloss(["conflicts", "--json"], in: b)
        #expect(conflicts.status == 1)
        let conflict = try JSONSerialization.jsonObject(with: Data(conflicts.out.split(separator: "\n")[0].utf8)) as! [String: Any]
        #expect(conflict["kind"] as? String == "field")
        let conflictID = conflict["id"] as! String
        #expect(try Self.gloss(["resolve", String(conflictID.prefix(6)), "--value", "PER"], in: b).status == 0)
        #expect(try Self.gloss(["sync"], in: b).status == 0)
        #expect(try Self.gloss(["pull"], in: a).status == 0)
        let left = try Self.gloss(["annotations", "--json"], in: a).out
        let right = try Self.gloss(["annotations", "--json"], in: b).out
        #expect(left == right)
        #expect(left.contains("\"label\":\"PER\""))

        // A viewer's push is refused with the auth/permission exit code.
        let v = dir.url.appendingPathComponent("v")
        #expect(try Self.gloss(["clone", "\(daemon.url)/news", v.path, "--pin", daemon.pin, "--token", vic], in: dir.url).status == 0)
        #expect(try Self.gloss(["span", "add", "fed", "40", "50", "X"], in: v).status == 0)
        let refused = try Self.gloss(["push"], in: v)
        #expect(refused.status == 4)
        #expect(refused.err.contains("viewer"))

        // A wrong pin is refused loudly.
        let wrong = try Self.gloss(["clone", "\(daemon.url)/news", "w", "--pin", "sha256:" + String(repeating: "0", count: 64)], in: dir.url, env: admin)
        #expect(wrong.status == 3)
        #expect(wrong.err.contains("CERTIFICATE HAS CHANGED"))

        #expect(daemon.terminate() == 0)
    }
}
