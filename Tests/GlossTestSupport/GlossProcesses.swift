import Foundation

/// The built `gloss` and `glossd` binaries, run as processes the way a user runs them.
public enum GlossProcesses {
    /// The directory holding the built products (next to the test bundle).
    public static let products: URL = {
        let candidates = [
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent(),
            repositoryRoot.appendingPathComponent(".build/debug"),
        ]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.appendingPathComponent("gloss").path) }
            ?? candidates[0]
    }()

    /// The package's root directory.
    public static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// The sample document shipped in Examples/.
    public static var sampleDocument: URL { repositoryRoot.appendingPathComponent("Examples/federation-1923.txt") }

    /// What a finished process left.
    public struct Result: Sendable {
        public var status: Int32
        public var out: String
        public var err: String

        /// Standard output without the trailing newline.
        public var line: String { out.trimmingCharacters(in: .whitespacesAndNewlines) }

        /// Standard output as JSON Lines.
        public func jsonLines() throws -> [[String: Any]] {
            try out.split(separator: "\n").map {
                guard let object = try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] else {
                    throw CocoaError(.propertyListReadCorrupt)
                }
                return object
            }
        }
    }

    /// Runs `gloss` with arguments in a directory, with extra environment and optional input.
    public static func gloss(
        _ args: [String], in dir: URL, env: [String: String] = [:], input: String? = nil
    ) throws -> Result {
        try run(products.appendingPathComponent("gloss"), args, in: dir, env: env, input: input)
    }

    /// Runs `glossd` with arguments.
    public static func glossd(_ args: [String], in dir: URL, env: [String: String] = [:]) throws -> Result {
        try run(products.appendingPathComponent("glossd"), args, in: dir, env: env, input: nil)
    }

    static func run(_ executable: URL, _ args: [String], in dir: URL, env: [String: String], input: String?) throws
        -> Result
    {
        let process = Process()
        process.executableURL = executable
        process.arguments = args
        process.currentDirectoryURL = dir
        // Tests see what a script sees: no colours, whatever terminal runs the suite.
        var environment = ProcessInfo.processInfo.environment
        environment["NO_COLOR"] = "1"
        process.environment = environment.merging(env) { $1 }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        let stdin = Pipe()
        process.standardInput = input == nil ? FileHandle.nullDevice : stdin
        try process.run()
        if let input {
            stdin.fileHandleForWriting.write(Data(input.utf8))
            try stdin.fileHandleForWriting.close()
        }
        // Read both pipes concurrently so that a chatty stderr cannot block the child.
        let errData = LockedData()
        let reader = Thread { errData.set(err.fileHandleForReading.readDataToEndOfFile()) }
        reader.start()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        while !errData.isSet { usleep(1000) }
        return Result(
            status: process.terminationStatus, out: String(decoding: outData, as: UTF8.self),
            err: String(decoding: errData.value, as: UTF8.self))
    }

    final class LockedData: @unchecked Sendable {
        private let lock = NSLock()
        private var data: Data?
        func set(_ d: Data) { lock.withLock { data = d } }
        var isSet: Bool { lock.withLock { data != nil } }
        var value: Data { lock.withLock { data ?? Data() } }
    }
}

/// A running `glossd serve` on a free loopback port, with its pin and admin token.
public final class GlossDaemon: @unchecked Sendable {
    public let process = Process()
    public let port: Int
    public let pin: String
    public let adminToken: String
    public let data: URL

    public init(data: URL) throws {
        self.data = data
        process.executableURL = GlossProcesses.products.appendingPathComponent("glossd")
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

    /// `gloss://127.0.0.1:PORT`.
    public var url: String { "gloss://127.0.0.1:\(port)" }

    /// Adds a user and returns their token.
    public func addUser(_ name: String, admin: Bool = false) throws -> String {
        let result = try GlossProcesses.glossd(
            ["user", "add", name, "--data", data.path] + (admin ? ["--admin"] : []), in: data.deletingLastPathComponent())
        return result.line
    }

    /// SIGTERM, and the exit status once it has drained.
    public func terminate() -> Int32 {
        process.terminate()
        process.waitUntilExit()
        return process.terminationStatus
    }

    deinit {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }
}
