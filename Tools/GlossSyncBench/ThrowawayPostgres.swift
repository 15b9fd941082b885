import Foundation

// A PostgreSQL server of the benchmark's own for one run: initdb and a foreground postgres in a
// directory of the run, on a free loopback port, with durable commits (fsync=on,
// synchronous_commit=on: each COMMIT waits for its WAL flush, as SQLite's synchronous = FULL
// waits for its fdatasync). PostgreSQL refuses to run as root, so as root its programs run as
// the `postgres` user through runuser, which then owns the directory. Every program starts
// through SpawnedProcess, so none inherits the signal mask of the concurrency pool's threads.

/// What one pgbench run measured (`pgbench -n -c N -j 2 -T S -f script`).
struct PgbenchResult: Codable {
    /// "before" or "after" the push phases.
    var when: String
    var clients: Int
    var seconds: Int
    /// Committed transactions, each one single-row INSERT (autocommit).
    var transactions: Int
    /// pgbench's own figure (without initial connection time).
    var tps: Double
    var latencyAverageMs: Double?
    var script: String
}

/// A few counters of the whole cluster, read before and after a phase.
struct PostgresCounters: Codable {
    /// Commits of every database (read transactions too: the catalog look-ups glossd makes).
    var commits: Int
    /// WAL flushes to disk (`pg_stat_wal.wal_sync`): each durable commit waits for one, and
    /// commits that arrive together share one.
    var walSyncs: Int
    var walBytes: Int
    var walRecords: Int

    static func - (a: PostgresCounters, b: PostgresCounters) -> PostgresCounters {
        PostgresCounters(
            commits: a.commits - b.commits, walSyncs: a.walSyncs - b.walSyncs, walBytes: a.walBytes - b.walBytes,
            walRecords: a.walRecords - b.walRecords)
    }
}

final class ThrowawayPostgres: Sendable {
    /// The superuser everything connects as (trust authentication on loopback, no password).
    static let user = "gloss"
    /// The database the benchmark uses (`postgres` stays free for psql's own look-ups).
    static let database = "gloss_bench"

    let port: Int
    /// Holds `data/` (the cluster), the socket and `postgres.log`.
    let directory: String
    let binaries: String
    let server: SpawnedProcess
    /// Started beside the server; stops it should this process end first.
    let reaper: SpawnedProcess

    private init(port: Int, directory: String, binaries: String, server: SpawnedProcess, reaper: SpawnedProcess) {
        self.port = port
        self.directory = directory
        self.binaries = binaries
        self.server = server
        self.reaper = reaper
    }

    /// `postgres://gloss@127.0.0.1:PORT/gloss_bench` with TLS off (loopback; SQLite has none either).
    var url: String { "postgres://\(Self.user)@127.0.0.1:\(port)/\(Self.database)?sslmode=disable" }

    var dataDirectory: String { directory + "/data" }
    var logPath: String { directory + "/postgres.log" }

    /// The postmaster's pid, from its pid file (runuser's child, not `server.pid`).
    var postmasterPID: pid_t? {
        guard let text = try? String(contentsOfFile: dataDirectory + "/postmaster.pid", encoding: .utf8),
            let first = text.split(separator: "\n").first
        else { return nil }
        return pid_t(first)
    }

