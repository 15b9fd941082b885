import GlossModel
import GlossWire
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

/// An authenticated connection to a `glossd`: TLS, preface, HELLO/WELCOME, auth, then any
/// number of concurrent requests multiplexed by request id.
public final class ClientConnection: Sendable {
    public struct Options: Sendable {
        public var host: String
        public var port: Int
        public var trust: ServerTrust
        public var token: String
        public var limits: WireLimits
        public var clientName: String
        public var connectTimeout: TimeAmount
        /// How long the TLS and Gloss handshakes may take once connected: a listener that
        /// accepts and then says nothing must not hang the client.
        public var handshakeTimeout: TimeAmount
        /// The certificate to present to a server that requires mutual TLS.
        public var clientCertificate: ClientCertificate?

        public init(
            host: String, port: Int, trust: ServerTrust, token: String, limits: WireLimits = .default,
            clientName: String = "gloss/\(GlossRelease.version)", connectTimeout: TimeAmount = .seconds(10),
            clientCertificate: ClientCertificate? = nil, handshakeTimeout: TimeAmount = .seconds(60)
        ) {
            self.clientCertificate = clientCertificate
            self.handshakeTimeout = handshakeTimeout
            self.host = host
            self.port = port
            self.trust = trust
            self.token = token
            self.limits = limits
            self.clientName = clientName
            self.connectTimeout = connectTimeout
        }

        /// `host:port` (`[::1]:port` for IPv6), as messages name the server.
        public var address: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
    }

    /// What a streamed request yields.
    public enum StreamEvent: Sendable {
        case item(ByteBuffer)
        case interim(Gloss_V1_Response)
    }

    private enum Waiter {
        case single(CheckedContinuation<Gloss_V1_Response, any Error>)
        case stream(AsyncThrowingStream<StreamEvent, any Error>.Continuation, CheckedContinuation<Gloss_V1_Response, any Error>?)
    }

    private struct State {
        var waiters: [UInt32: Waiter] = [:]
        var nextID: UInt32 = 1
        var closedError: ClientError?
        var goawayLast: UInt32?
        var subscriptionConfirmed: Set<UInt32> = []
        /// Bytes of stream items handed to ``streaming(_:onEvent:)`` consumers and not yet
        /// consumed, per request: the reader stops reading while they pass a high-water mark,
        /// so a consumer slower than the network (a clone writing to disk) does not make the
        /// client hold the whole stream.
        var backlog: [UInt32: Int] = [:]
        var backlogTotal = 0
        /// The most ``backlogTotal`` has been, for tests.
        var backlogPeak = 0
        var backlogWaiter: CheckedContinuation<Void, Never>?
        var closing = false

        /// Forgets request `id`'s unconsumed bytes; the reader to wake, if that frees it.
        mutating func release(_ id: UInt32, bytes: Int? = nil) -> CheckedContinuation<Void, Never>? {
            guard let held = backlog[id] else { return nil }
            let freed = min(held, bytes ?? held)
            backlog[id] = bytes == nil ? nil : held - freed
            backlogTotal -= freed
            guard backlogTotal <= ClientConnection.backlogLowWater, let waiter = backlogWaiter else { return nil }
            backlogWaiter = nil
            return waiter
        }
    }

    /// Stream bytes received and not yet consumed: now, at most so far, and whether the
    /// reader is paused for them.
    var streamBacklog: (now: Int, peak: Int, readerPaused: Bool) {
        shared.state.withLock { ($0.backlogTotal, $0.backlogPeak, $0.backlogWaiter != nil) }
    }

    /// Unconsumed stream bytes at which the reader pauses, and at which it reads again.
    static let backlogHighWater = 4 << 20
    static let backlogLowWater = 1 << 20

    public let user: String
    public let welcome: Gloss_V1_Welcome
    /// The server certificate's fingerprint, as presented.
    public let serverFingerprint: CertificateFingerprint?
    private let outbound: NIOAsyncChannelOutboundWriter<WireWrite>
    private let shared: Shared
    private let limits: WireLimits
    private let compress: Bool

    /// What the reader task and the connection share.
    private final class Shared: Sendable {
        let state = Mutex(State())
        let task = Mutex<Task<Void, Never>?>(nil)
        /// `host:port`, for messages.
        let address: String

