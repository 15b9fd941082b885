import GlossBenchCorpus
import Foundation
import Synchronization

// Clocks, statistics and what /proc says about this process: the measuring tools every
// phase shares.

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ message: String) { description = message }
}

func log(_ message: String) {
    let role = Role.current.map { "[sync-bench \($0)] " } ?? "[sync-bench] "
    FileHandle.standardError.write(Data((role + message + "\n").utf8))
}

func seconds(_ d: Duration) -> Double {
    Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
}

func median(_ values: [Double]) -> Double {
    let s = values.sorted()
    guard !s.isEmpty else { return .nan }
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

/// Nearest-rank percentile (p in 0...1).
func percentile(_ values: [Double], _ p: Double) -> Double {
    let s = values.sorted()
    guard !s.isEmpty else { return .nan }
    let rank = Int((p * Double(s.count)).rounded(.up))
    return s[min(s.count - 1, max(0, rank - 1))]
}

func rate(_ count: Int, _ seconds: Double) -> Double { seconds > 0 ? Double(count) / seconds : 0 }

/// Latency distribution in milliseconds.
struct Latency: Codable {
    var count: Int
    var meanMs: Double
    var p50Ms: Double
    var p90Ms: Double
    var p99Ms: Double
    var maxMs: Double

    init(_ ms: [Double]) {
        count = ms.count
        meanMs = ms.isEmpty ? .nan : ms.reduce(0, +) / Double(ms.count)
        p50Ms = percentile(ms, 0.50)
        p90Ms = percentile(ms, 0.90)
        p99Ms = percentile(ms, 0.99)
        maxMs = ms.max() ?? .nan
    }
}

// MARK: - This process

/// A field of /proc/self/status (or of another process's, by pid) in bytes (VmHWM: peak
/// resident set; VmRSS: now).
func procStatus(_ field: String, pid: pid_t? = nil) -> Int? {
    let path = "/proc/\(pid.map(String.init) ?? "self")/status"
    guard let status = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
    for line in status.split(separator: "\n") where line.hasPrefix(field + ":") {
        let parts = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
        if parts.count >= 2, let kb = Int(parts[1]) { return kb * 1024 }
    }
    return nil
}

/// Every size field (in kB) of /proc/PID/status, in bytes, from one read.
func procStatusFields(pid: pid_t) -> [String: Int] {
    guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return [:] }
    var fields: [String: Int] = [:]
    for line in status.split(separator: "\n") where line.hasSuffix(" kB") {
        let parts = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == ":" })
        if parts.count >= 3, let kb = Int(parts[1]) { fields[String(parts[0])] = kb * 1024 }
    }
    return fields
}

/// Resets VmHWM to the current RSS (Linux ≥ 4.0: `echo 5 > /proc/self/clear_refs`; another
/// process's by pid), so the next reading is the peak of one phase. Returns false when the
/// kernel refuses.
@discardableResult
func resetPeakMemory(pid: pid_t? = nil) -> Bool {
    let path = "/proc/\(pid.map(String.init) ?? "self")/clear_refs"
    guard let handle = FileHandle(forWritingAtPath: path) else { return false }
    defer { try? handle.close() }
    do {
        try handle.write(contentsOf: Data("5".utf8))
        return true
    } catch {
        return false
    }
}

/// CPU seconds this process has used (all threads), user and system.
struct CPUTime: Codable {
    var user: Double
    var system: Double
    var total: Double { user + system }

    static func now() -> CPUTime {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        func s(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        return CPUTime(user: s(usage.ru_utime), system: s(usage.ru_stime))
    }

    static func - (a: CPUTime, b: CPUTime) -> CPUTime { CPUTime(user: a.user - b.user, system: a.system - b.system) }
}

/// Bytes received on the loopback interface so far (every byte on `lo` is counted once as
/// sent and once as received: this is the traffic, TCP/IP headers included, of every process).
func loopbackBytes() -> Int? {
    guard let text = try? String(contentsOfFile: "/proc/net/dev", encoding: .utf8) else { return nil }
    for line in text.split(separator: "\n") {
        let trimmed = line.drop(while: { $0 == " " })
        guard trimmed.hasPrefix("lo:") else { continue }
        let fields = trimmed.dropFirst(3).split(separator: " ")
        return fields.first.flatMap { Int($0) }
    }
    return nil
}

/// A field of /proc/self/io (or another process's, by pid): `write_bytes` is what the process
/// sent to the block layer, `wchar` what it passed to write calls (sockets included).
func procIO(_ field: String, pid: pid_t? = nil) -> Int? {
    let path = "/proc/\(pid.map(String.init) ?? "self")/io"
    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
    for line in text.split(separator: "\n") where line.hasPrefix(field + ":") {
        return Int(line.split(separator: " ").last ?? "")
    }
    return nil
}

/// CPU seconds (user + system, all threads) another process has used so far, from
/// /proc/PID/stat (USER_HZ = 100).
func processCPUSeconds(pid: pid_t) -> Double? {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
        let close = text.lastIndex(of: ")")
    else { return nil }
    // After "pid (comm)": state is field 3, utime 14, stime 15.
    let fields = text[text.index(after: close)...].split(separator: " ")
    guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
    return (user + system) / 100
}

/// CPU seconds of this process's finished children.
func childrenCPU() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_CHILDREN.rawValue, &usage)
    func s(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
    return s(usage.ru_utime) + s(usage.ru_stime)
}

