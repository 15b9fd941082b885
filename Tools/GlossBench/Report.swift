import GlossBenchCorpus
import Foundation

/// Everything one run measured; printed as a table and, with `--json`, as JSON.
struct Report: Codable {
    struct Config: Codable {
        var seed: UInt64
        var documents: Int
        var annotations: Int
        var changesets: Int
        var groupChangesets: Int
        var importBatch: Int
        var groupBatch: Int
        var runs: Int
        var directory: String
        var filesystem: String
        var loadAverageBefore: [Double]
        var loadAverageAfter: [Double]
    }

    struct Corpus: Codable {
        var textUTF8Bytes: Int
        var textScalars: Int
        var opCounts: [String: Int]
    }

    struct Import: Codable {
        var changesets: Int
        var annotations: Int
        /// Whether an fdatasync of the WAL followed each append call.
        var walSync: Bool
        /// Time inside `append(batch:)` calls only (generation excluded).
        var storeSeconds: Double
        /// The same plus the WAL fdatasync after each call: the durable figure.
        var syncedSeconds: Double
        /// From the first append to the last durable return, generation of later batches included.
        var wallSeconds: Double
        var storeAnnotationsPerSecond: Double
        /// Durable (with the WAL sync): the headline figure.
        var annotationsPerSecond: Double
        var wallAnnotationsPerSecond: Double
        var batchMedianMs: Double
        /// Median batch latency in each quarter of the import (the head table grows).
        var batchMedianMsByQuarter: [Double]
        var breakdown: ImportBreakdown
    }

    /// Per annotation, in microseconds.
    struct ImportBreakdown: Codable {
        var sampleChangesets: Int
        var sampleAnnotations: Int
        /// Store time per annotation in the import (as shipped, no WAL sync).
        var measuredMicroseconds: Double
        var checkMicroseconds: Double
        var headEncodeMicroseconds: Double
        var deltaEncodeMicroseconds: Double
        var deltaCompressMicroseconds: Double
        /// Text compression (the digest is checked inside ``checkMicroseconds``).
        var textHashCompressMicroseconds: Double
        /// Measured minus the above: SQLite, GRDB binding, row encoding glue.
        var restMicroseconds: Double
        var headBodyBytes: Double
        var deltaRawBytes: Double
    }

    struct Append: Codable {
        var label: String
        var changesets: Int
        var ops: Int
        var batchSize: Int
        var walSync: Bool
        /// Time inside the append calls only.
        var storeSeconds: Double
        /// The same plus the WAL fdatasync after each call: the durable figure.
        var seconds: Double
        var storeChangesetsPerSecond: Double
        var changesetsPerSecond: Double
        var opsPerSecond: Double
        var storeCallMedianMs: Double
        /// Latency of one `append` call + WAL sync (a whole batch for group commit).
        var callMedianMs: Double
        var callP99Ms: Double
    }

    struct Storage: Codable {
        var revisions: Int
        var deltaBytes: Int
        var deltaCount: Int
        var snapshotBytes: Int
        var snapshotCount: Int
        var textBytes: Int
        var headRows: Int
        var fileBytes: Int
        var historyBytes: Int
        var historyBytesPerRevision: Double
        var annotationHistoryBytes: Int
        /// Deltas of the import revisions (addDocument + creates) and of the edits after them.
        var importDeltaBytes: Int
        var editDeltaBytes: Int
        var editOps: Int
        var tables: [String: Int]?
    }

    struct JSONL: Codable {
        var lines: Int
        var rawBytes: Int
        var gzipBytes: Int
        var annotationsRawBytes: Int
        var annotationsGzipBytes: Int
        var gzipSeconds: Double
        /// history bytes at rest / gzip'd full JSONL.
        var ratio: Double
        /// (deltas + snapshots) / gzip'd JSONL without texts.
        var annotationRatio: Double
    }

