import Foundation
import GRDB
import GlossClient
import GlossModel
import GlossStore
import GlossStoreSQLite
import GlossTestSupport
import GlossWire
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import SwiftProtobuf
import Testing

@testable import GlossServer

/// The promises of wire.md sections 4 and 5 that glossd 0.2.0 broke (its section 9), held over
/// real connections: AUTH errors carry the AUTH request's id, a second AUTH closes, PONG echoes
/// PING's bytes, a push based past the head is refused and stored nowhere, the drain timeout
/// still answers every request, and `gloss` answers a server's PING.
@Suite(.hangGuard, .timeLimit(.minutes(10)))
struct ServerPromiseTests {
    // MARK: Raw exchanges

    static func auth(_ id: UInt32, _ token: String) -> [UInt8] {
        RawClient.frameBytes(.request(id, .with { $0.auth = .with { $0.token = token } }))
    }

    static func list(_ id: UInt32) -> [UInt8] {
        RawClient.frameBytes(.request(id, .with { $0.listCorpora = .init() }))
    }

    /// What the server sent back, and whether it closed the connection (rather than the wait
    /// ending because `done` held or the time ran out).
    struct Reply {
        var messages: [WireMessage]
        var closed: Bool
    }

    /// Sends `opening`; once the server's answer holds a RESPONSE (the AUTH answer) or an ERROR,
    /// sends `then` (if any); reads until the server closes, `done` holds, or `timeout` passes.
    static func converse(
        port: Int, _ opening: [UInt8], then: [UInt8] = [], timeout: Duration = .seconds(90),
        done: @escaping @Sendable ([WireMessage]) -> Bool = { _ in false }
    ) async throws -> Reply {
        let channel = try await RawClient.connect(port: port)
        return try await channel.executeThenClose { inbound, outbound in
            try await outbound.write(ByteBuffer(bytes: opening))
            let received = RawClient.ReceivedBytes()
            let closed = try await withThrowingTaskGroup(of: Bool.self) { group in
                group.addTask {
                    var sentRest = then.isEmpty
                    do {
                        for try await chunk in inbound {
                            let messages = (try? RawClient.messages(received.append(chunk))) ?? []
                            if !sentRest, messages.contains(where: { $0.frameType == .response || $0.frameType == .error }) {
                                sentRest = true
                                try await outbound.write(ByteBuffer(bytes: then))
                            } else if sentRest, done(messages) {
                                return false
                            }
                        }
                    } catch {}
                    return true
                }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    return false
                }
                let first = try await group.next()!
                group.cancelAll()
                return first
            }
            return Reply(messages: try RawClient.messages(received.bytes), closed: closed)
        }
    }

    static func errors(_ messages: [WireMessage]) -> [(id: UInt32, error: WireError)] {
        messages.compactMap { if case .error(let id, let body) = $0 { (id, WireError(body)) } else { nil } }
    }

    // MARK: AUTH

    @Test func anAuthErrorCarriesTheAuthRequestsIDThenTheServerCloses() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        // Id 5, not 1: the id is the request's.
        let reply = try await Self.converse(port: server.port, Preface.bytes + RawClient.hello + Self.auth(5, "gls_not-a-token"))
        let errors = Self.errors(reply.messages)
        #expect(errors.map(\.id) == [5])
        #expect(errors.map(\.error.code) == [.authFailed])
        #expect(reply.closed)
    }

    @Test func aSecondAuthIsAConnectionProtocolErrorAndCloses() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let reply = try await Self.converse(
            port: server.port, Preface.bytes + RawClient.hello + Self.auth(1, server.adminToken),
            then: Self.auth(2, server.adminToken) + Self.list(3))
        let errors = Self.errors(reply.messages)
        #expect(errors.map(\.id) == [0])
        #expect(errors.map(\.error.code) == [.protocolError])
        #expect(reply.closed)
        // Nothing after the second AUTH was run.
        #expect(!reply.messages.contains { $0.requestID == 3 })
    }

    // MARK: PING

    @Test func pongEchoesThePingPayloadByteForByteAndABadOneKeepsTheConnection() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let notAPing: [UInt8] = [0xFF, 0xFF, 0x07]
        // `opaque`, then field 111 that no Ping has: a decode and re-encode would drop it.
        let unknownField: [UInt8] = [0x09, 1, 2, 3, 4, 5, 6, 7, 8, 0xF8, 0x06, 0x01]
        let pings = [notAPing, unknownField].flatMap { RawClient.frameBytes(.ping(ByteBuffer(bytes: $0))) }
        let reply = try await Self.converse(
            port: server.port, Preface.bytes + RawClient.hello + pings + Self.auth(1, server.adminToken),
            then: pings + Self.list(2)
        ) { messages in messages.contains { $0.frameType == .response && $0.requestID == 2 } }
        let pongs = reply.messages.compactMap { if case .pong(let b) = $0 { Array(b.readableBytesView) } else { nil } }
        // The read loop answers frames in order; both rounds are echoed.
        #expect(pongs == [notAPing, unknownField, notAPing, unknownField])
        #expect(Self.errors(reply.messages).isEmpty)
        #expect(!reply.closed)
        #expect(reply.messages.contains { $0.frameType == .response && $0.requestID == 2 })
    }

    // MARK: Push past the head

    struct Quiet: ResponseSink {
        func stream(_ item: ByteBuffer) async throws {}
        func interim(_ response: Gloss_V1_Response) async throws {}
    }

    static func push(_ router: RequestRouter, _ changeset: Changeset) async throws -> Gloss_V1_PushResponse {
        try await router.handle(
            .with { $0.push = .with { $0.corpus = "c"; $0.changeset = Gloss_V1_Changeset(changeset) } }, user: "admin",
            sink: Quiet()
        ).push
    }

    static func expectNotFound(_ router: RequestRouter, _ changeset: Changeset) async {
        do {
            let response = try await push(router, changeset)
            Issue.record("a push based past the head was answered \(response)")
        } catch let error as WireError {
            #expect(error.code == .notFound)
            #expect(error.message.contains("past the head"))
            #expect(!error.retryable)
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func aPushBasedPastTheHeadIsNotFoundAndStoresNothing() async throws {
        let directory = try TemporaryDirectory("past-head")
        defer { directory.remove() }
        let router = try LargePushTests.router(directory)
        let store = try router.corpora.handle(for: "c").store
        var admin = Minter("admin", replica: 1)
        // Head 0: base 1 is past it.
        await Self.expectNotFound(router, admin.documents(base: 1, [("a/1", "Alice met Bob.")]))
        #expect(try store.headRevision() == 0)
        #expect(try store.documents().isEmpty)
        // At the head it is accepted, and so is a base below the head.
        #expect(try await Self.push(router, admin.documents(base: 0, [("a/1", "Alice met Bob.")])).acceptedRevision == 1)
        #expect(try await Self.push(router, admin.changeset(base: 0, [.create(admin.span("a/1", 0, 5, "PER"))])).acceptedRevision == 2)
        // Head 2: base 3, and a huge base, are past it.
        await Self.expectNotFound(router, admin.changeset(base: 3, [.create(admin.span("a/1", 6, 9, "PER"))]))
        await Self.expectNotFound(router, admin.changeset(base: Int(Int64.max), [.create(admin.span("a/1", 6, 9, "PER"))]))
        #expect(try store.headRevision() == 2)
        #expect(try store.headAnnotations(of: "a/1").count == 1)
        // The refused changeset's id is not remembered: at the head it is accepted.
        let later = admin.changeset(base: 3, [.create(admin.span("a/1", 10, 13, "LOC"))])
        await Self.expectNotFound(router, later)
        var retried = later
        retried.base = 2
        #expect(try await Self.push(router, retried).acceptedRevision == 3)
    }

    /// Collects a stream's items.
    final class Collecting: ResponseSink, @unchecked Sendable {
        var items: [Gloss_V1_StreamItem] = []
        func stream(_ item: ByteBuffer) async throws {
            items.append(try Gloss_V1_StreamItem(serializedBytes: Array(item.readableBytesView)))
        }
        func interim(_ response: Gloss_V1_Response) async throws {}
    }

    /// `Schema.revision` is the revision that last set the schema, in a clone and in a pull.
    @Test func theSchemaItemNamesTheRevisionThatSetIt() async throws {
        let directory = try TemporaryDirectory("schema-revision")
        defer { directory.remove() }
        let router = try LargePushTests.router(directory)
        var admin = Minter("admin", replica: 1)
        #expect(try await Self.push(router, admin.documents(base: 0, [("a/1", "Alice met Bob.")])).acceptedRevision == 1)
        #expect(try await Self.push(router, admin.changeset(base: 1, [.setSchema(Schema(spanLabels: ["PER"]))])).acceptedRevision == 2)
        #expect(try await Self.push(router, admin.changeset(base: 2, [.create(admin.span("a/1", 0, 5, "PER"))])).acceptedRevision == 3)
        for request: Gloss_V1_Request in [
            .with { $0.clone = .with { $0.corpus = "c" } }, .with { $0.pull = .with { $0.corpus = "c"; $0.sinceRevision = 1 } },
        ] {
            let sink = Collecting()
            _ = try await router.handle(request, user: "admin", sink: sink)
            let schemas = sink.items.compactMap { if case .schema(let s)? = $0.body { s } else { nil } }
            #expect(schemas.map(\.revision) == [2], "\(request)")
        }
    }

    /// A pull sends the text of every addDocument in its range: a document removed and added
    /// again with another text gets both, so the revision that first added it can be applied.
    @Test func aPullSendsTheTextOfEveryAdditionOfADocument() async throws {
        let directory = try TemporaryDirectory("pull-texts")
        defer { directory.remove() }
        let router = try LargePushTests.router(directory)
        var admin = Minter("admin", replica: 1)
        #expect(try await Self.push(router, admin.documents(base: 0, [("a/1", "Alice met Bob.")])).acceptedRevision == 1)
        #expect(try await Self.push(router, admin.documents(base: 1, [("a/2", "First text.")])).acceptedRevision == 2)
        #expect(try await Self.push(router, admin.changeset(base: 2, [.removeDocument("a/2")])).acceptedRevision == 3)
        #expect(try await Self.push(router, admin.documents(base: 3, [("a/2", "Second text.")])).acceptedRevision == 4)
        let sink = Collecting()
        _ = try await router.handle(.with { $0.pull = .with { $0.corpus = "c"; $0.sinceRevision = 1 } }, user: "admin", sink: sink)
        let texts = sink.items.compactMap { if case .text(let t)? = $0.body { t } else { nil } }
        #expect(texts.map { Array($0.digest) } == [TextDigest(of: "First text.").bytes, TextDigest(of: "Second text.").bytes])
    }

    @Test func aLargePushBasedPastTheHeadIsNotFoundAndStoresNothing() async throws {
        let directory = try TemporaryDirectory("past-head-large")
        defer { directory.remove() }
        let router = try LargePushTests.router(directory)
        let store = try router.corpora.handle(for: "c").store
        var admin = Minter("admin", replica: 1)
        // Checked a document at a time (more ops than the streaming threshold).
        let large = LargePushTests.importing(12, spans: 400, &admin, base: 4)
        #expect(large.ops.count > CorpusStore.defaultStreamingThreshold)
        await Self.expectNotFound(router, large)
        #expect(try store.headRevision() == 0)
        #expect(try store.documents().isEmpty)
    }

    @Test func theStoreRefusesABasePastTheHeadAsItsOwnCode() throws {
        let directory = try TemporaryDirectory("past-head-store")
        defer { directory.remove() }
        let store = try CorpusStore.sqlite(path: directory.path("c.sqlite"))
        var alice = Minter("alice", replica: 1)
        let outcome = try store.append(alice.documents(base: 0, [("a/1", "text")]))
        #expect(outcome == .accepted(revision: 1))
        // Base 1 is the head: fine. Base 2 is past it.
        guard case .invalid(let error) = try store.append(alice.changeset(base: 2, [.removeDocument("a/1")])) else {
            Issue.record("a base past the head was not refused")
            return
        }
        #expect(error.code == .basePastHead)
        #expect(try store.headRevision() == 1)
        #expect(try store.append(alice.changeset(base: 1, [.removeDocument("a/1")])) == .accepted(revision: 2))
    }

    @Test func glossdCheckReportsARevisionWhoseBaseIsNotBelowItsNumber() throws {
        let directory = try TemporaryDirectory("past-head-check")
        defer { directory.remove() }
        let path = directory.path("c.sqlite")
        do {
            let store = try CorpusStore.sqlite(path: path)
            var alice = Minter("alice", replica: 1)
            _ = try store.append(alice.documents(base: 0, [("a/1", "text")]))
            _ = try store.append(alice.changeset(base: 1, [.create(alice.span("a/1", 0, 2, "X"))]))
            _ = try store.append(alice.changeset(base: 1, [.create(alice.span("a/1", 2, 4, "X"))]))
            #expect(try store.checkIntegrity(corpus: "c").isClean)
        }
        // What glossd 0.2.0 stored for a push based past the head: revision 2 with base 2, 3 with 7.
        try IntegrityCheckTests.damage(path) { db in
            try db.execute(sql: "UPDATE revisions SET base = 2 WHERE rev = 2")
            try db.execute(sql: "UPDATE revisions SET base = 7 WHERE rev = 3")
        }
        let report = try CorpusStore.sqlite(path: path).checkIntegrity(corpus: "c")
        #expect(report.problems.map(\.kind) == [.basePastHead, .basePastHead], "\(report.summary)")
        #expect(report.problems.map(\.revision) == [2, 3])
        #expect(report.problems.map(\.found) == ["base 2", "base 7"])
    }

    // MARK: Grant

    static func grant(_ router: RequestRouter, _ user: String, _ role: Gloss_V1_Role) async throws {
        _ = try await router.handle(
            .with { $0.grant = .with { $0.corpus = "c"; $0.user = user; $0.role = role } }, user: "admin", sink: Quiet())
    }

    @Test func aGrantOfARoleOutsideTheEnumIsBadMessageAndRevokesNothing() async throws {
        let directory = try TemporaryDirectory("grant-unknown-role")
        defer { directory.remove() }
        let router = try LargePushTests.router(directory)
        do {
            try await Self.grant(router, "ann", .UNRECOGNIZED(9))
            Issue.record("a role outside the enum was granted")
        } catch let error as WireError {
            #expect(error.code == .badMessage)
        }
        #expect(try router.accounts.role(of: "ann", in: "c") == .annotator)
        // ROLE_NONE still revokes.
        try await Self.grant(router, "ann", .none)
        #expect(try router.accounts.role(of: "ann", in: "c") == nil)
    }

    @Test func aGrantLeavingNoOwnerIsPermissionDenied() async throws {
        let directory = try TemporaryDirectory("grant-last-owner")
        defer { directory.remove() }
        let router = try LargePushTests.router(directory)
        _ = try router.accounts.addUser("olga")
        try router.accounts.grant(corpus: "c", user: "olga", role: .owner)
        try router.accounts.grant(corpus: "c", user: "admin", role: .viewer)
        // olga is the only owner granted: demoting her would leave none.
        do {
            try await Self.grant(router, "olga", .curator)
            Issue.record("the last owner was demoted")
        } catch let error as WireError {
            #expect(error.code == .permissionDenied)
            #expect(!error.retryable)
        }
        #expect(try router.accounts.role(of: "olga", in: "c") == .owner)
    }

    // MARK: Drain timeout

    /// A request that runs until it is cancelled, saying when it has started.
    struct Hanging: RequestHandling {
        let started: AsyncStream<UInt32>.Continuation

        func handle(_ request: Gloss_V1_Request, user: String, sink: any ResponseSink, readsTextRevisions: Bool) async throws
            -> Gloss_V1_Response
        {
            started.yield(0)
            try await Task.sleep(for: .seconds(3600))
            return .init()
        }
    }

    @Test func atTheDrainTimeoutARequestStillRunningGetsShuttingDownBeforeTheClose() async throws {
        let directory = try TemporaryDirectory("drain-timeout")
        defer { directory.remove() }
        let accounts = try AccountStore(path: directory.path("server.sqlite"))
        _ = try accounts.addUser("alice")
        let token = try accounts.issueToken(for: "alice").secret
        let (started, startedContinuation) = AsyncStream.makeStream(of: UInt32.self)
        var logger = Logger(label: "drain-timeout-test")
        logger.logLevel = .critical
        let connection = ServerConnection(
            id: 1, address: "127.0.0.1", router: Hanging(started: startedContinuation),
            authenticator: Authenticator(accounts: accounts),
            configuration: ServerConfiguration(
                port: 0, dataDirectory: directory.url, handshakeTimeout: .seconds(120), idleTimeout: .seconds(600)),
            logger: logger)

        // The connection over plain TCP: what is under test is what it sends, not TLS.
        let listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(FrameDecoder(expectPreface: true)))
                    try channel.pipeline.syncOperations.addHandler(MessageToByteHandler(FrameEncoder()))
                    return try NIOAsyncChannel<Frame, WireWrite>(wrappingChannelSynchronously: channel)
                }
            }
        let port = try #require(listener.channel.localAddress?.port)
        let serving = Task {
            try await listener.executeThenClose { inbound in
                for try await channel in inbound {
                    await connection.run(channel)
                    return
                }
            }
        }
        defer { serving.cancel() }

        let client = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        let messages = try await client.executeThenClose { inbound, outbound in
            var chunks = inbound.makeAsyncIterator()
            var bytes: [UInt8] = []
            func readUntil(_ condition: ([WireMessage]) -> Bool) async throws -> Bool {
                while !condition((try? RawClient.messages(bytes)) ?? []) {
                    guard let chunk = try await chunks.next() else { return false }
                    bytes += chunk.readableBytesView
                }
                return true
            }
            try await outbound.write(ByteBuffer(bytes: Preface.bytes + RawClient.hello + Self.auth(1, token)))
            #expect(try await readUntil { $0.contains { $0.frameType == .response } })
            try await outbound.write(ByteBuffer(bytes: Self.list(2)))
            // Request 2 is running: GOAWAY, then the drain timeout.
            var iterator = started.makeAsyncIterator()
            _ = await iterator.next()
            await connection.drain()
            await connection.drainTimedOut()
            // Everything until the server closes (a server that never closes fails the time limit).
            while let chunk = try await chunks.next() { bytes += chunk.readableBytesView }
            return try RawClient.messages(bytes)
        }
        let goaways = messages.compactMap { if case .goaway(let g) = $0 { g.lastRequestID } else { nil } }
        #expect(goaways == [2], "GOAWAY names request 2 as in flight")
        // Exactly one final frame for request 2: `shutting-down`, after GOAWAY.
        let second = messages.filter { $0.requestID == 2 }
        #expect(second.count == 1)
        #expect(Self.errors(second).map(\.error.code) == [.shuttingDown])
        #expect(messages.last?.requestID == 2)
    }

    // MARK: The client answers PING

    @Test func theClientAnswersAServerPingWithItsPayload() async throws {
        let directory = try TemporaryDirectory("client-ping")
        defer { directory.remove() }
        let (identity, _) = try ServerIdentity.loadOrCreate(directory: directory.url)
        let context = try NIOSSLContext(configuration: identity.serverTLSConfiguration())
        let listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context))
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(FrameDecoder(expectPreface: true)))
                    try channel.pipeline.syncOperations.addHandler(MessageToByteHandler(FrameEncoder()))
                    return try NIOAsyncChannel<Frame, WireWrite>(wrappingChannelSynchronously: channel)
                }
            }
        let port = try #require(listener.channel.localAddress?.port)
        // One PING during the handshake (before the AUTH answer), one after it; neither a plain `Ping`.
        let early: [UInt8] = [0xFF, 0x00, 0x42]
        let late: [UInt8] = [0x09, 8, 7, 6, 5, 4, 3, 2, 1, 0xF8, 0x06, 0x01]
        // A scripted server: it returns the PONG payloads it reads.
        let script = Task { () throws -> [[UInt8]] in
            try await listener.executeThenClose { inbound in
                for try await channel in inbound {
                    return try await channel.executeThenClose { frames, outbound in
                        try await outbound.write(.preface)
                        var iterator = frames.makeAsyncIterator()
                        var assembler = MessageAssembler()
                        func next() async throws -> WireMessage? {
                            while let frame = try await iterator.next() {
                                if let message = try assembler.append(frame) { return try WireMessage(message) }
                            }
                            return nil
                        }
                        func send(_ message: WireMessage) async throws {
                            try await outbound.write(contentsOf: message.frames().map(WireWrite.frame))
                        }
                        guard case .hello? = try await next() else { return [] }
                        try await send(.welcome(.with { $0.version = 1; $0.serverName = "script" }))
                        guard case .request(let authID, _)? = try await next() else { return [] }
                        try await send(.ping(ByteBuffer(bytes: early)))
                        try await send(.response(authID, .with { $0.auth = .with { $0.user = "alice" } }))
                        try await send(.ping(ByteBuffer(bytes: late)))
                        var pongs: [[UInt8]] = []
                        while pongs.count < 2, let message = try await next() {
                            if case .pong(let payload) = message { pongs.append(Array(payload.readableBytesView)) }
                        }
                        return pongs
                    }
                }
                return []
            }
        }
        let client = try await ClientConnection.connect(
            .init(host: "127.0.0.1", port: port, trust: .pinned(identity.fingerprint), token: "t"))
        #expect(client.user == "alice")
        let pongs = try await script.value
        client.close()
        // Answered from two tasks: in either order.
        #expect(pongs.sorted { $0.lexicographicallyPrecedes($1) } == [late, early].sorted { $0.lexicographicallyPrecedes($1) })
        #expect(pongs.count == 2)
    }
}
