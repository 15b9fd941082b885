import GlossBenchCorpus
import Foundation
import GlossClient
import GlossModel
import GlossStore
import GlossWire
import NIOCore
import Synchronization

// The client sides that run in a child process of their own (this binary with `--role`), so
// that their CPU time and peak memory are theirs and not the server's.

func connect(port: Int, setup: Setup, user: String, limits: WireLimits = .default) async throws -> ClientConnection {
    guard let pin = CertificateFingerprint(parsing: setup.fingerprint) else {
        throw BenchError("bad fingerprint \(setup.fingerprint)")
    }
    return try await ClientConnection.connect(
        .init(host: "127.0.0.1", port: port, trust: .pinned(pin), token: try setup.token(user), limits: limits))
}

/// One authenticated connection per user given, in their order, made ten at a time (100 TLS
/// handshakes at once only measure the handshake queue).
func connectAll(port: Int, setup: Setup, users: [String]) async throws -> [ClientConnection] {
    try await connectAll(ports: [port], setup: setup, users: users)
}

/// The same, user `i` connecting to `ports[i % ports.count]`: clients spread evenly over several
/// nodes of one deployment (glossd nodes sharing a PostgreSQL database).
func connectAll(ports: [Int], setup: Setup, users: [String]) async throws -> [ClientConnection] {
    var connections: [ClientConnection] = []
    for start in stride(from: 0, to: users.count, by: 10) {
        try await withThrowingTaskGroup(of: (Int, ClientConnection).self) { group in
            for i in start..<min(users.count, start + 10) {
                let user = users[i]
                let port = ports[i % ports.count]
                group.addTask { (i, try await connect(port: port, setup: setup, user: user)) }
            }
            var got: [(Int, ClientConnection)] = []
            for try await c in group { got.append(c) }
            connections += got.sorted { $0.0 < $1.0 }.map(\.1)
        }
    }
    return connections
}

// MARK: - Clone

struct CloneResult: Codable {
    var connectSeconds: Double
    /// `SyncEngine.clone(url:into:connection:pin:caFile:token:)`, from call to return.
    var cloneSeconds: Double
    var cpu: CPUTime
    /// Peak resident memory of the client process just before the clone (runtime, TLS,
    /// connection) and at its end.
    var vmHWMBeforeBytes: Int?
    var vmHWMBytes: Int?
    var head: Int
    var replicaBytes: Int
    var progressEvents: Int
    /// Bytes the client process sent to the disk during the clone (/proc/self/io write_bytes).
    var diskWriteBytes: Int?
    /// fdatasync + fsync calls of the client process (perf stat, when available).
    var syncCalls: Int?
}

enum CloneRole {
    static func run(setup: Setup, port: Int, corpus: String, into: String) async throws -> CloneResult {
        let clock = ContinuousClock()
        let t0 = clock.now
        let connection = try await connect(port: port, setup: setup, user: Setup.reader)
        let connectSeconds = seconds(clock.now - t0)
        let before = procStatus("VmHWM")
        let cpu0 = CPUTime.now()
        let written0 = procIO("write_bytes")
        let events = Atomic<Int>(0)
        let t1 = clock.now
        let workspace = try await SyncEngine.clone(
            url: GlossURL(host: "127.0.0.1", port: port, corpus: corpus), into: URL(fileURLWithPath: into),
            connection: connection, pin: CertificateFingerprint(parsing: setup.fingerprint), caFile: nil,
            token: try setup.token(Setup.reader),
            progress: { _ in events.wrappingAdd(1, ordering: .relaxed) })
        let cloneSeconds = seconds(clock.now - t1)
        let cpu = CPUTime.now() - cpu0
        let peak = procStatus("VmHWM")
        let written = procIO("write_bytes").flatMap { a in written0.map { a - $0 } }
        connection.close()
        let replica = URL(fileURLWithPath: into).appendingPathComponent(".gloss/replica.sqlite").path
        return CloneResult(
            connectSeconds: connectSeconds, cloneSeconds: cloneSeconds, cpu: cpu, vmHWMBeforeBytes: before,
            vmHWMBytes: peak, head: try workspace.replica.headRevision(),
            replicaBytes: fileSize(replica) + fileSize(replica + "-wal"), progressEvents: events.load(ordering: .relaxed),
            diskWriteBytes: written, syncCalls: nil)
    }
}

// MARK: - Drain: the stream without the replica

