// gloss-push-memory: what one large push costs the real `glossd`.
//
// Starts the built `glossd` (next to this executable unless --glossd says otherwise) on a fresh
// data directory, creates a corpus and pushes, over TLS with the client library the CLI uses,
// ONE changeset adding --documents documents (texts of 2–5 KB) and --spans span annotations per
// document (a few labels, random ids). Reports glossd's peak resident set (VmHWM, from
// /proc/PID/status) and the push's wall time; then the same for small pushes on a fresh server.
//
//   swift build -c release --scratch-path .build-pushmem --product gloss-push-memory --product glossd --product gloss
//   .build-pushmem/release/gloss-push-memory [--documents 2000] [--spans 500] [--small 20] [--seed 1]
//
// Measured here (2 shared cores, release builds, defaults: a 33.6 MB message, 24.1 MB deflated):
//   before (whole changeset decoded, 11554a1^): peak VmHWM 1,526 / 1,524 MB, push 16.3 / 15.1 s
//   after (a document at a time, dda2dc5):      peak VmHWM 158 MB, push 7.2 s
//   small push (1 document, 10 spans, ×200):   median 1.3 ms before and after, glossd peak ~45 MB
import Foundation
import GlossClient
import GlossModel
import GlossWire

struct Options {
    var glossd = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        .appendingPathComponent("glossd").path
    var documents = 2_000
    var spans = 500
    var small = 20
    var seed: UInt64 = 1

    init(_ args: [String]) throws {
        var i = 0
        func value() throws -> String {
            i += 1
            guard i < args.count else { throw Failure("\(args[i - 1]) needs a value") }
            return args[i]
        }
        while i < args.count {
            switch args[i] {
            case "--glossd": glossd = try value()
            case "--documents": documents = Int(try value()) ?? documents
            case "--spans": spans = Int(try value()) ?? spans
            case "--small": small = Int(try value()) ?? small
            case "--seed": seed = UInt64(try value()) ?? seed
            default: throw Failure("unknown argument \(args[i])")
            }
            i += 1
        }
    }
}

struct Failure: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

/// Deterministic and fast: the same corpus for the before and after figures.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A running `glossd serve` on a fresh data directory.
final class Daemon {
    let process = Process()
    let data: URL
    let port: Int
    let pin: CertificateFingerprint
    let token: String