    struct Reconstruct: Codable {
        var document: String
        var liveAnnotations: Int
        var touchingRevisions: Int
        var headRevision: Int
        var headSnapshotRevision: Int?
        var headDeltasApplied: Int
        var headMedianMs: Double
        var headP90Ms: Double
        var olderRevision: Int
        var olderAnnotations: Int
        var olderSnapshotRevision: Int?
        var olderDeltasApplied: Int
        var olderMedianMs: Double
        var hottestDocument: String
        var hottestAnnotations: Int
        var hottestTouchingRevisions: Int
        var hottestDeltasApplied: Int
        var hottestMedianMs: Double
        /// Inflate + decode of one ~500-annotation stored blob (the document's latest snapshot, or its import delta).
        var baselineBlob: String
        var baselineBlobOps: Int
        var baselineBlobBytes: Int
        var baselineDecodeMs: Double
        /// The same plus applying the ops to a `DocumentState` (reconstruction without SQL).
        var baselineDecodeApplyMs: Double
        var ratioToDecode: Double
        var ratioToDecodeApply: Double
        var decodeAllBlobs: Int
        var decodeAllOps: Int
        var decodeAllInflatedBytes: Int
        var decodeAllSeconds: Double
        var decodeAllOpsPerSecond: Double
        var decodeAllInflatedMBPerSecond: Double
    }

    struct Memory: Codable {
        /// VmHWM after import, appends, reconstruct and group commit (before the JSONL replay).
        var storePhasesVmHWMBytes: Int?
        /// VmHWM at the end of the run (JSONL replay and baselines included).
        var vmHWMBytes: Int?
        var vmRSSBytes: Int?
    }

    struct Ratios: Codable {
        var appendVsRawCommits: Double
        var groupAppendVsRawCommits: Double
        var storeAppendVsRawNormalCommits: Double
        var importAnnotationsVsRawInsertRows: Double
    }

    struct Target: Codable {
        var name: String
        var target: String
        var measured: String
        var met: Bool
    }

    var config: Config
    var corpus: Corpus
    var `import`: Import
    var append: Append
    var groupCommit: Append
    var storage: Storage
    var jsonl: JSONL
    var reconstruct: Reconstruct
    var memory: Memory
    var sqlite: SQLiteBaseline
    var deflate: DeflateBaseline
    var ratios: Ratios
    var targets: [Target]
    var totalSeconds: Double
}

// MARK: - Formatting

func fmt(_ x: Double, _ digits: Int = 1) -> String { String(format: "%.\(digits)f", x) }

func grouped(_ n: Int) -> String {
    let s = String(n.magnitude)
    var out = ""
    for (i, c) in s.enumerated() {
        if i > 0 && (s.count - i) % 3 == 0 { out.append(",") }
        out.append(c)
    }
    return (n < 0 ? "-" : "") + out
}

func groupedD(_ x: Double) -> String { x.isFinite ? grouped(Int(x.rounded())) : "n/a" }

func mb(_ bytes: Int) -> String { fmt(Double(bytes) / 1_000_000, 2) + " MB" }

struct Table {
    var sections: [(title: String, rows: [(String, String, String)])] = []

    mutating func section(_ title: String) { sections.append((title, [])) }
    mutating func row(_ name: String, _ value: String, _ note: String = "") { sections[sections.count - 1].rows.append((name, value, note)) }

    func render() -> String {
        let all = sections.flatMap(\.rows)
        let w0 = all.map { $0.0.count }.max() ?? 0
        let w1 = all.map { $0.1.count }.max() ?? 0
        var out = ""
        for s in sections {
            out += "\n" + s.title + "\n" + String(repeating: "─", count: max(s.title.count, w0 + w1 + 4)) + "\n"
            for (a, b, c) in s.rows {
                out += "  " + a.padding(toLength: w0, withPad: " ", startingAt: 0) + "  "
                out += String(repeating: " ", count: max(0, w1 - b.count)) + b
                if !c.isEmpty { out += "  " + c }
                out += "\n"
            }
        }
        return out
    }
}

