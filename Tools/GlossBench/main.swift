import GlossBenchCorpus
import Foundation
import GlossModel
import GlossStore
import GlossStoreSQLite

// gloss-bench: the storage benchmark (DESIGN.md, "Storage" and "Performance model").
//
//   swift run -c release gloss-bench [--seed 42] [--documents 2000] [--annotations 1000000]
//       [--changesets 10000] [--group-changesets N] [--import-batch 50] [--group-batch 32]
//       [--runs 50] [--dir PARENT] [--keep] [--json] [--json-out FILE]
//
// Phases: raw SQLite baseline → import → individual durable appends → bytes at rest → JSON
// Lines baseline → reconstruct → group-commit continuation → deflate baseline → memory.

struct Options {
    var seed: UInt64 = 42
    var documents = 2000
    var annotations = 1_000_000
    var changesets = 10_000
    var groupChangesets: Int?
    var importBatch = 50
    var groupBatch = 32
    var runs = 50
    var rawCommits = 500
    var dir: String?
    var keep = false
    var json = false
    var jsonOut: String?
    /// Also fdatasync the store's WAL after every append call. Redundant since the store
    /// commits with synchronous = FULL (checked at start); kept to compare against.
    var walSync = false

    static let usage = """
        usage: gloss-bench [--seed N] [--documents N] [--annotations N] [--changesets N]
                           [--group-changesets N] [--import-batch N] [--group-batch N] [--runs N] [--raw-commits N]
                           [--dir PARENT] [--keep] [--json] [--json-out FILE] [--wal-sync]
        """

    static func parse(_ args: [String]) throws -> Options {
        var o = Options()
        var i = 0
        func value() throws -> String {
            i += 1
            guard i < args.count else { throw BenchError("\(args[i - 1]) needs a value\n\(usage)") }
            return args[i]
        }
        func int() throws -> Int {
            let v = try value()
            guard let n = Int(v.replacingOccurrences(of: "_", with: "")), n >= 0 else {
                throw BenchError("\(args[i - 1]): not a count: \(v)")
            }
            return n
        }
        while i < args.count {
            switch args[i] {
            case "--seed":
                guard let s = UInt64(try value()) else { throw BenchError("--seed: not an unsigned integer") }
                o.seed = s
            case "--documents": o.documents = try int()
            case "--annotations": o.annotations = try int()
            case "--changesets": o.changesets = try int()
            case "--group-changesets": o.groupChangesets = try int()
            case "--import-batch": o.importBatch = max(1, try int())
            case "--group-batch": o.groupBatch = max(1, try int())
            case "--runs": o.runs = max(1, try int())
            case "--raw-commits": o.rawCommits = max(1, try int())
            case "--dir": o.dir = try value()
            case "--keep": o.keep = true
            case "--json": o.json = true
            case "--json-out": o.jsonOut = try value()
            case "--wal-sync": o.walSync = true
            case "-h", "--help":
                print(usage)
                exit(0)
            default: throw BenchError("unknown argument \(args[i])\n\(usage)")
            }
            i += 1
        }
        guard o.documents >= 1, o.annotations >= o.documents * 60 else {
            throw BenchError("need at least one document and 60 annotations per document")
        }
        return o
    }
}

func log(_ message: String) {
    FileHandle.standardError.write(Data(("[gloss-bench] " + message + "\n").utf8))
}

func check(_ outcomes: [AppendOutcome], expectingFirst first: Int, what: String) throws {
    for (i, outcome) in outcomes.enumerated() {
        guard case .accepted(let revision) = outcome else {
            throw BenchError("\(what): changeset \(i) of the batch was not accepted: \(outcome)")
        }
        guard revision == first + i else {
            throw BenchError("\(what): changeset \(i) became revision \(revision), expected \(first + i)")
        }
    }
}

func rate(_ count: Int, _ seconds: Double) -> Double { seconds > 0 ? Double(count) / seconds : 0 }

/// An order-sensitive digest of changeset ids, to check that a regenerated history is the same.
struct ChangesetDigest: Equatable {
    var a: UInt64 = 0x243F_6A88_85A3_08D3
    var count = 0

    mutating func add(_ cs: Changeset) {
        for v in [cs.id.high, cs.id.low, UInt64(cs.ops.count)] {
            a = (a ^ v) &* 0x100_0000_01B3
            a ^= a >> 29
        }
        count += 1
    }
}

