import GlossBenchCorpus
import Foundation
import GlossClient

// The scale curve (issue 10, point 4): the storage benchmark's corpus at 100k, 1M and 10M
// annotations, ~500 per document, and for each size the real glossd and `gloss clone`: clone
// time, bytes on the wire, bytes at rest, client and server peak memory, the push rate of 100
// clients, and an incremental pull of 10 changesets; then the growth of each figure per 10×.

struct ScalePoint: Codable {
    var annotations: Int
    var documents: Int
    var editChangesets: Int
    var build: CorpusBuild
    /// The build child, from start to exit (generation, accounts and the small corpus included).
    var buildWallSeconds: Double
    var buildVmHWMBytes: Int?
    var serverStartVmRSSBytes: Int?
    var clone: CLICloneResult
    var cloneServer: MemoryReading
    /// `SyncEngine.pull()` in this process on the CLI's workspace, 10 changesets pushed before each.
    var pull: Latency
    var pullServer: MemoryReading
    var push: PushResult
    var pushServer: MemoryReading
    /// glossd's peak over its whole life (wait4).
    var serverExit: ProcessExit
    var loadAverage: [Double]
    var contention: Contention
}

/// One figure at every size, and its factor from each size to the next.
struct Growth: Codable {
    var figure: String
    var unit: String
    var values: [Double]
    var factors: [Double]
}

struct ScaleReport: Codable {
    /// How the history's edit changesets scale with the corpus.
    var history: String
    var annotationsPerDocument: Int
    var clients: Int
    var pushesPerClient: Int
    var points: [ScalePoint]
    var growth: [Growth]
    var loadAverageBefore: [Double]
    var loadAverageAfter: [Double]
    var seconds: Double
}

struct ScaleCurve {
    let options: Options
    let work: URL
    let clock = ContinuousClock()

    /// Edit changesets for a corpus of `annotations`: one per 100 annotations (10,000 at 1M,
    /// as the usual run), or `--changesets` at every size with `--scale-history fixed`.
    func editChangesets(_ annotations: Int) -> Int {
        options.scaleHistoryFixed ? options.changesets : annotations / 100
    }

    func run() async throws -> ScaleReport {
        let o = options
        let start = clock.now
        let loadBefore = loadAverage()
        var points: [ScalePoint] = []
        for annotations in o.scaleSizes {
            points.append(try await point(annotations: annotations))
        }
        return ScaleReport(
            history: o.scaleHistoryFixed
                ? "fixed: \(grouped(o.changesets)) edit changesets at every size"
                : "proportional: one edit changeset of 1–20 ops per 100 annotations",
            annotationsPerDocument: o.scalePerDocument, clients: o.clients, pushesPerClient: o.scalePushes, points: points,
            growth: Self.growth(points), loadAverageBefore: loadBefore, loadAverageAfter: loadAverage(),
            seconds: seconds(clock.now - start))
    }