        init(address: String) {
            self.address = address
        }

        /// Waits, in the reader, while consumers hold more than the high-water mark unconsumed.
        func waitWhileBacklogged() async {
            guard state.withLock({ $0.backlogTotal > ClientConnection.backlogHighWater && !$0.closing }) else { return }
            await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
                let waitNow = state.withLock { s -> Bool in
                    guard s.backlogTotal > ClientConnection.backlogLowWater, !s.closing else { return false }
                    s.backlogWaiter = waiter
                    return true
                }
                if !waitNow { waiter.resume() }
            }
        }

        /// Releases request `id`'s unconsumed bytes (all of them when `bytes` is nil).
        func release(_ id: UInt32, bytes: Int? = nil) {
            state.withLock { $0.release(id, bytes: bytes) }?.resume()
        }
    }

    // MARK: Connecting

    /// Connects, verifies the server, negotiates and authenticates.
    public static func connect(_ options: Options, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton)
        async throws -> ClientConnection
    {
        let evaluation = TrustEvaluation(
            trust: options.trust, host: options.host, clientCertificate: options.clientCertificate)
        let address = options.address
        let greeting = GreetingRecorder.Greeting()
        let channel: NIOAsyncChannel<Frame, WireWrite>
        do {
            channel = try await ClientBootstrap(group: group)
                .connectTimeout(options.connectTimeout)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .connect(host: options.host, port: options.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(GreetingRecorder(greeting))
                        try channel.pipeline.syncOperations.addHandler(try evaluation.makeHandler())
                        try channel.pipeline.syncOperations.addHandler(
                            ByteToMessageHandler(FrameDecoder(expectPreface: true, limits: options.limits)))
                        try channel.pipeline.syncOperations.addHandler(MessageToByteHandler(FrameEncoder()))
                        return try NIOAsyncChannel<Frame, WireWrite>(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            throw ClientError.cannotConnect(to: address, trust: options.trust, error)
        }
        let shared = Shared(address: address)
        // A peer that accepts and then stays silent would otherwise hold the client forever.
        let timedOut = Flag()
        let timeout = channel.channel.eventLoop.scheduleTask(in: options.handshakeTimeout) {
            timedOut.set()
            channel.channel.close(promise: nil)
        }
        // Cancelling the task (Ctrl-C) hangs up, which ends the handshake at once.
        return try await withTaskCancellationHandler {
            try await handshaking(channel, options, evaluation, shared: shared, greeting: greeting, timeout: timeout, timedOut: timedOut)
        } onCancel: {
            channel.channel.close(promise: nil)
        }
    }

    /// Runs the handshake on its own task, which then stays to read the connection's frames;
    /// returns the connection once authenticated.
    private static func handshaking(
        _ channel: NIOAsyncChannel<Frame, WireWrite>, _ options: Options, _ evaluation: TrustEvaluation, shared: Shared,
        greeting: GreetingRecorder.Greeting, timeout: Scheduled<Void>, timedOut: Flag
    ) async throws -> ClientConnection {
        let address = options.address
        return try await withCheckedThrowingContinuation { connected in
            let resumed = Mutex(false)
            let task = Task {
                do {
                    try await channel.executeThenClose { inbound, outbound in
                        var frames = inbound.makeAsyncIterator()
                        var assembler = MessageAssembler(limits: options.limits)
                        let (welcome, user) = try await handshake(options, evaluation, outbound, &frames, &assembler)
                        timeout.cancel()
                        guard !timedOut.isSet else { throw ChannelError.ioOnClosedChannel }
                        let connection = ClientConnection(
                            user: user, welcome: welcome, fingerprint: evaluation.presentedFingerprint,
                            outbound: outbound, shared: shared, limits: options.limits,
                            compress: welcome.capabilities.contains("deflate"))
                        resumed.withLock { $0 = true }
                        connected.resume(returning: connection)
                        await read(&frames, &assembler, shared: shared, outbound: outbound, limits: options.limits)
                    }
                } catch {
                    timeout.cancel()
                    guard !resumed.withLock({ $0 }) else { return }
                    resumed.withLock { $0 = true }
                    if let mismatch = evaluation.pinMismatch {
                        connected.resume(throwing: ClientError(.pinMismatch, mismatch.description))
                    } else {
                        let cause: (any Error)? = if let failure = error as? HandshakeFailure { failure.cause } else { error }
                        connected.resume(
                            throwing: ClientError.handshakeFailed(
                                with: address, trust: options.trust, greeting: greeting.value,
                                timedOut: timedOut.isSet ? options.handshakeTimeout : nil, cause))
                    }
                }
            }
            shared.task.withLock { $0 = task }
        }
    }

    /// A flag set once, from any thread.
    private final class Flag: Sendable {
        private let value = Mutex(false)
        var isSet: Bool { value.withLock { $0 } }
        func set() { value.withLock { $0 = true } }
    }

    /// The handshake stopped on a transport error (nil: the peer closed), to be explained by
    /// ``ClientError/handshakeFailed(with:trust:greeting:timedOut:_:)`` with what is known then.
    private struct HandshakeFailure: Error {
        var cause: (any Error)?
    }

    private static func handshake(
        _ options: Options, _ evaluation: TrustEvaluation, _ outbound: NIOAsyncChannelOutboundWriter<WireWrite>,
        _ frames: inout NIOAsyncChannelInboundStream<Frame>.AsyncIterator, _ assembler: inout MessageAssembler
    ) async throws -> (Gloss_V1_Welcome, String) {
        func next() async throws -> WireMessage {
            do {
                while let frame = try await frames.next() {
                    guard let assembled = try assembler.append(frame) else { continue }
                    let message = try WireMessage(assembled)
                    // A server may PING at any point after HELLO: answered here too.
                    if case .ping(let payload) = message {
                        answerPing(payload, outbound, limits: options.limits)
                        continue
                    }
                    return message
                }
            } catch let error as WireError {
                throw ClientError(
                    .protocolViolation,
                    "\(options.address) is not a Gloss server: what it sent is not the Gloss protocol (\(error.message)); check the host and port")
            } catch {
                throw HandshakeFailure(cause: error)
            }
            throw HandshakeFailure(cause: nil)
        }
        let hello = Gloss_V1_Hello.with {
            $0.minVersion = 1
            $0.maxVersion = 1
            $0.capabilities = ["deflate"]
            $0.clientName = options.clientName
        }
        do {
            try await outbound.write(.preface)
            try await outbound.write(contentsOf: WireMessage.hello(hello).frames(limits: options.limits).map(WireWrite.frame))
        } catch {
            throw HandshakeFailure(cause: error)
        }
        let welcome: Gloss_V1_Welcome
        switch try await next() {
        case .welcome(let w): welcome = w
        case .error(_, let e): throw ClientError(WireError(e))
        case let other: throw ClientError(.protocolViolation, "expected WELCOME, got \(other.frameType)")
        }
        let auth = Gloss_V1_Request.with { $0.auth = .with { $0.token = options.token } }
        try await outbound.write(contentsOf: WireMessage.request(1, auth).frames(limits: options.limits).map(WireWrite.frame))
        switch try await next() {
        case .response(1, let r):
            guard case .auth(let a)? = r.body else { throw ClientError(.protocolViolation, "expected an auth response") }
            return (welcome, a.user)
        case .error(_, let e): throw ClientError(WireError(e))
        case let other: throw ClientError(.protocolViolation, "expected the auth response, got \(other.frameType)")
        }
    }

    private init(
        user: String, welcome: Gloss_V1_Welcome, fingerprint: CertificateFingerprint?,
        outbound: NIOAsyncChannelOutboundWriter<WireWrite>, shared: Shared, limits: WireLimits, compress: Bool
    ) {
        self.user = user
        self.welcome = welcome
        self.serverFingerprint = fingerprint
        self.outbound = outbound
        self.shared = shared
        self.limits = limits
        self.compress = compress
        shared.state.withLock { $0.nextID = 2 }
    }

    // MARK: Requests

    /// Sends a request and waits for its final response; a server ERROR throws. Cancelling
    /// the task stops waiting (CancellationError) and asks the server to stop.
    public func request(_ request: Gloss_V1_Request) async throws -> Gloss_V1_Response {
        let id = try allocate()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                guard register(id, .single(continuation)) else { return }
                Task { await self.write(.request(id, request), id: id) }
            }
        } onCancel: {
            self.abandon(id)
        }
    }

    /// Sends a streamed request (clone, pull, subscribe): its items and interim responses
    /// arrive on the stream; the final response is returned by `final` once the stream ends.
    public func stream(_ request: Gloss_V1_Request) throws -> (id: UInt32, events: AsyncThrowingStream<StreamEvent, any Error>) {
        let id = try allocate()
        let (events, continuation) = AsyncThrowingStream.makeStream(of: StreamEvent.self)
        shared.state.withLock { $0.waiters[id] = .stream(continuation, nil) }
        Task { await self.write(.request(id, request), id: id) }
        return (id, events)
    }

    /// Streams a request to its end and returns the final response, handing each item over.
    /// Cancelling the task, or an error thrown by `onEvent`, stops it at once
    /// (the server is asked to stop sending) rather than when the server's stream ends.
    public func streaming(
        _ request: Gloss_V1_Request, onEvent: (StreamEvent) async throws -> Void
    ) async throws -> Gloss_V1_Response {
        let id = try allocate()
        let (events, continuation) = AsyncThrowingStream.makeStream(of: StreamEvent.self)
        // Items never consumed (the consumer threw) must not hold the reader back.
        defer { shared.release(id) }
        return try await withThrowingTaskGroup(of: Gloss_V1_Response?.self) { group in
            group.addTask {
                try await withTaskCancellationHandler {
                    try await withCheckedThrowingContinuation { final in
                        guard self.register(id, .stream(continuation, final)) else { return }
                        Task { await self.write(.request(id, request), id: id) }
                    }
                } onCancel: {
                    self.abandon(id)
                }
            }
            for try await event in events {
                try await onEvent(event)
                if case .item(let bytes) = event { shared.release(id, bytes: bytes.readableBytes) }
            }
            let response = try await group.next()!!
            return response
        }
    }

    /// Records what waits for request `id`, unless the task is already cancelled: then the
    /// waiter fails at once and nothing is sent. Checked under the lock that ``abandon(_:)``
    /// takes, so a cancellation is seen either here or there.
    private func register(_ id: UInt32, _ waiter: Waiter) -> Bool {
        let registered = shared.state.withLock { s -> Bool in
            guard !Task.isCancelled else { return false }
            s.waiters[id] = waiter
            return true
        }
        if !registered { Self.fail(waiter, CancellationError()) }
        return registered
    }

    /// Stops waiting for request `id` (its task was cancelled) and asks the server to stop it.
    private func abandon(_ id: UInt32) {
        shared.release(id)
        guard let waiter = shared.state.withLock({ $0.waiters.removeValue(forKey: id) }) else { return }
        Self.fail(waiter, CancellationError())
        Task { await self.cancel(id) }
    }

    /// Asks the server to stop a request (a subscription, a long clone).
    public func cancel(_ id: UInt32) async {
        try? await outbound.write(contentsOf: WireMessage.cancel(id).frames(limits: limits).map(WireWrite.frame))
    }

    public func ping(_ opaque: UInt64 = 42) async throws {
        try await outbound.write(contentsOf: WireMessage.ping(opaque: opaque).frames(limits: limits).map(WireWrite.frame))
    }

    /// Why the connection ended (the server's connection-level ERROR, or the close), or nil
    /// while it is open.
    public var closedError: ClientError? { shared.state.withLock { $0.closedError } }

    /// Closes the connection; requests still waiting fail with `connection-closed`.
    public func close() {
        let reader = shared.state.withLock { s -> CheckedContinuation<Void, Never>? in
            s.closing = true
            defer { s.backlogWaiter = nil }
            return s.backlogWaiter
        }
        reader?.resume()
        outbound.finish()
    }

    private func allocate() throws -> UInt32 {
        try shared.state.withLock { s in
            if let error = s.closedError { throw error }
            if let last = s.goawayLast, s.nextID > last {
                throw ClientError(WireError(.shuttingDown, "the server is shutting down; reconnect"))
            }
            defer { s.nextID &+= 1 }
            return s.nextID
        }
    }

    private func write(_ message: WireMessage, id: UInt32) async {
        do {
            try await outbound.write(
                contentsOf: message.frames(limits: limits, compress: compress).map(WireWrite.frame))
        } catch {
            Self.finish(id, with: ClientError.connectionLost(shared.address, error), shared: shared)
        }
    }

    // MARK: Reading

    private static func read(
        _ frames: inout NIOAsyncChannelInboundStream<Frame>.AsyncIterator, _ assembler: inout MessageAssembler,
        shared: Shared, outbound: NIOAsyncChannelOutboundWriter<WireWrite>, limits: WireLimits
    ) async {
        var failure = ClientError.connectionLost(shared.address, nil)
        do {
            while let frame = try await frames.next() {
                guard let assembled = try assembler.append(frame) else { continue }
                let message = try WireMessage(assembled)
                if case .ping(let payload) = message {
                    answerPing(payload, outbound, limits: limits)
                    continue
                }
                dispatch(message, shared: shared)
                await shared.waitWhileBacklogged()
            }
        } catch let error as WireError {
            failure = ClientError(
                .protocolViolation, "the server at \(shared.address) sent something that is not Gloss: \(error.message)")
        } catch {
            failure = ClientError.connectionLost(shared.address, error)
        }
        let (waiters, error) = shared.state.withLock { s in
            if s.closedError == nil { s.closedError = failure }
            defer { s.waiters = [:] }
            return (s.waiters, s.closedError!)
        }
        for waiter in waiters.values { fail(waiter, error) }
    }

    /// Answers a server's PING with a PONG carrying its payload byte for byte (wire.md, "Ping"),
    /// written from a task of its own so that reading never waits for it.
    private static func answerPing(_ payload: ByteBuffer, _ outbound: NIOAsyncChannelOutboundWriter<WireWrite>, limits: WireLimits) {
        let frames = WireMessage.pong(payload).frames(limits: limits).map(WireWrite.frame)
        Task { try? await outbound.write(contentsOf: frames) }
    }

    private static func dispatch(_ message: WireMessage, shared: Shared) {
        switch message {
        case .response(let id, let response):
            let waiter = shared.state.withLock { s -> Waiter? in
                guard let w = s.waiters[id] else { return nil }
                // A subscription's first response is interim; the others end their request.
                if case .stream(let c, let f) = w, case .subscribe? = response.body, !(s.subscriptionConfirmed.contains(id)) {
                    s.subscriptionConfirmed.insert(id)
                    c.yield(.interim(response))
                    _ = f
                    return nil
                }
                return s.waiters.removeValue(forKey: id)
            }
            switch waiter {
            case .single(let c)?: c.resume(returning: response)
            case .stream(let c, let f)?:
                c.finish()
                f?.resume(returning: response)
            case nil: break
            }
        case .stream(let id, let payload):
            shared.state.withLock { s in
                guard case .stream(let c, let final)? = s.waiters[id] else { return }
                // Only `streaming` consumers report what they consumed (a subscription's
                // notifications are small and read by whoever holds the stream).
                if final != nil {
                    s.backlog[id, default: 0] += payload.readableBytes
                    s.backlogTotal += payload.readableBytes
                    s.backlogPeak = max(s.backlogPeak, s.backlogTotal)
                }
                c.yield(.item(payload))
            }
        case .error(0, let body):
            shared.state.withLock { $0.closedError = ClientError(WireError(body)) }
        case .error(let id, let body):
            finish(id, with: ClientError(WireError(body)), shared: shared)
        case .goaway(let goaway):
            shared.state.withLock { $0.goawayLast = goaway.lastRequestID }
        case .ping, .pong, .hello, .welcome, .request, .cancel:
            break
        }
    }

    private static func finish(_ id: UInt32, with error: ClientError, shared: Shared) {
        shared.release(id)
        if let waiter = shared.state.withLock({ $0.waiters.removeValue(forKey: id) }) { fail(waiter, error) }
    }

    private static func fail(_ waiter: Waiter, _ error: any Error) {
        switch waiter {
        case .single(let c): c.resume(throwing: error)
        case .stream(let c, let f):
            c.finish(throwing: error)
            f?.resume(throwing: error)
        }
    }
}