extension Report {
    func table() -> String {
        var t = Table()
        let c = config
        t.section("Gloss storage benchmark")
        t.row("seed", "\(c.seed)")
        t.row("documents / annotations", "\(grouped(c.documents)) / \(grouped(c.annotations))")
        t.row("edit changesets", grouped(c.changesets), "individual durable appends")
        t.row("group-commit changesets", grouped(c.groupChangesets), "batches of \(c.groupBatch), continuation")
        t.row("store directory", c.directory, "(\(c.filesystem))")
        t.row("load average before / after", "\(c.loadAverageBefore.map { fmt($0, 2) }.joined(separator: " ")) / \(c.loadAverageAfter.map { fmt($0, 2) }.joined(separator: " "))", "2 cores; other work on the machine skews timings")
        t.row("corpus text", mb(corpus.textUTF8Bytes), "\(grouped(corpus.textScalars)) scalars")
        t.row("ops generated (all phases)", grouped(corpus.opCounts.values.reduce(0, +)),
              corpus.opCounts.sorted { $0.key < $1.key }.map { "\($0.key) \(grouped($0.value))" }.joined(separator: ", "))

        t.section("Targets")
        for target in targets {
            t.row(target.name, target.measured, "target \(target.target): \(target.met ? "MET" : "MISSED")")
        }

        t.section("1. Import (one changeset per document, append(batch:) of \(c.importBatch))")
        t.row("changesets / annotations", "\(grouped(self.import.changesets)) / \(grouped(self.import.annotations))")
        let im = self.import
        t.row("durable throughput", groupedD(im.annotationsPerSecond) + " ann/s",
              "\(fmt(im.syncedSeconds, 2)) s in append(batch:)\(im.walSync ? " + WAL fdatasync" : "")")
        if im.walSync {
            t.row("store calls only", groupedD(im.storeAnnotationsPerSecond) + " ann/s",
                  "\(fmt(im.storeSeconds, 2)) s without the extra WAL fdatasync")
        }
        t.row("wall (first append → last return)", fmt(im.wallSeconds, 2) + " s",
              groupedD(im.wallAnnotationsPerSecond) + " ann/s incl. generating later batches")
        t.row("batch latency (median)", fmt(im.batchMedianMs, 1) + " ms", "\(c.importBatch) docs × \(c.annotations / max(1, c.documents)) annotations")
        t.row("  by quarter of the import", im.batchMedianMsByQuarter.map { fmt($0, 0) }.joined(separator: " / ") + " ms")
        let b = im.breakdown
        t.row("per annotation, store time", fmt(b.measuredMicroseconds, 2) + " µs", "breakdown redone outside the store on \(b.sampleChangesets) changesets:")
        t.row("  AcceptanceCheck.check", fmt(b.checkMicroseconds, 2) + " µs", "validation, text digest + scalar count")
        t.row("  HeadEntryCodec.encode", fmt(b.headEncodeMicroseconds, 2) + " µs", "\(fmt(b.headBodyBytes, 1)) B per head row body")
        t.row("  DeltaCodec.encode", fmt(b.deltaEncodeMicroseconds, 2) + " µs", "\(fmt(b.deltaRawBytes, 1)) B raw per create")
        t.row("  deflate of the delta", fmt(b.deltaCompressMicroseconds, 2) + " µs")
        t.row("  deflate of the text", fmt(b.textHashCompressMicroseconds, 2) + " µs")
        t.row("  rest: SQLite + GRDB + glue", fmt(b.restMicroseconds, 2) + " µs", "raw row insert here: \(fmt(1e6 / sqlite.insertRowsPerSecond, 2)) µs")

        for a in [append, groupCommit] {
            t.section("2. \(a.label)")
            t.row("changesets / ops", "\(grouped(a.changesets)) / \(grouped(a.ops))")
            t.row("durable throughput", fmt(a.changesetsPerSecond, 0) + " cs/s",
                  "\(groupedD(a.opsPerSecond)) ops/s; \(fmt(a.seconds, 2)) s\(a.walSync ? " incl. WAL fdatasync per call" : "")")
            if a.walSync {
                t.row("store calls only", fmt(a.storeChangesetsPerSecond, 0) + " cs/s",
                      "\(fmt(a.storeSeconds, 2)) s; median call \(fmt(a.storeCallMedianMs, 3)) ms")
            }
            t.row("durable call latency median / p99", "\(fmt(a.callMedianMs, 2)) / \(fmt(a.callP99Ms, 2)) ms",
                  a.batchSize > 1 ? "per batch of \(a.batchSize)" : "per changeset")
        }

        let s = storage
        t.section("3. Bytes at rest (after checkpoint; import + \(grouped(c.changesets)) edits = \(grouped(s.revisions)) revisions)")
        t.row("history (deltas+snapshots+texts)", mb(s.historyBytes), fmt(s.historyBytesPerRevision, 0) + " B/revision")
        t.row("deltas", mb(s.deltaBytes), "\(grouped(s.deltaCount)) blobs")
        t.row("  of the import", mb(s.importDeltaBytes),
              fmt(Double(s.importDeltaBytes) / Double(max(1, self.import.annotations)), 2) + " B per created annotation")
        t.row("  of the edits", mb(s.editDeltaBytes),
              "\(fmt(Double(s.editDeltaBytes) / Double(max(1, s.editOps)), 2)) B per op, \(fmt(Double(s.editDeltaBytes) / Double(max(1, c.changesets)), 0)) B per changeset")
        t.row("snapshots", mb(s.snapshotBytes), "\(grouped(s.snapshotCount)) blobs")
        t.row("texts", mb(s.textBytes))
        t.row("annotation history (no texts)", mb(s.annotationHistoryBytes),
              fmt(Double(s.annotationHistoryBytes) / Double(max(1, self.import.annotations + append.ops)), 2) + " B/op")
        t.row("head rows", grouped(s.headRows))
        t.row("whole file", mb(s.fileBytes))
        if let tables = s.tables {
            for (name, bytes) in tables.sorted(by: { $0.value > $1.value }) where bytes >= 10_000 {
                t.row("  file: \(name)", mb(bytes))
            }
        }

        let j = jsonl
        t.section("4. JSON Lines baseline (same history, one object per op)")
        t.row("lines", grouped(j.lines))
        t.row("JSONL raw / gzip -6", "\(mb(j.rawBytes)) / \(mb(j.gzipBytes))")
        t.row("JSONL without texts raw / gzip -6", "\(mb(j.annotationsRawBytes)) / \(mb(j.annotationsGzipBytes))")
        t.row("history / gzip'd JSONL", fmt(j.ratio, 3) + "×", "target ≤ 0.5×")
        t.row("annotation history / gzip'd JSONL w/o texts", fmt(j.annotationRatio, 3) + "×")
        t.row("gzip time (both files)", fmt(j.gzipSeconds, 2) + " s")

        let r = reconstruct
        t.section("5. Reconstruct (median of \(c.runs) runs)")
        t.row("document", r.document, "\(r.liveAnnotations) annotations, touched by \(r.touchingRevisions) revisions")
        t.row("at head (rev \(r.headRevision))", fmt(r.headMedianMs, 3) + " ms",
              "p90 \(fmt(r.headP90Ms, 3)) ms; snapshot @\(r.headSnapshotRevision.map(String.init) ?? "none") + \(r.headDeltasApplied) deltas")
        t.row("at rev \(r.olderRevision) (head − 1000)", fmt(r.olderMedianMs, 3) + " ms",
              "\(r.olderAnnotations) annotations; snapshot @\(r.olderSnapshotRevision.map(String.init) ?? "none") + \(r.olderDeltasApplied) deltas")
        t.row("hottest document at head", fmt(r.hottestMedianMs, 3) + " ms",
              "\(r.hottestDocument): \(r.hottestAnnotations) annotations, \(r.hottestTouchingRevisions) revisions, \(r.hottestDeltasApplied) deltas applied")
        t.row("baseline: inflate+decode one blob", fmt(r.baselineDecodeMs, 3) + " ms",
              "\(r.baselineBlob): \(r.baselineBlobOps) ops, \(grouped(r.baselineBlobBytes)) B")
        t.row("baseline: … + apply to DocumentState", fmt(r.baselineDecodeApplyMs, 3) + " ms")
        t.row("reconstruct / decode, / decode+apply", "\(fmt(r.ratioToDecode, 2))× / \(fmt(r.ratioToDecodeApply, 2))×")
        t.row("decode all stored blobs", fmt(r.decodeAllSeconds, 2) + " s",
              "\(grouped(r.decodeAllBlobs)) blobs, \(groupedD(r.decodeAllOpsPerSecond)) ops/s, \(fmt(r.decodeAllInflatedMBPerSecond, 0)) MB/s inflated")

        t.section("6. Memory")
        t.row("peak RSS through the store phases", memory.storePhasesVmHWMBytes.map(mb) ?? "n/a",
              "VmHWM before the JSONL replay; includes the generator's own state")
        t.row("peak RSS whole run (VmHWM)", memory.vmHWMBytes.map(mb) ?? "n/a", "JSONL replay and baselines included")
        t.row("RSS at end (VmRSS)", memory.vmRSSBytes.map(mb) ?? "n/a")

        t.section("7. Baselines (same run; commit loops before / after the appends; ratios use their mean)")
        t.row("SQLite durable 1-row commits", "\(fmt(sqlite.durableCommitsPerSecond, 0)) / \(fmt(sqlite.durableCommitsPerSecondAfter ?? .nan, 0)) /s",
              "\(sqlite.durableCommits) txns, median \(fmt(sqlite.durableCommitMedianMs, 3)) ms (GRDB pool, WAL, synchronous=\(sqlite.synchronousFull))")
        t.row("SQLite 1-row commits, GRDB default", "\(fmt(sqlite.normalCommitsPerSecond, 0)) / \(fmt(sqlite.normalCommitsPerSecondAfter ?? .nan, 0)) /s",
              "median \(fmt(sqlite.normalCommitMedianMs, 3)) ms (synchronous=\(sqlite.synchronousDefault) after DatabasePool opens: NOT durable)")
        t.row("SQLite rows in one txn: GRDB prepared", groupedD(sqlite.insertRowsPerSecond) + " rows/s",
              "\(grouped(sqlite.insertRows)) head-like rows (WITHOUT ROWID, 25 B body), execute(arguments:)")
        t.row("  … cachedStatement per row (as the store)", groupedD(sqlite.storeLikeInsertRowsPerSecond) + " rows/s",
              fmt(1e6 / sqlite.storeLikeInsertRowsPerSecond, 2) + " µs/row")
        t.row("  … sqlite3_bind_* on a prepared statement", groupedD(sqlite.cInsertRowsPerSecond) + " rows/s",
              fmt(1e6 / sqlite.cInsertRowsPerSecond, 2) + " µs/row")
        t.row("deflate -6 (one call)", fmt(deflate.deflateMBPerSecond, 1) + " MB/s",
              "\(mb(deflate.inputBytes)) of JSONL, ratio \(fmt(deflate.deflateRatio, 3))")
        t.row("deflate -6 (\(deflate.chunkBytes) B calls)", fmt(deflate.chunkedDeflateMBPerSecond, 1) + " MB/s",
              fmt(deflate.chunkedDeflateMicrosecondsPerCall, 1) + " µs per call")
        t.row("inflate", fmt(deflate.inflateMBPerSecond, 0) + " MB/s")
        t.row("durable append cs/s ÷ raw durable commits/s", fmt(ratios.appendVsRawCommits, 3))
        t.row("durable group-commit cs/s ÷ raw durable commits/s", fmt(ratios.groupAppendVsRawCommits, 2))
        t.row("append cs/s ÷ raw NORMAL commits/s", fmt(ratios.storeAppendVsRawNormalCommits, 3))
        t.row("import ann/s ÷ raw insert rows/s", fmt(ratios.importAnnotationsVsRawInsertRows, 3))
        t.row("total run time", fmt(totalSeconds, 1) + " s")
        return t.render()
    }
}
