import Foundation
import GlossTestSupport
import Testing

/// Crash loops (issue 13, point 7): the real `glossd` killed with SIGKILL at random moments
/// while several `gloss` clients push, round after round; and in each round a `gloss clone`
/// and a `gloss sync` killed at random moments too.
///
/// After each restart, every changeset a client was told was accepted (its `gloss sync` exited
/// 0) is on the server exactly once, revisions run 1...head with no gap, what was history
/// before the crash is still the same history (no revision renumbered or dropped), nothing
/// the clients never made appears, and `glossd check` is clean. A killed clone leaves either
/// no workspace (only its staging directory) or a complete one, and the same clone run again
/// works; a killed sync leaves a workspace that a plain `gloss sync` brings back in step,
/// with each of its changesets stored once.
///
/// The kill moments are random, drawn from a seed printed at the start (set
/// `GLOSS_CRASH_LOOP_SEED` to draw the same moments and choices again; the interleaving of the
/// processes still varies); every check holds whatever moment a kill lands on, so no outcome
/// depends on timing. `GLOSS_CRASH_LOOP_KEEP=1` keeps the server's data and the workspaces.
///
/// Bugs it found in product code are marked with `withKnownIssue`, each naming one of
/// ``KnownBugs``: the test still checks everything else, and reports each time one shows.
@Suite(.serialized, .hangGuard, .timeLimit(.minutes(10)))
struct CrashLoopTests {
    static let rounds = 10

    @Test func acknowledgedChangesSurviveKilledServersClientsAndClones() async throws {
        let seed = CrashLoop.seed()
        print("CrashLoopTests: seed \(seed) (replay with GLOSS_CRASH_LOOP_SEED=\(seed))")
        var rng = SplitMix64(seed: seed)
        let loop = try await CrashLoop(seed: seed)
        defer { loop.remove() }
        let started = ContinuousClock.now
        for round in 1...Self.rounds {
            try await loop.pushWhileTheServerIsKilled(round: round, &rng)
            try await loop.restartAndVerify(round: round)
            try await loop.killAClone(round: round, &rng)
            try await loop.killAPush(round: round, &rng)
        }
        try await loop.settle()
        let s = loop.stats
        print(
            "CrashLoopTests: seed \(seed), \(Self.rounds) rounds in \(ContinuousClock.now - started): "
                + "\(loop.acknowledgedCount) changesets acknowledged, \(s.successfulSyncs) syncs passed and "
                + "\(s.failedSyncs) failed with the server, \(s.syncsAtKills) syncs running at the server's kills; "
                + "clones killed \(s.clonesInterrupted), landed \(s.clonesLanded); "
                + "syncs killed \(s.pushesInterrupted), finished \(s.pushesFinished)")
        // The random moments must have hit something: over ten rounds, not one clone killed before
        // its workspace landed would mean the moments are drawn wrong (the corpus too small).
        #expect(s.clonesInterrupted > 0, "seed \(seed): no clone was killed before it finished")
        #expect(loop.acknowledgedCount > 0, "seed \(seed): nothing was ever acknowledged")
    }
}

/// One annotator's workspace and what the test knows of it.
final class CrashClient: @unchecked Sendable {
    let name: String
    let dir: URL
    /// Changesets this workspace was told were accepted: pending before a `gloss sync` that exited 0.
    var acknowledged: Set<String> = []
    /// Every changeset id ever seen pending here.
    var made: Set<String> = []
    /// Every annotation `gloss span add` created here.
    var annotations: Set<String> = []
    /// Changesets a killed sync made the workspace forget without pushing them (a known bug).
    var lost: Set<String> = []
    /// Wall times of whole syncs, to draw kill moments of the right size.
    var syncTimes: [Duration] = []

    init(name: String, dir: URL) {
        self.name = name
        self.dir = dir
    }

    /// The median whole sync, or a guess before there is one.
    var typicalSync: Duration {
        syncTimes.isEmpty ? .milliseconds(400) : syncTimes.sorted()[syncTimes.count / 2]
    }
}

