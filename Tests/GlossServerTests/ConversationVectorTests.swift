import Foundation
import GlossClient
import GlossModel
import GlossStore
import GlossTestSupport
import GlossWire
import NIOCore
import NIOPosix
import NIOSSL
import SwiftProtobuf
import Testing

@testable import GlossServer

/// Conversations with glossd recorded frame by frame from a real server:
/// - `Protocol/vectors/conversation.txt`: handshake, auth, a push of two documents, a clone, a
///   push, a pull, a subscription and its notification, GOAWAY;
/// - `Protocol/vectors/pull-with-snapshot.txt`: a document changed 24 times, then a pull in which
///   a snapshot stands in for most of its deltas.
///
/// The test replays the recorded client frames against a fresh server and expects the server
/// to answer with the recorded messages: the same frames, except that deflated bytes are
/// compared inflated (another zlib may deflate differently). `GLOSS_RECORD_VECTORS=1` records
/// the file again from the script below.
@Suite(.serialized, .hangGuard, .timeLimit(.minutes(10)))
struct ConversationVectorTests {
    /// One recorded conversation: its file and the script that recorded it.
    enum Recording: String, CaseIterable, Sendable, CustomTestStringConvertible {
        case conversation = "conversation.txt"
        case pullWithSnapshot = "pull-with-snapshot.txt"

        var testDescription: String { rawValue }

        var file: URL {
            URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().appendingPathComponent("Protocol/vectors/\(rawValue)")
        }

        var script: [Step] {
            switch self {
            case .conversation: ConversationVectorTests.script()
            case .pullWithSnapshot: ConversationVectorTests.snapshotScript()
            }
        }

        var header: String {
            switch self {
            case .conversation:
                "A whole conversation with glossd (Protocol v1): handshake, auth, a push of two documents, a\n"
                    + "clone, a push, a pull, a subscription and its notification, GOAWAY."
            case .pullWithSnapshot:
                "A pull in which a snapshot stands in for deltas (Protocol v1): a document is added, its span\n"
                    + "relabelled 24 times, then a pull since revision 1 gets the document's latest snapshot and\n"
                    + "only the deltas after it (wire.md, Pull)."
            }
        }
    }
    /// The token the conversation authenticates with, issued to `admin` before it starts.
    static let token = "gls_conversation-vector-token"

    /// One line of the file: the client's frames, the server's, or something done outside the
    /// connection at that point.
    enum Step: Equatable {
        case client([UInt8])
        case server([UInt8])
        /// Another client pushes a revision (the subscription's notification follows).
        case anotherClientPushes
        /// The server is told to shut down (GOAWAY follows).
        case serverDrains
    }

    // MARK: The script

    static let replica = ReplicaID(0x0102_0304_0506_0708)
    static func changeset(_ low: UInt64, base: Int, _ ops: [Op], texts: [TextDigest: String] = [:]) -> Changeset {
        Changeset(
            id: ChangesetID(high: 0x476C_6F73_7376_6563, low: low), author: "admin", replica: replica, base: base,
            message: "vector \(low)", timestamp: 1_767_225_600, ops: ops, texts: texts)
    }

    /// What the client sends, in order, with the points where something happens outside.
    static func script() -> [Step] {
        let first = Document(id: "news/1", text: "Alice met Bob.")
        let second = Document(id: "news/2", text: "Acme hired Alice.")
        let a = AnnotationID(replica: replica, counter: 1), b = AnnotationID(replica: replica, counter: 2)
        let push1 = changeset(
            1, base: 0,
            [
                .addDocument(first), .create(.span(a, in: "news/1", [TextRange(0, 5)], label: "PER", owner: "admin")),
                .addDocument(second), .create(.span(b, in: "news/2", [TextRange(0, 4)], label: "ORG", owner: "admin")),
            ],
            texts: [first.digest: "Alice met Bob.", second.digest: "Acme hired Alice."])
        let push2 = changeset(2, base: 1, [.set("news/1", a, .label, .string("ORG"))])
        func request(_ id: UInt32, _ body: Gloss_V1_Request.OneOf_Body) -> Step {
            .client(RawClient.frameBytes(.request(id, .with { $0.body = body })))
        }
        return [
            .client(Preface.bytes + RawClient.frameBytes(.hello(.with {
                $0.minVersion = 1
                $0.maxVersion = 1
                $0.capabilities = ["deflate"]
                $0.clientName = "vector-client/1"
            }))),
            request(1, .auth(.with { $0.token = token })),
            request(2, .push(.with { $0.corpus = "talk"; $0.changeset = Gloss_V1_Changeset(push1) })),
            request(3, .clone(.with { $0.corpus = "talk" })),
            request(4, .push(.with { $0.corpus = "talk"; $0.changeset = Gloss_V1_Changeset(push2) })),
            request(5, .pull(.with { $0.corpus = "talk"; $0.sinceRevision = 1 })),
            request(6, .subscribe(.with { $0.corpus = "talk" })),
            .anotherClientPushes,
            .serverDrains,
        ]
    }