struct Bench {
    let options: Options
    let clock = ContinuousClock()

    func run() throws -> Report {
        let o = options
        let runStart = clock.now
        let parent = URL(fileURLWithPath: o.dir ?? NSTemporaryDirectory(), isDirectory: true)
        let directory = parent.appendingPathComponent("gloss-bench-\(ProcessInfo.processInfo.processIdentifier)-\(o.seed)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer {
            if !o.keep { try? FileManager.default.removeItem(at: directory) }
        }
        log("working in \(directory.path) (\(filesystemType(of: directory.path)))")

        // Baseline: raw durable commits and bulk inserts on this disk.
        log("baseline: raw SQLite commits and inserts")
        let loadBefore = loadAverage()
        let sqliteBefore = try measureSQLite(directory: directory, commits: o.rawCommits, rows: 500_000)

        let storePath = directory.appendingPathComponent("corpus.sqlite").path
        let store = try CorpusStore.sqlite(path: storePath)
        // The figures are only meaningful for durable commits: fsync on every commit.
        guard let backend = store.backend as? SQLiteCorpusBackend, try backend.writerSynchronousLevel() == 2 else {
            throw BenchError("the store's writer does not commit with synchronous = FULL")
        }
        let walSync = o.walSync ? try FileSyncer(path: storePath + "-wal") : nil
        var gen = Generator(seed: o.seed, documents: o.documents, annotations: o.annotations)
        var historyDigest = ChangesetDigest()
        var breakdownSample: [Changeset] = []
        // Nothing else of ours may be waiting for writeback while we time durable commits:
        // an fdatasync can end up waiting for it in the ext4 journal.
        sync()
        var revision = try store.headRevision()
        guard revision == 0 else { throw BenchError("store is not empty") }

        // 1. Import.
        log("import: \(o.documents) documents, \(o.annotations) annotations, batches of \(o.importBatch)")
        var textBytes = 0
        var textScalars = 0
        var importStore = Duration.zero
        var importSynced = Duration.zero
        var batchTimes: [Double] = []
        var importWallStart: ContinuousClock.Instant?
        var importWallEnd = clock.now
        var imported = 0
        while imported < o.documents {
            let n = min(o.importBatch, o.documents - imported)
            var batch: [Changeset] = []
            batch.reserveCapacity(n)
            for k in 0..<n {
                let cs = gen.importChangeset(revision: revision + 1 + k, jsonl: nil)
                historyDigest.add(cs)
                let doc = gen.docs[imported + k]
                textScalars += doc.length
                textBytes += cs.texts.values.first!.utf8.count
                batch.append(cs)
            }
            let t0 = clock.now
            if importWallStart == nil { importWallStart = t0 }
            let outcomes = try store.append(batch: batch)
            let t1 = clock.now
            try walSync?.sync()
            let t2 = clock.now
            importWallEnd = t2
            importStore += t1 - t0
            importSynced += t2 - t0
            batchTimes.append(seconds(t2 - t0) * 1000)
            try check(outcomes, expectingFirst: revision + 1, what: "import")
            if breakdownSample.isEmpty { breakdownSample = batch }
            revision += n
            imported += n
            if (imported / o.importBatch) % 8 == 0 || imported == o.documents {
                log("  imported \(imported)/\(o.documents) documents (\(fmt(seconds(importStore), 1)) s in append)")
            }
        }
        let importRevisions = revision
        let importSeconds = seconds(importStore)
        let importSyncedSeconds = seconds(importSynced)
        let importWall = seconds(importWallEnd - importWallStart!)
        let breakdown = try importBreakdown(breakdownSample, measuredStoreSeconds: importSeconds, annotations: o.annotations)
        let importReport = Report.Import(
            changesets: o.documents, annotations: o.annotations, walSync: o.walSync, storeSeconds: importSeconds,
            syncedSeconds: importSyncedSeconds, wallSeconds: importWall,
            storeAnnotationsPerSecond: rate(o.annotations, importSeconds),
            annotationsPerSecond: rate(o.annotations, importSyncedSeconds),
            wallAnnotationsPerSecond: rate(o.annotations, importWall), batchMedianMs: median(batchTimes),
            batchMedianMsByQuarter: (0..<4).map { q in
                median(Array(batchTimes[(q * batchTimes.count / 4)..<max(q * batchTimes.count / 4 + 1, (q + 1) * batchTimes.count / 4)]))
            },
            breakdown: breakdown)
        sync()

        // 2. Individual durable appends.
        log("append: \(o.changesets) changesets, one durable transaction each")
        var appendTime = Duration.zero
        var appendSynced = Duration.zero
        var appendLatencies: [Double] = []
        var appendSyncedLatencies: [Double] = []
        var appendOps = 0
        appendLatencies.reserveCapacity(o.changesets)
        for i in 0..<o.changesets {
            let next = revision + 1
            let cs = gen.editChangeset(revision: next, base: revision, jsonl: nil)
            historyDigest.add(cs)
            appendOps += cs.ops.count
            let t0 = clock.now
            let outcome = try store.append(cs)
            let t1 = clock.now
            try walSync?.sync()
            let t2 = clock.now
            appendTime += t1 - t0
            appendSynced += t2 - t0
            appendLatencies.append(seconds(t1 - t0) * 1000)
            appendSyncedLatencies.append(seconds(t2 - t0) * 1000)
            try check([outcome], expectingFirst: next, what: "append \(i)")
            revision = next
            if (i + 1) % 2000 == 0 { log("  appended \(i + 1)/\(o.changesets) (\(fmt(seconds(appendTime), 1)) s)") }
        }
        let appendReport = Report.Append(
            label: "Durable append: store.append(_:), one commit per changeset", changesets: o.changesets,
            ops: appendOps, batchSize: 1, walSync: o.walSync, storeSeconds: seconds(appendTime),
            seconds: seconds(appendSynced), storeChangesetsPerSecond: rate(o.changesets, seconds(appendTime)),
            changesetsPerSecond: rate(o.changesets, seconds(appendSynced)),
            opsPerSecond: rate(appendOps, seconds(appendSynced)), storeCallMedianMs: median(appendLatencies),
            callMedianMs: median(appendSyncedLatencies), callP99Ms: percentile(appendSyncedLatencies, 0.99))
        let historyHead = revision
        // The disk's sync latency drifts (other I/O on the machine shares the ext4 journal):
        // measure the raw baseline again right after the appends and use both.
        log("baseline: raw SQLite commits again")
        let sqliteAfter = try measureSQLite(directory: directory, commits: o.rawCommits, rows: 0)
        var sqlite = sqliteBefore
        sqlite.durableCommitsPerSecondAfter = sqliteAfter.durableCommitsPerSecond
        sqlite.normalCommitsPerSecondAfter = sqliteAfter.normalCommitsPerSecond
        sync()
        guard try store.headRevision() == historyHead else { throw BenchError("head revision mismatch") }

        // 3. Bytes at rest.
        log("bytes at rest: checkpoint and summary")
        guard let sqliteBackend = store.backend as? SQLiteCorpusBackend else { throw BenchError("not an SQLite store") }
        try sqliteBackend.checkpoint()
        let summary = try store.storageSummary()
        let importDeltaBytes = try store.storedDeltas(after: 0, through: importRevisions).reduce(0) { $0 + $1.data.count }
        let storage = Report.Storage(
            revisions: historyHead, deltaBytes: summary.deltaBytes, deltaCount: summary.deltaCount,
            snapshotBytes: summary.snapshotBytes, snapshotCount: summary.snapshotCount, textBytes: summary.textBytes,
            headRows: summary.headRows, fileBytes: summary.fileBytes, historyBytes: summary.historyBytes,
            historyBytesPerRevision: Double(summary.historyBytes) / Double(historyHead),
            annotationHistoryBytes: summary.deltaBytes + summary.snapshotBytes, importDeltaBytes: importDeltaBytes,
            editDeltaBytes: summary.deltaBytes - importDeltaBytes, editOps: appendOps,
            tables: tableSizes(path: sqliteBackend.path))

        // 5. Reconstruct.
        log("reconstruct")
        let reconstruct = try measureReconstruct(store: store, gen: gen, head: historyHead, importRevisions: importRevisions)

        // 2b. Group commit, continuing on the same store after the history figures are taken.
        let groupCount = o.groupChangesets ?? o.changesets
        sync()
        log("group commit: \(groupCount) changesets in batches of \(o.groupBatch)")
        var groupTime = Duration.zero
        var groupSynced = Duration.zero
        var groupLatencies: [Double] = []
        var groupSyncedLatencies: [Double] = []
        var groupOps = 0
        var done = 0
        while done < groupCount {
            let n = min(o.groupBatch, groupCount - done)
            var batch: [Changeset] = []
            for k in 0..<n {
                // Each client was up to date when it made its changeset: base = the revision before it.
                let rev = revision + 1 + k
                let cs = gen.editChangeset(revision: rev, base: rev - 1, jsonl: nil)
                groupOps += cs.ops.count
                batch.append(cs)
            }
            let t0 = clock.now
            let outcomes = try store.append(batch: batch)
            let t1 = clock.now
            try walSync?.sync()
            let t2 = clock.now
            groupTime += t1 - t0
            groupSynced += t2 - t0
            groupLatencies.append(seconds(t1 - t0) * 1000)
            groupSyncedLatencies.append(seconds(t2 - t0) * 1000)
            try check(outcomes, expectingFirst: revision + 1, what: "group commit")
            revision += n
            done += n
        }
        let groupReport = Report.Append(
            label: "Group commit: append(batch:) of \(o.groupBatch), continuation (revisions \(historyHead + 1)–\(revision))",
            changesets: groupCount, ops: groupOps, batchSize: o.groupBatch, walSync: o.walSync,
            storeSeconds: seconds(groupTime), seconds: seconds(groupSynced),
            storeChangesetsPerSecond: rate(groupCount, seconds(groupTime)),
            changesetsPerSecond: rate(groupCount, seconds(groupSynced)), opsPerSecond: rate(groupOps, seconds(groupSynced)),
            storeCallMedianMs: median(groupLatencies), callMedianMs: median(groupSyncedLatencies),
            callP99Ms: percentile(groupSyncedLatencies, 0.99))

        // 4. JSON Lines baseline: the same history regenerated from the seed (so that writing
        // 150 MB of JSON does not compete with the timed durable commits), checked against the
        // changeset ids that were appended.
        let storePhasesPeak = procStatus("VmHWM")
        log("JSONL baseline: regenerating the history from seed \(o.seed)")
        let jsonl = try JSONLSink(directory: directory)
        do {
            var replay = Generator(seed: o.seed, documents: o.documents, annotations: o.annotations)
            var replayDigest = ChangesetDigest()
            for r in 1...importRevisions { replayDigest.add(replay.importChangeset(revision: r, jsonl: jsonl)) }
            for r in (importRevisions + 1)..<(historyHead + 1) {
                replayDigest.add(replay.editChangeset(revision: r, base: r - 1, jsonl: jsonl))
            }
            guard replayDigest == historyDigest else { throw BenchError("the regenerated history differs from the appended one") }
        }
        try jsonl.close()
        log("JSONL baseline: \(jsonl.lines) lines; gzip -6")
        let gzFull = directory.appendingPathComponent("history.jsonl.gz")
        let gzAnnotations = directory.appendingPathComponent("history-annotations.jsonl.gz")
        let gzipSeconds = try gzip(jsonl.fullURL, to: gzFull) + gzip(jsonl.annotationsURL, to: gzAnnotations)
        let jsonlReport = Report.JSONL(
            lines: jsonl.lines, rawBytes: fileSize(jsonl.fullURL), gzipBytes: fileSize(gzFull),
            annotationsRawBytes: fileSize(jsonl.annotationsURL), annotationsGzipBytes: fileSize(gzAnnotations),
            gzipSeconds: gzipSeconds, ratio: Double(summary.historyBytes) / Double(fileSize(gzFull)),
            annotationRatio: Double(summary.deltaBytes + summary.snapshotBytes) / Double(fileSize(gzAnnotations)))
        guard jsonlReport.rawBytes == jsonl.fullBytes, jsonlReport.annotationsRawBytes == jsonl.annotationBytes else {
            throw BenchError("JSONL files are not the size written")
        }

        // 7. Deflate baseline on ~10 MB of the JSONL.
        log("baseline: deflate")
        let sample = try readPrefix(jsonl.fullURL, bytes: 10 * 1_048_576)
        let deflate = try measureDeflate(sample, chunk: 1024)

        // 6. Memory.
        let memory = Report.Memory(
            storePhasesVmHWMBytes: storePhasesPeak, vmHWMBytes: procStatus("VmHWM"), vmRSSBytes: procStatus("VmRSS"))

        let ratios = Report.Ratios(
            appendVsRawCommits: appendReport.changesetsPerSecond / sqlite.meanDurableCommitsPerSecond,
            groupAppendVsRawCommits: groupReport.changesetsPerSecond / sqlite.meanDurableCommitsPerSecond,
            storeAppendVsRawNormalCommits: appendReport.storeChangesetsPerSecond / sqlite.meanNormalCommitsPerSecond,
            importAnnotationsVsRawInsertRows: importReport.annotationsPerSecond / sqlite.insertRowsPerSecond)
        let targets = [
            Report.Target(
                name: "import throughput", target: "≥ 250,000 ann/s",
                measured: groupedD(importReport.annotationsPerSecond) + " ann/s",
                met: importReport.annotationsPerSecond >= 250_000),
            Report.Target(
                name: "history at rest / gzip'd JSONL", target: "≤ 0.5×", measured: fmt(jsonlReport.ratio, 3) + "×",
                met: jsonlReport.ratio <= 0.5),
            Report.Target(
                name: "reconstruct ~500-annotation doc at head", target: "≤ 2 ms",
                measured: fmt(reconstruct.headMedianMs, 3) + " ms", met: reconstruct.headMedianMs <= 2),
        ]
        return Report(
            config: .init(
                seed: o.seed, documents: o.documents, annotations: o.annotations, changesets: o.changesets,
                groupChangesets: groupCount, importBatch: o.importBatch, groupBatch: o.groupBatch, runs: o.runs,
                directory: directory.path, filesystem: filesystemType(of: directory.path),
                loadAverageBefore: loadBefore, loadAverageAfter: loadAverage()),
            corpus: .init(textUTF8Bytes: textBytes, textScalars: textScalars, opCounts: gen.opCounts),
            import: importReport, append: appendReport, groupCommit: groupReport, storage: storage, jsonl: jsonlReport,
            reconstruct: reconstruct, memory: memory, sqlite: sqlite, deflate: deflate, ratios: ratios,
            targets: targets, totalSeconds: seconds(clock.now - runStart))
    }

