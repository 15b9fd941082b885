import Foundation

// The real server process: the release `glossd` built beside this benchmark, serving a data
// directory on a loopback port with the self-signed TLS identity the build made (the same
// fingerprint the in-process server uses), so that its memory is its own and not the harness's.

/// A binary of the package built next to this benchmark (`gloss`, `glossd`).
func siblingBinary(_ name: String) throws -> String {
    let path = URL(fileURLWithPath: selfExecutable()).deletingLastPathComponent().appendingPathComponent(name).path
    guard FileManager.default.isExecutableFile(atPath: path) else {
        throw BenchError(
            "no \(path): build it beside the benchmark: "
                + "swift build -c release --scratch-path .build-syncbench --product gloss-sync-bench --product gloss --product glossd")
    }
    return path
}

final class GlossdProcess: Sendable {
    let process: SpawnedProcess
    let port: Int
    /// The fingerprint glossd printed at start.
    let fingerprint: String
    let dataDirectory: String
    let logPath: String

    private init(process: SpawnedProcess, port: Int, fingerprint: String, dataDirectory: String, logPath: String) {
        self.process = process
        self.port = port
        self.fingerprint = fingerprint
        self.dataDirectory = dataDirectory
        self.logPath = logPath
    }

    var pid: pid_t { process.pid }

    /// Starts `glossd serve` on `dataDirectory`, listening on 127.0.0.1 on a port it picks
    /// (metrics off, warnings and worse logged), and waits until it says where it listens.
    static func start(dataDirectory: String, logPath: String) async throws -> GlossdProcess {
        // A copy of a directory a server ran on carries its pid file.
        try? FileManager.default.removeItem(atPath: dataDirectory + "/glossd.pid")
        let process = try SpawnedProcess.start(
            try siblingBinary("glossd"),
            ["serve", "--data", dataDirectory, "--listen", "127.0.0.1:0", "--log-level", "warning"],
            environment: ["GLOSSD_METRICS_LISTEN": "off"], stdout: .file(logPath), stderr: .file(logPath))
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(120)
        while clock.now < deadline {
            let log = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
            if let port = Self.value(after: "listening on 127.0.0.1:", in: log).flatMap({ Int($0) }),
                let fingerprint = Self.value(after: "certificate fingerprint: ", in: log)
            {
                return GlossdProcess(
                    process: process, port: port, fingerprint: fingerprint, dataDirectory: dataDirectory, logPath: logPath)
            }
            guard process.isRunning else {
                let exit = try await process.wait()
                throw BenchError("glossd exited with \(exit.status) before listening:\n\(log)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        process.signal(SIGKILL)
        _ = try? await process.wait()
        throw BenchError("glossd did not listen within 120 s (log: \(logPath))")
    }

    /// The rest of the first line of `log` that starts with `prefix`.
    private static func value(after prefix: String, in log: String) -> String? {
        log.split(separator: "\n").first { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)) }
    }

    var isRunning: Bool { process.isRunning }

    /// Stops it as an admin would (SIGTERM: a graceful drain) and reaps it.
    func stop() async throws -> ProcessExit {
        process.signal(SIGTERM)
        return try await process.wait()
    }

    /// The last lines glossd wrote (for a report when it fails).
    func logTail(_ lines: Int = 5) -> String {
        let log = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        return log.split(separator: "\n").suffix(lines).joined(separator: "\n")
    }
}