    /// The id of the script's subscribe request: its STREAM frames carry `Notification`s.
    static let subscription: UInt32 = 6

    /// A document whose span is relabelled 24 times, then a pull since revision 1.
    static func snapshotScript() -> [Step] {
        let document = Document(id: "news/1", text: "Alice met Bob.")
        let a = AnnotationID(replica: replica, counter: 1)
        var steps: [Step] = [
            .client(Preface.bytes + RawClient.frameBytes(.hello(.with {
                $0.minVersion = 1
                $0.maxVersion = 1
                $0.clientName = "vector-client/1"
            }))),
            .client(RawClient.frameBytes(.request(1, .with { $0.auth = .with { $0.token = token } }))),
        ]
        var pushes = [
            changeset(
                100, base: 0, [.addDocument(document), .create(.span(a, in: "news/1", [TextRange(0, 5)], label: "PER", owner: "admin"))],
                texts: [document.digest: "Alice met Bob."])
        ]
        for i in 1...24 { pushes.append(changeset(UInt64(100 + i), base: i, [.set("news/1", a, .label, .string("L\(i)"))])) }
        for (index, push) in pushes.enumerated() {
            steps.append(.client(RawClient.frameBytes(.request(UInt32(2 + index), .with {
                $0.push = .with { $0.corpus = "talk"; $0.changeset = Gloss_V1_Changeset(push) }
            }))))
        }
        steps.append(.client(RawClient.frameBytes(.request(UInt32(2 + pushes.count), .with {
            $0.pull = .with { $0.corpus = "talk"; $0.sinceRevision = 1 }
        }))))
        return steps
    }

    /// The push another client makes while the subscription is open.
    static let othersPush = changeset(3, base: 2, [.delete("news/2", AnnotationID(replica: replica, counter: 2))])

    // MARK: The test

    @Test(arguments: Recording.allCases)
    func aRealServerAnswersTheRecordedConversationFrameForFrame(_ recording: Recording) async throws {
        let record = ProcessInfo.processInfo.environment["GLOSS_RECORD_VECTORS"] == "1"
        let script = record ? recording.script : try Self.read(recording.file)
        let server = try await Self.server()
        defer { Task { await server.stop() } }
        let played = try await Self.play(script.filter { if case .server = $0 { false } else { true } }, on: server) { step in
            // Replaying: how many server messages the recording holds until the next client step.
            guard !record, let at = script.firstIndex(of: step) else { return nil }
            return script[(at + 1)...].prefix { if case .server = $0 { true } else { false } }.count
        }
        if record {
            try Self.write(played, to: recording)
            Issue.record("recorded \(recording.file.path); run the test again without GLOSS_RECORD_VECTORS")
            return
        }
        let expected = try script.compactMap { step -> [String]? in
            guard case .server(let bytes) = step else { return nil }
            return try Self.normalised(bytes)
        }
        let got = try played.compactMap { step -> [String]? in
            guard case .server(let bytes) = step else { return nil }
            return try Self.normalised(bytes)
        }
        #expect(got.count == expected.count)
        for (index, (mine, theirs)) in zip(got, expected).enumerated() {
            #expect(mine == theirs, "server message \(index)")
        }
        // The recording covers what it is for.
        let kinds = Set(expected.flatMap { $0 }.map { String($0.prefix(while: { $0 != " " })) })
        switch recording {
        case .conversation: #expect(kinds.isSuperset(of: ["welcome", "response", "stream", "goaway"]), "\(kinds)")
        case .pullWithSnapshot:
            let items = expected.flatMap { $0 }.filter { $0.hasPrefix("stream 27 ") }
            #expect(items.contains { $0.contains("\"snapshot\"") }, "the pull holds no snapshot")
            // The snapshot stands in for the deltas it covers: fewer revisions carry a delta.
            #expect(items.filter { $0.contains("\"deltas\"") }.count < 24)
        }
    }

    // MARK: Playing

    /// A server with a corpus `talk` and the conversation's token for `admin`.
    static func server() async throws -> TestServer {
        let server = try await TestServer.start()
        try server.accounts.createCorpus(name: "talk", owner: "admin", policy: .shared)
        let hash = AccountStore.hash(token)
        try server.accounts.catalog.insertToken(
            TokenRecord(
                hash: Array(hash),
                info: TokenInfo(
                    id: AccountStore.tokenID(hash: hash), user: "admin", label: "vector", createdAt: Date(timeIntervalSince1970: 0),
                    isRevoked: false)))
        return server
    }