/// The server, its corpus `news`, three annotators, and the checks.
final class CrashLoop: @unchecked Sendable {
    static let clientNames = ["alice", "bob", "carol"]
    static let labels = ["PER", "ORG", "LOC", "MISC"]
    /// Spans are drawn inside the sample document (6,716 bytes; fewer scalars).
    static let textLength = 6000
    /// Annotated documents besides the sample, so that a clone takes a moment.
    static let bulkDocuments = 24

    let seed: UInt64
    let directory: TemporaryDirectory
    let data: URL
    private(set) var daemon: GlossDaemon
    let admin: [String: String]
    let clients: [CrashClient]
    /// The server's history after the set-up: changesets and annotations no client made.
    let baselineChangesets: Set<String>
    let baselineAnnotations: Set<String>
    /// The server's history as last verified: (revision, changeset) from revision 1.
    private var history: [String] = []
    /// How long the last whole clone took, to draw kill moments of the right size.
    private var cloneTime: Duration = .milliseconds(500)
    /// The size of a whole clone's replica, for kill moments chosen by the staging directory.
    private var replicaSize = 0
    let stats = Stats()

    /// `GLOSS_CRASH_LOOP_SEED`, or a fresh random seed.
    static func seed() -> UInt64 {
        if let text = ProcessInfo.processInfo.environment["GLOSS_CRASH_LOOP_SEED"], let value = UInt64(text) { return value }
        return UInt64.random(in: 1...UInt64.max)
    }

    init(seed: UInt64) async throws {
        self.seed = seed
        let directory = try TemporaryDirectory("crash-loop")
        self.directory = directory
        data = directory.url.appendingPathComponent("srv")
        let daemon = try await GlossDaemon(data: data)
        self.daemon = daemon
        let admin = ["GLOSS_TOKEN": daemon.adminToken]
        self.admin = admin
        let root = directory.url
        let owner = root.appendingPathComponent("owner")
        let (url, pin) = (daemon.url, daemon.pin)
        @discardableResult
        func ok(_ args: [String], in dir: URL, env: [String: String]) async throws -> GlossProcesses.Result {
            try CLIFixture.expectOK(await GlossProcesses.gloss(args, in: dir, env: env), args)
        }
        try await ok(["corpus", "create", url, "news", "--pin", pin], in: root, env: admin)
        try await ok(["clone", "\(url)/news", owner.path, "--pin", pin], in: root, env: admin)
        // The sample document, which the annotators annotate, and enough other annotated
        // documents that a clone takes a moment (about 3,000 annotations).
        try await ok(["doc", "add", GlossProcesses.sampleDocument.path, "--id", "fed"], in: owner, env: admin)
        let bulk = root.appendingPathComponent("bulk.jsonl")
        try BigCorpus.doccano(Self.bulkDocuments, spans: 120).write(to: bulk)
        try await ok(["import", "jsonl", bulk.path, "--quiet"], in: owner, env: admin)
        try await ok(["sync", "--quiet"], in: owner, env: admin)
        var clients: [CrashClient] = []
        for name in Self.clientNames {
            let token = try await daemon.addUser(name)
            try await ok(["corpus", "grant", url, "news", name, "annotator", "--pin", pin], in: root, env: admin)
            let dir = root.appendingPathComponent(name)
            try await ok(["clone", "\(url)/news", dir.path, "--pin", pin, "--token", token], in: root, env: [:])
            clients.append(CrashClient(name: name, dir: dir))
        }
        self.clients = clients
        let log = try await ok(["log", "--json"], in: owner, env: admin).jsonLines()
        baselineChangesets = Set(log.compactMap { $0["changeset"] as? String })
        baselineAnnotations = Set(
            try await ok(["annotations", "--json"], in: owner, env: admin).jsonLines().compactMap { $0["id"] as? String })
        history = log.sorted { ($0["revision"] as? Int ?? 0) < ($1["revision"] as? Int ?? 0) }
            .map { "r\($0["revision"] ?? "?") \($0["changeset"] ?? "?")" }
        try FileManager.default.removeItem(at: owner)
    }

    /// Every client's acknowledged changesets, counted.
    var acknowledgedCount: Int { clients.reduce(0) { $0 + $1.acknowledged.count } }

    // MARK: The server killed while clients push

