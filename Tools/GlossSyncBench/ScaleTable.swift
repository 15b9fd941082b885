import Foundation

// The scale curve's lines of the summary: each figure at every size, and its growth per step.

func scaleLines(_ s: ScaleReport) -> [String] {
    var lines: [String] = []
    lines.append(sectionLine("Scale curve (\(s.annotationsPerDocument) annotations per document; history \(s.history); \(s.clients) clients × \(s.pushesPerClient) pushes)"))
    let sizes = s.points.map { sizeName($0.annotations) }
    let steps = zip(sizes, sizes.dropFirst()).map { "×\($1)/\($0)" }
    func cells(_ values: [String]) -> String { values.map { $0.padding(toLength: 12, withPad: " ", startingAt: 0) }.joined() }
    lines.append(rowLine("", cells(sizes + steps), width: 50))
    for g in s.growth {
        let values = g.values.map { v -> String in
            switch g.unit {
            case "B": mb(v.isFinite ? Int(v) : nil)
            case "/s": groupedD(v)
            case "ms": fmt(v, 2) + " ms"
            default: fmt(v, 2) + " " + g.unit
            }
        }
        lines.append(rowLine(g.figure, cells(values + g.factors.map { fmt($0, 2) }), width: 50))
    }
    for p in s.points {
        lines.append(rowLine(
            "\(sizeName(p.annotations)): documents / edits / head", "\(grouped(p.documents)) / \(grouped(p.editChangesets)) / \(grouped(p.build.head))", width: 50))
        lines.append(rowLine("  build child wall; its peak", "\(fmt(p.buildWallSeconds, 1)) s; \(mb(p.buildVmHWMBytes))", width: 50))
        lines.append(rowLine("  glossd at start; during pulls", "\(mb(p.serverStartVmRSSBytes)); peak \(mb(p.pullServer.peakBytes))", width: 50))
        lines.append(rowLine("  pull of 10", ms(p.pull), width: 50))
        lines.append(rowLine("  gloss clone sampled", clientSamples(p.clone), width: 50))
        lines.append(rowLine("  load average at start; contention", "\(p.loadAverage); \(contention(p.contention))", width: 50))
    }
    lines.append(rowLine("scale curve took; load average before / after", "\(fmt(s.seconds, 1)) s; \(s.loadAverageBefore) → \(s.loadAverageAfter)", width: 50))
    return lines
}

/// The summary of a `--memory-only` / `--scale-only` run.
func printParts(_ r: PartsReport) {
    var lines: [String] = []
    if !r.targets.isEmpty {
        lines.append(sectionLine("Targets"))
        for t in r.targets { lines.append("  \(t.met ? "MET " : "MISS") \(t.name) (\(t.target)): \(t.measured)") }
    }
    for b in r.corpora {
        lines.append(rowLine("\(b.name): documents / annotations / head / file", "\(b.documents) / \(grouped(b.annotations)) / \(b.head) / \(mb(b.fileBytes))"))
    }
    if let m = r.memory { lines += memoryLines(m) }
    if let s = r.scale { lines += scaleLines(s) }
    if let p = r.postgres { lines += postgresLines(p) }
    lines.append("\nwhole run: " + contention(r.contention))
    lines.append("total \(fmt(r.totalSeconds, 1)) s; load average \(r.loadAverageBefore) → \(r.loadAverageAfter)")
    FileHandle.standardError.write(Data((lines.joined(separator: "\n") + "\n").utf8))
}