struct DrainResult: Codable {
    var request: String
    /// From sending the request to its final response, items kept but not decoded.
    var streamSeconds: Double
    var firstItemSeconds: Double
    var items: Int
    /// Sum of the stream items' payloads (the protobuf `StreamItem`s as framed).
    var payloadBytes: Int
    var frameHeaderBytes: Int
    var bytesByKind: [String: Int]
    var countByKind: [String: Int]
    /// Protobuf decode of every item, inflate of texts (with their SHA-256 check) and of every
    /// delta and snapshot, and `DeltaCodec` decode into ops: the client's CPU work before the store.
    /// (CPU time: `decodeCPU` includes the replay and the re-encoding.)
    var decodeSeconds: Double
    var decodedOps: Int
    var inflatedBytes: Int
    /// Applying the decoded ops to in-memory `DocumentState`s (the stream's own check: its
    /// live annotations must be the server's) — the floor of a client without a store.
    var replaySeconds: Double
    var replayLiveAnnotations: Int
    /// `DeltaCodec.encode` + `BlobCompression.compress` of every received delta and snapshot:
    /// the re-encoding a replica that stores ops (not the received bytes) does.
    var reencodeSeconds: Double
    /// `BlobCompression.compress` of every received text (the replica deflates it again).
    var textReencodeSeconds: Double
    /// Deltas, snapshots and texts as the replica compresses them again.
    var reencodedBytes: Int
    var streamCPU: CPUTime
    var decodeCPU: CPUTime
    var head: Int
}

enum DrainRole {
    static func run(setup: Setup, port: Int, corpus: String, request kind: String) async throws -> DrainResult {
        let connection = try await connect(port: port, setup: setup, user: Setup.reader)
        let request: Gloss_V1_Request
        switch kind {
        case "clone": request = .with { $0.clone = .with { $0.corpus = corpus } }
        case "pull":
            request = .with {
                $0.pull = .with {
                    $0.corpus = corpus
                    $0.sinceRevision = 0
                }
            }
        default: throw BenchError("unknown stream request \(kind)")
        }
        let clock = ContinuousClock()
        var items: [[UInt8]] = []
        var first: Double?
        let cpu0 = CPUTime.now()
        let t0 = clock.now
        let end = try await connection.streaming(request) { event in
            guard case .item(let bytes) = event else { return }
            if first == nil { first = seconds(clock.now - t0) }
            // What SyncEngine does first with every item.
            items.append(Array(bytes.readableBytesView))
        }
        let streamSeconds = seconds(clock.now - t0)
        let streamCPU = CPUTime.now() - cpu0
        connection.close()

        var bytesByKind: [String: Int] = [:]
        var countByKind: [String: Int] = [:]
        var ops = 0
        var inflated = 0
        var states: [DocumentID: DocumentState] = [:]
        var replay = Duration.zero
        var reencode = Duration.zero
        var reencodedBytes = 0
        var textReencode = Duration.zero
        let cpu1 = CPUTime.now()
        let t1 = clock.now
        // Decode is timed as a whole; the in-memory replay and the re-encoding (what a replica
        // that stores the ops again does) are timed inside it and taken out.
        func replayAndReencode(_ blob: StoredBlob, _ decoded: [Op]) throws {
            let r0 = clock.now
            if let document = blob.document {
                if blob.kind == .snapshot { states[document] = DocumentState() }
                for op in decoded { try states[document, default: DocumentState()].apply(op) }
            }
            let r1 = clock.now
            reencodedBytes += BlobCompression.compress(DeltaCodec.encode(decoded, document: blob.document)).count
            replay += r1 - r0
            reencode += clock.now - r1
        }
        for bytes in items {
            let item = try Gloss_V1_StreamItem(serializedBytes: bytes)
            let name: String
            switch item.body {
            case .text(let t):
                name = "text"
                let raw = try BlobCompression.decompress(Array(t.deflated), expectedLength: Int(t.rawLength), what: "text")
                guard let text = String(validating: raw, as: UTF8.self), TextDigest(of: text).bytes == Array(t.digest) else {
                    throw BenchError("a text does not match its digest")
                }
                inflated += raw.count
                let r0 = clock.now
                reencodedBytes += BlobCompression.compress(raw).count
                textReencode += clock.now - r0
            case .snapshot(let blob):
                name = "snapshot"
                let stored = StoredBlob(
                    kind: .snapshot, revision: Int(blob.revision), document: DocumentID(storedRawValue: blob.document),
                    rawLength: Int(blob.rawLength), data: Array(blob.deflated))
                let decoded = try stored.ops()
                ops += decoded.count
                inflated += stored.rawLength
                try replayAndReencode(stored, decoded)
            case .revision(let r):
                name = "revision"
                for blob in r.deltas {
                    let stored = StoredBlob(
                        kind: .delta, revision: Int(r.number),
                        document: blob.document.isEmpty ? nil : DocumentID(storedRawValue: blob.document),
                        rawLength: Int(blob.rawLength), data: Array(blob.deflated))
                    let decoded = try stored.ops()
                    ops += decoded.count
                    inflated += stored.rawLength
                    try replayAndReencode(stored, decoded)
                }
            case .progress: name = "progress"
            case .schema: name = "schema"
            default: name = "other"
            }
            bytesByKind[name, default: 0] += bytes.count
            countByKind[name, default: 0] += 1
        }
        let decodeSeconds = seconds(clock.now - t1 - replay - reencode - textReencode)
        let decodeCPU = CPUTime.now() - cpu1
        let live = states.values.reduce(0) { $0 + ($1.document == nil ? 0 : $1.annotations.count) }
        let payload = items.reduce(0) { $0 + $1.count }
        return DrainResult(
            request: kind, streamSeconds: streamSeconds, firstItemSeconds: first ?? .nan, items: items.count,
            payloadBytes: payload, frameHeaderBytes: items.count * Frame.headerSize, bytesByKind: bytesByKind,
            countByKind: countByKind, decodeSeconds: decodeSeconds, decodedOps: ops, inflatedBytes: inflated,
            replaySeconds: seconds(replay), replayLiveAnnotations: live, reencodeSeconds: seconds(reencode), textReencodeSeconds: seconds(textReencode),
            reencodedBytes: reencodedBytes,
            streamCPU: streamCPU, decodeCPU: decodeCPU, head: Int(end.streamEnd.headRevision))
    }
}

