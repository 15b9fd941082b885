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
    ) async throws -> Result {
        try await run(products.appendingPathComponent("gloss"), args, in: dir, env: env, input: input)
    }

    /// Runs `glossd` with arguments.
    public static func glossd(_ args: [String], in dir: URL, env: [String: String] = [:]) async throws -> Result {
        try await run(products.appendingPathComponent("glossd"), args, in: dir, env: env, input: nil)
    }

    /// Runs another program to its end (openssl, this test bundle), as `gloss` is run.
    public static func tool(
        _ executable: URL, _ args: [String], in dir: URL = FileManager.default.temporaryDirectory,
        env: [String: String] = [:], input: String? = nil
    ) async throws -> Result {
        try await run(executable, args, in: dir, env: env, input: input)
    }

    /// Runs a process to its end. The waiting happens on a thread of its own: a test that held
    /// one of the cooperative pool's threads (two on a 2-core machine) for the life of a child
    /// process would stall every other test's tasks, in-process servers' timeouts included.
    static func run(_ executable: URL, _ args: [String], in dir: URL, env: [String: String], input: String?) async throws
        -> Result
    {
        try await onOwnThread {
            try runBlocking(executable, args, in: dir, env: env, input: input)
        }
    }

    /// Runs `body` on a new thread and resumes with its result, leaving the cooperative pool free.
    public static func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread { continuation.resume(with: Swift.Result { try body() }) }
        }
    }

    /// ``run(_:_:in:env:input:)`` on the calling thread: for synchronous helpers that run a tool
    /// (openssl, curl, sqlite3, script) to its end.
    public static func runBlocking(
        _ executable: URL, _ args: [String], in dir: URL = FileManager.default.temporaryDirectory,
        env: [String: String] = [:], input: String? = nil
    ) throws -> Result {
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
        let stdin = input.map { _ in Pipe() }
        process.standardInput = stdin ?? FileHandle.nullDevice
        try GlossProcesses.launch(process)
        // A stuck child is killed, which ends its output and fails the test by name.
        let watchdog = ChildWatchdog(process, limit: ChildLimits.command)
        defer { watchdog.cancel() }
        if let input, let stdin {
            stdin.fileHandleForWriting.write(Data(input.utf8))
            try stdin.fileHandleForWriting.close()
        }
        // Read both pipes concurrently so that a chatty stderr cannot block the child.
        let errData = LockedData()
        let done = DispatchSemaphore(value: 0)
        let reader = Thread {
            errData.set(err.fileHandleForReading.readDataToEndOfFile())
            done.signal()
        }
        reader.start()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        done.wait()
        // Now, not whenever Foundation lets the process and its pipes go: a suite runs
        // thousands of children, and past a thousand open descriptors Process.run crashes.
        try? out.fileHandleForReading.close()
        try? err.fileHandleForReading.close()
        let result = Result(
            status: process.terminationStatus, out: String(decoding: outData, as: UTF8.self),
            err: String(decoding: errData.value, as: UTF8.self))
        try watchdog.check(output: result.out + result.err)
        return result
    }

    final class LockedData: @unchecked Sendable {
        private let lock = NSLock()
        private var data: Data?
        func set(_ d: Data) { lock.withLock { data = d } }
        var value: Data { lock.withLock { data ?? Data() } }
    }
}

/// A running `glossd serve` on a free loopback port, with its pin and admin token.
public final class GlossDaemon: @unchecked Sendable {
    public let process: Process
    public let port: Int
    public let pin: String
    /// The admin token from the data directory; empty when another node sharing the database
    /// made the admin user (its token is in that node's directory).
    public let adminToken: String
    public let data: URL
    /// The environment it was started with on top of the tests' (a `GLOSSD_STORAGE_URL`):
    /// admin commands get it too.
    public let environment: [String: String]

    /// Everything glossd wrote to standard output up to "listening on".
    public let startupOutput: String
    private let stdout: FileHandle

