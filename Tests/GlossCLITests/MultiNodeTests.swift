import Foundation
import GlossTestSupport
import Testing

/// Several `glossd` nodes on one PostgreSQL database, driven as users drive them: the real
/// binaries, a real database, `gloss` clients each talking to a different node.
@Suite(.hangGuard, .timeLimit(.minutes(10)))
struct MultiNodeTests {
    /// Two nodes started together on a fresh database, and the admin's token (whichever node
    /// made the admin user wrote it).
    struct Cluster {
        let directory: TemporaryDirectory
        let environment: [String: String]
        let nodes: [GlossDaemon]
        let admin: [String: String]

        init(_ name: String) async throws {
            let postgres = try await TestPostgres.shared()
            environment = ["GLOSSD_STORAGE_URL": try await postgres.freshDatabase()]
            directory = try TemporaryDirectory(name)
            let root = directory.url
            let environment = self.environment
            // At the same moment: the identity and the admin user must each be made once.
            async let first = GlossDaemon(data: root.appendingPathComponent("node1"), environment: environment)
            async let second = GlossDaemon(data: root.appendingPathComponent("node2"), environment: environment)
            nodes = try await [first, second]
            let tokens = nodes.map(\.adminToken).filter { !$0.isEmpty }
            try #require(tokens.count == 1, "exactly one node makes the admin user: \(nodes.map(\.startupOutput))")
            admin = ["GLOSS_TOKEN": tokens[0]]
        }

        /// Runs gloss and requires exit status 0.
        @discardableResult
        func ok(_ args: [String], in dir: URL? = nil, env: [String: String]? = nil) async throws -> GlossProcesses.Result {
            try CLIFixture.expectOK(
                await GlossProcesses.gloss(args, in: dir ?? directory.url, env: env ?? admin), args)
        }

        /// A user with `role` in `corpus`, added through one node and granted through the other;
        /// their workspace cloned from `node`.
        func annotator(_ name: String, corpus: String, cloneFrom node: GlossDaemon) async throws -> URL {
            let token = try await nodes[1].addUser(name)
            try await ok(["corpus", "grant", nodes[0].url, corpus, name, "annotator", "--pin", nodes[0].pin])
            let dir = directory.url.appendingPathComponent(name)
            try await ok(["clone", "\(node.url)/\(corpus)", dir.path, "--pin", node.pin, "--token", token], env: [:])
            return dir
        }
    }

    @Test func twoNodesShareOneIdentityAndClientsOnEitherConverge() async throws {
        let cluster = try await Cluster("multinode")
        let (one, two) = (cluster.nodes[0], cluster.nodes[1])
        // One certificate, stored once in the database: a client's pin holds on either node.
        #expect(one.pin == two.pin)

        try await cluster.ok(["corpus", "create", one.url, "news", "--pin", one.pin])
        let admin = cluster.directory.url.appendingPathComponent("admin")
        try await cluster.ok(["clone", "\(two.url)/news", admin.path, "--pin", two.pin])
        try await cluster.ok(["doc", "add", GlossProcesses.sampleDocument.path, "--id", "fed"], in: admin)
        try await cluster.ok(["sync"], in: admin)
        let alice = try await cluster.annotator("alice", corpus: "news", cloneFrom: one)
        let bob = try await cluster.annotator("bob", corpus: "news", cloneFrom: two)

        // Bob watches through node two while both push at once, each through their own node.
        let watcher = try WatchCommandTests.Watcher(["--json"], in: bob)
        defer { watcher.stop() }
        #expect(await watcher.waitFor { _, err in err.contains("watching") }, "watch never confirmed: \(watcher.errorOutput)")
        for start in stride(from: 0, to: 40, by: 10) {
            try await cluster.ok(["span", "add", "fed", "\(start)", "\(start + 4)", "A\(start)"], in: alice, env: [:])
            try await cluster.ok(["span", "add", "fed", "\(start + 5)", "\(start + 9)", "B\(start)"], in: bob, env: [:])
        }
        async let pushedByAlice = GlossProcesses.gloss(["sync"], in: alice)
        async let pushedByBob = GlossProcesses.gloss(["sync"], in: bob)
        let (a, b) = try await (pushedByAlice, pushedByBob)
        #expect(a.status == 0 && b.status == 0, "\(a.err) \(b.err)")
        try await cluster.ok(["sync"], in: alice, env: [:])
        try await cluster.ok(["sync"], in: bob, env: [:])

        // Both workspaces hold the same eight spans at the same head.
        let labelsA = try await cluster.ok(["annotations", "--json"], in: alice, env: [:]).jsonLines()
            .compactMap { $0["label"] as? String }.sorted()
        let labelsB = try await cluster.ok(["annotations", "--json"], in: bob, env: [:]).jsonLines()
            .compactMap { $0["label"] as? String }.sorted()
        #expect(labelsA.count == 8)
        #expect(labelsA == labelsB)
        // Alice pushed through node one; bob, on node two, heard of it.
        #expect(
            await watcher.waitFor { out, _ in out.contains("\"author\":\"alice\"") },
            "node two never announced node one's revision: \(watcher.output) \(watcher.errorOutput)")

