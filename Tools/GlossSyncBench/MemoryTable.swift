import Foundation

// The memory part's lines of the summary: glossd's memory per phase, and gloss clone's.

func memoryReading(_ m: MemoryReading) -> String {
    "peak \(mb(m.peakBytes)) (VmHWM \(mb(m.vmHWMBytes)); sampled max \(mb(m.maxVmRSSBytes)), mean \(mb(m.meanVmRSSBytes)), "
        + "\(m.samples) samples); before \(mb(m.vmRSSBeforeBytes)), after \(mb(m.vmRSSAfterBytes))"
}

/// When a `gloss clone` peaked, and whether its memory was heap or mapped files.
func clientSamples(_ c: CLICloneResult) -> String {
    let m = c.sampled
    return "max \(mb(m.maxVmRSSBytes)) at \(m.peakAtSeconds.map { fmt($0, 1) } ?? "n/a") s of \(fmt(c.seconds, 1)) s; "
        + "heap (RssAnon) \(mb(m.maxRssAnonBytes)), files (RssFile) \(mb(m.maxRssFileBytes))"
}

func memoryLines(_ m: MemoryReport) -> [String] {
    var lines: [String] = []
    func section(_ title: String) { lines.append(sectionLine(title)) }
    func row(_ name: String, _ value: String) { lines.append(rowLine(name, value)) }

    section("Memory of the real glossd (\(m.glossd), port \(m.port)) and of gloss clone")
    row("glossd VmRSS after start", mb(m.serverStartVmRSSBytes))
    let i = m.idle
    row("a. \(i.client.connections) authenticated idle connections: glossd", memoryReading(i.server))
    row("   glossd VmRSS with all held; held for", "\(mb(i.serverVmRSSHeldBytes)); \(fmt(i.client.heldSeconds, 1)) s")
    row("   connecting them (10 at a time); client peak", "\(fmt(i.client.connectSeconds, 2)) s; \(mb(i.client.vmHWMBytes))")
    row("   contention: others' CPU s; CPU / IO pressure", contention(i.contention))
    let p = m.push
    row("b. \(p.client.clients) clients pushing: glossd", memoryReading(p.server))
    row("   durable changesets/s (whole / steady); latency", "\(groupedD(p.client.changesetsPerSecond)) / \(groupedD(p.client.steadyChangesetsPerSecond)); \(ms(p.client.latency))")
    row("   accepted; head; glossd CPU", "\(grouped(p.client.accepted)); \(p.headBefore)→\(p.headAfter); \(p.server.cpuSeconds.map { fmt($0, 2) } ?? "n/a") s")
    row("   contention: others' CPU s; CPU / IO pressure", contention(p.contention))
    let b = m.bigPush
    row("c. one changeset of \(grouped(b.client.ops)) ops: glossd", memoryReading(b.server))
    row("   message (protobuf); server limit; client's", "\(mb(b.client.messageBytes)); \(b.serverMaxMessageBytes); \(mb(b.client.clientMaxMessageBytes))")
    row("   outcome", b.client.acceptedRevision.map { "accepted as revision \($0) (\(b.pushedDocuments.map(grouped) ?? "?") documents listed)" } ?? "refused: \(b.client.refusal ?? "?")")
    row("   push; generate; client peak", "\(fmt(b.client.pushSeconds, 2)) s; \(fmt(b.client.generateSeconds, 2)) s; \(mb(b.client.vmHWMBytes))")
    row("   glossd survived; CPU", "\(b.serverSurvived ? "yes" : "no, status \(b.serverExit?.status ?? -1)"); \(b.server.cpuSeconds.map { fmt($0, 2) } ?? "n/a") s")
    row("   contention: others' CPU s; CPU / IO pressure", contention(b.contention))
    for c in m.clones {
        row("d. gloss clone \(c.client.corpus)", "\(fmt(c.client.seconds, 2)) s; client peak \(mb(c.client.peakBytes))")
        row("   history", c.history)
        row("   \(grouped(c.annotations)) annotations, \(grouped(c.revisions)) revisions; CPU", "\(fmt(c.client.exit.cpu.user, 2)) + \(fmt(c.client.exit.cpu.system, 2)) s")
        row("   glossd's writes (TLS); loopback; workspace on disk", "\(mb(c.server.writeCallBytes)); \(mb(c.client.loopbackBytes)); \(mb(c.client.workspaceBytes))")
        row("   client sampled", clientSamples(c.client))
        row("   glossd during it", memoryReading(c.server))
        row("   contention: others' CPU s; CPU / IO pressure", contention(c.contention))
    }
    row("glossd peak over its life (wait4; no less than this benchmark when it spawned glossd)", m.serverExits.map { mb($0.peakRSSBytes) }.joined(separator: ", "))
    row("load average before / after", "\(m.loadAverageBefore) → \(m.loadAverageAfter)")
    row("memory part took", "\(fmt(m.seconds, 1)) s")
    return lines
}
