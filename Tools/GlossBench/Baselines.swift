import GlossBenchCorpus
import Foundation
import GRDB
import GRDBSQLite
import GlossStore

// Baselines measured in the same run, so that every figure can be read as a ratio against
// what this machine does without Gloss's logic on top.

func seconds(_ d: Duration) -> Double {
    Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
}

func median(_ values: [Double]) -> Double {
    let s = values.sorted()
    guard !s.isEmpty else { return .nan }
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

func percentile(_ values: [Double], _ p: Double) -> Double {
    let s = values.sorted()
    guard !s.isEmpty else { return .nan }
    let i = min(s.count - 1, max(0, Int((p * Double(s.count - 1)).rounded())))
    return s[i]
}

struct SQLiteBaseline: Codable {
    var durableCommits: Int
    /// `PRAGMA synchronous` read back on the writer after opening (2 = FULL).
    var synchronousFull: Int
    var durableCommitsPerSecond: Double
    var durableCommitMedianMs: Double
    /// The same commits with GRDB's DatabasePool default (WAL + synchronous = NORMAL, read back).
    var synchronousDefault: Int
    var normalCommitsPerSecond: Double
    var normalCommitMedianMs: Double
    var insertRows: Int
    /// Prepared once, `execute(arguments:)` per row (GRDB's usual API).
    var insertRowsPerSecond: Double
    /// As `SQLiteCorpusRows.putHeadEntry` does it: `cachedStatement(sql:)` looked up per row,
    /// arguments as an array literal, the body copied into `Data`.
    var storeLikeInsertRowsPerSecond: Double
    /// Prepared once, bound with the sqlite3 C API (the floor of SQLite itself).
    var cInsertRowsPerSecond: Double
    /// The commit loops again, right after the individual appends.
    var durableCommitsPerSecondAfter: Double?
    var normalCommitsPerSecondAfter: Double?

    var meanDurableCommitsPerSecond: Double {
        durableCommitsPerSecondAfter.map { ($0 + durableCommitsPerSecond) / 2 } ?? durableCommitsPerSecond
    }
    var meanNormalCommitsPerSecond: Double {
        normalCommitsPerSecondAfter.map { ($0 + normalCommitsPerSecond) / 2 } ?? normalCommitsPerSecond
    }
}

/// The 1-, 5- and 15-minute load averages.
func loadAverage() -> [Double] {
    guard let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8) else { return [] }
    return text.split(separator: " ").prefix(3).compactMap { Double($0) }
}

/// Raw SQLite through GRDB, like the store (DatabasePool, WAL): single-row transactions with
/// synchronous = FULL (set on the writer *after* the pool is open, because DatabasePool's WAL
/// setup resets it to NORMAL), the same with GRDB's default, then many head-like rows in one
/// transaction.
func measureSQLite(directory: URL, commits: Int, rows: Int) throws -> SQLiteBaseline {
    let path = directory.appendingPathComponent("raw-baseline.sqlite").path
    let pool = try DatabasePool(path: path)
    let defaultSync = try pool.writeWithoutTransaction { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1 }
    try pool.write { db in
        try db.execute(sql: "CREATE TABLE commits(id INTEGER PRIMARY KEY, rev INTEGER NOT NULL, body BLOB NOT NULL)")
    }
    let body = Data((0..<120).map { UInt8(truncatingIfNeeded: $0 &* 37) })
    let clock = ContinuousClock()

    func commitLoop() throws -> (perSecond: Double, medianMs: Double) {
        // Warm up the WAL file so that the first commits do not pay for growing it.
        for i in 0..<20 {
            try pool.write { db in try db.execute(sql: "INSERT INTO commits(rev, body) VALUES (?, ?)", arguments: [i, body]) }
        }
        var latencies: [Double] = []
        let start = clock.now
        for i in 0..<commits {
            let t0 = clock.now
            try pool.write { db in
                try db.execute(sql: "INSERT INTO commits(rev, body) VALUES (?, ?)", arguments: [i, body])
            }
            latencies.append(seconds(clock.now - t0) * 1000)
        }
        return (Double(commits) / seconds(clock.now - start), median(latencies))
    }

    let normal = try commitLoop()
    let fullSync = try pool.writeWithoutTransaction { db in
        try db.execute(sql: "PRAGMA synchronous = FULL")
        return try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1
    }
    let full = try commitLoop()

    // Head-like rows: (doc, replica, counter) keys in ascending doc order, 25-byte bodies.
    let bodyBytes = (0..<25).map { UInt8(truncatingIfNeeded: $0 &* 13) }
    let replicas = (1...10).map { Int64(bitPattern: 0x9E37_79B9_7F4A_7C15 &* UInt64($0)) }
    func insertLoop(_ table: String, _ body: (Database, String) throws -> Void) throws -> Double {
        guard rows > 0 else { return 0 }
        try pool.write { db in
            try db.execute(
                sql: """
                    CREATE TABLE \(table)(doc INTEGER NOT NULL, replica INTEGER NOT NULL, counter INTEGER NOT NULL,
                        body BLOB NOT NULL, PRIMARY KEY(doc, replica, counter)) WITHOUT ROWID
                    """)
        }
        let t0 = clock.now
        try pool.write { db in try body(db, "INSERT OR REPLACE INTO \(table)(doc, replica, counter, body) VALUES (?,?,?,?)") }
        return Double(rows) / max(seconds(clock.now - t0), 1e-9)
    }
    let prepared = try insertLoop("rows_prepared") { db, sql in
        let statement = try db.makeStatement(sql: sql)
        for i in 0..<rows {
            try statement.execute(arguments: [i / 500, replicas[i % 10], i, Data(bodyBytes)])
        }
    }
    let storeLike = try insertLoop("rows_store_like") { db, sql in
        for i in 0..<rows {
            try db.cachedStatement(sql: sql).execute(arguments: [Int64(i / 500), replicas[i % 10], Int64(i), Data(bodyBytes)])
        }
    }
    let transient = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)
    let cBound = try insertLoop("rows_c") { db, sql in
        let statement = try db.makeStatement(sql: sql)
        let handle = statement.sqliteStatement
        for i in 0..<rows {
            sqlite3_reset(handle)
            sqlite3_bind_int64(handle, 1, Int64(i / 500))
            sqlite3_bind_int64(handle, 2, replicas[i % 10])
            sqlite3_bind_int64(handle, 3, Int64(i))
            bodyBytes.withUnsafeBytes { _ = sqlite3_bind_blob(handle, 4, $0.baseAddress, Int32($0.count), transient) }
            guard sqlite3_step(handle) == SQLITE_DONE else { throw BenchError("sqlite3_step failed") }
        }
        sqlite3_reset(handle)
    }
    try? pool.close()
    for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    return SQLiteBaseline(
        durableCommits: commits, synchronousFull: fullSync, durableCommitsPerSecond: full.perSecond,
        durableCommitMedianMs: full.medianMs, synchronousDefault: defaultSync, normalCommitsPerSecond: normal.perSecond,
        normalCommitMedianMs: normal.medianMs, insertRows: rows, insertRowsPerSecond: prepared,
        storeLikeInsertRowsPerSecond: storeLike, cInsertRowsPerSecond: cBound)
}