    /// Sends each client step and waits for the server's answer: `expected` of a step is how
    /// many server messages follow it (replaying), or nil (recording: until the server has
    /// answered every request so far with its final frame, or has closed).
    static func play(_ steps: [Step], on server: TestServer, expected: (Step) -> Int?) async throws -> [Step] {
        let channel = try await RawClient.connect(port: server.port)
        return try await channel.executeThenClose { inbound, outbound in
            var recorded: [Step] = []
            var reader = ServerReader(inbound: inbound.makeAsyncIterator())
            for step in steps {
                switch step {
                case .client(let bytes):
                    try await outbound.write(ByteBuffer(bytes: bytes))
                    recorded.append(step)
                case .anotherClientPushes:
                    recorded.append(step)
                    let other = try await server.connect(token: token)
                    _ = try await other.request(.with {
                        $0.push = .with { $0.corpus = "talk"; $0.changeset = Gloss_V1_Changeset(othersPush) }
                    })
                    other.close()
                case .serverDrains:
                    recorded.append(step)
                    Task { await server.server.shutdown() }
                case .server:
                    continue
                }
                let messages: [[UInt8]]
                if let count = expected(step) {
                    messages = try await reader.next(count)
                } else {
                    messages = try await reader.untilAnswered(step: step)
                }
                recorded += messages.map(Step.server)
            }
            return recorded
        }
    }

    /// Reads the server's bytes a whole message at a time (every frame of it, as sent).
    struct ServerReader {
        var inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
        var decoder = FrameDecoder(expectPreface: true)
        var assembler = MessageAssembler()
        var buffer = ByteBuffer()
        var frames: [UInt8] = []
        var sawPreface = false
        /// Requests the server has answered (a RESPONSE, a subscription's first one included, or
        /// an ERROR with their id).
        var answered: Set<UInt32> = []
        var closed = false

        /// The next message's bytes (the first with the server's preface before it).
        mutating func nextMessage() async throws -> [UInt8]? {
            while true {
                while let frame = try decoder.decode(buffer: &buffer) {
                    var out = ByteBuffer()
                    FrameEncoder.write(frame, to: &out)
                    frames += out.readableBytesView
                    if let message = try assembler.append(frame) {
                        switch try WireMessage(message) {
                        case .response(let id, _), .error(let id, _): answered.insert(id)
                        default: break
                        }
                        defer { frames = [] }
                        if !sawPreface {
                            sawPreface = true
                            return Preface.bytes + frames
                        }
                        return frames
                    }
                }
                guard let chunk = try await inbound.next() else {
                    closed = true
                    return nil
                }
                buffer.writeImmutableBuffer(chunk)
            }
        }

        mutating func next(_ count: Int) async throws -> [[UInt8]] {
            var out: [[UInt8]] = []
            while out.count < count, let message = try await nextMessage() { out.append(message) }
            return out
        }

        /// Recording: after the handshake, the WELCOME; after a request, until the server has
        /// answered it (streamed items first); after the other client's push, the notification;
        /// at the drain, until the server closes.
        mutating func untilAnswered(step: Step) async throws -> [[UInt8]] {
            switch step {
            case .client(let bytes) where bytes.starts(with: Preface.bytes): return try await next(1)
            case .client(let bytes):
                guard case .request(let id, _)? = try ConversationVectorTests.clientMessages(bytes).first else { return [] }
                var out: [[UInt8]] = []
                while !answered.contains(id), let message = try await nextMessage() { out.append(message) }
                return out
            case .anotherClientPushes: return try await next(1)
            case .serverDrains:
                var out: [[UInt8]] = []
                while let message = try await nextMessage() { out.append(message) }
                return out
            case .server: return []
            }
        }
    }

    // MARK: The file

