import GlossBenchCorpus
import Foundation

// The human-readable summary of a run (stderr), next to the JSON (`--json-out`).

func fmt(_ x: Double, _ digits: Int = 1) -> String { x.isFinite ? String(format: "%.\(digits)f", x) : "n/a" }

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
func mb(_ bytes: Int?) -> String { bytes.map { fmt(Double($0) / 1_000_000, 1) + " MB" } ?? "n/a" }
func ms(_ l: Latency) -> String { "p50 \(fmt(l.p50Ms, 2)) / p90 \(fmt(l.p90Ms, 2)) / p99 \(fmt(l.p99Ms, 2)) ms" }

func contention(_ c: Contention) -> String {
    func pct(_ x: Double?) -> String { x.map { fmt($0 * 100, 0) + " %" } ?? "n/a" }
    return "\(c.othersCPUSeconds.map { fmt($0, 2) } ?? "n/a") s in \(fmt(c.wallSeconds, 2)) s; \(pct(c.cpuPressure)) / \(pct(c.ioPressure))"
}

func printTable(_ r: Report) {
    var lines: [String] = []
    func section(_ title: String) { lines.append(sectionLine(title)) }
    func row(_ name: String, _ value: String) { lines.append(rowLine(name, value)) }

    section("Targets")
    for t in r.targets { lines.append("  \(t.met ? "MET " : "MISS") \(t.name) (\(t.target)): \(t.measured)") }

    section("Corpora (built straight into the server's store files, in a child)")
    for b in [r.big, r.small] {
        row("\(b.name): documents / annotations / head", "\(b.documents) / \(grouped(b.annotations)) / \(b.head)")
        row("  import (durable append(batch:) of 50)", "\(fmt(b.importSeconds, 2)) s = \(groupedD(rate(b.annotations, b.importSeconds))) ann/s")
        if b.edits > 0 { row("  \(b.edits) edits (\(b.editOps) ops, batches of 100)", "\(fmt(b.editSeconds, 2)) s") }
        row("  head rows / history bytes / file", "\(grouped(b.headRows)) / \(mb(b.historyBytes)) / \(mb(b.fileBytes))")
    }

    let c = r.clone
    section("1. Clone of \(c.corpus) (client in a child process)")
    row("SyncEngine.clone", "\(fmt(c.client.cloneSeconds, 2)) s = \(groupedD(c.annotationsPerSecond)) ann/s")
    row("connect (TLS + HELLO + auth)", "\(fmt(c.client.connectSeconds * 1000, 1)) ms")
    row("client CPU (user + sys)", "\(fmt(c.client.cpu.user, 2)) + \(fmt(c.client.cpu.system, 2)) s")
    row("server CPU in the same interval", "\(fmt(c.serverCPU.user, 2)) + \(fmt(c.serverCPU.system, 2)) s")
    row("contention: others' CPU s; CPU / IO pressure", contention(c.contention))
    row("client VmHWM before / after", "\(mb(c.client.vmHWMBeforeBytes)) / \(mb(c.client.vmHWMBytes))")
    row("server process VmHWM during the clone", mb(c.serverVmHWMBytes))
    row("loopback bytes during the clone", mb(c.loopbackBytes))
    row("replica file; client disk writes; client fdatasyncs", "\(mb(c.client.replicaBytes)); \(mb(c.client.diskWriteBytes)); \(c.client.syncCalls.map(grouped) ?? "n/a")")
    row("verified equal: head, documents, live annotations", "\(c.head), \(c.verifiedDocuments), \(grouped(c.verifiedAnnotations))")
    row("head rows (live + tombstones): replica / server", "\(grouped(c.headRowsReplica)) / \(grouped(c.headRowsServer))")
    row("replica revision rows with another op count", grouped(c.revisionsWithDifferentOpCount))
    row("workspace directory (replica, configuration, token)", mb(c.workspaceBytes))

    for s in [r.cloneStream, r.pullFromZeroStream] {
        section("Stream \(s.request == "clone" ? "CLONE" : "PULL since 0") without a replica")
        row("server produces it in process (counting sink)", "\(fmt(s.serverProduceSeconds, 2)) s, \(grouped(s.serverItems)) items, \(mb(s.serverBytes))")
        row("child receives it over TLS (items kept)", "\(fmt(s.client.streamSeconds, 2)) s (first item \(fmt(s.client.firstItemSeconds * 1000, 1)) ms)")
        row("  payload + frame headers", "\(mb(s.client.payloadBytes)) + \(mb(s.client.frameHeaderBytes)); loopback \(mb(s.loopbackBytes))")
        for (kind, bytes) in s.client.bytesByKind.sorted(by: { $0.value > $1.value }) {
            row("    \(kind)", "\(grouped(s.client.countByKind[kind] ?? 0)) items, \(mb(bytes))")
        }
        row("  client decode (protobuf, inflate, DeltaCodec)", "\(fmt(s.client.decodeSeconds, 2)) s, \(grouped(s.client.decodedOps)) ops, \(mb(s.client.inflatedBytes)) inflated")
        row("  in-memory replay of the ops (live annotations)", "\(fmt(s.client.replaySeconds, 2)) s (\(grouped(s.client.replayLiveAnnotations)); server \(grouped(r.clone.verifiedAnnotations)))")
        row("  re-encode + deflate: deltas and snapshots / texts", "\(fmt(s.client.reencodeSeconds, 2)) / \(fmt(s.client.textReencodeSeconds, 2)) s (\(mb(s.client.reencodedBytes)))")
        row("  CPU: server / client stream / client decode", "\(fmt(s.serverCPU.total, 2)) / \(fmt(s.client.streamCPU.total, 2)) / \(fmt(s.client.decodeCPU.total, 2)) s")
    }

    section("2. Incremental pull of 10 changesets (in process)")
    for p in r.pulls {
        row("\(p.corpus) (\(grouped(p.annotations)) ann.): SyncEngine.pull()", ms(p.pull))
        row("  pull stream over TLS, dropped", ms(p.stream))
        row("  server produce, in process", ms(p.serverProduce))
        row("  10 pushes before it", "p50 \(fmt(p.tenPushes.p50Ms, 1)) ms; stream \(grouped(p.streamBytes)) B; \(p.reps) reps, head \(p.headStart)→\(p.headEnd)")
    }
    row("ratio of medians (1M ÷ 1k)", fmt(r.pullRatio, 2))
    let b = r.behindPull
    row("\(b.corpus): pull of \(grouped(b.revisions)) revisions behind", ms(b.pull) + " (\(b.pull.count) reps)")
    row("  loopback bytes; pushing them before", "\(mb(b.loopbackBytes)); \(b.pushSeconds.map { fmt($0, 2) }.joined(separator: " / ")) s")
    let rc = r.reconstruct
    row("reconstruct \(rc.document) at \(rc.revision) (\(rc.back) back): server", ms(rc.server) + " (\(grouped(rc.annotations)) ann.)")
    row("  on the fresh replica", rc.replica.map(ms) ?? "fails: \(rc.replicaError ?? "?")")

    let p = r.push
    section("3. \(p.client.clients) concurrent clients pushing (clients in a child process)")
    row("accepted changesets (ops)", "\(grouped(p.client.accepted)) (\(grouped(p.client.ops))) in \(fmt(p.client.seconds, 2)) s")
    row("durable changesets/s (whole / steady 10–90 %)", "\(groupedD(p.client.changesetsPerSecond)) / \(groupedD(p.client.steadyChangesetsPerSecond))")
    row("push latency", ms(p.client.latency) + ", max \(fmt(p.client.latency.maxMs, 1))")
    row("fdatasync+fsync calls (server) → mean batch", "\(p.syncCalls.map(grouped) ?? "n/a") → \(p.meanBatch.map { fmt($0, 1) } ?? "n/a")")
    row("CPU: server / clients", "\(fmt(p.serverCPU.total, 2)) s / \(fmt(p.client.cpu.total, 2)) s (\(fmt(p.serverCPU.total * 1e6 / Double(max(1, p.client.accepted)), 0)) / \(fmt(p.client.cpu.total * 1e6 / Double(max(1, p.client.accepted)), 0)) µs per push)")
    row("contention: others' CPU s; CPU / IO pressure", contention(p.contention))
    row("server VmRSS before / VmHWM during", "\(mb(p.serverVmRSSBeforeBytes)) / \(mb(p.serverVmHWMBytes))")
    row("client process VmHWM", mb(p.client.vmHWMBytes))

    section("Baselines (same run, same disk)")
    row("raw SQLite durable commits (before / after)", "\(groupedD(r.rawBefore.commitsPerSecond)) / \(groupedD(r.rawAfter.commitsPerSecond)) per s (SQLite \(r.rawBefore.sqliteVersion))")
    row("raw 4 KiB write + fdatasync (before / after)", "\(groupedD(r.rawBefore.fdatasyncsPerSecond)) / \(groupedD(r.rawAfter.fdatasyncsPerSecond)) per s")
    for b in r.batchAppends {
        row("store append(batch:) of \(b.batchSize)", "\(groupedD(b.changesetsPerSecond)) changesets/s (median batch \(fmt(b.batchMedianMs, 2)) ms)")
    }
    for i in [r.inProcessCommitter, r.inProcessRouter] {
        row("in process, \(i.tasks) tasks via \(i.path)", "\(groupedD(i.changesetsPerSecond))/s, \(ms(i.latency)); syncs \(i.syncCalls.map(grouped) ?? "n/a"), CPU \(fmt(i.cpu.total, 2)) s")
    }
    let st = r.pushSteps
    let store100 = r.batchAppends.last.map { 1e6 / $0.changesetsPerSecond } ?? .nan
    row("per push, µs: wire decode / account look-ups / check", "\(fmt(st.wireDecode, 1)) / \(fmt(st.accountLookups, 1)) / \(fmt(st.check, 1)) (\(fmt(st.meanOps, 2)) ops)")
    row("per push, µs: delta encode / deflate / head encode", "\(fmt(st.deltaEncode, 1)) / \(fmt(st.deflate, 1)) / \(fmt(st.headEncode, 1)) (\(fmt(st.deltaRawBytes, 0)) B raw delta)")
    row("per push, µs: store append(batch:) of 100, all in", fmt(store100, 1))
    let raw = (r.rawBefore.commitsPerSecond + r.rawAfter.commitsPerSecond) / 2
    row("ratio: network push rate ÷ raw durable commits", fmt(p.client.changesetsPerSecond / raw, 2))
    row("ratio: network push rate ÷ in-process committer", fmt(p.client.changesetsPerSecond / r.inProcessCommitter.changesetsPerSecond, 2))
    row("ratio: clone ÷ local build of the same history", fmt(r.clone.client.cloneSeconds / (r.big.importSeconds + r.big.editSeconds), 2))
    if let g = r.git { lines += gitLines(g) }
    if let m = r.memory { lines += memoryLines(m) }
    if let s = r.scale { lines += scaleLines(s) }
    if let p = r.postgres { lines += postgresLines(p) }
    if let k = r.kept {
        section("Kept (--keep)")
        row("glossd data directory as built; corpus", "\(k.dataDirectory); \(k.corpus)")
        if let repository = k.gitRepository { row("git repository as built", repository) }
    }
    lines.append("\nwhole run: " + contention(r.config.contention))
    lines.append("total \(fmt(r.totalSeconds, 1)) s; load average \(r.config.loadAverageBefore) → \(r.config.loadAverageAfter)")
    FileHandle.standardError.write(Data((lines.joined(separator: "\n") + "\n").utf8))
}

