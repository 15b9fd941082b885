import Foundation
import GlossClient
import GlossModel
import GlossServer
import GlossStore
import GlossTestSupport
import GlossWire
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

/// A real glossd (in process) on a loopback port with TLS and a temporary data directory.
/// Its handshake and idle timeouts are generous, since a loaded machine stretches both; only
/// the tests of those timeouts set short ones.
final class TestServer: Sendable {
    let server: GlossServer
    let accounts: AccountStore
    let fingerprint: CertificateFingerprint
    let adminToken: String
    let port: Int
    let directory: TemporaryDirectory
    private let task: Task<Void, any Error>

    static func start(
        maxConnections: Int = 64, handshakeTimeout: Duration = .seconds(120), idleTimeout: Duration = .seconds(600),
        clientAuthentication: ClientAuthentication = .none, budgets: ClientBudgets.Limits = .init(),
        limits: WireLimits = .default, maxBufferedBytes: Int = 256 << 20
    ) async throws -> TestServer {
        let directory = try TemporaryDirectory("glossd")
        let accounts = try AccountStore(path: directory.path("server.sqlite"))
        let (identity, _) = try ServerIdentity.loadOrCreate(directory: directory.url)
        try AdminBootstrap.ensureAdmin(accounts: accounts, dataDirectory: directory.url)
        let token = try String(contentsOf: directory.url.appendingPathComponent("admin.token"), encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        var logger = Logger(label: "test-glossd")
        logger.logLevel = .warning
        let configuration = ServerConfiguration(
            port: 0, dataDirectory: directory.url, limits: limits, handshakeTimeout: handshakeTimeout,
            idleTimeout: idleTimeout, maxConnections: maxConnections, drainTimeout: .seconds(5),
            maxBufferedBytes: maxBufferedBytes)
        let server = try GlossServer(
            configuration: configuration, identity: identity, accounts: accounts,
            corpora: try CorpusRegistry(directory: directory.url), logger: logger,
            clientAuthentication: clientAuthentication, budgets: ClientBudgets(limits: budgets))
        let task = Task { try await server.run() }
        _ = try await eventually { server.localAddress != nil }
        guard let port = server.localAddress?.port else { throw ClientError(.connectionFailed, "server did not start") }
        return TestServer(
            server: server, accounts: accounts, fingerprint: identity.fingerprint, adminToken: token, port: port,
            directory: directory, task: task)
    }

    private init(
        server: GlossServer, accounts: AccountStore, fingerprint: CertificateFingerprint, adminToken: String, port: Int,
        directory: TemporaryDirectory, task: Task<Void, any Error>
    ) {
        self.server = server
        self.accounts = accounts
        self.fingerprint = fingerprint
        self.adminToken = adminToken
        self.port = port
        self.directory = directory
        self.task = task
    }

    func connect(token: String? = nil, trust: ServerTrust? = nil, clientCertificate: ClientCertificate? = nil)
        async throws -> ClientConnection
    {
        try await ClientConnection.connect(
            .init(
                host: "127.0.0.1", port: port, trust: trust ?? .pinned(fingerprint), token: token ?? adminToken,
                clientCertificate: clientCertificate))
    }

    /// A user with a role in a corpus, and a token.
    func user(_ name: String, role: Role, in corpus: String) throws -> String {
        if try accounts.user(named: name) == nil { _ = try accounts.addUser(name) }
        try accounts.grant(corpus: corpus, user: name, role: role)
        return try accounts.issueToken(for: name).secret
    }

    func stop() async {
        await server.shutdown()
        _ = try? await task.value
        directory.remove()
    }
}

/// Speaks raw bytes over TLS to the server, to send what a well-behaved client never would.
enum RawClient {
    /// A TLS connection to the server on `port` (any certificate accepted) that carries raw
    /// bytes both ways.
    static func connect(port: Int) async throws -> NIOAsyncChannel<ByteBuffer, ByteBuffer> {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.certificateVerification = .noHostnameVerification
        let context = try NIOSSLContext(configuration: tls)
        return try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        try NIOSSLClientHandler(context: context, serverHostname: nil) { _, promise in
                            promise.succeed(.certificateVerified)
                        })
                    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
    }

    /// Sends `opening`, waits until the server's reply to it holds a RESPONSE (the auth answer),
    /// then sends `bytes`; returns everything the server sent, until it closes (or `timeout`).
    /// The protocol wants a client to await the auth response before any other request.
    static func exchange(
        port: Int, opening: [UInt8], then bytes: [UInt8], timeout: Duration = .seconds(90)
    ) async throws -> [UInt8] {
        try await exchange(port: port, opening + bytes, timeout: timeout, splitAt: opening.count) { messages in
            // Done at the first ERROR, or at the answer to the request after auth.
            messages.contains { $0.frameType == .error } || messages.filter { $0.frameType == .response }.count >= 2
        }
    }

    /// Sends `bytes` and returns everything the server sends back until it closes (or `timeout`).
    /// The server closes after a connection error, so the timeout only bounds a failing test;
    /// it is long because the first CI run builds and runs every suite at once.
    static func exchange(
        port: Int, _ bytes: [UInt8], timeout: Duration = .seconds(90), splitAt: Int? = nil,
        until done: (@Sendable ([WireMessage]) -> Bool)? = nil
    ) async throws -> [UInt8] {
        let channel = try await RawClient.connect(port: port)
        return try await channel.executeThenClose { inbound, outbound in
            let split = splitAt ?? bytes.count
            try await outbound.write(ByteBuffer(bytes: bytes[..<split]))
            // What arrived so far: a timeout returns it too (a request-level error leaves the
            // connection open, so the server need not close it).
            let received = ReceivedBytes()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    var sentRest = split == bytes.count
                    do {
                        for try await chunk in inbound {
                            let all = received.append(chunk)
                            if !sentRest, (try? Self.messages(all))?.contains(where: { $0.frameType == .response }) == true {
                                sentRest = true
                                try await outbound.write(ByteBuffer(bytes: bytes[split...]))
                            } else if sentRest, let done, let messages = try? Self.messages(all), done(messages) {
                                return
                            }
                        }
                    } catch {}
                }
                group.addTask { try await Task.sleep(for: timeout) }
                try await group.next()
                group.cancelAll()
            }
            return received.bytes
        }
    }

    /// Bytes collected by the reading task, readable when the timeout fires.
    final class ReceivedBytes: @unchecked Sendable {
        private let lock = NSLock()
        private var all: [UInt8] = []
        func append(_ chunk: ByteBuffer) -> [UInt8] {
            lock.withLock {
                all += chunk.readableBytesView
                return all
            }
        }
        var bytes: [UInt8] { lock.withLock { all } }
    }

    /// The messages in what the server sent (after its preface).
    static func messages(_ bytes: [UInt8]) throws -> [WireMessage] {
        var decoder = FrameDecoder(expectPreface: true)
        var assembler = MessageAssembler()
        var buffer = ByteBuffer(bytes: bytes)
        var out: [WireMessage] = []
        while let frame = try decoder.decode(buffer: &buffer) {
            if let message = try assembler.append(frame) { out.append(try WireMessage(message)) }
        }
        return out
    }

    static func frameBytes(_ message: WireMessage) -> [UInt8] {
        var out = ByteBuffer()
        for frame in message.frames() { FrameEncoder.write(frame, to: &out) }
        return Array(out.readableBytesView)
    }

    static let hello = frameBytes(.hello(.with {
        $0.minVersion = 1
        $0.maxVersion = 1
    }))
}