        // Admin commands reach the same database from any node's settings.
        let users = try await GlossProcesses.glossd(
            ["user", "list", "--data", one.data.path], in: cluster.directory.url, env: cluster.environment)
        #expect(users.status == 0 && users.out.contains("alice") && users.out.contains("bob"), "\(users.err)")
        let check = try await GlossProcesses.glossd(["check"], in: cluster.directory.url, env: cluster.environment)
        #expect(check.status == 0, "glossd check on PostgreSQL: \(check.out) \(check.err)")

        // Node one drains: its subscriber is told the server is going away (GOAWAY ends the
        // subscription cleanly), while node two goes on serving the same corpus.
        let onOne = try WatchCommandTests.Watcher([], in: alice)
        defer { onOne.stop() }
        #expect(await onOne.waitFor { _, err in err.contains("watching") }, "\(onOne.errorOutput)")
        #expect(await one.terminate() == 0)
        #expect(
            await onOne.waitFor { _, err in err.contains("the server ended the subscription") },
            "no graceful end on drain: \(onOne.errorOutput)")
        try await cluster.ok(["span", "add", "fed", "100", "104", "LATE"], in: bob, env: [:])
        try await cluster.ok(["sync"], in: bob, env: [:])
        #expect(await two.terminate() == 0)
    }

    @Test func aNodeKilledMidPushLosesNothingAndTheRetryOnAnotherNodeMakesNoDuplicate() async throws {
        let cluster = try await Cluster("multinode-kill")
        let (one, two) = (cluster.nodes[0], cluster.nodes[1])
        try await cluster.ok(["corpus", "create", one.url, "news", "--pin", one.pin])
        let admin = cluster.directory.url.appendingPathComponent("admin")
        try await cluster.ok(["clone", "\(one.url)/news", admin.path, "--pin", one.pin])
        // A push large enough to be in flight when the node dies: 52 documents, 4,069 annotations.
        let brat = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("shared/data/brat-example-data")
        try await cluster.ok(["import", "brat", brat.path], in: admin)
        let pending = try await cluster.ok(["log", "--json"], in: admin).jsonLines().count

        async let interrupted = GlossProcesses.gloss(["sync"], in: admin, env: cluster.admin)
        try await Task.sleep(for: .milliseconds(150))
        one.signal(SIGKILL)
        // Acknowledged or not, whatever the timing: the client must not have been told more than
        // the database holds.
        let first = try await interrupted
        #expect(first.status == 0 || first.err.contains("connection"), "\(first.err)")

        // The client retries through the other node (as a load balancer would send it).
        let config = admin.appendingPathComponent(".gloss/config.json")
        let text = try String(contentsOf: config, encoding: .utf8)
        try text.replacingOccurrences(of: "127.0.0.1:\(one.port)", with: "127.0.0.1:\(two.port)")
            .write(to: config, atomically: true, encoding: .utf8)
        try await cluster.ok(["sync"], in: admin)

        // Every changeset is stored once: as many revisions as changesets were pending, each id once.
        let log = try await cluster.ok(["log", "--json"], in: admin).jsonLines()
        let ids = log.compactMap { $0["changeset"] as? String }
        #expect(log.count == pending, "\(log.count) revisions for \(pending) changesets")
        #expect(Set(ids).count == ids.count)
        #expect(!log.contains { ($0["pending"] as? Bool) == true })
        // A fresh clone through the surviving node has all of it.
        let fresh = cluster.directory.url.appendingPathComponent("fresh")
        try await cluster.ok(["clone", "\(two.url)/news", fresh.path, "--pin", two.pin])
        #expect(try await cluster.ok(["annotations", "--json"], in: fresh).jsonLines().count == 4069)
        let check = try await GlossProcesses.glossd(["check"], in: cluster.directory.url, env: cluster.environment)
        #expect(check.status == 0, "glossd check after the kill: \(check.out) \(check.err)")
    }

    @Test func withTheDatabaseGonePushesFailRetryablyHealthSaysSoAndTheNodeRecoversByItself() async throws {
        let postgres = try await TestPostgres.shared()
        let url = try await postgres.freshDatabase()
        let database = try #require(url.split(separator: "/").last.map(String.init))
        let directory = try TemporaryDirectory("multinode-down")
        let node = try await GlossDaemon(
            data: directory.url.appendingPathComponent("node"),
            environment: ["GLOSSD_STORAGE_URL": url, "GLOSSD_METRICS_LISTEN": "127.0.0.1:0"])
        let base = try #require(
            node.startupOutput.range(of: #"http://127\.0\.0\.1:[0-9]+/"#, options: .regularExpression)
                .map { String(node.startupOutput[$0]) })
        func health() throws -> String {
            try GlossProcesses.runBlocking(URL(fileURLWithPath: "/usr/bin/curl"), ["-s", "-w", "\n%{http_code}", base + "health"]).out
        }
        let admin = ["GLOSS_TOKEN": node.adminToken]
        func gloss(_ args: [String], in dir: URL? = nil) async throws -> GlossProcesses.Result {
            try await GlossProcesses.gloss(args, in: dir ?? directory.url, env: admin)
        }
        #expect(try await gloss(["corpus", "create", node.url, "news", "--pin", node.pin]).status == 0)
        let workspace = directory.url.appendingPathComponent("a")
        #expect(try await gloss(["clone", "\(node.url)/news", workspace.path, "--pin", node.pin]).status == 0)
        #expect(try await gloss(["doc", "add", GlossProcesses.sampleDocument.path, "--id", "fed"], in: workspace).status == 0)
        #expect(try await gloss(["sync"], in: workspace).status == 0)
        #expect(try health().hasSuffix("200"))

        // The database goes away: no new connections, and the node's are cut.
        _ = try await postgres.psql(
            """
            ALTER DATABASE "\(database)" ALLOW_CONNECTIONS false;
            SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '\(database)';
            """)
        #expect(try await gloss(["span", "add", "fed", "1", "4", "DET"], in: workspace).status == 0)
        let refused = try await gloss(["push"], in: workspace)
        #expect(refused.status != 0)
        #expect(refused.err.contains("cannot reach its database"), "\(refused.err)")
        let down = try health()
        #expect(down.hasSuffix("503") && down.contains("does not answer"), "\(down)")
        // Nothing was acknowledged: the change is still pending.
        #expect(try await gloss(["log", "--json"], in: workspace).jsonLines().first?["pending"] as? Bool == true)

        // Back: the node reconnects by itself, and the same push goes through.
        _ = try await postgres.psql(#"ALTER DATABASE "\#(database)" ALLOW_CONNECTIONS true"#)
        let deadline = ContinuousClock.now + .seconds(60)
        while try !health().hasSuffix("200"), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(200))
        }
        #expect(try health().hasSuffix("200"))
        let pushed = try await gloss(["push"], in: workspace)
        #expect(pushed.status == 0, "\(pushed.err)")
        #expect(try await gloss(["log", "--json"], in: workspace).jsonLines().allSatisfy { $0["pending"] as? Bool == false })
        #expect(await node.terminate() == 0)
    }

    @Test func aSingleBoxServerMovesToPostgresWithItsTokensPinsAndHistory() async throws {
        let f = try await CLIFixture("migrate-store")
        try await f.addSample()
        let bob = try await f.annotator("bob")
        try await f.ok(["span", "add", "fed", "5", "15", "ORG"], in: bob)
        try await f.ok(["sync"], in: bob)
        let bobsToken = try String(contentsOf: bob.appendingPathComponent(".gloss/token"), encoding: .utf8)
        #expect(await f.daemon.terminate() == 0)

        let postgres = try await TestPostgres.shared()
        let url = try await postgres.freshDatabase()
        // While a glossd serves the directory, it is not copied.
        let served = try await GlossDaemon(data: f.daemon.data)
        let refused = try await GlossProcesses.glossd(["migrate-store", "--from", served.data.path, "--to", url], in: f.directory.url)
        #expect(refused.status == 1 && refused.err.contains("lock"), "\(refused.err)")
        #expect(await served.terminate() == 0)

        let migrated = try await GlossProcesses.glossd(["migrate-store", "--from", f.daemon.data.path, "--to", url], in: f.directory.url)
        #expect(migrated.status == 0, "\(migrated.out) \(migrated.err)")
        #expect(migrated.out.contains("copied corpus news"))
        let node = try await GlossDaemon(
            data: f.directory.url.appendingPathComponent("node"), environment: ["GLOSSD_STORAGE_URL": url])
        // The same certificate: bob's workspace, pinned to the old server, pulls from the new one.
        #expect(node.pin == f.daemon.pin)
        let config = bob.appendingPathComponent(".gloss/config.json")
        try String(contentsOf: config, encoding: .utf8)
            .replacingOccurrences(of: "127.0.0.1:\(f.daemon.port)", with: "127.0.0.1:\(node.port)")
            .write(to: config, atomically: true, encoding: .utf8)
        try await f.ok(["span", "add", "fed", "20", "30", "LOC"], in: bob)
        try await f.ok(["sync"], in: bob)
        let labels = try await f.ok(["annotations", "--json"], in: bob).jsonLines().compactMap { $0["label"] as? String }
        #expect(labels.sorted() == ["LOC", "ORG"])
        #expect(!bobsToken.isEmpty)
        let check = try await GlossProcesses.glossd(["check", "--database", url], in: f.directory.url)
        #expect(check.status == 0, "\(check.out) \(check.err)")
        #expect(await node.terminate() == 0)
    }

    /// The scale-out backend is glossd's alone: the client is built without postgres-nio.
    @Test func onlyGlossdLinksPostgres() throws {
        func links(_ product: String, _ module: String) throws -> Bool {
            let binary = try Data(contentsOf: GlossProcesses.products.appendingPathComponent(product))
            return binary.range(of: Data(module.utf8)) != nil
        }
        #expect(try links("glossd", "PostgresNIO"))
        #expect(try !links("gloss", "PostgresNIO"))
    }
}
