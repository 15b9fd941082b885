import GlossBenchCorpus
import Foundation
import GlossServer

// Server memory with the real glossd process (issue 10, point 3), and the client's memory while
// the real `gloss clone` runs: glossd on a copy of the built data directory, its VmRSS sampled
// and its VmHWM read per phase, while a child holds idle connections, while 100 clients push,
// while one client pushes the whole import as one changeset; and `gloss clone` of the usual
// history and of the history that is one such changeset.

struct MemoryReport: Codable {
    struct Idle: Codable {
        var client: IdleResult
        /// From before the first connection until they were let go.
        var server: MemoryReading
        /// glossd's VmRSS with every connection open, just before they were let go.
        var serverVmRSSHeldBytes: Int?
        var contention: Contention
    }

    struct Push: Codable {
        var client: PushResult
        var server: MemoryReading
        var headBefore: Int
        var headAfter: Int
        var contention: Contention
    }

    struct BigPush: Codable {
        var client: BigPushResult
        var server: MemoryReading
        /// glossd's message limit as it ran (its default: nothing in the copied directory sets it).
        var serverMaxMessageBytes: String
        /// Whether glossd was still running after it, and how it ended if not.
        var serverSurvived: Bool
        var serverExit: ProcessExit?
        /// With the push accepted: the pushed corpus's head and documents as the server lists them.
        var pushedHead: Int?
        var pushedDocuments: Int?
        var contention: Contention
    }

    struct Clone: Codable {
        /// Which history: the usual one, or the import as one changeset.
        var history: String
        var annotations: Int
        var revisions: Int
        var client: CLICloneResult
        var server: MemoryReading
        var contention: Contention
    }

    var glossd: String
    var dataDirectory: String
    var port: Int
    var serverStartVmRSSBytes: Int?
    var idle: Idle
    var push: Push
    var bigPush: BigPush
    var clones: [Clone]
    /// glossd's own peak over its whole life (wait4), for each glossd process started.
    var serverExits: [ProcessExit]
    var loadAverageBefore: [Double]
    var loadAverageAfter: [Double]
    var targets: [Report.Target]
    var seconds: Double
}

struct MemoryPhases {
    let options: Options
    let setup: Setup
    let setupPath: String
    /// The data directory as built, copied before anything else ran on it.
    let dataCopy: String
    let work: URL
    let clock = ContinuousClock()

    static let serverTarget = 150_000_000
    static let bigPushTarget = 300_000_000
    static let cloneTarget = 150_000_000

