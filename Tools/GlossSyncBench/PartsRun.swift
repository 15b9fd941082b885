import Foundation

// `--memory-only`, `--scale-only` and `--postgres-only`: the real glossd's memory, the scale
// curve and PostgreSQL beside SQLite without the usual phases (each part builds what it needs
// and starts its own servers).

struct PartsReport: Codable {
    var seed: UInt64
    var directory: String
    var filesystem: String
    var loadAverageBefore: [Double]
    var loadAverageAfter: [Double]
    /// Built for the memory part: the usual corpus and the single import.
    var corpora: [CorpusBuild]
    var memory: MemoryReport?
    var scale: ScaleReport?
    /// `--postgres-only`: PostgreSQL beside SQLite, one and two nodes.
    var postgres: PostgresReport?
    var targets: [Report.Target]
    var contention: Contention
    var totalSeconds: Double
}

struct PartsRun {
    let options: Options

    func run() async throws -> PartsReport {
        let o = options
        let clock = ContinuousClock()
        let start = clock.now
        let work = try Orchestrator.makeWorkDirectory(o)
        defer { if !o.keep { try? FileManager.default.removeItem(at: work) } }
        let loadBefore = loadAverage()
        let mark = Contention.Mark()
        let cpu0 = CPUTime.now().total + childrenCPU()
        var corpora: [CorpusBuild] = []
        var memory: MemoryReport?
        if o.memory {
            let built = try await Build.inChild(
                work: work, options: o, documents: o.documents, annotations: o.annotations, changesets: o.changesets,
                singleImport: true)
            corpora = [built.setup.big] + (built.setup.singleImport.map { [$0] } ?? [])
            let copy = try MemoryPhases.copyData(of: built.setup, into: work)
            memory = try await MemoryPhases(options: o, setup: built.setup, setupPath: built.path, dataCopy: copy, work: work).run()
        }
        let scale: ScaleReport? = if o.scale { try await ScaleCurve(options: o, work: work).run() } else { nil }
        let postgres: PostgresReport? = if o.postgres { try await PostgresPart(options: o, work: work).run() } else { nil }
        if o.keep { log("kept \(work.path)") }
        return PartsReport(
            seed: o.seed, directory: work.path, filesystem: filesystemType(of: work.path), loadAverageBefore: loadBefore,
            loadAverageAfter: loadAverage(), corpora: corpora, memory: memory, scale: scale, postgres: postgres,
            targets: (memory?.targets ?? []) + (postgres?.targets ?? []),
            contention: mark.end(ours: CPUTime.now().total + childrenCPU() - cpu0), totalSeconds: seconds(clock.now - start))
    }
}