    /// Where an import's time goes: the CPU steps of `append(batch:)` redone outside the store
    /// on a sample of import changesets (public API only), per annotation. What remains of the
    /// measured time is SQLite and GRDB (row inserts, statement binding, page writes).
    func importBreakdown(_ sample: [Changeset], measuredStoreSeconds: Double, annotations: Int) throws -> Report.ImportBreakdown {
        let sampleAnnotations = sample.reduce(0) { $0 + $1.ops.count - 1 }
        var check = Duration.zero
        var headEncode = Duration.zero
        var deltaEncode = Duration.zero
        var deltaCompress = Duration.zero
        var textCompress = Duration.zero
        var headBodyBytes = 0
        var deltaRaw = 0
        let reps = 3
        for _ in 0..<reps {
            headBodyBytes = 0
            deltaRaw = 0
            for cs in sample {
                let t0 = clock.now
                let outcome = try AcceptanceCheck.check(cs, against: HeadState(), as: 1)
                let t1 = clock.now
                for entry in outcome.entries.values { headBodyBytes += HeadEntryCodec.encode(entry).count }
                let t2 = clock.now
                let raw = DeltaCodec.encode(outcome.accepted, document: cs.ops[0].document)
                let t3 = clock.now
                let compressed = BlobCompression.compress(raw)
                let t4 = clock.now
                for text in cs.texts.values { _ = BlobCompression.compress(Array(text.utf8)) }
                let t5 = clock.now
                precondition(outcome.conflicts.isEmpty && !compressed.isEmpty)
                deltaRaw += raw.count
                check += t1 - t0
                headEncode += t2 - t1
                deltaEncode += t3 - t2
                deltaCompress += t4 - t3
                textCompress += t5 - t4
            }
        }
        let n = Double(sampleAnnotations * reps)
        func us(_ d: Duration) -> Double { seconds(d) * 1e6 / n }
        let measured = measuredStoreSeconds * 1e6 / Double(annotations)
        let cpu = us(check) + us(headEncode) + us(deltaEncode) + us(deltaCompress) + us(textCompress)
        return Report.ImportBreakdown(
            sampleChangesets: sample.count, sampleAnnotations: sampleAnnotations, measuredMicroseconds: measured,
            checkMicroseconds: us(check), headEncodeMicroseconds: us(headEncode),
            deltaEncodeMicroseconds: us(deltaEncode), deltaCompressMicroseconds: us(deltaCompress),
            textHashCompressMicroseconds: us(textCompress), restMicroseconds: measured - cpu,
            headBodyBytes: Double(headBodyBytes) / Double(sampleAnnotations),
            deltaRawBytes: Double(deltaRaw) / Double(sampleAnnotations))
    }