    init(glossd: String) throws {
        data = FileManager.default.temporaryDirectory.appendingPathComponent("gloss-push-memory-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        process.executableURL = URL(fileURLWithPath: glossd)
        process.arguments = ["serve", "--data", data.path, "--listen", "127.0.0.1:0"]
        process.environment = ProcessInfo.processInfo.environment.merging(["GLOSSD_METRICS_LISTEN": "off"]) { $1 }
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        var text = ""
        while !text.contains("listening on") {
            let chunk = out.fileHandleForReading.availableData
            guard !chunk.isEmpty else { break }
            text += String(decoding: chunk, as: UTF8.self)
        }
        guard let pinRange = text.range(of: #"sha256:[0-9a-f]{64}"#, options: .regularExpression),
            let pin = CertificateFingerprint(parsing: String(text[pinRange])),
            let portRange = text.range(of: #"listening on [0-9.]+:([0-9]+)"#, options: .regularExpression),
            let port = Int(text[portRange].split(separator: ":").last!)
        else { throw Failure("glossd did not start: \(text)") }
        self.pin = pin
        self.port = port
        token = try String(contentsOf: data.appendingPathComponent("admin.token"), encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A field of /proc/PID/status in bytes (VmHWM: the peak resident set; VmRSS: now).
    func memory(_ field: String) -> Int {
        let status = (try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8)) ?? ""
        for line in status.split(separator: "\n") where line.hasPrefix(field + ":") {
            return (Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? 0) * 1024
        }
        return 0
    }

    func connect() async throws -> ClientConnection {
        var limits = WireLimits.default
        limits.maxMessageBytes = 1 << 30  // the client must not be what refuses the push
        return try await ClientConnection.connect(
            .init(host: "127.0.0.1", port: port, trust: .pinned(pin), token: token, limits: limits))
    }

    func stop() {
        process.terminate()
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: data)
    }
}

let labels = ["PER", "ORG", "LOC", "MISC"]
let words = ["the", "annotation", "corpus", "of", "text", "with", "entities", "and", "relations", "Alice", "Bob",
    "Geneva", "treaty", "signed", "by", "delegates", "from", "several", "nations", "in", "1923"]

func makeText(_ rng: inout SplitMix) -> String {
    let target = Int.random(in: 2_000...5_000, using: &rng)
    var text = ""
    while text.utf8.count < target { text += words.randomElement(using: &rng)! + " " }
    return text
}

/// One changeset adding `documents` documents with `spans` spans each, made by `user`.
func makeChangeset(documents: Int, spans: Int, prefix: String, user: String, rng: inout SplitMix) -> Gloss_V1_Changeset {
    var changeset = Changeset(author: user, replica: ReplicaID(rng.next()), base: 1, message: "import", ops: [])
    changeset.ops.reserveCapacity(documents * (spans + 1))
    for d in 0..<documents {
        let id = try! DocumentID(validating: "\(prefix)/\(d)")
        let text = makeText(&rng)
        changeset.addDocument(id, text: text)
        let length = text.unicodeScalars.count
        for _ in 0..<spans {
            let start = Int.random(in: 0..<(length - 20), using: &rng)
            let annotation = Annotation(
                id: AnnotationID(replica: ReplicaID(rng.next()), counter: rng.next() >> 1), document: id, kind: .span,
                layer: user, owner: user, label: labels.randomElement(using: &rng)!,
                ranges: [TextRange(start, start + Int.random(in: 1...20, using: &rng))])
            changeset.ops.append(.create(annotation))
        }
    }
    return Gloss_V1_Changeset(changeset)
}

func mb(_ bytes: Int) -> String { String(format: "%.1f MB", Double(bytes) / 1_048_576) }

func push(_ changeset: Gloss_V1_Changeset, on connection: ClientConnection) async throws -> (Double, Gloss_V1_PushResponse) {
    let start = ContinuousClock.now
    let response = try await connection.request(.with { $0.push = .with { $0.corpus = "bulk"; $0.changeset = changeset } })
    let elapsed = ContinuousClock.now - start
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    return (seconds, response.push)
}

func describe(_ r: Gloss_V1_PushResponse) -> String {
    switch r.outcome {
    case .acceptedRevision(let rev): "accepted as revision \(rev)"
    case .duplicateRevision(let rev): "duplicate of revision \(rev)"
    case .conflicts(let c): "refused: \(c.conflicts.count) conflicts"
    case .invalid(let e): "invalid: \(e.code) \(e.message)"
    case nil: "no result"
    }
}

func run(_ o: Options) async throws {
    var rng = SplitMix(state: o.seed)
    let schema = #"{"isOpen":false,"spanLabels":["PER","ORG","LOC","MISC"],"documentLabels":[],"relations":[],"attributes":[]}"#

    // 1. The large push, on a fresh server.
    let big = try Daemon(glossd: o.glossd)
    defer { big.stop() }
    let connection = try await big.connect()
    _ = try await connection.request(.with { $0.createCorpus = .with { $0.name = "bulk"; $0.schemaJson = schema } })
    let changeset = makeChangeset(documents: o.documents, spans: o.spans, prefix: "doc", user: connection.user, rng: &rng)
    let bytes = try changeset.serializedBytes() as [UInt8]
    let compressed = FrameCompression.compress(.init(bytes: bytes))?.readableBytes ?? bytes.count
    print("changeset: \(o.documents) documents, \(o.documents * o.spans) spans; message \(mb(bytes.count)), "
        + "\(mb(compressed)) deflated")
    let rssBefore = big.memory("VmRSS")
    let (seconds, response) = try await push(changeset, on: connection)
    print("large push: \(describe(response)) in \(String(format: "%.2f", seconds)) s; glossd VmRSS before \(mb(rssBefore)), "
        + "peak VmHWM \(mb(big.memory("VmHWM")))")
    connection.close()
    big.stop()

    // 2. Small pushes (one document, five spans each), on a fresh server.
    let smallServer = try Daemon(glossd: o.glossd)
    defer { smallServer.stop() }
    let c2 = try await smallServer.connect()
    _ = try await c2.request(.with { $0.createCorpus = .with { $0.name = "bulk"; $0.schemaJson = schema } })
    var times: [Double] = []
    for i in 0..<o.small {
        let (s, r) = try await push(makeChangeset(documents: 1, spans: 5, prefix: "small\(i)", user: c2.user, rng: &rng), on: c2)
        guard case .acceptedRevision = r.outcome else { throw Failure("small push: \(describe(r))") }
        times.append(s)
    }
    times.sort()
    print("small push (1 document, 5 spans) ×\(o.small): median \(String(format: "%.1f", times[times.count / 2] * 1000)) ms, "
        + "min \(String(format: "%.1f", times[0] * 1000)) ms; glossd peak VmHWM \(mb(smallServer.memory("VmHWM")))")
    c2.close()
}

do {
    try await run(try Options(Array(CommandLine.arguments.dropFirst())))
} catch {
    FileHandle.standardError.write(Data("gloss-push-memory: \(error)\n".utf8))
    exit(1)
}