    func point(annotations: Int) async throws -> ScalePoint {
        let o = options
        let documents = max(1, annotations / o.scalePerDocument)
        let edits = editChangesets(annotations)
        let dir = work.appendingPathComponent("scale-\(sizeName(annotations))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { if !o.keep { try? FileManager.default.removeItem(at: dir) } }
        let load = loadAverage()
        let mark = Contention.Mark()
        // Ours: this process, and every child reaped since (the build, gloss, glossd, the pushers).
        let cpu0 = childrenCPU() + CPUTime.now().total
        log("scale \(sizeName(annotations)): building \(grouped(documents)) documents, \(grouped(annotations)) annotations, \(grouped(edits)) edits (load \(load))")

        let b0 = clock.now
        let (setup, setupPath) = try await Build.inChild(
            work: dir, options: o, documents: documents, annotations: annotations, changesets: edits, singleImport: false)
        let buildWall = seconds(clock.now - b0)

        let glossd = try await GlossdProcess.start(
            dataDirectory: setup.dataDirectory, logPath: dir.appendingPathComponent("glossd.log").path)
        guard glossd.fingerprint == setup.fingerprint else {
            _ = try? await glossd.stop()
            throw BenchError("glossd presents \(glossd.fingerprint), the build made \(setup.fingerprint)")
        }
        let startRSS = procStatus("VmRSS", pid: glossd.pid)
        do {
            let into = dir.appendingPathComponent("clone").path
            let (clone, cloneServer) = try await measuringMemory(of: glossd.pid) {
                try await CLIClone.run(
                    port: glossd.port, setup: setup, corpus: setup.bigCorpus, into: into,
                    home: dir.appendingPathComponent("home").path)
            }
            log("  gloss clone: \(fmt(clone.seconds, 2)) s, client peak \(mb(clone.peakBytes)), glossd peak \(mb(cloneServer.peakBytes)), glossd wrote \(mb(cloneServer.writeCallBytes))")

            let (pull, pullServer) = try await measuringMemory(of: glossd.pid) {
                try await incrementalPull(port: glossd.port, setup: setup, workspace: into)
            }
            log("  pull of 10: \(ms(pull))")

            let (push, pushServer) = try await measuringMemory(of: glossd.pid) {
                try await runRole(
                    .push,
                    [
                        "--setup", setupPath, "--port", "\(glossd.port)", "--corpus", setup.bigCorpus, "--clients", "\(o.clients)",
                        "--pushes", "\(o.scalePushes)", "--seed", "\(o.seed)",
                    ], as: PushResult.self)
            }
            guard push.refused == 0, push.duplicates == 0 else {
                throw BenchError("scale push: \(push.refused) refused, \(push.duplicates) duplicates")
            }
            log("  push: \(groupedD(push.changesetsPerSecond))/s, p99 \(fmt(push.latency.p99Ms, 1)) ms, glossd peak \(mb(pushServer.peakBytes))")
            let exit = try await glossd.stop()
            return ScalePoint(
                annotations: annotations, documents: documents, editChangesets: edits, build: setup.big,
                buildWallSeconds: buildWall, buildVmHWMBytes: setup.buildVmHWMBytes, serverStartVmRSSBytes: startRSS,
                clone: clone, cloneServer: cloneServer, pull: pull, pullServer: pullServer, push: push,
                pushServer: pushServer, serverExit: exit, loadAverage: load,
                contention: mark.end(ours: childrenCPU() + CPUTime.now().total - cpu0))
        } catch {
            _ = try? await glossd.stop()
            throw error
        }
    }

    /// 3 warm-ups, then `--scale-pull-reps` times: `pusher` pushes 10 changesets of 1–3 span
    /// creates one after another, then `SyncEngine.pull()` on the clone's workspace (in this
    /// process) must bring exactly those 10.
    func incrementalPull(port: Int, setup: Setup, workspace: String) async throws -> Latency {
        let reader = try await connect(port: port, setup: setup, user: Setup.reader)
        let pusher = try await connect(port: port, setup: setup, user: Setup.pusher)
        defer {
            reader.close()
            pusher.close()
        }
        let engine = SyncEngine(workspace: try Workspace.open(containing: URL(fileURLWithPath: workspace)), connection: reader)
        let (start, docs) = try await documentList(pusher, corpus: setup.bigCorpus)
        var head = start
        var gen = SmallChangesets(user: Setup.pusher, seed: streamSeed(options.seed, .pull, 7), documents: docs)
        var pulls: [Double] = []
        for rep in 0..<(3 + options.scalePullReps) {
            for _ in 0..<10 {
                let r = try await pusher.request(pushRequest(setup.bigCorpus, gen.next(base: head)))
                guard case .acceptedRevision(let rev)? = r.push.outcome else { throw BenchError("scale pull: push refused: \(r.push)") }
                head = Int(rev)
            }
            let t0 = clock.now
            let summary = try await engine.pull()
            if rep >= 3 { pulls.append(seconds(clock.now - t0) * 1000) }
            guard summary.revisions == 10, summary.head == head else {
                throw BenchError("scale pull brought \(summary.revisions) revisions to \(summary.head), expected 10 to \(head)")
            }
        }
        return Latency(pulls)
    }

    /// Each figure at every size and its factor from one size to the next (per 10× when the
    /// sizes are 10× apart).
    static func growth(_ points: [ScalePoint]) -> [Growth] {
        func figure(_ name: String, _ unit: String, _ value: (ScalePoint) -> Double?) -> Growth {
            let values = points.map { value($0) ?? .nan }
            let factors = zip(values, values.dropFirst()).map { $1 / $0 }
            return Growth(figure: name, unit: unit, values: values, factors: factors)
        }
        func bytes(_ b: Int?) -> Double? { b.map(Double.init) }
        return [
            figure("build: import + edits, durable append(batch:)", "s") { $0.build.importSeconds + $0.build.editSeconds },
            figure("gloss clone, start to exit", "s") { $0.clone.seconds },
            figure("bytes on the wire: glossd's writes during the clone", "B") { bytes($0.cloneServer.writeCallBytes) },
            figure("loopback bytes during the clone (every process)", "B") { bytes($0.clone.loopbackBytes) },
            figure("server store at rest, after a checkpoint", "B") { Double($0.build.fileBytes) },
            figure("replica workspace at rest", "B") { Double($0.clone.workspaceBytes) },
            figure("client peak memory, gloss clone", "B") { Double($0.clone.peakBytes) },
            figure("glossd peak memory during the clone", "B") { bytes($0.cloneServer.peakBytes) },
            figure("glossd peak memory while clients push", "B") { bytes($0.pushServer.peakBytes) },
            figure("glossd peak memory over its life (wait4; no less than this benchmark at the spawn)", "B") { Double($0.serverExit.peakRSSBytes) },
            figure("push: durable changesets/s", "/s") { $0.push.changesetsPerSecond },
            figure("push: p99 latency", "ms") { $0.push.latency.p99Ms },
            figure("incremental pull of 10: median", "ms") { $0.pull.p50Ms },
        ]
    }
}
