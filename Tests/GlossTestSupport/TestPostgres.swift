import Foundation

/// A throwaway PostgreSQL server for tests: `initdb` and `postgres` from the installed
/// postgresql package, in a temporary directory, on a free loopback port, with trust
/// authentication for the user `gloss`. PostgreSQL refuses to run as root, so as root its
/// programs run as the `postgres` user (`runuser`), which owns the directory.
///
/// The server runs in the foreground as this process's child, not daemonized by `pg_ctl`: a
/// daemon would keep the descriptor by which Foundation learns that `pg_ctl` ended, and the
/// test would wait for it until the server stopped. Stop it when done (``stop()``). Should the
/// test process end first (it exits, crashes or is killed), a watcher started beside the server
/// shuts the server down and removes its directory, so no PostgreSQL outlives the tests.
///
/// Tests that only need a database share one server: ``shared()`` and ``freshDatabase()``.
public final class TestPostgres: Sendable {
    /// The loopback port it listens on.
    public let port: Int
    /// Its data directory, socket and log live here.
    public let directory: TemporaryDirectory
    /// The superuser tests connect as (no password: trust on loopback).
    public let user = "gloss"
    private let binaries: URL
    private let server: Process
    /// Started with the server, it stops the server once the test process is gone.
    private let reaper: Process?

    /// `postgres://gloss@127.0.0.1:PORT/DATABASE`.
    public func url(database: String = "postgres") -> String { "postgres://\(user)@127.0.0.1:\(port)/\(database)" }

    /// Why PostgreSQL could not be started for a test.
    public struct Unavailable: Error, CustomStringConvertible {
        public var description: String
    }

    private init(port: Int, directory: TemporaryDirectory, binaries: URL, server: Process, reaper: Process?) {
        self.port = port
        self.directory = directory
        self.binaries = binaries
        self.server = server
        self.reaper = reaper
    }

    /// The server every test of this process shares, started on first use and stopped by its
    /// watcher when the process ends. Tests keep apart by database (``freshDatabase()``) or by
    /// the names of what they create.
    public static func shared() async throws -> TestPostgres {
        try await sharedServer.value
    }

    private static let sharedServer = Task { try await TestPostgres.start() }

    /// Creates an empty database with a name of its own and returns its URL
    /// (`postgres://gloss@127.0.0.1:PORT/NAME`).
    public func freshDatabase() async throws -> String {
        let name = "gloss_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        _ = try await psql("CREATE DATABASE \(name)")
        return url(database: name)
    }

    /// A watcher, run as root or as this user, that waits for the test process (`pid`) to end or
    /// the server (`server`) to stop; if the server still runs then, it shuts it down (fast
    /// mode: sessions are cut) and removes its directory. Polling `/proc` works across users,
    /// where `kill -0` on another user's process would not.
    static func startReaper(watching pid: Int32, server: Int32, data: String, directory: String) throws -> Process {
        let script = """
            while [ -d /proc/$1 ] && kill -0 $2 2>/dev/null; do sleep 0.5; done
            [ -d /proc/$1 ] && exit 0
            if [ -f "$3/postmaster.pid" ]; then kill -INT "$(head -n 1 "$3/postmaster.pid")" 2>/dev/null; fi
            i=0; while [ -f "$3/postmaster.pid" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done
            rm -rf "$4"
            """
        let reaper = Process()
        reaper.executableURL = URL(fileURLWithPath: "/bin/sh")
        reaper.arguments = ["-c", script, "reaper", "\(pid)", "\(server)", data, directory]
        reaper.standardInput = FileHandle.nullDevice
        reaper.standardOutput = FileHandle.nullDevice
        reaper.standardError = FileHandle.nullDevice
        try GlossProcesses.launch(reaper)
        return reaper
    }

