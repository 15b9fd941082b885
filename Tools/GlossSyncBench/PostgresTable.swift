import Foundation

// The PostgreSQL part's lines in the human-readable summary.

func postgresLines(_ p: PostgresReport) -> [String] {
    var lines: [String] = []
    func section(_ title: String) { lines.append(sectionLine(title)) }
    func row(_ name: String, _ value: String) { lines.append(rowLine(name, value)) }
    let r = p.ratios

    section("PostgreSQL beside SQLite (PostgreSQL \(p.postgresVersion), same run)")
    row("settings", p.settings.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))
    row("nodes: pool / storage threads each; clients × pushes", "\(p.poolSize) / \(p.storageThreads); \(p.clients) × \(p.pushesPerClient)")
    for (name, b) in [("SQLite build", p.sqliteBuild), ("PostgreSQL load", p.postgresBuild)] {
        row(
            "\(name): \(b.name), head \(b.head)",
            "import \(fmt(b.importSeconds, 2)) s + edits \(fmt(b.editSeconds, 2)) s; head rows \(grouped(b.headRows)); \(mb(b.fileBytes))")
    }
    row("PostgreSQL load child (start to exit); database size", "\(fmt(p.postgresLoadSeconds, 1)) s; \(mb(p.postgresDatabaseBytes))")

    section("Ratios (medians over \(p.rounds) round\(p.rounds == 1 ? "" : "s"))")
    row("PostgreSQL ÷ SQLite, push rate, one node (≥ 0.5)", "\(fmt(r.postgresOverSQLite, 2))  (\(groupedD(r.postgresPushRate)) / \(groupedD(r.sqlitePushRate)) per s)")
    row("PostgreSQL push ÷ pgbench single-row commits (≥ 1.0)", "\(fmt(r.postgresOverPgbench, 2))  (\(groupedD(r.postgresPushRate)) / \(groupedD(r.pgbenchTPS)) per s)")
    row("p99 push latency: SQLite / PG 1 node / PG 2 nodes (≤ 50)", "\(fmt(r.sqliteP99Ms, 1)) / \(fmt(r.postgresP99Ms, 1)) / \(fmt(r.postgresTwoNodesP99Ms, 1)) ms")
    row("two nodes ÷ one node, push rate", "\(fmt(r.twoNodesOverOne, 2))  (\(groupedD(r.postgresTwoNodesPushRate)) / \(groupedD(r.postgresPushRate)) per s)")
    row("clone PostgreSQL ÷ clone SQLite", "\(fmt(r.cloneOverSQLite, 2))  (\(fmt(r.postgresCloneSeconds, 2)) / \(fmt(r.sqliteCloneSeconds, 2)) s)")
    row("… the server producing the clone stream, PG ÷ SQLite", fmt(r.cloneProduceOverSQLite, 2))
    row("SQLite push ÷ raw durable SQLite commits (for scale)", fmt(r.sqliteOverRawSQLite, 2))

    section("Pushes")
    for x in p.pushes {
        let c = x.client
        row(
            "\(x.backend), round \(x.round + 1): changesets/s (steady); latency",
            "\(groupedD(c.changesetsPerSecond)) (\(groupedD(c.steadyChangesetsPerSecond))); \(ms(c.latency))")
        row(
            "  CPU s: glossd / PostgreSQL / clients; others; CPU pressure",
            "\(fmt(x.serverCPU.total, 2)) / \(x.postgresCPUSeconds.map { fmt($0, 2) } ?? "–") / \(fmt(c.cpu.total, 2)); "
                + contention(x.contention))
        if let k = x.counters {
            row(
                "  PostgreSQL commits / WAL flushes; changesets per flush",
                "\(grouped(k.commits)) / \(grouped(k.walSyncs)); \(x.changesetsPerWALSync.map { fmt($0, 1) } ?? "n/a") (WAL \(mb(k.walBytes)))")
        }
    }

    section("Clones")
    for x in p.clones {
        row(
            "\(x.backend), round \(x.round + 1): SyncEngine.clone; child",
            "\(fmt(x.client.cloneSeconds, 2)) s; \(fmt(x.childSeconds, 2)) s (verified \(grouped(x.verifiedAnnotations)) live annotations)")
        row(
            "  server produces the stream in process; CPU glossd / PostgreSQL",
            "\(fmt(x.serverProduceSeconds, 3)) s (\(mb(x.serverProduceBytes))); \(fmt(x.serverCPU.total, 2)) / \(x.postgresCPUSeconds.map { fmt($0, 2) } ?? "–") s")
    }

    section("Baselines")
    for b in p.pgbench {
        row(
            "pgbench, \(b.clients) client\(b.clients == 1 ? "" : "s"), \(b.seconds) s (\(b.when))",
            "\(groupedD(b.tps)) single-row durable commits/s\(b.latencyAverageMs.map { ", mean \(fmt($0, 2)) ms" } ?? "")")
    }
    for (i, raw) in p.rawSQLite.enumerated() {
        row("raw SQLite durable commits (\(i == 0 ? "before" : "after"))", "\(groupedD(raw.commitsPerSecond)) per s")
    }
    section("Where the time goes (nodes idle)")
    for backend in p.storeOnly.keys.sorted() {
        for b in p.storeOnly[backend] ?? [] {
            var figure = "\(groupedD(b.changesetsPerSecond)) changesets/s (median batch \(fmt(b.batchMedianMs, 2)) ms)"
            if let perChangeset = b.statementsPerChangeset, let waiting = b.waitingShare {
                figure += "; \(fmt(perChangeset, 2)) statements a changeset, \(fmt(waiting * 100, 0)) % of the time waiting on them"
            }
            row("\(backend): store append(batch:) of \(b.batchSize), in process", figure)
        }
    }
    if let rt = p.statementRoundTripMs { row("PostgreSQL: one statement (SELECT 1) via the storage API", ms(rt)) }
    row("part total", "\(fmt(p.seconds, 1)) s; others' CPU \(contention(p.contention))")
    return lines
}