    func run() async throws -> MemoryReport {
        let o = options
        let start = clock.now
        let loadBefore = loadAverage()
        guard let single = setup.singleImportCorpus, let singleBuild = setup.singleImport, let target = setup.pushTargetCorpus else {
            throw BenchError("the build made no single-import corpus (--single-import)")
        }
        var glossd = try await startGlossd()
        var exits: [ProcessExit] = []
        let startRSS = procStatus("VmRSS", pid: glossd.pid)
        log("glossd \(glossd.pid) on 127.0.0.1:\(glossd.port), VmRSS \(mb(startRSS))")

        // a. Idle connections, authenticated and held.
        log("memory a: \(o.idleConnections) authenticated idle connections held \(o.idleSeconds) s")
        let idle = try await idlePhase(glossd)

        // b. 100 clients pushing: the push phase's child, pointed at glossd.
        log("memory b: \(o.clients) clients × \(o.pushes) pushes")
        let push = try await pushPhase(glossd)

        // d (i). gloss clone of the usual history.
        log("memory d: gloss clone of \(setup.bigCorpus)")
        var clones = [
            try await clonePhase(
                glossd, corpus: setup.bigCorpus, history: "usual (\(grouped(setup.big.documents)) imports + \(grouped(setup.big.edits)) edits)",
                annotations: setup.big.annotations, revisions: push.headAfter)
        ]

        // c. The whole import as one changeset, pushed over the protocol.
        log("memory c: one changeset of \(grouped(o.documents)) documents and \(grouped(o.annotations)) spans into \(target)")
        let bigMark = Contention.Mark()
        let (big, bigServer) = try await measuringMemory(of: glossd.pid) {
            try await runRole(
                .bigpush,
                [
                    "--setup", setupPath, "--port", "\(glossd.port)", "--corpus", target, "--seed", "\(o.seed)", "--documents",
                    "\(o.documents)", "--annotations", "\(o.annotations)", "--big-push-timeout", "\(o.bigPushTimeoutSeconds)",
                ], as: BigPushResult.self)
        }
        let bigContention = bigMark.end(ours: big.cpu.total + (bigServer.cpuSeconds ?? 0))
        let survived = glossd.isRunning
        var bigExit: ProcessExit?
        var pushedHead: Int?
        var pushedDocuments: Int?
        if !survived {
            let exit = try await glossd.process.wait()
            log("  glossd ended during the push (status \(exit.status)): \(glossd.logTail())")
            bigExit = exit
            exits.append(exit)
            glossd = try await startGlossd()
        } else if big.acceptedRevision != nil {
            let reader = try await connect(port: glossd.port, setup: setup, user: Setup.reader)
            let (head, docs) = try await documentList(reader, corpus: target)
            reader.close()
            pushedHead = head
            pushedDocuments = docs.count
        }
        log("  \(big.acceptedRevision.map { "accepted as revision \($0)" } ?? "refused: \(big.refusal ?? "?")") in \(fmt(big.pushSeconds, 2)) s; glossd peak \(mb(bigServer.peakBytes))")
        let bigPush = MemoryReport.BigPush(
            client: big, server: bigServer,
            serverMaxMessageBytes: SettingKey.named("limits.max_message_bytes")?.defaultValue ?? "?",
            serverSurvived: survived, serverExit: bigExit, pushedHead: pushedHead, pushedDocuments: pushedDocuments,
            contention: bigContention)

        // d (ii). gloss clone of the history that is that one changeset (built with the store's
        // append(batch:)), and of the pushed one when the server took it.
        log("memory d: gloss clone of \(single)")
        clones.append(
            try await clonePhase(
                glossd, corpus: single, history: "one changeset (store-built)", annotations: singleBuild.annotations,
                revisions: singleBuild.head))
        if let pushedHead {
            clones.append(
                try await clonePhase(
                    glossd, corpus: target, history: "one changeset (pushed in c)", annotations: o.annotations,
                    revisions: pushedHead))
        }
        exits.append(try await glossd.stop())

        var targets = [
            Report.Target(
                name: "glossd with \(o.idleConnections) authenticated idle connections: peak memory", target: "≤ 150 MB",
                measured: mb(idle.server.peakBytes), met: (idle.server.peakBytes ?? .max) <= Self.serverTarget),
            Report.Target(
                name: "glossd while \(o.clients) clients push: peak memory", target: "≤ 150 MB",
                measured: mb(push.server.peakBytes), met: (push.server.peakBytes ?? .max) <= Self.serverTarget),
            Report.Target(
                name: "glossd accepting one changeset of \(grouped(big.ops)) ops: peak memory", target: "≤ 300 MB",
                measured: mb(bigServer.peakBytes) + (big.acceptedRevision == nil ? " (refused: \(big.refusal ?? "?"))" : ""),
                met: big.acceptedRevision != nil && (bigServer.peakBytes ?? .max) <= Self.bigPushTarget),
        ]
        for c in clones {
            targets.append(
                Report.Target(
                    name: "gloss clone of \(c.client.corpus), \(c.history): client peak memory", target: "≤ 150 MB",
                    measured: "\(mb(c.client.peakBytes)) in \(fmt(c.client.seconds, 2)) s",
                    met: c.client.peakBytes <= Self.cloneTarget))
        }
        return MemoryReport(
            glossd: try siblingBinary("glossd"), dataDirectory: dataCopy, port: glossd.port, serverStartVmRSSBytes: startRSS,
            idle: idle, push: push, bigPush: bigPush, clones: clones, serverExits: exits, loadAverageBefore: loadBefore,
            loadAverageAfter: loadAverage(), targets: targets, seconds: seconds(clock.now - start))
    }

    /// A copy of the data directory as built, for glossd to run on (the usual phases add revisions
    /// to the original).
    static func copyData(of setup: Setup, into work: URL) throws -> String {
        let copy = work.appendingPathComponent("glossd-memory").path
        try FileManager.default.copyItem(atPath: setup.dataDirectory, toPath: copy)
        return copy
    }

