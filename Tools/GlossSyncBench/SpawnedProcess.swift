import Foundation
import Synchronization

// A child process whose memory and CPU are read from the kernel for it alone: started with
// posix_spawn and reaped with wait4. (Foundation's `Process` reaps its children itself, and
// RUSAGE_CHILDREN is the largest peak of every child waited for so far, the corpus builder's
// among them.)

/// How a spawned process ended, with what wait4 says it used.
struct ProcessExit: Codable, Sendable {
    /// The exit status, or 128 + the signal that ended it.
    var status: Int32
    /// Peak resident set of the process (ru_maxrss).
    var peakRSSBytes: Int
    var cpu: CPUTime
}

/// A process started with every signal unblocked and at its default action (threads of the
/// concurrency pool block every signal and a child inherits the mask: glossd would never see
/// the SIGTERM that drains it), its standard input and output optionally piped to us.
final class SpawnedProcess: Sendable {
    enum Output {
        case inherit
        /// Appended to this file.
        case file(String)
        /// Read by us with `readLine()` / `readToEnd()`.
        case pipe
    }

    let pid: pid_t
    let executable: String
    /// Our end of its standard input, while open.
    private let input: Mutex<Int32?>
    /// Our end of its standard output, and what was read from it but not yet returned.
    private let output: Mutex<(fd: Int32?, buffered: [UInt8])>

    private init(pid: pid_t, executable: String, input: Int32?, output: Int32?) {
        self.pid = pid
        self.executable = executable
        self.input = Mutex(input)
        self.output = Mutex((output, []))
    }

    deinit {
        if let fd = input.withLock({ $0 }) { close(fd) }
        if let fd = output.withLock({ $0.fd }) { close(fd) }
    }

    /// Starts `executable`; `environment` is added to ours.
    static func start(
        _ executable: String, _ arguments: [String], environment: [String: String] = [:], pipeInput: Bool = false,
        stdout: Output = .inherit, stderr: Output = .inherit
    ) throws -> SpawnedProcess {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attributes, &none)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGPIPE)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        // Our ends are close-on-exec; the child's are duplicated onto 0 / 1 (dup2 clears the flag).
        var childEnds: [Int32] = []
        defer { for fd in childEnds { close(fd) } }
        func pipeEnds() throws -> (read: Int32, write: Int32) {
            var fds: [Int32] = [0, 0]
            guard pipe(&fds) == 0 else { throw BenchError("pipe: errno \(errno)") }
            for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
            return (fds[0], fds[1])
        }
        var inputEnd: Int32?
        var outputEnd: Int32?
        if pipeInput {
            let p = try pipeEnds()
            posix_spawn_file_actions_adddup2(&actions, p.read, 0)
            childEnds.append(p.read)
            inputEnd = p.write
        }
        for (fd, kind) in [(Int32(1), stdout), (Int32(2), stderr)] {
            switch kind {
            case .inherit: break
            case .file(let path):
                posix_spawn_file_actions_addopen(&actions, fd, path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
            case .pipe:
                let p = try pipeEnds()
                posix_spawn_file_actions_adddup2(&actions, p.write, fd)
                childEnds.append(p.write)
                if fd == 1 { outputEnd = p.read } else { close(p.read) }
            }
        }

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for p in argv { free(p) } }
        let merged = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let envp = merged.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for p in envp { free(p) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        guard rc == 0 else {
            if let inputEnd { close(inputEnd) }
            if let outputEnd { close(outputEnd) }
            throw BenchError("cannot start \(executable): errno \(rc)")
        }
        return SpawnedProcess(pid: pid, executable: executable, input: inputEnd, output: outputEnd)
    }

    /// Alive and not yet a zombie waiting to be reaped.
    var isRunning: Bool {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return false }
        return !status.contains("State:\tZ")
    }

    func signal(_ signal: Int32) { kill(pid, signal) }

    /// Closes its standard input: a child waiting for end of file goes on.
    func closeInput() {
        input.withLock {
            if let fd = $0 { close(fd) }
            $0 = nil
        }
    }

    /// The next line of its standard output (blocking), or nil at end of file.
    func readLine() -> String? {
        output.withLock { state -> String? in
            guard let fd = state.fd else { return nil }
            var chunk = [UInt8](repeating: 0, count: 4096)
            while true {
                if let newline = state.buffered.firstIndex(of: 0x0A) {
                    let line = String(decoding: state.buffered[..<newline], as: UTF8.self)
                    state.buffered.removeSubrange(...newline)
                    return line
                }
                let n = read(fd, &chunk, chunk.count)
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else {
                    guard !state.buffered.isEmpty else { return nil }
                    defer { state.buffered = [] }
                    return String(decoding: state.buffered, as: UTF8.self)
                }
                state.buffered += chunk[..<n]
            }
        }
    }

    /// The rest of its standard output (blocking until it closes it).
    func readToEnd() -> String {
        var lines: [String] = []
        while let line = readLine() { lines.append(line) }
        return lines.joined(separator: "\n")
    }

    /// Waits for it to end (on a thread of its own) and reaps it.
    func wait() async throws -> ProcessExit {
        let pid = self.pid
        return try await onOwnThread {
            var status: Int32 = 0
            var usage = rusage()
            while wait4(pid, &status, 0, &usage) < 0 {
                guard errno == EINTR else { throw BenchError("wait4 \(pid): errno \(errno)") }
            }
            func s(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
            let signal = status & 0x7F
            return ProcessExit(
                status: signal == 0 ? (status >> 8) & 0xFF : 128 + signal, peakRSSBytes: usage.ru_maxrss * 1024,
                cpu: CPUTime(user: s(usage.ru_utime), system: s(usage.ru_stime)))
        }
    }
}