/// CPU seconds the whole machine spent busy (all processes, from /proc/stat; USER_HZ = 100).
func machineBusyCPUSeconds() -> Double? {
    guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
        let line = text.split(separator: "\n").first(where: { $0.hasPrefix("cpu ") })
    else { return nil }
    let f = line.split(separator: " ").dropFirst().compactMap { Double($0) }
    guard f.count >= 8 else { return nil }
    // user nice system idle iowait irq softirq steal
    return (f[0] + f[1] + f[2] + f[5] + f[6] + f[7]) / 100
}

/// Total microseconds during which some task waited for a resource (PSI, /proc/pressure/*).
func pressureStallMicroseconds(_ resource: String) -> Double? {
    guard let text = try? String(contentsOfFile: "/proc/pressure/\(resource)", encoding: .utf8),
        let some = text.split(separator: "\n").first(where: { $0.hasPrefix("some") }),
        let total = some.split(separator: " ").first(where: { $0.hasPrefix("total=") })
    else { return nil }
    return Double(total.dropFirst(6))
}

/// What else the machine did while a phase ran: the noise on a shared 2-core VM.
struct Contention: Codable {
    var wallSeconds: Double
    /// Busy CPU seconds of the whole machine, and of processes other than ours.
    var machineBusySeconds: Double?
    var othersCPUSeconds: Double?
    /// Share of the phase during which some task waited for a CPU / for I/O (PSI "some").
    var cpuPressure: Double?
    var ioPressure: Double?

    struct Mark {
        let clock = ContinuousClock()
        let t: ContinuousClock.Instant
        let busy: Double?
        let cpu: Double?
        let io: Double?

        init() {
            t = clock.now
            busy = machineBusyCPUSeconds()
            cpu = pressureStallMicroseconds("cpu")
            io = pressureStallMicroseconds("io")
        }

        /// `ours`: CPU seconds of this process and its children in the phase.
        func end(ours: Double) -> Contention {
            let wall = seconds(clock.now - t)
            let busyNow = machineBusyCPUSeconds()
            let b = busyNow.flatMap { a in busy.map { a - $0 } }
            func share(_ now: Double?, _ then: Double?) -> Double? {
                guard let now, let then, wall > 0 else { return nil }
                return (now - then) / 1e6 / wall
            }
            return Contention(
                wallSeconds: wall, machineBusySeconds: b, othersCPUSeconds: b.map { max(0, $0 - ours) },
                cpuPressure: share(pressureStallMicroseconds("cpu"), cpu),
                ioPressure: share(pressureStallMicroseconds("io"), io))
        }
    }
}

/// The 1-, 5- and 15-minute load averages.
func loadAverage() -> [Double] {
    guard let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8) else { return [] }
    return text.split(separator: " ").prefix(3).compactMap { Double($0) }
}

func fileSize(_ path: String) -> Int {
    ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? 0
}

/// The filesystem type a path lives on (from /proc/mounts), to say whether fsync is real.
func filesystemType(of path: String) -> String {
    guard let mounts = try? String(contentsOfFile: "/proc/mounts", encoding: .utf8) else { return "unknown" }
    var best = ("", "unknown")
    for line in mounts.split(separator: "\n") {
        let f = line.split(separator: " ")
        guard f.count >= 3 else { continue }
        let mount = String(f[1])
        if (path == mount || path.hasPrefix(mount.hasSuffix("/") ? mount : mount + "/")) && mount.count > best.0.count {
            best = (mount, String(f[2]))
        }
    }
    return best.1
}

// MARK: - Child processes

/// This very binary, to run a client side in a process of its own.
func selfExecutable() -> String {
    (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
}

/// Runs blocking work on a thread of its own with every signal unblocked: the cooperative pool
/// (which the in-process server needs) stays free, and a process the work starts inherits a
/// mask that lets a signal stop it.
func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread {
            unblockSignals()
            continuation.resume(with: Result { try body() })
        }
    }
}