    func startGlossd() async throws -> GlossdProcess {
        let glossd = try await GlossdProcess.start(
            dataDirectory: dataCopy, logPath: work.appendingPathComponent("glossd-memory.log").path)
        guard glossd.fingerprint == setup.fingerprint else {
            _ = try? await glossd.stop()
            throw BenchError("glossd presents \(glossd.fingerprint), the build made \(setup.fingerprint)")
        }
        return glossd
    }

    func idlePhase(_ glossd: GlossdProcess) async throws -> MemoryReport.Idle {
        let mark = Contention.Mark()
        var held: Int?
        let (client, server) = try await measuringMemory(of: glossd.pid) { () async throws -> IdleResult in
            let child = try SpawnedProcess.start(
                selfExecutable(),
                [
                    "--role", Role.idle.rawValue, "--setup", setupPath, "--port", "\(glossd.port)", "--connections",
                    "\(options.idleConnections)",
                ], pipeInput: true, stdout: .pipe)
            let first = try await onOwnThread { child.readLine() }
            guard first == IdleRole.ready else {
                _ = try? await child.wait()
                throw BenchError("the idle role did not get ready: \(first ?? "end of output")")
            }
            try await Task.sleep(for: .seconds(options.idleSeconds))
            held = procStatus("VmRSS", pid: glossd.pid)
            child.closeInput()
            let result = try await onOwnThread { child.readToEnd() }
            let exit = try await child.wait()
            guard exit.status == 0 else { throw BenchError("the idle role exited with \(exit.status)") }
            return try JSONDecoder().decode(IdleResult.self, from: Data(result.utf8))
        }
        guard client.stillOpen == client.connections else {
            throw BenchError("the server closed \(client.connections - client.stillOpen) of \(client.connections) idle connections")
        }
        log("  glossd held \(client.connections) connections at \(mb(held)); peak \(mb(server.peakBytes))")
        return MemoryReport.Idle(
            client: client, server: server, serverVmRSSHeldBytes: held,
            contention: mark.end(ours: client.cpu.total + (server.cpuSeconds ?? 0)))
    }

    func pushPhase(_ glossd: GlossdProcess) async throws -> MemoryReport.Push {
        let o = options
        let reader = try await connect(port: glossd.port, setup: setup, user: Setup.reader)
        defer { reader.close() }
        let headBefore = try await documentList(reader, corpus: setup.bigCorpus).head
        let mark = Contention.Mark()
        let (pushed, server) = try await measuringMemory(of: glossd.pid) {
            try await runRole(
                .push,
                [
                    "--setup", setupPath, "--port", "\(glossd.port)", "--corpus", setup.bigCorpus, "--clients", "\(o.clients)",
                    "--pushes", "\(o.pushes)", "--seed", "\(o.seed)",
                ], as: PushResult.self)
        }
        let contention = mark.end(ours: pushed.cpu.total + (server.cpuSeconds ?? 0))
        let headAfter = try await documentList(reader, corpus: setup.bigCorpus).head
        guard headAfter == headBefore + pushed.accepted + o.clients, pushed.refused == 0, pushed.duplicates == 0 else {
            throw BenchError("push to glossd: head went \(headBefore) → \(headAfter) for \(pushed.accepted) accepted (+\(o.clients) warm-up)")
        }
        log("  \(groupedD(pushed.changesetsPerSecond)) changesets/s, p99 \(fmt(pushed.latency.p99Ms, 1)) ms; glossd peak \(mb(server.peakBytes))")
        return MemoryReport.Push(client: pushed, server: server, headBefore: headBefore, headAfter: headAfter, contention: contention)
    }

    func clonePhase(_ glossd: GlossdProcess, corpus: String, history: String, annotations: Int, revisions: Int) async throws
        -> MemoryReport.Clone
    {
        let mark = Contention.Mark()
        let into = work.appendingPathComponent("cli-clone-\(corpus)").path
        let (client, server) = try await measuringMemory(of: glossd.pid) {
            try await CLIClone.run(
                port: glossd.port, setup: setup, corpus: corpus, into: into, home: work.appendingPathComponent("home").path)
        }
        let contention = mark.end(ours: client.exit.cpu.total + (server.cpuSeconds ?? 0))
        log("  \(fmt(client.seconds, 2)) s, client peak \(mb(client.peakBytes)), glossd peak \(mb(server.peakBytes))")
        try? FileManager.default.removeItem(atPath: into)
        return MemoryReport.Clone(
            history: history, annotations: annotations, revisions: revisions, client: client, server: server,
            contention: contention)
    }
}
