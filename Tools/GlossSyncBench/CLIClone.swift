import Foundation

// `gloss clone` as users run it: the release CLI built beside this benchmark, a process of its
// own, timed from start to exit, its peak memory (VmHWM, sampled), the bytes on the
// loopback interface while it ran, and what it left on disk.

struct CLICloneResult: Codable {
    var corpus: String
    /// From starting the process to reaping it.
    var seconds: Double
    var exit: ProcessExit
    /// Its memory sampled while it ran: when it peaked, and how much of it was heap and how
    /// much mapped files.
    var sampled: MemoryReading
    /// Its peak: the largest VmHWM sampled. Not wait4's ru_maxrss, which for a process spawned
    /// from this (large) benchmark is the benchmark's resident set at the spawn.
    var peakBytes: Int { sampled.maxVmHWMSampledBytes ?? exit.peakRSSBytes }
    /// Loopback bytes (one direction counted) while it ran.
    var loopbackBytes: Int?
    /// The workspace it made (replica, configuration, token, derived files).
    var workspaceBytes: Int
    /// What the CLI printed last (its summary, or its error).
    var lastLine: String
}

enum CLIClone {
    /// Clones `corpus` from the server on `port` into `into` as `reader`, pinned to the setup's
    /// fingerprint. `home` keeps the CLI's per-user files out of the user's.
    static func run(port: Int, setup: Setup, corpus: String, into: String, home: String) async throws -> CLICloneResult {
        let gloss = try siblingBinary("gloss")
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        let output = into + ".log"
        let clock = ContinuousClock()
        let lo0 = loopbackBytes()
        let t0 = clock.now
        let process = try SpawnedProcess.start(
            gloss,
            [
                "clone", "gloss://127.0.0.1:\(port)/\(corpus)", into, "--pin", setup.fingerprint, "--token",
                try setup.token(Setup.reader),
            ], environment: ["HOME": home, "NO_COLOR": "1"], stdout: .file(output), stderr: .file(output))
        let sampler = MemorySampler(pid: process.pid)
        let exit = try await process.wait()
        let elapsed = seconds(clock.now - t0)
        let sampled = sampler.stop()
        let lo = loopbackBytes().flatMap { a in lo0.map { a - $0 } }
        let printed = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
        let last = printed.split(separator: "\n").last.map(String.init) ?? ""
        guard exit.status == 0 else { throw BenchError("gloss clone \(corpus) exited with \(exit.status): \(last)") }
        return CLICloneResult(
            corpus: corpus, seconds: elapsed, exit: exit, sampled: sampled, loopbackBytes: lo, workspaceBytes: directoryBytes(into),
            lastLine: last)
    }
}