/// Runs a child process to its end (on a thread of its own) and returns its standard output;
/// its standard error goes to ours.
func runProcess(_ executable: String, _ arguments: [String]) async throws -> Data {
    try await onOwnThread {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let out = Pipe()
        process.standardOutput = out
        do {
            try process.run()
        } catch {
            throw BenchError("cannot start \(executable): \(error)")
        }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw BenchError(
                "\(URL(fileURLWithPath: executable).lastPathComponent) \(arguments.prefix(2).joined(separator: " ")) exited with \(process.terminationStatus)")
        }
        return data
    }
}

/// Runs this binary in a client role and decodes the JSON result it prints; with a profile
/// directory, under `perf record -g`.
func runRole<T: Decodable>(
    _ role: Role, _ arguments: [String], profile: String? = nil, countSyncsTo: String? = nil, as: T.Type
) async throws -> T {
    let exe = selfExecutable()
    let args = ["--role", role.rawValue] + arguments
    let data: Data
    if let countSyncsTo, profile == nil, PerfSession.available {
        data = try await runProcess(
            "/usr/bin/perf",
            ["stat", "-x", ",", "-o", countSyncsTo, "-e", "syscalls:sys_enter_fdatasync,syscalls:sys_enter_fsync", "--", exe] + args)
    } else if let profile {
        data = try await runProcess(
            "/usr/bin/perf", ["record", "-g", "-q", "-o", "\(profile)/client-\(role.rawValue).data", "--", exe] + args)
    } else {
        data = try await runProcess(exe, args)
    }
    do {
        return try JSONDecoder().decode(T.self, from: data)
    } catch {
        throw BenchError("role \(role.rawValue) printed no result: \(String(decoding: data.prefix(300), as: UTF8.self))")
    }
}

/// Prints a child's result for the parent.
func emit(_ value: some Encodable) throws {
    let data = try JSONEncoder().encode(value)
    FileHandle.standardOutput.write(data)
    FileHandle.standardOutput.write(Data("\n".utf8))
}

/// Threads of the concurrency pool block every signal, and a process spawned from one (or from
/// a thread it created) inherits that mask: perf would then never see the SIGINT that stops it.
func unblockSignals() {
    var none = sigset_t()
    sigemptyset(&none)
    pthread_sigmask(SIG_SETMASK, &none, nil)
}

// MARK: - perf

/// `perf stat` or `perf record` attached to this process for one phase (when perf exists).
final class PerfSession {
    private let process: Process
    let output: String

    private init(process: Process, output: String) {
        self.process = process
        self.output = output
    }

    static var available: Bool { FileManager.default.isExecutableFile(atPath: "/usr/bin/perf") }

    /// Counts fsync-family system calls of this process: each durable SQLite commit in WAL
    /// mode makes one `fdatasync` of the WAL (checkpoints add a few more).
    static func countSyncs(output: String) -> PerfSession? {
        start([
            "stat", "-x", ",", "-o", output, "-e", "syscalls:sys_enter_fdatasync,syscalls:sys_enter_fsync", "-p",
            "\(getpid())",
        ], output: output)
    }

    static func record(output: String) -> PerfSession? {
        start(["record", "-g", "-q", "-o", output, "-p", "\(getpid())"], output: output)
    }

    /// Every process on the machine (PostgreSQL's backends are processes of their own).
    static func recordAll(output: String) -> PerfSession? {
        start(["record", "-a", "-g", "-q", "-o", output], output: output)
    }

    private static func start(_ arguments: [String], output: String) -> PerfSession? {
        guard available else { return nil }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/perf")
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        let started = Mutex(false)
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            unblockSignals()
            started.withLock { $0 = (try? process.run()) != nil }
            done.signal()
        }
        done.wait()
        guard started.withLock({ $0 }) else { return nil }
        // perf needs a moment to attach before the phase starts.
        usleep(300_000)
        return PerfSession(process: process, output: output)
    }

    /// Stops the session (SIGINT, as perf expects) and waits for it to write its output.
    func stop() {
        kill(process.processIdentifier, SIGINT)
        process.waitUntilExit()
    }

    /// For a `countSyncs` session: the number of fdatasync + fsync calls.
    func syncCount() -> Int? { Self.syncCount(in: output) }

    static func syncCount(in output: String) -> Int? {
        guard let text = try? String(contentsOfFile: output, encoding: .utf8) else { return nil }
        var total = 0
        var found = false
        for line in text.split(separator: "\n") where line.contains("sys_enter_") {
            if let n = Int(line.split(separator: ",").first ?? "") {
                total += n
                found = true
            }
        }
        return found ? total : nil
    }
}
