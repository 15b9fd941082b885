import GlossBenchCorpus
import Foundation
import GlossClient
import GlossModel
import GlossWire

// The client sides of the server-memory phases, each in a child process of its own: many idle
// connections held open, and one very large push.

// MARK: - Idle connections

struct IdleResult: Codable {
    var connections: Int
    /// Connecting and authenticating all of them (ten at a time).
    var connectSeconds: Double
    /// How long they were held after all were authenticated (until the parent closed our input).
    var heldSeconds: Double
    /// Connections the server had not closed when the parent let go.
    var stillOpen: Int
    var cpu: CPUTime
    var vmHWMBytes: Int?
}

enum IdleRole {
    /// The line the role prints once every connection is authenticated.
    static let ready = "ready"

    /// Opens `count` connections with the project's client connection code, each authenticated
    /// as one of the setup's users in turn, says `ready` on standard output, holds them until
    /// standard input closes, then closes them.
    static func run(setup: Setup, port: Int, count: Int) async throws -> IdleResult {
        let clock = ContinuousClock()
        let users = setup.tokens.keys.sorted()
        let t0 = clock.now
        let connections = try await connectAll(
            port: port, setup: setup, users: (0..<count).map { users[$0 % users.count] })
        let connectSeconds = seconds(clock.now - t0)
        log("\(count) connections authenticated in \(fmt(connectSeconds, 2)) s; holding them")
        FileHandle.standardOutput.write(Data((ready + "\n").utf8))
        let h0 = clock.now
        _ = try await onOwnThread { FileHandle.standardInput.readDataToEndOfFile() }
        let held = seconds(clock.now - h0)
        let open = connections.filter { $0.closedError == nil }.count
        for c in connections { c.close() }
        return IdleResult(
            connections: count, connectSeconds: connectSeconds, heldSeconds: held, stillOpen: open, cpu: CPUTime.now(),
            vmHWMBytes: procStatus("VmHWM"))
    }
}

// MARK: - One very large push

struct BigPushResult: Codable {
    var corpus: String
    var documents: Int
    var ops: Int
    /// The PUSH request as protobuf, before framing.
    var messageBytes: Int
    /// The message size this client allowed itself (raised so that the server decides).
    var clientMaxMessageBytes: Int
    var generateSeconds: Double
    /// From sending the request to its response or error.
    var pushSeconds: Double
    var acceptedRevision: Int?
    /// What the server answered instead of accepting it, or the error the request ended with.
    var refusal: String?
    var cpu: CPUTime
    var vmHWMBytes: Int?
}

enum BigPushRole {
    /// Pushes the storage benchmark's whole import, `documents` documents and `annotations`
    /// spans, as one changeset onto the empty `corpus`, over the real protocol (as `pusher`, its
    /// owner), and waits for the answer.
    static func run(setup: Setup, port: Int, corpus: String, seed: UInt64, documents: Int, annotations: Int, timeout: Duration)
        async throws -> BigPushResult
    {
        let clock = ContinuousClock()
        let g0 = clock.now
        var generator = Generator(seed: seed, documents: documents, annotations: annotations)
        var changeset = generator.singleImportChangeset()
        // The server takes creates only in the pusher's own name (the layers stay the annotators').
        changeset.author = Setup.pusher
        for i in changeset.ops.indices {
            guard case .create(var annotation) = changeset.ops[i] else { continue }
            annotation.owner = Setup.pusher
            changeset.ops[i] = .create(annotation)
        }
        let request = pushRequest(corpus, changeset)
        let messageBytes = (try request.serializedBytes() as [UInt8]).count
        let generateSeconds = seconds(clock.now - g0)
        log("one changeset of \(grouped(changeset.ops.count)) ops (\(mb(messageBytes)) as protobuf) generated in \(fmt(generateSeconds, 1)) s; pushing")

        var limits = WireLimits.default
        limits.maxMessageBytes = max(limits.maxMessageBytes, 2 * messageBytes)
        let connection = try await connect(port: port, setup: setup, user: Setup.pusher, limits: limits)
        defer { connection.close() }
        var accepted: Int?
        var refusal: String?
        let t0 = clock.now
        do {
            let response = try await withThrowingTaskGroup(of: Gloss_V1_Response?.self) { group in
                group.addTask { try await connection.request(request) }
                group.addTask {
                    // Closing the connection ends the request (which does not watch for cancellation).
                    try await Task.sleep(for: timeout)
                    connection.close()
                    return nil
                }
                defer { group.cancelAll() }
                return try await group.next()!
            }
            switch response?.push.outcome {
            case .acceptedRevision(let r)?: accepted = Int(r)
            case .duplicateRevision(let r)?: refusal = "duplicate of revision \(r)"
            case .conflicts(let c)?: refusal = "conflicts: \(c.conflicts.count)"
            case .invalid(let why)?: refusal = "invalid: \(why.code): \(why.message)"
            case nil:
                refusal = response == nil ? "no answer within \(timeout)" : "a response without a push outcome: \(response!)"
            }
        } catch {
            refusal = "\(error)"
        }
        let pushSeconds = seconds(clock.now - t0)
        if let closed = connection.closedError, refusal != nil { refusal! += " (connection closed: \(closed))" }
        return BigPushResult(
            corpus: corpus, documents: documents, ops: changeset.ops.count, messageBytes: messageBytes,
            clientMaxMessageBytes: limits.maxMessageBytes, generateSeconds: generateSeconds, pushSeconds: pushSeconds,
            acceptedRevision: accepted, refusal: refusal, cpu: CPUTime.now(), vmHWMBytes: procStatus("VmHWM"))
    }
}