    /// The clients add spans and sync in a loop while, at a random moment, the server is killed
    /// (SIGKILL: no drain, no flush beyond what it had committed). Each client stops after the kill.
    func pushWhileTheServerIsKilled(round: Int, _ rng: inout SplitMix64) async throws {
        let killAfter = Duration.milliseconds(300 + rng.int(below: 1700))
        let seeds = clients.map { _ in rng.next() }
        let down = Flag()
        let process = daemon.process
        let stats = self.stats
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (client, seed) in zip(clients, seeds) {
                group.addTask { try await self.work(client, seed: seed, round: round, until: down) }
            }
            group.addTask {
                try await Task.sleep(for: killAfter)
                stats.add(\.syncsAtKills, stats.running)
                kill(process.processIdentifier, SIGKILL)
                try await GlossProcesses.onOwnThread { try process.waitForExit(within: ChildLimits.shutdown) }
                down.set()
            }
            try await group.waitForAll()
        }
    }

    /// One client's loop: a few spans, then `gloss sync`; an exit 0 acknowledges every changeset
    /// that was pending, an exit 3 (the server went away) acknowledges none.
    private func work(_ client: CrashClient, seed: UInt64, round: Int, until down: Flag) async throws {
        var rng = SplitMix64(seed: seed)
        while !down.value {
            for _ in 0...rng.int(below: 3) { try await addSpan(client, &rng) }
            let pending = try await pendingChangesets(client)
            stats.syncing(+1)
            let started = ContinuousClock.now
            let sync = try RunningGloss(["sync"], in: client.dir, env: [:])
            let hang = await Self.waitOrInspect(sync, limit: Self.syncLimit)
            let end = try await sync.finish()
            let took = ContinuousClock.now - started
            stats.syncing(-1)
            if let hang {
                // Nothing was acknowledged: it counts as a sync the server's death failed.
                stats.add(\.failedSyncs, 1)
                withKnownIssue(KnownBugs.clientDeadlock, isIntermittent: true) {
                    Issue.record(
                        "\(context(round)): \(client.name)'s sync had not exited \(Self.syncLimit) after it started, the server killed meanwhile, and was killed (\(hang.sockets) socket(s) open); stderr: \(end.err)")
                }
                continue
            }
            switch end.status {
            case 0:
                client.acknowledged.formUnion(pending)
                client.syncTimes.append(took)
                stats.add(\.successfulSyncs, 1)
            case 3:
                stats.add(\.failedSyncs, 1)
            default:
                Issue.record("\(context(round)): \(client.name)'s sync exited \(end.status): \(end.err)")
                throw CrashLoopFailure("an unexpected sync failure")
            }
        }
    }

    /// How long a sync may take while the server is killed under it: many times what one takes
    /// on a loaded machine, and short enough that a stuck one does not hold the test for long.
    static let syncLimit: Duration = .seconds(30)

    /// What a process still running past its bound held when it was killed.
    struct Hang {
        /// Sockets it had open (the connection to the server, if it still had one).
        var sockets: Int
    }

    /// Waits for `process` to exit, at most `limit`; past it, notes its open sockets and kills it.
    static func waitOrInspect(_ process: RunningGloss, limit: Duration) async -> Hang? {
        let deadline = ContinuousClock.now + limit
        while process.isRunning {
            guard ContinuousClock.now < deadline else {
                let pid = process.process.processIdentifier
                let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd")) ?? []
                let sockets = fds.filter {
                    ((try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\($0)")) ?? "").hasPrefix("socket:")
                }
                process.signal(SIGKILL)
                return Hang(sockets: sockets.count)
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return nil
    }

    func addSpan(_ client: CrashClient, _ rng: inout SplitMix64) async throws {
        let start = rng.int(below: Self.textLength)
        let args = ["span", "add", "fed", "\(start)", "\(start + 1 + rng.int(below: 30))", rng.pick(Self.labels)]
        let id = try CLIFixture.expectOK(await GlossProcesses.gloss(args, in: client.dir), args).line
        client.annotations.insert(id)
    }

    /// The changesets pending in a workspace (`gloss status --json`), remembered as made there.
    func pendingChangesets(_ client: CrashClient) async throws -> Set<String> {
        let rows = try CLIFixture.expectOK(await GlossProcesses.gloss(["status", "--json"], in: client.dir), ["status"]).jsonLines()
        let ids = Set(rows.filter { $0["type"] as? String == "pending" }.compactMap { $0["id"] as? String })
        client.made.formUnion(ids)
        return ids
    }

    // MARK: Restart and verify

    /// Starts glossd again on the same data directory (on a new port, which the workspaces are
    /// pointed at), runs `glossd check`, and verifies the history through a fresh clone.
    func restartAndVerify(round: Int) async throws {
        let old = daemon.port
        daemon = try await GlossDaemon(data: data)
        for client in clients { try Self.retarget(client.dir, from: old, to: daemon.port) }
        try await check(context(round))
        try await verify(context(round))
    }

    /// Points a workspace at the restarted server, as an admin moving a server to a new port would.
    static func retarget(_ workspace: URL, from old: Int, to new: Int) throws {
        let config = workspace.appendingPathComponent(".gloss/config.json")
        let text = try String(contentsOf: config, encoding: .utf8)
        // The URL is JSON-escaped (`gloss:\/\/127.0.0.1:PORT\/news`): match the port as a whole number.
        let changed = text.replacingOccurrences(
            of: #"127\.0\.0\.1:\#(old)(?![0-9])"#, with: "127.0.0.1:\(new)", options: .regularExpression)
        guard changed != text else { throw CrashLoopFailure("no 127.0.0.1:\(old) in \(config.path): \(text)") }
        try changed.write(to: config, atomically: true, encoding: .utf8)
    }

    /// `glossd check` on the data directory: nothing damaged.
    func check(_ context: String, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let check = try await GlossProcesses.glossd(["check", "--data", data.path], in: directory.url)
        #expect(check.status == 0, "\(context): glossd check: \(check.out) \(check.err)", sourceLocation: sourceLocation)
    }

    /// A fresh clone's history: revisions 1...head, each changeset once, every acknowledged
    /// changeset there, nothing no one made, the history verified before unchanged; the
    /// annotations each once, none no one made.
    func verify(_ context: String) async throws {
        let target = directory.url.appendingPathComponent("verify")
        try? FileManager.default.removeItem(at: target)
        let started = ContinuousClock.now
        try CLIFixture.expectOK(await GlossProcesses.gloss(cloneArguments(into: target), in: directory.url, env: admin), ["clone"])
        cloneTime = ContinuousClock.now - started
        replicaSize = (try? FileManager.default.attributesOfItem(atPath: target.path + "/.gloss/replica.sqlite")[.size] as? Int) ?? 0
        defer { try? FileManager.default.removeItem(at: target) }

        let status = try await json(["status", "--json"], in: target).first ?? [:]
        let head = status["revision"] as? Int ?? -1
        let log = try await json(["log", "--json"], in: target)
        #expect(log.allSatisfy { $0["pending"] as? Bool == false }, "\(context): a fresh clone has pending changes")
        let rows = log.sorted { ($0["revision"] as? Int ?? 0) < ($1["revision"] as? Int ?? 0) }
        let revisions = rows.map { $0["revision"] as? Int ?? -1 }
        #expect(revisions == Array(0..<rows.count).map { $0 + 1 }, "\(context): revisions are not 1...\(rows.count): \(Self.gaps(revisions))")
        #expect(head == rows.count, "\(context): the head is r\(head) but the log has \(rows.count) revisions")

        let ids = rows.compactMap { $0["changeset"] as? String }
        let repeated = Dictionary(grouping: ids, by: { $0 }).filter { $0.value.count > 1 }.keys.sorted()
        #expect(repeated.isEmpty, "\(context): changesets stored more than once: \(repeated)")
        let stored = Set(ids)
        for client in clients {
            let lost = client.acknowledged.subtracting(stored)
            #expect(lost.isEmpty, "\(context): \(client.name)'s acknowledged changesets are missing: \(lost.sorted())")
        }
        let known = clients.reduce(baselineChangesets) { $0.union($1.made) }
        let strangers = stored.subtracting(known)
        #expect(strangers.isEmpty, "\(context): changesets no one made: \(strangers.sorted())")

        let current = rows.map { "r\($0["revision"] ?? "?") \($0["changeset"] ?? "?")" }
        let before = Array(current.prefix(history.count))
        let changed = zip(history, before).filter { $0 != $1 }.prefix(5).map { "\($0) became \($1)" }
        #expect(
            before == history,
            "\(context): history verified before changed: \(changed); was \(history.count) revisions, now \(current.count)")
        if current.count >= history.count { history = current }

        let annotations = try await json(["annotations", "--json"], in: target).compactMap { $0["id"] as? String }
        let twice = Dictionary(grouping: annotations, by: { $0 }).filter { $0.value.count > 1 }.keys.sorted()
        #expect(twice.isEmpty, "\(context): annotations listed more than once: \(twice)")
        let made = clients.reduce(baselineAnnotations) { $0.union($1.annotations) }
        let unknown = Set(annotations).subtracting(made)
        #expect(unknown.isEmpty, "\(context): annotations no one made: \(unknown.sorted())")
    }

    /// Revision numbers that break the run 1...N, for messages.
    static func gaps(_ revisions: [Int]) -> String {
        var expected = 1
        var notes: [String] = []
        for r in revisions {
            if r != expected { notes.append("r\(r) where r\(expected) was expected") }
            expected = r + 1
        }
        return notes.prefix(5).joined(separator: ", ")
    }

    // MARK: A clone killed

    /// `gloss clone` killed at a random moment: by time (up to a bit past a whole clone's
    /// time) or by what its staging directory holds. Either it left no workspace (and the same
    /// command then works) or the one it left is complete.
    func killAClone(round: Int, _ rng: inout SplitMix64) async throws {
        let context = context(round) + " (clone)"
        let target = directory.url.appendingPathComponent("clone-\(round)")
        let existed = rng.chance(50)
        if existed { try FileManager.default.createDirectory(at: target, withIntermediateDirectories: false) }
        let byTime = rng.chance(50)
        let delay = Duration.milliseconds(rng.int(below: Int(cloneTime.inSeconds * 1300) + 1))
        let moments: [Staged.Moment] = [
            .stagingCreated, .replicaCreated, .replicaWritten(bytes: replicaSize * (1 + rng.int(below: 8)) / 10),
        ]
        let moment = rng.pick(moments)

        let args = cloneArguments(into: target)
        let clone = try RunningGloss(args, in: directory.url, env: admin)
        if byTime {
            try await Task.sleep(for: delay)
        } else {
            _ = await Staged.wait(for: moment, in: target, while: clone)
        }
        clone.signal(SIGKILL)
        let end = try await clone.finish()
        let how = byTime ? "after \(delay)" : "at \(moment)"

        if Staged.workspaceExists(target) {
            // It finished, or the kill came after the workspace was moved into place: whole.
            stats.add(\.clonesLanded, 1)
            try await expectComplete(target, "\(context): killed \(how), status \(end.status)")
        } else {
            stats.add(\.clonesInterrupted, 1)
            #expect(!(end.status == 0 && !end.signalled), "\(context): exit 0 without a workspace: \(Staged.listing(target))")
            if FileManager.default.fileExists(atPath: target.path) {
                // kill -9 cannot clean up: at most the staging directory is left, not a workspace.
                let names = try FileManager.default.contentsOfDirectory(atPath: target.path)
                #expect(names.allSatisfy { $0.hasPrefix(".gloss-clone-partial-") }, "\(context): killed \(how) left \(names)")
                let status = try await GlossProcesses.gloss(["status"], in: target, env: admin)
                #expect(status.status == 6, "\(context): killed \(how), status in what it left: \(status.status) \(status.err)")
            } else {
                #expect(!existed, "\(context): killed \(how), the empty directory that was there is gone")
            }
            let again = try await GlossProcesses.gloss(args, in: directory.url, env: admin)
            #expect(again.status == 0, "\(context): killed \(how), the clone run again failed: \(again.err)")
            try await expectComplete(target, "\(context): killed \(how), then cloned again")
        }
        try? FileManager.default.removeItem(at: target)
    }

    /// A workspace at the server's head, with every document and nothing pending.
    func expectComplete(_ target: URL, _ context: String, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let status = try await GlossProcesses.gloss(["status", "--json"], in: target, env: admin)
        #expect(status.status == 0, "\(context): status in the clone: \(status.err)", sourceLocation: sourceLocation)
        guard status.status == 0, let first = try status.jsonLines().first else { return }
        #expect(first["revision"] as? Int == history.count, "\(context): \(status.out)", sourceLocation: sourceLocation)
        #expect(first["documents"] as? Int == Self.bulkDocuments + 1, "\(context): \(status.out)", sourceLocation: sourceLocation)
        #expect(first["pending"] as? Int == 0, "\(context): \(status.out)", sourceLocation: sourceLocation)
        let log = try await json(["log", "--json"], in: target)
        #expect(log.count == history.count, "\(context): \(log.count) revisions in the log", sourceLocation: sourceLocation)
    }

    // MARK: A sync killed

    /// One client records a few changes and its `gloss sync` is killed at a random moment (up to a
    /// bit past a whole sync's time); a plain `gloss sync` then brings the workspace in step, and
    /// its log holds each of those changesets once, with a revision.
    func killAPush(round: Int, _ rng: inout SplitMix64) async throws {
        let context = context(round) + " (sync killed)"
        let client = clients[round % clients.count]
        for _ in 0...(1 + rng.int(below: 6)) { try await addSpan(client, &rng) }
        let pending = try await pendingChangesets(client)
        let delay = Duration.milliseconds(rng.int(below: Int(client.typicalSync.inSeconds * 1300) + 1))
        let sync = try RunningGloss(["sync"], in: client.dir, env: [:])
        try await Task.sleep(for: delay)
        sync.signal(SIGKILL)
        let end = try await sync.finish()
        let how = "\(client.name)'s sync killed after \(delay)"
        if end.status == 0 && !end.signalled {
            stats.add(\.pushesFinished, 1)
        } else {
            stats.add(\.pushesInterrupted, 1)
            #expect(end.signalled, "\(context): the sync failed before the kill: \(end.status) \(end.err)")
            // A sync killed after its pull committed and before the landed changesets left
            // .gloss/pending used to leave them pending for ever (every command then refused
            // them as duplicate annotations): the next pull removes them.
            let again = try await GlossProcesses.gloss(["sync"], in: client.dir)
            try #require(again.status == 0, "\(context): \(how) left a workspace that sync cannot recover: \(again.status) \(again.err)")
        }
        let status = try await json(["status", "--json"], in: client.dir)
        #expect(status.first?["pending"] as? Int == 0, "\(context): still pending after sync: \(status)")
        let log = try await json(["log", "--json"], in: client.dir)
        var lost: Set<String> = []
        for id in pending {
            let rows = log.filter { $0["changeset"] as? String == id }
            if rows.isEmpty {
                lost.insert(id)
                continue
            }
            #expect(
                rows.count == 1 && rows.first?["revision"] is Int,
                "\(context): \(client.name)'s changeset \(id), \(how), is in the log \(rows.count) times: \(rows)")
        }
        if !lost.isEmpty {
            // A sync once rewrote every pending file after its pull, and a kill in between lost
            // the ones never pushed: it now only removes the files of landed changesets.
            Issue.record(
                "\(context): \(how): \(lost.count) of its \(pending.count) pending changesets are neither on the server nor pending any more, and the next sync exited 0: \(lost.sorted())")
            client.lost.formUnion(lost)
        }
        client.acknowledged.formUnion(pending.subtracting(lost))
    }

    // MARK: The end

    /// Every client syncs what it still has pending; the server then holds every changeset made
    /// and every annotation made, each once; every workspace converges; and the server drains.
    func settle() async throws {
        let context = "seed \(seed), the end"
        for client in clients {
            let pending = try await pendingChangesets(client)
            let sync = try await GlossProcesses.gloss(["sync"], in: client.dir)
            #expect(sync.status == 0, "\(context): \(client.name)'s last sync: \(sync.status) \(sync.err)")
            if sync.status == 0 { client.acknowledged.formUnion(pending) }
        }
        for client in clients {
            _ = try await GlossProcesses.gloss(["pull"], in: client.dir)
            let unacknowledged = client.made.subtracting(client.acknowledged).subtracting(client.lost)
            #expect(unacknowledged.isEmpty, "\(context): \(client.name) made changesets never acknowledged: \(unacknowledged.sorted())")
        }
        try await check(context)
        try await verify(context)
        // Nothing lost, by content: the server's annotations are exactly those made, and every
        // workspace holds exactly the server's.
        let target = directory.url.appendingPathComponent("final")
        try CLIFixture.expectOK(await GlossProcesses.gloss(cloneArguments(into: target), in: directory.url, env: admin), ["clone"])
        let server = Set(try await json(["annotations", "--json"], in: target).compactMap { $0["id"] as? String })
        let made = clients.reduce(baselineAnnotations) { $0.union($1.annotations) }
        let missing = made.subtracting(server)
        #expect(server.subtracting(made).isEmpty, "\(context): annotations no one made: \(server.subtracting(made).sorted())")
        // Each `span add` is one changeset of one create: as many annotations are missing as
        // changesets were lost (none, but for the known bug).
        let lost = clients.reduce(0) { $0 + $1.lost.count }
        #expect(missing.count == lost, "\(context): \(missing.count) annotations missing for \(lost) lost changesets: \(missing.sorted())")
        for client in clients {
            let mine = Set(try await json(["annotations", "--json"], in: client.dir).compactMap { $0["id"] as? String })
            #expect(mine == server, "\(context): \(client.name)'s workspace differs from the server's")
        }
        #expect(await daemon.terminate() == 0, "\(context): glossd did not drain")
        try await check(context + ", stopped")
    }

    // MARK: Helpers

    func cloneArguments(into target: URL) -> [String] {
        ["clone", "\(daemon.url)/news", target.path, "--pin", daemon.pin]
    }

    func context(_ round: Int) -> String { "seed \(seed), round \(round)" }

    func json(_ args: [String], in dir: URL) async throws -> [[String: Any]] {
        try CLIFixture.expectOK(await GlossProcesses.gloss(args, in: dir), args).jsonLines()
    }

    /// Stops the server and removes everything, unless `GLOSS_CRASH_LOOP_KEEP` is set (to look
    /// at the workspaces and the data directory after a replay).
    func remove() {
        daemon.process.terminateAndWait()
        if ProcessInfo.processInfo.environment["GLOSS_CRASH_LOOP_KEEP"] != nil {
            print("CrashLoopTests: kept \(directory.url.path)")
        } else {
            directory.remove()
        }
    }

    /// Counts for the summary, from several tasks.
    final class Stats: @unchecked Sendable {
        private let lock = NSLock()
        // Read for the summary once every task has ended.
        var successfulSyncs = 0
        var failedSyncs = 0
        var syncsAtKills = 0
        var clonesInterrupted = 0
        var clonesLanded = 0
        var pushesInterrupted = 0
        var pushesFinished = 0
        private var runningSyncs = 0

        func add(_ field: ReferenceWritableKeyPath<Stats, Int>, _ n: Int) { lock.withLock { self[keyPath: field] += n } }
        func syncing(_ delta: Int) { lock.withLock { runningSyncs += delta } }
        var running: Int { lock.withLock { runningSyncs } }
    }

    /// Set once the server has been killed.
    final class Flag: @unchecked Sendable {
        private let lock = NSLock()
        private var raised = false
        func set() { lock.withLock { raised = true } }
        var value: Bool { lock.withLock { raised } }
    }
}

/// Bugs this test found and that product code still has; each expectation they break is marked
/// with `withKnownIssue` naming one of these, so the rest of the test keeps its force.
enum KnownBugs {
    /// `gloss sync` sometimes never exits once the server it talks to is killed. One cause,
    /// seen with gdb on a stuck sync (its connection already closed): `ClientConnection`
    /// resumes its waiters' continuations while it holds its state lock (`Shared.handle`, "in
    /// one step under the lock"), and a cancelled request's handler (`abandon`, which Swift runs
    /// holding the task's status lock) takes that state lock. The read loop, failing the
    /// waiters of the closed connection, holds the state lock and waits for the task's status
    /// lock (`fail` → `flagAsAndEnqueueOnExecutor`); the thread cancelling a streaming request's
    /// task group holds that and waits for the state lock (`abandon` → `Mutex._lockSlow`).
    /// Stuck syncs with their socket still open were seen too, not yet examined.
    static let clientDeadlock: Comment =
        "gloss sync never exits after the server dies: ClientConnection resumes continuations under its state lock while abandon(), a cancellation handler, takes it (a lock-order deadlock)"
}

struct CrashLoopFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