// MARK: - Concurrent pushes

struct PushResult: Codable {
    var clients: Int
    var perClient: Int
    var accepted: Int
    var duplicates: Int
    var refused: Int
    var invalid: Int
    var ops: Int
    var connectSeconds: Double
    /// From the start signal to the last acknowledgement.
    var seconds: Double
    var changesetsPerSecond: Double
    /// Acknowledgements between the 10th and the 90th percentile of their arrival times,
    /// per second: the rate once every client is running and before the stragglers.
    var steadyChangesetsPerSecond: Double
    var latency: Latency
    var firstRevision: Int
    var lastRevision: Int
    var cpu: CPUTime
    var vmHWMBytes: Int?
}

/// One client's small changesets: 1–3 span creates on one document, its own replica and
/// counter, made on the newest head it knows (so never conflicting).
struct SmallChangesets {
    let user: String
    let replica: ReplicaID
    var counter: UInt64 = 0
    var rng: SplitMix64
    let documents: [(id: DocumentID, length: Int)]

    init(user: String, seed: UInt64, documents: [(id: DocumentID, length: Int)]) {
        self.user = user
        rng = SplitMix64(seed: seed)
        replica = ReplicaID.random(using: &rng)
        self.documents = documents
    }

    mutating func next(base: Int) -> Changeset {
        let doc = documents[rng.below(documents.count)]
        let n = rng.int(1...3)
        var ops: [Op] = []
        for _ in 0..<n {
            counter += 1
            let start = rng.below(max(1, doc.length - 12))
            let range = TextRange(start, min(doc.length, start + 1 + rng.below(10)))
            ops.append(
                .create(
                    Annotation.span(
                        AnnotationID(replica: replica, counter: counter), in: doc.id, [range],
                        label: Labels.label(&rng), owner: user)))
        }
        return Changeset(
            id: ChangesetID.random(using: &rng), author: user, replica: replica, base: base,
            timestamp: Int64(Date().timeIntervalSince1970), ops: ops)
    }
}

/// Separate random streams (and so changeset ids) for every client of every phase.
enum SeedDomain: UInt64 { case push = 1, pull, committer, router, batch, behind }

func streamSeed(_ base: UInt64, _ domain: SeedDomain, _ index: Int) -> UInt64 {
    (base << 24) | (domain.rawValue << 16) | UInt64(index & 0xFFFF)
}

func documentList(_ connection: ClientConnection, corpus: String) async throws -> (head: Int, docs: [(id: DocumentID, length: Int)]) {
    let response = try await connection.request(.with { $0.listDocuments = .with { $0.corpus = corpus } })
    let docs = response.listDocuments.documents.map { (DocumentID(storedRawValue: $0.id), Int($0.length)) }
    guard !docs.isEmpty else { throw BenchError("\(corpus) lists no documents") }
    return (Int(response.listDocuments.headRevision), docs)
}

func pushRequest(_ corpus: String, _ changeset: Changeset) -> Gloss_V1_Request {
    .with {
        $0.push = .with {
            $0.corpus = corpus
            $0.changeset = Gloss_V1_Changeset(changeset)
        }
    }
}