    /// Starts `glossd serve --data DATA` plus `arguments` (default: `--listen 127.0.0.1:0`).
    public init(data: URL, arguments: [String] = ["--listen", "127.0.0.1:0"], environment: [String: String] = [:])
        async throws
    {
        self.data = data
        self.environment = environment
        let process = Process()
        self.process = process
        process.executableURL = GlossProcesses.products.appendingPathComponent("glossd")
        process.arguments = ["serve", "--data", data.path] + arguments
        // Tests run many servers at once: none takes the default metrics port unless asked to.
        // A loaded machine stretches a handshake: test servers wait generously for one.
        process.environment = ProcessInfo.processInfo.environment
            .merging(["GLOSSD_METRICS_LISTEN": "off", "GLOSSD_LIMITS_HANDSHAKE_TIMEOUT": "2m"]) { $1 }
            .merging(environment) { $1 }
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try GlossProcesses.launch(process)
        let handle = out.fileHandleForReading
        stdout = handle
        // Starting takes a while on a loaded machine: wait off the cooperative pool. A server
        // that never says "listening on" is killed, which ends its output.
        let watchdog = ChildWatchdog(process, limit: ChildLimits.command)
        defer { watchdog.cancel() }
        let text = try await GlossProcesses.onOwnThread {
            var text = ""
            while !text.contains("listening on") {
                let chunk = handle.availableData
                guard !chunk.isEmpty else { break }
                text += String(decoding: chunk, as: UTF8.self)
            }
            return text
        }
        startupOutput = text
        guard let pinRange = text.range(of: #"sha256:[0-9a-f]{64}"#, options: .regularExpression),
            let portRange = text.range(of: #"listening on [0-9.]+:([0-9]+)"#, options: .regularExpression)
        else {
            // Do not leave a half-started server behind.
            nonisolated(unsafe) let process = process
            let status = try await GlossProcesses.onOwnThread {
                process.terminateAndWait()
                return process.terminationStatus
            }
            throw StartFailure(output: text, status: status)
        }
        pin = String(text[pinRange])
        port = Int(text[portRange].split(separator: ":").last!)!
        adminToken =
            (try? String(contentsOf: data.appendingPathComponent("admin.token"), encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
    }

    /// Reads standard output until it contains `needle` (or `seconds` pass); returns what was read.
    public func readOutput(until needle: String, seconds: Double = 60) async -> String {
        let fd = stdout.fileDescriptor
        return (try? await GlossProcesses.onOwnThread {
            var text = ""
            let deadline = Date().addingTimeInterval(seconds)
            var buffer = [UInt8](repeating: 0, count: 4096)
            while !text.contains(needle), Date() < deadline {
                var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                guard poll(&poller, 1, 100) > 0 else { continue }
                let n = read(fd, &buffer, buffer.count)
                guard n > 0 else { break }
                text += String(decoding: buffer[..<n], as: UTF8.self)
            }
            return text
        }) ?? ""
    }

    /// Sends a signal (SIGHUP to reload the certificate).
    public func signal(_ number: Int32) { kill(process.processIdentifier, number) }

    /// glossd exited or said something unexpected before "listening on".
    public struct StartFailure: Error, CustomStringConvertible {
        public var output: String
        public var status: Int32
        public var description: String { "glossd did not start (status \(status)): \(output)" }
    }

    /// `gloss://127.0.0.1:PORT`.
    public var url: String { "gloss://127.0.0.1:\(port)" }

    /// Adds a user and returns their token.
    public func addUser(_ name: String, admin: Bool = false) async throws -> String {
        let result = try await GlossProcesses.glossd(
            ["user", "add", name, "--data", data.path] + (admin ? ["--admin"] : []), in: data.deletingLastPathComponent(),
            env: environment)
        return result.line
    }

    /// SIGTERM, and the exit status once it has drained; -1 if it had not exited within
    /// ``ChildLimits/shutdown`` and was killed.
    public func terminate() async -> Int32 {
        nonisolated(unsafe) let process = self.process
        return (try? await GlossProcesses.onOwnThread {
            process.terminateAndWait() ? process.terminationStatus : -1
        }) ?? -1
    }

    deinit {
        process.terminateAndWait()
    }
}
