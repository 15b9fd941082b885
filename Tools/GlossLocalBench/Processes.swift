import Foundation

// Child processes as users run them: spawned and waited for with wait4, so that each run's CPU
// time is the child's own. Its peak resident set comes from /usr/bin/time: glibc spawns with
// vfork, and exec then counts the spawning process's resident set (this bench's, tens of MB)
// into the child's ru_maxrss, so that a small command would read as large as the bench. time
// forks from a process of a megabyte or two, which keeps that floor below anything measured.

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ message: String) { description = message }
}

func log(_ message: String) {
    FileHandle.standardError.write(Data(("[local-bench] " + message + "\n").utf8))
}

/// What one finished child cost.
struct ChildRun: Codable {
    var status: Int32
    var wallSeconds: Double
    var cpuSeconds: Double
    /// Peak resident set of the child, bytes.
    var peakRSS: Int
    var stdout: String
    var stderr: String
}

enum Child {
    /// Runs `executable` with `arguments` in `directory` to its end. Standard output and error go
    /// to files (read back afterwards), so that a chatty command never blocks on a pipe and the
    /// measurement includes writing its output as a user's terminal or pipe would take it.
    static func run(
        _ executable: String, _ arguments: [String], in directory: String, environment: [String: String] = [:],
        keepOutput: Bool = true
    ) throws -> ChildRun {
        let scratch = NSTemporaryDirectory() + "local-bench-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
        let outPath = scratch + ".out", errPath = scratch + ".err", rssPath = scratch + ".rss"
        defer {
            unlink(outPath)
            unlink(errPath)
            unlink(rssPath)
        }
        let command = timeTool.map { [$0, "-f", "%M", "-o", rssPath, executable] } ?? [executable]
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)

        var env = ProcessInfo.processInfo.environment
        env["NO_COLOR"] = "1"
        env.merge(environment) { $1 }
        let argv = (command + arguments).map { strdup($0) } + [nil]
        let envp = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for p in argv { free(p) }
            for p in envp { free(p) }
        }
        // The child starts in `directory`: this process moves there for the spawn (Glibc's
        // posix_spawn_file_actions_addchdir_np is not visible to Swift; the bench is one thread).
        let previous = FileManager.default.currentDirectoryPath
        guard chdir(directory) == 0 else { throw BenchError("cannot enter \(directory)") }
        defer { _ = chdir(previous) }
        let start = ContinuousClock.now
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, command[0], &actions, nil, argv, envp)
        guard spawned == 0 else { throw BenchError("cannot start \(command[0]): \(String(cString: strerror(spawned)))") }
        var status: Int32 = 0
        var usage = rusage()
        while wait4(pid, &status, 0, &usage) < 0 {
            guard errno == EINTR else { throw BenchError("wait4: \(String(cString: strerror(errno)))") }
        }
        let wall = ContinuousClock.now - start
        func s(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        let exit: Int32 = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        let read = { (path: String) in keepOutput ? ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "") : "" }
        // time writes the figure on the last line of its file, after any note of a failed child.
        let timed = (try? String(contentsOfFile: rssPath, encoding: .utf8))?
            .split(separator: "\n").last.flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        return ChildRun(
            status: exit, wallSeconds: seconds(wall), cpuSeconds: s(usage.ru_utime) + s(usage.ru_stime),
            peakRSS: (timed ?? usage.ru_maxrss) * 1024, stdout: read(outPath), stderr: keepOutput ? read(errPath) : "")
    }

    /// GNU time, when installed, for the peak resident set (see the top of this file).
    static let timeTool: String? = FileManager.default.isExecutableFile(atPath: "/usr/bin/time") ? "/usr/bin/time" : nil

    /// Runs a command that must succeed (exit 0); returns its standard output.
    @discardableResult
    static func ok(_ executable: String, _ arguments: [String], in directory: String, environment: [String: String] = [:])
        throws -> String
    {
        let run = try run(executable, arguments, in: directory, environment: environment)
        guard run.status == 0 else {
            throw BenchError(
                "\(URL(fileURLWithPath: executable).lastPathComponent) \(arguments.joined(separator: " ")) exited \(run.status): \(run.stderr)")
        }
        return run.stdout
    }
}

/// A `glossd serve` on a free loopback port.
final class Daemon {
    let process: Process
    let port: Int
    let pin: String
    let adminToken: String

    init(glossd: String, data: URL) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: glossd)
        process.arguments = ["serve", "--data", data.path, "--listen", "127.0.0.1:0"]
        process.environment = ProcessInfo.processInfo.environment.merging(["GLOSSD_METRICS_LISTEN": "off"]) { $1 }
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        self.process = process
        var text = ""
        while !text.contains("listening on") {
            let chunk = out.fileHandleForReading.availableData
            guard !chunk.isEmpty else { break }
            text += String(decoding: chunk, as: UTF8.self)
        }
        guard let pinRange = text.range(of: #"sha256:[0-9a-f]{64}"#, options: .regularExpression),
            let portRange = text.range(of: #"listening on [0-9.]+:([0-9]+)"#, options: .regularExpression),
            let port = Int(text[portRange].split(separator: ":").last ?? "")
        else {
            if process.isRunning { process.terminate() }
            throw BenchError("glossd did not start: \(text)")
        }
        self.port = port
        pin = String(text[pinRange])
        adminToken = try String(contentsOf: data.appendingPathComponent("admin.token"), encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    var url: String { "gloss://127.0.0.1:\(port)" }

    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }

    deinit { stop() }
}

func seconds(_ d: Duration) -> Double {
    Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
}

func median(_ values: [Double]) -> Double {
    let s = values.sorted()
    guard !s.isEmpty else { return .nan }
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}