enum PushRole {
    struct ClientLog: Sendable {
        var latenciesMs: [Double] = []
        var acks: [Double] = []
        var accepted = 0
        var duplicates = 0
        var refused = 0
        var invalid = 0
        var ops = 0
        var minRevision = Int.max
        var maxRevision = 0
    }

    /// `ports`: the nodes to push to, client `i` to `ports[i % ports.count]`.
    static func run(setup: Setup, ports: [Int], corpus: String, clients: Int, perClient: Int, seed: UInt64) async throws
        -> PushResult
    {
        let clock = ContinuousClock()
        let t0 = clock.now
        // Connect everyone first.
        let connections = try await connectAll(ports: ports, setup: setup, users: (0..<clients).map(Setup.client))
        let connectSeconds = seconds(clock.now - t0)
        let (head, docs) = try await documentList(connections[0], corpus: corpus)
        log("\(clients) clients connected in \(String(format: "%.2f", connectSeconds)) s; head \(head)")

        // Warm-up: one push each, all at once, not timed.
        var generators = (0..<clients).map { SmallChangesets(user: Setup.client($0), seed: streamSeed(seed, .push, $0), documents: docs) }
        var known = [Int](repeating: head, count: clients)
        try await withThrowingTaskGroup(of: (Int, Int, SmallChangesets).self) { group in
            for i in 0..<clients {
                let connection = connections[i]
                let initial = generators[i]
                let base = known[i]
                group.addTask {
                    var gen = initial
                    let r = try await connection.request(pushRequest(corpus, gen.next(base: base)))
                    guard case .acceptedRevision(let rev)? = r.push.outcome else {
                        throw BenchError("warm-up push not accepted: \(String(describing: r.push.outcome))")
                    }
                    return (i, Int(rev), gen)
                }
            }
            for try await (i, rev, gen) in group {
                known[i] = rev
                generators[i] = gen
            }
        }

        let cpu0 = CPUTime.now()
        let start = clock.now
        let logs = try await withThrowingTaskGroup(of: ClientLog.self) { group in
            for i in 0..<clients {
                let connection = connections[i]
                let initial = generators[i]
                let initialBase = known[i]
                group.addTask {
                    var gen = initial
                    var base = initialBase
                    var l = ClientLog()
                    l.latenciesMs.reserveCapacity(perClient)
                    for _ in 0..<perClient {
                        let changeset = gen.next(base: base)
                        let request = pushRequest(corpus, changeset)
                        let s = clock.now
                        let response = try await connection.request(request)
                        let e = clock.now
                        l.latenciesMs.append(seconds(e - s) * 1000)
                        l.acks.append(seconds(e - start))
                        switch response.push.outcome {
                        case .acceptedRevision(let r):
                            l.accepted += 1
                            l.ops += changeset.ops.count
                            base = max(base, Int(r))
                            l.minRevision = min(l.minRevision, Int(r))
                            l.maxRevision = max(l.maxRevision, Int(r))
                        case .duplicateRevision: l.duplicates += 1
                        case .conflicts: l.refused += 1
                        case .invalid(let why): throw BenchError("push refused as invalid: \(why.message)")
                        case nil: throw BenchError("a push response without an outcome")
                        }
                    }
                    return l
                }
            }
            var all: [ClientLog] = []
            for try await l in group { all.append(l) }
            return all
        }
        let elapsed = seconds(clock.now - start)
        let cpu = CPUTime.now() - cpu0
        for c in connections { c.close() }

        let latencies = logs.flatMap(\.latenciesMs)
        let acks = logs.flatMap(\.acks).sorted()
        let accepted = logs.reduce(0) { $0 + $1.accepted }
        let lo = acks[acks.count / 10]
        let hi = acks[acks.count * 9 / 10]
        let steady = Double(acks.count * 9 / 10 - acks.count / 10) / max(hi - lo, 1e-9)
        return PushResult(
            clients: clients, perClient: perClient, accepted: accepted,
            duplicates: logs.reduce(0) { $0 + $1.duplicates }, refused: logs.reduce(0) { $0 + $1.refused },
            invalid: logs.reduce(0) { $0 + $1.invalid }, ops: logs.reduce(0) { $0 + $1.ops },
            connectSeconds: connectSeconds, seconds: elapsed, changesetsPerSecond: rate(accepted, elapsed),
            steadyChangesetsPerSecond: steady, latency: Latency(latencies),
            firstRevision: logs.map(\.minRevision).min() ?? 0, lastRevision: logs.map(\.maxRevision).max() ?? 0,
            cpu: cpu, vmHWMBytes: procStatus("VmHWM"))
    }
}
