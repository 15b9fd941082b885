import GlossClient
import GlossTestSupport
import GlossWire
import NIOCore
import Testing

/// Clients that send and never read (issue 13, point 2). The server stops reading from them
/// once their answers back up, and drops them when its writes make no progress for the idle
/// timeout, or when the handshake timeout passes, even though it is blocked writing to them:
/// they no longer hold connection slots for ever.
@Suite(.serialized, .hangGuard, .timeLimit(.minutes(10)))
struct SlowReaderTests {
    /// How long a test waits for the server to drop a flooder (a few seconds when it works).
    static let patience: Duration = .seconds(90)

    /// Floods PINGs of almost the auth message limit and reads nothing, until the server drops
    /// the connection; returns the bytes it managed to send.
    static func flood(_ session: inout RawSession) async -> Int {
        let ping = RawClient.frameBytes(.ping(ByteBuffer(repeating: 0x50, count: 60_000)))
        var sent = 0
        while true {
            do {
                try await session.send(ping)
            } catch {
                return sent
            }
            sent += ping.count
        }
    }

    /// Connects a well-behaved client, trying again while the server is busy or the client's
    /// own handshake is cut off by a short timeout under test.
    static func connectWhenFree(_ server: TestServer) async throws -> ClientConnection {
        let deadline = ContinuousClock.now + .seconds(120)
        while true {
            do {
                return try await server.connect()
            } catch let error as ClientError
                where [.serverBusy, .timeout].contains(error.server?.code) && ContinuousClock.now < deadline
            {
                try await Task.sleep(for: .milliseconds(200))
            }
        }
    }

    @Test func clientsThatStopReadingAreDroppedAfterTheIdleTimeoutAndFreeTheirSlots() async throws {
        let server = try await TestServer.start(maxConnections: 2, idleTimeout: .seconds(3))
        defer { Task { await server.stop() } }
        let token = server.adminToken
        let port = server.port
        // Two authenticated clients take both slots, then flood and read nothing.
        let authenticated = AsyncStream<Void>.makeStream()
        let flooders = (0..<2).map { _ in
            Task {
                try await RawSession.with(port: port) { session in
                    try await session.authenticate(token)
                    authenticated.continuation.yield()
                    return await Self.flood(&session)
                }
            }
        }
        var ready = 0
        for await _ in authenticated.stream {
            ready += 1
            if ready == 2 { break }
        }
        // Both slots are taken: a good client is turned away for now...
        await #expect(throws: ClientError.self) { _ = try await server.connect() }
        // ...until the server has dropped the flooders, whose writes stopped making progress.
        let started = ContinuousClock.now
        let giveUp = Task {
            try await Task.sleep(for: Self.patience)
            for flooder in flooders { flooder.cancel() }
        }
        defer { giveUp.cancel() }
        for flooder in flooders {
            let sent = try await flooder.value
            #expect(ContinuousClock.now - started < Self.patience, "the server never dropped a client that reads nothing")
            // It stopped reading them: what they got in is bounded by buffers, not by the flood.
            #expect(sent < 64 << 20, "a flooder got \(sent >> 20) MiB in before it was dropped")
        }
        let good = try await Self.connectWhenFree(server)
        #expect(try await good.request(.with { $0.listCorpora = .init() }).body != nil)
        good.close()
    }

    @Test func theHandshakeTimeoutHoldsWhileTheServerIsBlockedWriting() async throws {
        let server = try await TestServer.start(maxConnections: 1, handshakeTimeout: .seconds(3))
        defer { Task { await server.stop() } }
        // Preface and HELLO, then PINGs, never AUTH, never a read: the PONGs back up and the
        // server is blocked writing when its handshake timer fires.
        let port = server.port
        let flooder = Task {
            try await RawSession.with(port: port) { session in
                try await session.send(Preface.bytes + RawClient.hello)
                return await Self.flood(&session)
            }
        }
        let started = ContinuousClock.now
        let giveUp = Task {
            try await Task.sleep(for: Self.patience)
            flooder.cancel()
        }
        defer { giveUp.cancel() }
        let sent = try await flooder.value
        #expect(ContinuousClock.now - started < Self.patience, "the handshake timeout never closed the connection")
        print("slow reader: the unauthenticated flooder sent \(sent >> 20) MiB in \(ContinuousClock.now - started)")
        #expect(sent < 64 << 20)
        let good = try await Self.connectWhenFree(server)
        #expect(try await good.request(.with { $0.listCorpora = .init() }).body != nil)
        good.close()
    }
}