func sectionLine(_ title: String) -> String { "\n== \(title)" }
func rowLine(_ name: String, _ value: String, width: Int = 58) -> String {
    "  " + name.padding(toLength: width, withPad: " ", startingAt: 0) + value
}

/// git on the same history, and every Gloss figure beside git's.
private func gitLines(_ report: Report.Git) -> [String] {
    var lines: [String] = []
    func section(_ title: String) { lines.append(sectionLine(title)) }
    func row(_ name: String, _ value: String) { lines.append(rowLine(name, value)) }
    let g = report.result
    func medianBytes(_ values: [Int?]) -> Int? {
        let known = values.compactMap { $0.map(Double.init) }
        return known.isEmpty ? nil : Int(median(known))
    }
    func spread(_ values: [Double], _ f: (Double) -> String) -> String {
        guard let lo = values.min(), let hi = values.max() else { return "n/a" }
        return "\(f(median(values))) (\(f(lo))–\(f(hi)))"
    }
    section("git in the same run (\(g.gitVersion); brat files, one commit per changeset)")
    row("commits / documents / spans at the head", "\(grouped(g.commits)) / \(grouped(g.documents)) / \(grouped(g.liveAnnotations))")
    row("build: generate + brat export + fast-import (wall)", "\(fmt(g.buildSeconds, 2)) s (generate \(fmt(g.generateSeconds, 2)) s)")
    row("  \(grouped(g.exports)) .ann exports (BratImporter + BratExporter)", "\(fmt(g.exportSeconds, 2)) s")
    row("  fast-import stream; fast-import CPU", "\(mb(g.streamBytes)); \(fmt(g.fastImportCPUSeconds, 2)) s")
    row("  peak memory of this child (generator + brat state)", mb(g.roleVmHWMBytes))
    row("pack after fast-import / repack -adf / gc --aggressive", "\(mb(g.fastImportPackBytes)) / \(mb(g.repack.packBytes)) / \(mb(g.aggressive.packBytes))")
    row("  objects/ after repack -adf / gc --aggressive", "\(mb(g.repack.objectsBytes)) / \(mb(g.aggressive.objectsBytes))")
    row("  repack -adf / gc --aggressive took", "\(fmt(g.repack.seconds, 1)) s / \(fmt(g.aggressive.seconds, 1)) s")
    for (name, clones) in [("clone --bare", g.bareClones), ("clone with checkout", g.checkoutClones)] {
        row("git \(name) over git daemon (\(clones.count) runs)", spread(clones.map(\.seconds)) { fmt($0, 2) + " s" })
        row("  CPU; loopback bytes; pack received", "\(fmt(median(clones.map(\.cpuSeconds)), 2)) s; \(mb(medianBytes(clones.map(\.loopbackBytes)))); \(mb(clones.last?.packBytes))")
        row("  peak memory (git clone and its children)", mb(clones.compactMap(\.maxRSSBytes).max()))
    }
    row("clone with checkout on disk: .git + working tree", "\(mb(g.checkoutGitBytes)) + \(mb(g.checkoutWorktreeBytes))")
    row("git show HEAD~\(g.showBack):\(g.showDocument).ann", ms(g.show) + " (\(grouped(g.showBytes)) B, \(grouped(g.showSpans)) T lines)")
    row("10 commits (fast-import) then git fetch", ms(g.fetch10) + "; loopback \(g.fetch10LoopbackBytes.map(grouped) ?? "n/a") B")
    for f in g.fetchBehind {
        row("git fetch of \(grouped(f.commits)) commits", "\(fmt(f.seconds * 1000, 1)) ms, CPU \(fmt(f.cpuSeconds, 2)) s, loopback \(mb(f.loopbackBytes))")
    }

    section("Gloss beside git: Gloss ÷ git")
    for c in report.comparisons {
        let value: (Double) -> String =
            switch c.unit {
            case "B": { mb(Int($0)) }
            case "ms": { fmt($0, 2) + " ms" }
            default: { fmt($0, 2) + " " + c.unit }
            }
        lines.append(rowLine(c.name, "\(value(c.gloss)) ÷ \(value(c.git)) = \(fmt(c.ratio, 2))", width: 66))
    }
    return lines
}
