import Foundation

/// One run's figures.
struct RunFigures: Codable {
    var wallMs: Double
    var cpuMs: Double
    var peakRSSMB: Double

    init(_ run: ChildRun) {
        wallMs = run.wallSeconds * 1000
        cpuMs = run.cpuSeconds * 1000
        peakRSSMB = Double(run.peakRSS) / 1e6
    }
}

/// One command over its runs: medians of time, the largest peak resident set.
struct Row: Codable {
    var command: String
    /// The wall-time target in milliseconds (nil: none set).
    var targetMs: Double?
    var runs: [RunFigures]
    var medianWallMs: Double
    var medianCPUMs: Double
    var maxWallMs: Double
    var maxPeakRSSMB: Double

    /// A client never above 150 MB (issue 10, point 6).
    static let memoryTargetMB = 150.0

    init(command: String, target seconds: Double, _ runs: [ChildRun]) {
        self.command = command
        targetMs = seconds.isNaN ? nil : seconds * 1000
        self.runs = runs.map(RunFigures.init)
        medianWallMs = median(self.runs.map(\.wallMs))
        medianCPUMs = median(self.runs.map(\.cpuMs))
        maxWallMs = self.runs.map(\.wallMs).max() ?? .nan
        maxPeakRSSMB = self.runs.map(\.peakRSSMB).max() ?? .nan
    }

    /// Met when the median wall time is within the target and no run went above the memory target.
    var verdict: String {
        let memory = maxPeakRSSMB <= Self.memoryTargetMB
        guard let targetMs else { return memory ? "—" : "over 150 MB" }
        switch (medianWallMs <= targetMs, memory) {
        case (true, true): return "met"
        case (false, true): return "MISSED (time)"
        case (true, false): return "MISSED (memory)"
        case (false, false): return "MISSED (time, memory)"
        }
    }

    var line: String {
        String(
            format: "%@: median %.1f ms wall, %.1f ms CPU, peak %.1f MB", command, medianWallMs, medianCPUMs,
            maxPeakRSSMB)
    }
}

struct ReportOptions: Codable {
    var seed: UInt64
    var documents: Int
    var annotations: Int
    var serverEdits: Int
    var pending: Int
    var runs: Int

    init(_ o: Options) {
        (seed, documents, annotations, serverEdits, pending, runs) =
            (o.seed, o.documents, o.annotations, o.serverEdits, o.pending, o.runs)
    }
}

struct Report: Codable {
    var options: ReportOptions
    /// Pending changesets at the end (the edits the timed commands made included).
    var pending: Int
    var figures: [String: Double]
    /// The first `docs` after the clone and the pending edits (it builds what later commands reuse).
    var firstDocs: RunFigures
    var rows: [Row]
    var git: Row?

    var table: String {
        var out = """
            gloss local commands: \(options.documents) documents, \(options.annotations) annotations, \
            \(options.serverEdits) server edits, \(options.pending) pending edits (\(pending) at the end), \
            \(options.runs) runs each (seed \(options.seed))

            """
        out += String(
            format: "clone %.2f s (peak %.0f MB); the first docs after it and the pending edits %.0f ms, %.0f MB\n\n",
            figures["cloneSeconds"] ?? .nan, (figures["clonePeakRSS"] ?? .nan) / 1e6, firstDocs.wallMs,
            firstDocs.peakRSSMB)
        let header = ["command", "wall ms (median)", "wall ms (max)", "CPU ms (median)", "peak RSS MB", "target", "verdict"]
        var lines = [header]
        for row in rows + (git.map { [$0] } ?? []) {
            lines.append([
                row.command, String(format: "%.1f", row.medianWallMs), String(format: "%.1f", row.maxWallMs),
                String(format: "%.1f", row.medianCPUMs), String(format: "%.1f", row.maxPeakRSSMB),
                row.targetMs.map { String(format: "≤ %.0f ms", $0) } ?? "—", row.verdict,
            ])
        }
        let widths = header.indices.map { c in lines.map { $0[c].count }.max() ?? 0 }
        for (n, line) in lines.enumerated() {
            out += "| " + line.enumerated().map { c, cell in
                cell.padding(toLength: widths[c], withPad: " ", startingAt: 0)
            }.joined(separator: " | ") + " |\n"
            if n == 0 { out += "|" + widths.map { String(repeating: "-", count: $0 + 2) }.joined(separator: "|") + "|\n" }
        }
        out += "\ntargets: span add/set/rm ≤ 50 ms; status, docs, conflicts ≤ 100 ms; every client ≤ 150 MB\n"
        return out
    }
}