    /// The installed server's programs: the newest `/usr/lib/postgresql/*/bin`.
    static func findBinaries() throws -> URL {
        let candidates = ((try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? [])
            .sorted { (Int($0) ?? 0) > (Int($1) ?? 0) }
            .map { URL(fileURLWithPath: "/usr/lib/postgresql/\($0)/bin") }
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.appendingPathComponent("initdb").path) })
        else {
            throw Unavailable(description: "no PostgreSQL server under /usr/lib/postgresql (.ci/run installs the postgresql package)")
        }
        return found
    }

    /// `program arguments`, as the postgres user when this process is root.
    static func command(_ binaries: URL, _ program: String, _ arguments: [String]) -> (URL, [String]) {
        let path = binaries.appendingPathComponent(program).path
        return getuid() == 0
            ? (URL(fileURLWithPath: "/usr/sbin/runuser"), ["-u", "postgres", "--", path] + arguments)
            : (URL(fileURLWithPath: path), arguments)
    }

    /// Creates a cluster and starts it; a few seconds at most.
    public static func start() async throws -> TestPostgres {
        let binaries = try findBinaries()
        let directory = try TemporaryDirectory("postgres")
        do {
            if getuid() == 0 {
                guard let account = getpwnam("postgres") else {
                    throw Unavailable(description: "running as root and there is no postgres user to run PostgreSQL as")
                }
                guard chown(directory.url.path, account.pointee.pw_uid, account.pointee.pw_gid) == 0 else {
                    throw Unavailable(description: "cannot give \(directory.url.path) to the postgres user (errno \(errno))")
                }
            }
            let data = directory.path("data")
            let (initdb, initArguments) = command(binaries, "initdb", ["-D", data, "-A", "trust", "-U", "gloss", "--no-sync", "-E", "UTF8"])
            let created = try await GlossProcesses.tool(initdb, initArguments, in: directory.url)
            guard created.status == 0 else {
                throw Unavailable(description: "initdb exited \(created.status): \(created.out)\(created.err)")
            }
            // A free port can be taken between the probe and the bind: try a few.
            var failures: [String] = []
            for _ in 0..<5 {
                let port = try freeLoopbackPort()
                let server = Process()
                (server.executableURL, server.arguments) = command(
                    binaries, "postgres", [
                        "-D", data, "-k", directory.url.path, "-p", "\(port)", "-c", "listen_addresses=127.0.0.1",
                        // Tests run dozens at once, each node a pool of its own.
                        "-c", "max_connections=400",
                    ])
                server.currentDirectoryURL = directory.url
                server.standardInput = FileHandle.nullDevice
                server.standardOutput = FileHandle.nullDevice
                server.standardError = FileHandle.nullDevice
                try GlossProcesses.launch(server)
                let reaper = try startReaper(
                    watching: getpid(), server: server.processIdentifier, data: data, directory: directory.url.path)
                let postgres = TestPostgres(port: port, directory: directory, binaries: binaries, server: server, reaper: reaper)
                if try await postgres.waitUntilReady() { return postgres }
                failures.append("port \(port): exited \(server.isRunning ? "no" : "\(server.terminationStatus)")")
                server.terminateAndWait()
                reaper.terminateAndWait()
            }
            throw Unavailable(description: "postgres did not accept connections: \(failures.joined(separator: "; "))")
        } catch {
            directory.remove()
            throw error
        }
    }

    /// Waits up to a minute for the server to answer; false if it exited or never answered.
    private func waitUntilReady() async throws -> Bool {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            guard server.isRunning else { return false }
            if (try? await psql("SELECT 1")) == "1" { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return false
    }

    /// Runs SQL with `psql` and returns its unaligned, tuples-only output.
    public func psql(_ sql: String, database: String = "postgres") async throws -> String {
        let psql = binaries.appendingPathComponent("psql")
        let program = FileManager.default.isExecutableFile(atPath: psql.path) ? psql : URL(fileURLWithPath: "/usr/bin/psql")
        let result = try await GlossProcesses.tool(
            program, ["-h", "127.0.0.1", "-p", "\(port)", "-U", user, "-d", database, "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql])
        guard result.status == 0 else {
            throw Unavailable(description: "psql exited \(result.status): \(result.err)")
        }
        return result.out.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Stops the server and removes its directory. SIGTERM (runuser passes it on) is
    /// PostgreSQL's smart shutdown: it waits for sessions to end, and tests close theirs.
    public func stop() async {
        let server = self.server
        // The reaper sees the server gone and ends by itself within half a second.
        _ = try? await GlossProcesses.onOwnThread { server.terminateAndWait() }
        directory.remove()
    }

    /// A loopback port nothing listens on now.
    public static func freeLoopbackPort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Unavailable(description: "socket() failed (errno \(errno))") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw Unavailable(description: "cannot find a free loopback port (errno \(errno))") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