    func readPrefix(_ url: URL, bytes: Int) throws -> [UInt8] {
        let handle = try FileHandle(forReadingFrom: url)
        defer { try? handle.close() }
        return [UInt8](try handle.read(upToCount: bytes) ?? Data())
    }

    /// Which stored blobs `reconstruct(doc, at:)` reads: the latest snapshot at or before the
    /// revision (if newer than the add) and the deltas after it.
    func chain(of doc: DocModel, at revision: Int, store: CorpusStore) throws -> (snapshot: Int?, deltas: Int) {
        let snapshot = try store.storedSnapshot(of: doc.id, atOrBefore: revision)?.revision
        let after = snapshot ?? (doc.touches[0] - 1)
        return (snapshot, doc.touches.filter { $0 > after && $0 <= revision }.count)
    }

    func timeReconstruct(_ store: CorpusStore, _ doc: DocModel, at revision: Int) throws -> (median: Double, p90: Double, count: Int) {
        // Correctness first: the reconstructed state must match what the generator tracked.
        let state = try store.reconstruct(doc.id, at: revision)
        guard let expected = doc.liveCount(at: revision), state.annotations.count == expected else {
            throw BenchError(
                "reconstruct(\(doc.id), at: \(revision)) has \(state.annotations.count) annotations, expected \(doc.liveCount(at: revision) ?? -1)")
        }
        for _ in 0..<3 { _ = try store.reconstruct(doc.id, at: revision) }
        var times: [Double] = []
        for _ in 0..<options.runs {
            let t0 = clock.now
            let s = try store.reconstruct(doc.id, at: revision)
            times.append(seconds(clock.now - t0) * 1000)
            precondition(s.annotations.count == expected)
        }
        return (median(times), percentile(times, 0.9), expected)
    }