/// fdatasync(2) on a file the store has open (its WAL), through our own descriptor: the one
/// sync per commit that WAL + synchronous = FULL performs.
final class FileSyncer {
    let fd: Int32
    private(set) var syncs = 0

    init(path: String) throws {
        fd = open(path, O_RDWR)
        guard fd >= 0 else { throw BenchError("cannot open \(path) for syncing (errno \(errno))") }
    }

    func sync() throws {
        guard fdatasync(fd) == 0 else { throw BenchError("fdatasync failed (errno \(errno))") }
        syncs += 1
    }

    deinit { close(fd) }
}

struct DeflateBaseline: Codable {
    var inputBytes: Int
    var deflateMBPerSecond: Double
    var deflateRatio: Double
    var chunkBytes: Int
    var chunkedDeflateMBPerSecond: Double
    var chunkedDeflateMicrosecondsPerCall: Double
    var inflateMBPerSecond: Double
}

/// `BlobCompression` (zlib level 6 through compress-nio) on JSON Lines bytes: in one call, and
/// in small chunks the size of typical stored deltas (where per-call setup shows).
func measureDeflate(_ input: [UInt8], chunk: Int) throws -> DeflateBaseline {
    let clock = ContinuousClock()
    let t0 = clock.now
    let compressed = BlobCompression.compress(input)
    let deflateTime = seconds(clock.now - t0)

    let chunks = stride(from: 0, to: input.count, by: chunk).map { Array(input[$0..<min(input.count, $0 + chunk)]) }
    var sink = 0
    let t1 = clock.now
    for c in chunks { sink &+= BlobCompression.compress(c).count }
    let chunkTime = seconds(clock.now - t1)

    let t2 = clock.now
    let inflated = try BlobCompression.decompress(compressed, expectedLength: input.count, what: "baseline")
    let inflateTime = seconds(clock.now - t2)
    guard inflated == input else { throw BenchError("deflate baseline round trip differs") }
    let mb = Double(input.count) / 1_000_000
    return DeflateBaseline(
        inputBytes: input.count, deflateMBPerSecond: mb / deflateTime,
        deflateRatio: Double(compressed.count) / Double(input.count), chunkBytes: chunk,
        chunkedDeflateMBPerSecond: mb / chunkTime, chunkedDeflateMicrosecondsPerCall: chunkTime * 1e6 / Double(chunks.count),
        inflateMBPerSecond: mb / inflateTime)
}

/// `gzip -6 -c input > output`; returns the seconds it took.
func gzip(_ input: URL, to output: URL) throws -> Double {
    guard FileManager.default.createFile(atPath: output.path, contents: nil) else {
        throw BenchError("cannot create \(output.path)")
    }
    let handle = try FileHandle(forWritingTo: output)
    defer { try? handle.close() }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/gzip")
    process.arguments = ["-6", "-c", input.path]
    process.standardOutput = handle
    let clock = ContinuousClock()
    let t0 = clock.now
    try process.run()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { throw BenchError("gzip exited with \(process.terminationStatus)") }
    return seconds(clock.now - t0)
}

func fileSize(_ url: URL) -> Int {
    ((try? FileManager.default.attributesOfItem(atPath: url.path))?[.size] as? NSNumber)?.intValue ?? 0
}

/// A line of /proc/self/status in bytes (VmHWM: peak resident set).
func procStatus(_ field: String) -> Int? {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
    for line in status.split(separator: "\n") where line.hasPrefix(field + ":") {
        let parts = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
        if parts.count >= 2, let kb = Int(parts[1]) { return kb * 1024 }
    }
    return nil
}

/// Bytes per table and index of an SQLite file, from the dbstat virtual table (when compiled in).
func tableSizes(path: String) -> [String: Int]? {
    var config = Configuration()
    config.readonly = true
    guard let queue = try? DatabaseQueue(path: path, configuration: config) else { return nil }
    defer { try? queue.close() }
    return try? queue.read { db in
        var sizes: [String: Int] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT name, SUM(pgsize) FROM dbstat GROUP BY name") {
            sizes[row[0]] = row[1]
        }
        return sizes
    }
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