    /// The newest `/usr/lib/postgresql/*/bin` with an initdb.
    static func findBinaries() throws -> String {
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? [])
            .sorted { (Int($0) ?? 0) > (Int($1) ?? 0) }
        for v in versions where FileManager.default.isExecutableFile(atPath: "/usr/lib/postgresql/\(v)/bin/initdb") {
            return "/usr/lib/postgresql/\(v)/bin"
        }
        throw BenchError("no PostgreSQL server under /usr/lib/postgresql (apt-get install postgresql)")
    }

    /// `program arguments` as the postgres user when we are root (PostgreSQL refuses root).
    static func command(_ binaries: String, _ program: String, _ arguments: [String]) -> (String, [String]) {
        getuid() == 0
            ? ("/usr/sbin/runuser", ["-u", "postgres", "--", "\(binaries)/\(program)"] + arguments)
            : ("\(binaries)/\(program)", arguments)
    }

    /// Creates the cluster in `directory` (created here) and starts it; a few seconds.
    /// `settings`: more `NAME=VALUE`s for the server, after the benchmark's own.
    static func start(in directory: String, settings extra: [String] = []) async throws -> ThrowawayPostgres {
        let binaries = try findBinaries()
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        if getuid() == 0 {
            guard let account = getpwnam("postgres") else { throw BenchError("running as root and there is no postgres user") }
            guard chown(directory, account.pointee.pw_uid, account.pointee.pw_gid) == 0 else {
                throw BenchError("cannot give \(directory) to the postgres user (errno \(errno))")
            }
        }
        let data = directory + "/data"
        let log = directory + "/postgres.log"
        let (initdb, initArguments) = command(binaries, "initdb", ["-D", data, "-A", "trust", "-U", user, "-E", "UTF8"])
        let created = try await runToEnd(initdb, initArguments, stderr: log)
        guard created.status == 0 else { throw BenchError("initdb exited \(created.status); see \(log)") }
        // A free port can be taken between the probe and the bind: try a few.
        for _ in 0..<5 {
            let port = try freeLoopbackPort()
            let (postgres, arguments) = command(
                binaries, "postgres",
                [
                    "-D", data, "-k", directory, "-p", "\(port)", "-c", "listen_addresses=127.0.0.1",
                    // Durable commits, stated rather than assumed from the defaults.
                    "-c", "fsync=on", "-c", "synchronous_commit=on",
                    // pgbench's 100 clients, two nodes' pools and psql at once.
                    "-c", "max_connections=300",
                ] + extra.flatMap { ["-c", $0] })
            let server = try SpawnedProcess.start(postgres, arguments, stdout: .file(log), stderr: .file(log))
            let reaper = try startReaper(server: server.pid, data: data)
            let pg = ThrowawayPostgres(port: port, directory: directory, binaries: binaries, server: server, reaper: reaper)
            if try await pg.waitUntilReady() {
                _ = try await pg.psql("CREATE DATABASE \(database)", database: "postgres")
                return pg
            }
            server.signal(SIGKILL)
            _ = try? await server.wait()
            reaper.signal(SIGTERM)
            _ = try? await reaper.wait()
        }
        throw BenchError("postgres did not accept connections; see \(log)")
    }

    /// A shell that waits for this process or the server to end; if this process went first
    /// (killed, crashed) it shuts the server down (SIGINT: fast shutdown), so that no PostgreSQL
    /// outlives the benchmark. `/proc` works across users where `kill -0` would not.
    private static func startReaper(server: pid_t, data: String) throws -> SpawnedProcess {
        let script = """
            while [ -d /proc/$1 ] && [ -d /proc/$2 ]; do sleep 0.5; done
            [ -d /proc/$1 ] && exit 0
            if [ -f "$3/postmaster.pid" ]; then kill -INT "$(head -n 1 "$3/postmaster.pid")" 2>/dev/null; fi
            """
        return try SpawnedProcess.start("/bin/sh", ["-c", script, "reaper", "\(getpid())", "\(server)", data])
    }

    /// Up to a minute for the server to answer; false if it exited or never answered.
    private func waitUntilReady() async throws -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(60)
        while clock.now < deadline {
            guard server.isRunning else { return false }
            if (try? await psql("SELECT 1", database: "postgres")) == "1" { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return false
    }

    /// Runs SQL with psql (as a client: no runuser needed) and returns its unaligned,
    /// tuples-only output.
    @discardableResult
    func psql(_ sql: String, database: String = ThrowawayPostgres.database) async throws -> String {
        let result = try await Self.runToEnd(
            "\(binaries)/psql",
            ["-h", "127.0.0.1", "-p", "\(port)", "-U", Self.user, "-d", database, "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql],
            stderr: logPath)
        guard result.status == 0 else { throw BenchError("psql exited \(result.status) for \(sql); see \(logPath)") }
        return result.out.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// `SHOW` of each setting.
    func settings(_ names: [String]) async throws -> [String: String] {
        var out: [String: String] = [:]
        for name in names { out[name] = try await psql("SHOW \(name)") }
        return out
    }

    /// The cluster's commit and WAL counters. A backend (PostgreSQL 15) hands its statistics to
    /// shared memory at most once a second while busy, and an idle one 10 s after its last
    /// transaction: wait 11 s so that a phase's counts are whole (with 1.2 s, a short phase
    /// showed 3 WAL flushes for 220 commits).
    func counters() async throws -> PostgresCounters {
        try await Task.sleep(for: .seconds(11))
        let row = try await psql(
            "SELECT (SELECT sum(xact_commit) FROM pg_stat_database), wal_sync, wal_bytes, wal_records FROM pg_stat_wal")
        let f = row.split(separator: "|").map { Int(Double($0) ?? -1) }
        guard f.count == 4 else { throw BenchError("pg_stat_wal: unexpected \(row)") }
        return PostgresCounters(commits: f[0], walSyncs: f[1], walBytes: f[2], walRecords: f[3])
    }

    /// CPU seconds of the postmaster and of every process it has now (backends, WAL writer,
    /// checkpointer…). A backend that ended takes its CPU with it: read it while the
    /// connections of a phase are still open.
    func cpuSeconds() -> Double {
        guard let master = postmasterPID else { return 0 }
        var total = processCPUSeconds(pid: master) ?? 0
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = pid_t(entry), pid != master,
                let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { continue }
            // After "pid (comm)": state, then ppid.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            if fields.count > 1, pid_t(fields[1]) == master { total += processCPUSeconds(pid: pid) ?? 0 }
        }
        return total
    }

    /// Single-row durable commits: `clients` connections each INSERTing one 120-byte row per
    /// transaction (autocommit) for `seconds`, into a table without indexes (only the commit
    /// is measured), with two pgbench threads (the machine's cores).
    func pgbench(clients: Int, seconds: Int, when: String) async throws -> PgbenchResult {
        let script = "INSERT INTO single_row_commits(client, body) VALUES (:client_id, '\\x" + String(repeating: "ab", count: 120) + "');"
        let scriptPath = directory + "/single-row.sql"
        try Data((script + "\n").utf8).write(to: URL(fileURLWithPath: scriptPath))
        try await psql("CREATE TABLE IF NOT EXISTS single_row_commits(client integer NOT NULL, body bytea NOT NULL)")
        let result = try await Self.runToEnd(
            "\(binaries)/pgbench",
            [
                "-h", "127.0.0.1", "-p", "\(port)", "-U", Self.user, "-n", "-c", "\(clients)", "-j", "\(min(2, clients))", "-T",
                "\(seconds)", "-f", scriptPath, Self.database,
            ], stderr: logPath)
        guard result.status == 0 else { throw BenchError("pgbench exited \(result.status): \(result.out)") }
        func value(after prefix: String) -> Double? {
            for line in result.out.split(separator: "\n") where line.hasPrefix(prefix) {
                let rest = line.dropFirst(prefix.count).trimmingCharacters(in: .whitespaces)
                return Double(rest.split(separator: " ").first ?? "")
            }
            return nil
        }
        guard let tps = value(after: "tps = ") else { throw BenchError("pgbench printed no tps:\n\(result.out)") }
        // Keep the table small: its growth is not what is measured.
        try await psql("TRUNCATE single_row_commits")
        return PgbenchResult(
            when: when, clients: clients, seconds: seconds,
            transactions: Int(value(after: "number of transactions actually processed:") ?? -1), tps: tps,
            latencyAverageMs: value(after: "latency average ="), script: script)
    }

    /// A fast shutdown (SIGINT to the postmaster: sessions are cut, a checkpoint is written),
    /// then the directory goes unless `keep`.
    func stop(keep: Bool) async {
        if let master = postmasterPID { kill(master, SIGINT) } else { server.signal(SIGTERM) }
        _ = try? await server.wait()
        reaper.signal(SIGTERM)
        _ = try? await reaper.wait()
        if !keep { try? FileManager.default.removeItem(atPath: directory) }
    }

    /// Runs a program to its end; its standard output returned, its standard error appended
    /// to `stderr`.
    static func runToEnd(_ executable: String, _ arguments: [String], stderr: String) async throws -> (status: Int32, out: String) {
        let process = try SpawnedProcess.start(executable, arguments, stdout: .pipe, stderr: .file(stderr))
        let out = try await onOwnThread { process.readToEnd() }
        let exit = try await process.wait()
        return (exit.status, out)
    }

    /// A loopback port nothing listens on now.
    static func freeLoopbackPort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw BenchError("socket() failed (errno \(errno))") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw BenchError("cannot find a free loopback port (errno \(errno))") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