    func measureReconstruct(store: CorpusStore, gen: Generator, head: Int, importRevisions: Int) throws -> Report.Reconstruct {
        let per = options.annotations / options.documents
        let lo = per * 9 / 10
        let hi = per * 11 / 10
        // The most edited document that still has about the imported number of annotations
        // (for small runs: the one closest to it).
        let candidates = gen.docs.filter { (lo...hi).contains($0.live.count) && $0.touches.count > 1 }
        let doc =
            candidates.max(by: { ($0.touches.count, -$0.index) < ($1.touches.count, -$1.index) })
            ?? gen.docs.min(by: { (abs($0.live.count - per), -$0.touches.count, $0.index) < (abs($1.live.count - per), -$1.touches.count, $1.index) })!
        let hottest = gen.docs.max(by: { ($0.touches.count, -$0.index) < ($1.touches.count, -$1.index) })!

        // Head: the state must equal the generator's exactly, ids included.
        let state = try store.reconstruct(doc.id, at: head)
        guard Set(state.annotations.keys) == Set(doc.live) else {
            throw BenchError("reconstruct(\(doc.id), at: head) differs from the generated state")
        }
        let headAnnotations = try store.headAnnotations(of: doc.id)
        guard headAnnotations.count == doc.live.count,
            headAnnotations.allSatisfy({ state.annotations[$0.id] == $0 })
        else {
            throw BenchError("reconstruct at head differs from the head table for \(doc.id)")
        }

        let atHead = try timeReconstruct(store, doc, at: head)
        let headChain = try chain(of: doc, at: head, store: store)
        let older = max(doc.touches[0], head - 1000)
        let atOlder = try timeReconstruct(store, doc, at: older)
        let olderChain = try chain(of: doc, at: older, store: store)
        let hot = try timeReconstruct(store, hottest, at: head)
        let hotChain = try chain(of: hottest, at: head, store: store)

        // Baseline: inflate + decode one ~500-annotation blob, measured now.
        let blob: StoredBlob
        let blobName: String
        if let snapshot = try store.storedSnapshot(of: doc.id, atOrBefore: head) {
            blob = snapshot
            blobName = "snapshot @\(snapshot.revision)"
        } else {
            let add = doc.touches[0]
            guard let delta = try store.storedDeltas(after: add - 1, through: add).first(where: { $0.document == doc.id }) else {
                throw BenchError("no import delta for \(doc.id)")
            }
            blob = delta
            blobName = "import delta @\(add)"
        }
        let blobOps = try blob.ops().count
        var decodeTimes: [Double] = []
        var applyTimes: [Double] = []
        for i in 0..<(options.runs + 3) {
            let t0 = clock.now
            let ops = try blob.ops()
            let t1 = clock.now
            var s = DocumentState()
            for op in ops { try s.apply(op) }
            let t2 = clock.now
            precondition(s.annotations.count + 1 >= ops.count - 1)
            if i >= 3 {
                decodeTimes.append(seconds(t1 - t0) * 1000)
                applyTimes.append(seconds(t2 - t0) * 1000)
            }
        }

        // Decode everything stored for the history: all deltas, and each document's latest snapshot.
        let t0 = clock.now
        var blobs = try store.storedDeltas(after: 0, through: head)
        for d in gen.docs {
            if let s = try store.storedSnapshot(of: d.id, atOrBefore: head) { blobs.append(s) }
        }
        let t1 = clock.now
        var allOps = 0
        var inflated = 0
        for b in blobs {
            allOps += try b.ops().count
            inflated += b.rawLength
        }
        let decodeSeconds = seconds(clock.now - t1)
        log("  read \(blobs.count) blobs in \(fmt(seconds(t1 - t0), 2)) s, decoded in \(fmt(decodeSeconds, 2)) s")

        let decodeMs = median(decodeTimes)
        let applyMs = median(applyTimes)
        return Report.Reconstruct(
            document: doc.id.rawValue, liveAnnotations: doc.live.count, touchingRevisions: doc.touches.count,
            headRevision: head, headSnapshotRevision: headChain.snapshot, headDeltasApplied: headChain.deltas,
            headMedianMs: atHead.median, headP90Ms: atHead.p90, olderRevision: older, olderAnnotations: atOlder.count,
            olderSnapshotRevision: olderChain.snapshot, olderDeltasApplied: olderChain.deltas,
            olderMedianMs: atOlder.median, hottestDocument: hottest.id.rawValue, hottestAnnotations: hot.count,
            hottestTouchingRevisions: hottest.touches.count, hottestDeltasApplied: hotChain.deltas,
            hottestMedianMs: hot.median, baselineBlob: blobName, baselineBlobOps: blobOps,
            baselineBlobBytes: blob.data.count, baselineDecodeMs: decodeMs, baselineDecodeApplyMs: applyMs,
            ratioToDecode: atHead.median / decodeMs, ratioToDecodeApply: atHead.median / applyMs,
            decodeAllBlobs: blobs.count, decodeAllOps: allOps, decodeAllInflatedBytes: inflated,
            decodeAllSeconds: decodeSeconds, decodeAllOpsPerSecond: Double(allOps) / decodeSeconds,
            decodeAllInflatedMBPerSecond: Double(inflated) / 1_000_000 / decodeSeconds)
    }
}

do {
    let options = try Options.parse(Array(CommandLine.arguments.dropFirst()))
    let report = try Bench(options: options).run()
    let table = report.table()
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    let json = String(decoding: try encoder.encode(report), as: UTF8.self)
    if let path = options.jsonOut { try json.write(toFile: path, atomically: true, encoding: .utf8) }
    if options.json {
        FileHandle.standardError.write(Data(table.utf8))
        print(json)
    } else {
        print(table)
    }
    if report.targets.contains(where: { !$0.met }) { log("one or more targets missed (see the table)") }
} catch {
    log("FAILED: \(error)")
    exit(1)
}
