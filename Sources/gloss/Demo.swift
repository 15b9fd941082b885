import ArgumentParser
import Foundation
import GlossClient
import GlossModel
import GlossWire

struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "See Gloss work end to end on this machine, in one command.",
        discussion: HelpText.reflow(
            """
            Starts a real glossd on loopback (TLS, a temporary data directory), creates a corpus
            from the sample document, lets two annotators, alice and bob, annotate it at the same
            time in their own workspaces, shows the one real conflict they run into and how it is
            resolved, and ends with both workspaces converged, the annotated document and their
            agreement. Everything is removed afterwards unless you pass --keep.

            Examples:
              gloss demo
              gloss demo --keep
            """))
    @Flag(help: "Keep the temporary directory (server data and both workspaces) to look around.") var keep = false
    @Option(help: "Where to find glossd (default: next to gloss, then PATH).") var glossd: String?
    @Flag(help: .hidden) var printSample = false
    @OptionGroup var output: OutputOptions

    func run() async throws {
        if printSample {
            print(SampleDocument.text, terminator: "")
            return
        }
        output.apply()
        try await Gloss.guarded {
            let root = FileManager.default.temporaryDirectory.appendingPathComponent("gloss-demo-\(UUID().uuidString.prefix(8))")
            try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
            let server = try DemoServer.start(executable: try DemoServer.locate(glossd), data: root.appendingPathComponent("server"))
            defer {
                server.stop()
                if keep {
                    note("\nkept \(root.path): server data in server/, workspaces in alice/ and bob/")
                } else {
                    try? FileManager.default.removeItem(at: root)
                }
            }
            try await DemoScript(root: root, server: server).run()
        }
    }
}

/// The glossd child process of the demo.
final class DemoServer: @unchecked Sendable {
    let process = Process()
    let data: URL
    let port: Int
    let pin: CertificateFingerprint
    let adminToken: String

    static func locate(_ explicit: String?) throws -> URL {
        if let explicit { return URL(fileURLWithPath: explicit) }
        let beside = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
            .appendingPathComponent("glossd")
        if FileManager.default.isExecutableFile(atPath: beside.path) { return beside }
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
            let candidate = URL(fileURLWithPath: String(dir)).appendingPathComponent("glossd")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        throw WorkspaceError(.io, "cannot find glossd next to gloss or on PATH; build it (`swift build`) or pass --glossd PATH")
    }

    static func start(executable: URL, data: URL) throws -> DemoServer { try DemoServer(executable: executable, data: data) }

    private init(executable: URL, data: URL) throws {
        self.data = data
        process.executableURL = executable
        // The demo needs no metrics endpoint, and another glossd may hold its default port.
        process.arguments = ["serve", "--data", data.path, "--listen", "127.0.0.1:0", "--metrics-listen", "off"]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        var text = ""
        let deadline = Date().addingTimeInterval(30)
        while !text.contains("listening on"), Date() < deadline {
            let chunk = out.fileHandleForReading.availableData
            guard !chunk.isEmpty else { break }
            text += String(decoding: chunk, as: UTF8.self)
        }
        guard let pinRange = text.range(of: #"sha256:[0-9a-f]{64}"#, options: .regularExpression),
            let pin = CertificateFingerprint(parsing: String(text[pinRange])),
            let listening = text.range(of: #"listening on [0-9.]+:[0-9]+"#, options: .regularExpression),
            let port = Int(text[listening].split(separator: ":").last ?? "")
        else {
            process.terminate()
            throw WorkspaceError(.io, "glossd did not start: \(text)")
        }
        self.pin = pin
        self.port = port
        adminToken = try String(contentsOf: data.appendingPathComponent("admin.token"), encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A new user's token, from `glossd user add`.
    func addUser(_ name: String) throws -> String {
        let add = Process()
        add.executableURL = process.executableURL
        add.arguments = ["user", "add", name, "--data", data.path]
        let out = Pipe()
        add.standardOutput = out
        add.standardError = FileHandle.nullDevice
        try add.run()
        let token = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        add.waitUntilExit()
        guard add.terminationStatus == 0 else { throw WorkspaceError(.io, "glossd user add \(name) failed") }
        return token.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func connect(token: String) async throws -> ClientConnection {
        try await ClientConnection.connect(.init(host: "127.0.0.1", port: port, trust: .pinned(pin), token: token))
    }

    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }
}