    static func read(_ file: URL) throws -> [Step] {
        let text = try String(contentsOf: file, encoding: .utf8)
        return try text.components(separatedBy: "\n").compactMap { line -> Step? in
            if line.hasPrefix("#") || line.allSatisfy(\.isWhitespace) { return nil }
            if line == "! another client pushes" { return .anotherClientPushes }
            if line == "! the server drains" { return .serverDrains }
            let (direction, hex) = (line.first, String(line.dropFirst(2).filter { !$0.isWhitespace }))
            var bytes: [UInt8] = []
            var i = hex.startIndex
            while i < hex.endIndex {
                let j = hex.index(i, offsetBy: 2)
                bytes.append(try #require(UInt8(hex[i..<j], radix: 16)))
                i = j
            }
            switch direction {
            case "C": return .client(bytes)
            case "S": return .server(bytes)
            default: throw WireError(.badMessage, "conversation.txt: a line starts with neither C, S, ! nor #")
            }
        }
    }

    static func write(_ steps: [Step], to recording: Recording) throws {
        var text = recording.header.split(separator: "\n").map { "# \($0)\n" }.joined()
        text += """
            # Recorded from a real glossd by Tests/GlossServerTests/ConversationVectorTests.swift, which
            # replays it against a fresh server on every test run. TLS is not shown: these are the
            # bytes inside it.
            # Lines: "C hex" the client's frames, "S hex" the server's (one message per line, every frame
            # of it), "! ..." something that happens outside this connection, "#" a comment.
            # Before it starts, the server has a corpus "talk" and user "admin" holds the token
            # "\(token)".

            """
        for step in steps {
            switch step {
            case .client(let bytes), .server(let bytes):
                let isClient = if case .client = step { true } else { false }
                let describedBytes = bytes.starts(with: Preface.bytes) ? Array(bytes.dropFirst(Preface.bytes.count)) : bytes
                let messages = try isClient
                    ? Self.clientMessages(describedBytes) : RawClient.messages(Preface.bytes + describedBytes)
                let what = messages.map(Self.describe).joined(separator: "; ")
                text += "# \(isClient ? "client" : "server"): \(bytes.starts(with: Preface.bytes) ? "preface, " : "")\(what)\n"
                text += "\(isClient ? "C" : "S") \(bytes.map { String(format: "%02x", $0) }.joined())\n"
            case .anotherClientPushes:
                text += "# Another client pushes revision 3 (it deletes the span of news/2).\n! another client pushes\n"
            case .serverDrains:
                text += "# The server is told to shut down: GOAWAY, the subscription's final frame, then it closes.\n! the server drains\n"
            }
        }
        try Data(text.utf8).write(to: recording.file)
    }

    static func clientMessages(_ bytes: [UInt8]) throws -> [WireMessage] {
        var decoder = FrameDecoder(expectPreface: false)
        var assembler = MessageAssembler()
        var buffer = ByteBuffer(bytes: bytes)
        var out: [WireMessage] = []
        while let frame = try decoder.decode(buffer: &buffer) {
            if let message = try assembler.append(frame) { out.append(try WireMessage(message)) }
        }
        return out
    }

    static func describe(_ message: WireMessage) -> String {
        switch message {
        case .hello: "HELLO"
        case .welcome: "WELCOME"
        case .request(let id, let r): "REQUEST \(id) \(r.body.map { "\($0)".prefix(while: { $0 != "(" }) } ?? "?")"
        case .response(let id, let r): "RESPONSE \(id) \(r.body.map { "\($0)".prefix(while: { $0 != "(" }) } ?? "?")"
        case .stream(let id, _) where id == subscription: "STREAM \(id) notification"
        case .stream(let id, let bytes):
            "STREAM \(id) \((try? Gloss_V1_StreamItem(serializedBytes: Array(bytes.readableBytesView)).body.map { "\($0)".prefix(while: { $0 != "(" }) }) ?? "?")"
        case .error(let id, let e): "ERROR \(id) \(e.code)"
        case .ping: "PING"
        case .pong: "PONG"
        case .goaway(let g): "GOAWAY last request \(g.lastRequestID)"
        case .cancel(let id): "CANCEL \(id)"
        }
    }

    /// A server message as comparable text: deflated bytes inflated, since another zlib may
    /// deflate the same bytes differently.
    static func normalised(_ bytes: [UInt8]) throws -> [String] {
        let body = bytes.starts(with: Preface.bytes) ? bytes : Preface.bytes + bytes
        return try RawClient.messages(body).map { message in
            switch message {
            case .stream(let id, let payload) where id == subscription:
                return "stream \(id) \(try Gloss_V1_Notification(serializedBytes: Array(payload.readableBytesView)).jsonString())"
            case .stream(let id, let payload):
                var item = try Gloss_V1_StreamItem(serializedBytes: Array(payload.readableBytesView))
                switch item.body {
                case .text(var t)?:
                    t.deflated = try Self.inflate(t.deflated, Int(t.rawLength))
                    item.text = t
                case .revision(var r)?:
                    for i in r.deltas.indices { r.deltas[i].deflated = try Self.inflate(r.deltas[i].deflated, Int(r.deltas[i].rawLength)) }
                    item.revision = r
                case .snapshot(var s)?:
                    s.deflated = try Self.inflate(s.deflated, Int(s.rawLength))
                    item.snapshot = s
                default: break
                }
                return "stream \(id) \(try item.jsonString())"
            case .welcome(let w): return "welcome \(try w.jsonString())"
            case .response(let id, let r): return "response \(id) \(try r.jsonString())"
            case .goaway(let g): return "goaway \(try g.jsonString())"
            case .error(let id, let e): return "error \(id) \(try e.jsonString())"
            default: return Self.describe(message)
            }
        }
    }

    static func inflate(_ data: Data, _ length: Int) throws -> Data {
        Data(try BlobCompression.decompress(Array(data), expectedLength: length, what: "a vector's blob"))
    }
}
