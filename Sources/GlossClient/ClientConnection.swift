import GlossModel
import GlossWire
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

/// An authenticated connection to a `glossd`: TLS, preface, HELLO/WELCOME, auth, then any
/// number of concurrent requests multiplexed by request id.
///
/// The protocol's decisions (the handshake, which request a frame belongs to and whether it is
/// its last, PING/PONG, GOAWAY, what a close fails) are ``ClientConnectionStateMachine``'s; this
/// class feeds it events and carries out its actions on the channel and on the callers'
/// continuations. It keeps only I/O concerns of its own: the read back-pressure of streams, the
/// order of writes, and the words for transport and TLS failures.
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

    private typealias Machine = ClientConnectionStateMachine

    /// Who waits for a request's outcome.
    private enum Waiter {
        case single(CheckedContinuation<Gloss_V1_Response, any Error>)
        case stream(AsyncThrowingStream<StreamEvent, any Error>.Continuation, CheckedContinuation<Gloss_V1_Response, any Error>?)
    }

    /// The machine, and the continuations its actions name by id. One lock: a waiter is found
    /// or dropped in the same step as the event that decides its outcome, so an id the machine
    /// has freed can never reach a newer request's waiter.
    private struct State {
        var machine: Machine
        var waiters: [UInt32: Waiter] = [:]
        var pings: [UInt64: CheckedContinuation<Void, any Error>] = [:]
        /// The caller of ``ClientConnection/connect(_:group:)``, until the handshake ends.
        var connecting: CheckedContinuation<ClientConnection, any Error>?
        /// Bytes of stream items handed to ``streaming(_:onEvent:)`` consumers and not yet
        /// consumed, per request: the reader stops reading while they pass a high-water mark,
        /// so a consumer slower than the network (a clone writing to disk) does not make the
        /// client hold the whole stream.
        var backlog: [UInt32: Int] = [:]
        var backlogTotal = 0
        /// The most ``backlogTotal`` has been, for tests.
        var backlogPeak = 0
        var backlogWaiter: CheckedContinuation<Void, Never>?

        /// Forgets request `id`'s unconsumed bytes; returns the reader to wake, if that frees
        /// it (to resume once the lock is released).
        mutating func release(_ id: UInt32, bytes: Int? = nil) -> CheckedContinuation<Void, Never>? {
            guard let held = backlog[id] else { return nil }
            let freed = min(held, bytes ?? held)
            backlog[id] = bytes == nil ? nil : held - freed
            backlogTotal -= freed
            guard backlogTotal <= ClientConnection.backlogLowWater, let waiter = backlogWaiter else { return nil }
            backlogWaiter = nil
            return waiter
        }

        /// Carries out what an action asks of the waiters' bookkeeping, under the lock; returns
        /// the resumptions and the I/O to do once it is released (``Shared/perform(_:)``).
        ///
        /// Nothing is resumed under the lock: resuming a continuation takes its task's status
        /// lock, which a task being cancelled holds while its cancellation handler runs, and
        /// that handler (``abandon(_:)``) takes this lock. Both at once deadlocked `gloss sync`
        /// when a server died mid-pull.
        mutating func carryOut(_ action: Machine.Action, _ shared: Shared) -> Work {
            var work = Work()
            switch action {
            case .none, .refuse:
                // A refusal is answered by whoever asked (it has no id to find a waiter by).
                break
            case .sendPrefaceAndHello(let hello):
                work.writes.append(Write(frames: [.preface] + WireMessage.hello(hello).frames(limits: shared.limits).map(WireWrite.frame)))
            case .send(let message):
                work.writes.append(Write(frames: message.frames(limits: shared.limits).map(WireWrite.frame)))
            case .sendRequest(let id, let request):
                let frames = WireMessage.request(id, request).frames(limits: shared.limits, compress: machine.compressionAgreed)
                work.writes.append(Write(frames: frames.map(WireWrite.frame), requestID: id))
            case .sendPing(_, let payload):
                work.writes.append(Write(frames: WireMessage.ping(payload).frames(limits: shared.limits).map(WireWrite.frame)))
            case .handshakeCompleted(let user, let welcome):
                work.completed = connecting.map { ($0, user, welcome) }
                connecting = nil
                work.handshakeOver = true
            case .failHandshake(let failure):
                if let connecting {
                    let error = shared.explainHandshakeFailure(failure)
                    work.later.append { connecting.resume(throwing: error) }
                }
                connecting = nil
                work.handshakeOver = true
                work.stopReading = true
                work.closeChannel = true
            case .deliverInterim(let id, let response):
                if case .stream(let events, _)? = waiters[id] { work.later.append { events.yield(.interim(response)) } }
            case .deliverItem(let id, let payload):
                guard case .stream(let events, let final)? = waiters[id] else { break }
                // Only `streaming` consumers report what they consumed (a subscription's
                // notifications are small and read by whoever holds the stream).
                if final != nil {
                    backlog[id, default: 0] += payload.readableBytes
                    backlogTotal += payload.readableBytes
                    backlogPeak = max(backlogPeak, backlogTotal)
                }
                work.later.append { events.yield(.item(payload)) }
            case .succeedRequest(let id, let response), .finishSubscription(let id, let response):
                switch waiters.removeValue(forKey: id) {
                case .single(let continuation)?: work.later.append { continuation.resume(returning: response) }
                case .stream(let events, let final)?:
                    work.later.append {
                        events.finish()
                        final?.resume(returning: response)
                    }
                case nil: break
                }
            case .failRequest(let id, let failure):
                work.wake(release(id))
                if let waiter = waiters.removeValue(forKey: id) {
                    work.later.append { ClientConnection.fail(waiter, ClientError(failure)) }
                }
            case .abandonRequest(let id):
                work.wake(release(id))
                if let waiter = waiters.removeValue(forKey: id) { work.later.append { ClientConnection.fail(waiter, CancellationError()) } }
                work.writes.append(Write(frames: WireMessage.cancel(id).frames(limits: shared.limits).map(WireWrite.frame)))
            case .completePing(let id):
                if let ping = pings.removeValue(forKey: id) { work.later.append { ping.resume() } }
            case .closeAndFail(let ids, let pingIDs, let failure):
                let error = ClientError(failure)
                for id in ids {
                    work.wake(release(id))
                    if let waiter = waiters.removeValue(forKey: id) { work.later.append { ClientConnection.fail(waiter, error) } }
                }
                for id in pingIDs {
                    if let ping = pings.removeValue(forKey: id) { work.later.append { ping.resume(throwing: error) } }
                }
                work.wake(backlogWaiter)
                backlogWaiter = nil
                work.stopReading = true
                work.finishWrites = true
            }
            return work
        }
    }

    /// Frames to write in order; a request's, to report if they cannot be written.
    private struct Write: Sendable {
        var frames: [WireWrite]
        var requestID: UInt32?
    }

    /// The I/O an action leaves to do once the lock is released.
    private struct Work: Sendable {
        /// Continuations to resume and streams to feed, in order, once the lock is released.
        var later: [@Sendable () -> Void] = []
        var writes: [Write] = []
        var completed: (CheckedContinuation<ClientConnection, any Error>, String, Gloss_V1_Welcome)?
        var handshakeOver = false
        /// The connection is over: the reader stops.
        var stopReading = false
        var finishWrites = false
        var closeChannel = false

        mutating func wake(_ reader: CheckedContinuation<Void, Never>?) {
            if let reader { later.append { reader.resume() } }
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
    private let shared: Shared

    /// What the reader, the writer, the handshake timer and the connection share.
    private final class Shared: Sendable {
        let state: Mutex<State>
        /// `host:port`, for messages.
        let address: String
        let limits: WireLimits
        let channel: any Channel
        /// Writes in the order they were asked for (a REQUEST before its CANCEL), from one
        /// task, so that reading never waits for writing.
        let writes: AsyncStream<Write>.Continuation
        let queued: AsyncStream<Write>
        let handshakeTimer = Mutex<Scheduled<Void>?>(nil)
        /// Says why the handshake failed, in words about TLS and trust (the pin, the greeting).
        let explainHandshakeFailure: @Sendable (Machine.Failure) -> ClientError

        init(
            machine: Machine, address: String, limits: WireLimits, channel: any Channel,
            explainHandshakeFailure: @escaping @Sendable (Machine.Failure) -> ClientError
        ) {
            state = Mutex(State(machine: machine))
            self.address = address
            self.limits = limits
            self.channel = channel
            self.explainHandshakeFailure = explainHandshakeFailure
            (queued, writes) = AsyncStream.makeStream(of: Write.self)
        }

        /// Feeds an event to the machine and carries out its action on the continuations, in
        /// one step under the lock; returns the I/O left to do (see ``perform(_:)``).
        func handle(_ event: (inout Machine) -> Machine.Action) -> Work {
            state.withLock { s in s.carryOut(event(&s.machine), self) }
        }

        /// Does what an action left for after the lock: resumes its waiters, queues its
        /// writes, closes.
        func perform(_ work: Work) {
            for resume in work.later { resume() }
            for write in work.writes { writes.yield(write) }
            if work.handshakeOver { handshakeTimer.withLock { $0 }?.cancel() }
            if work.finishWrites { writes.finish() }
            if work.closeChannel { channel.close(promise: nil) }
        }

        /// Writes what is queued until the queue ends, then ends the output.
        func writeLoop(_ outbound: NIOAsyncChannelOutboundWriter<WireWrite>) async {
            for await write in queued {
                do {
                    try await outbound.write(contentsOf: write.frames)
                } catch {
                    guard let id = write.requestID else { continue }
                    let failure = Machine.Failure(ClientError.connectionLost(address, error), address)
                    perform(handle { $0.requestWriteFailed(id, failure) })
                }
            }
            outbound.finish()
        }

        /// Waits, in the reader, while consumers hold more than the high-water mark unconsumed.
        func waitWhileBacklogged() async {
            guard state.withLock({ $0.backlogTotal > ClientConnection.backlogHighWater && $0.machine.closeFailure == nil })
            else { return }
            await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
                let waitNow = state.withLock { s -> Bool in
                    guard s.backlogTotal > ClientConnection.backlogLowWater, s.machine.closeFailure == nil else { return false }
                    s.backlogWaiter = waiter
                    return true
                }
                if !waitNow { waiter.resume() }
            }
        }

        /// Releases request `id`'s unconsumed bytes (all of them when `bytes` is nil).
        func release(_ id: UInt32?, bytes: Int? = nil) {
            guard let id else { return }
            state.withLock { $0.release(id, bytes: bytes) }?.resume()
        }
    }

    /// A request's id once it has started, for the cancellation handler that may run before.
    private final class Ticket: Sendable {
        let id = Mutex<UInt32?>(nil)
        var value: UInt32? { id.withLock { $0 } }
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
        let machine = Machine(token: options.token, clientName: options.clientName, serverAddress: address)
        let shared = Shared(machine: machine, address: address, limits: options.limits, channel: channel.channel) { failure in
            // A pin mismatch explains any failure that follows it (the TLS handshake fails).
            if let mismatch = evaluation.pinMismatch { return ClientError(.pinMismatch, mismatch.description) }
            if failure.code == .timeout {
                return ClientError.handshakeFailed(
                    with: address, trust: options.trust, greeting: greeting.value, timedOut: options.handshakeTimeout, nil)
            }
            return ClientError(failure)
        }
        // Cancelling the task (Ctrl-C) hangs up, which ends the handshake at once.
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { connecting in
                shared.state.withLock { $0.connecting = connecting }
                // A peer that accepts and then stays silent would otherwise hold the client forever.
                let timer = channel.channel.eventLoop.scheduleTask(in: options.handshakeTimeout) {
                    shared.perform(shared.handle { $0.handshakeTimedOut() })
                }
                shared.handshakeTimer.withLock { $0 = timer }
                // One task reads the connection (and writes, through a child) for as long as it lasts.
                Task { await run(channel, options, evaluation, greeting: greeting, shared: shared) }
            }
        } onCancel: {
            channel.channel.close(promise: nil)
        }
    }

    private static func run(
        _ channel: NIOAsyncChannel<Frame, WireWrite>, _ options: Options, _ evaluation: TrustEvaluation,
        greeting: GreetingRecorder.Greeting, shared: Shared
    ) async {
        do {
            try await channel.executeThenClose { inbound, outbound in
                await withTaskGroup(of: Void.self) { group in
                    group.addTask { await shared.writeLoop(outbound) }
                    shared.perform(shared.handle { $0.connected() })
                    await read(inbound, options, evaluation, greeting: greeting, shared: shared)
                    // The connection is over: writes still queued fail at once rather than wait
                    // for a peer that no longer reads.
                    shared.writes.finish()
                    channel.channel.close(promise: nil)
                }
            }
        } catch {
            // Only the close can throw here; the reader has reported the end already.
        }
        // Whatever happened, the machine has its end (nothing happens if it had).
        shared.perform(shared.handle { $0.connectionClosed(Machine.Failure(ClientError.connectionLost(options.address, nil), options.address)) })
    }

    private static func read(
        _ inbound: NIOAsyncChannelInboundStream<Frame>, _ options: Options, _ evaluation: TrustEvaluation,
        greeting: GreetingRecorder.Greeting, shared: Shared
    ) async {
        var assembler = MessageAssembler(limits: options.limits)
        var cause: (any Error)?
        do {
            for try await frame in inbound {
                guard let assembled = try assembler.append(frame) else { continue }
                let message = try WireMessage(assembled)
                let work = shared.handle { $0.received(message) }
                if case let (connecting, user, welcome)? = work.completed {
                    connecting.resume(
                        returning: ClientConnection(
                            user: user, welcome: welcome, fingerprint: evaluation.presentedFingerprint, shared: shared))
                }
                shared.perform(work)
                if work.stopReading { return }
                await shared.waitWhileBacklogged()
            }
        } catch let error as WireError {
            shared.perform(shared.handle { $0.inputFailed(error) })
            return
        } catch {
            cause = error
        }
        let address = options.address
        shared.perform(
            shared.handle { machine in
                // Words for the transport's end depend on how far the connection got.
                let explained =
                    machine.isHandshaking
                    ? ClientError.handshakeFailed(
                        with: address, trust: options.trust, greeting: greeting.value, timedOut: nil, cause)
                    : ClientError.connectionLost(address, cause)
                return machine.connectionClosed(Machine.Failure(explained, address))
            })
    }

    private init(user: String, welcome: Gloss_V1_Welcome, fingerprint: CertificateFingerprint?, shared: Shared) {
        self.user = user
        self.welcome = welcome
        self.serverFingerprint = fingerprint
        self.shared = shared
    }

    // MARK: Requests

    /// Sends a request and waits for its final response; a server ERROR throws. Cancelling
    /// the task stops waiting (CancellationError) and asks the server to stop.
    public func request(_ request: Gloss_V1_Request) async throws -> Gloss_V1_Response {
        let ticket = Ticket()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let waiter = Waiter.single(continuation)
                if case .failure(let error) = start(request, streamed: false, waiter, ticket) { Self.fail(waiter, error) }
            }
        } onCancel: {
            self.abandon(ticket)
        }
    }

    /// Sends a streamed request (clone, pull, subscribe): its items and interim responses
    /// arrive on the stream, which ends when the final response does (or throws its error).
    public func stream(_ request: Gloss_V1_Request) throws -> (id: UInt32, events: AsyncThrowingStream<StreamEvent, any Error>) {
        let (events, continuation) = AsyncThrowingStream.makeStream(of: StreamEvent.self)
        let id = try start(request, streamed: true, .stream(continuation, nil), nil, checkCancellation: false).get()
        return (id, events)
    }

    /// Streams a request to its end and returns the final response, handing each item over.
    /// Cancelling the task, or an error thrown by `onEvent`, stops it at once
    /// (the server is asked to stop sending) rather than when the server's stream ends.
    public func streaming(
        _ request: Gloss_V1_Request, onEvent: (StreamEvent) async throws -> Void
    ) async throws -> Gloss_V1_Response {
        let ticket = Ticket()
        let (events, continuation) = AsyncThrowingStream.makeStream(of: StreamEvent.self)
        // Items never consumed (the consumer threw) must not hold the reader back.
        defer { shared.release(ticket.value) }
        return try await withThrowingTaskGroup(of: Gloss_V1_Response?.self) { group in
            group.addTask {
                try await withTaskCancellationHandler {
                    try await withCheckedThrowingContinuation { final in
                        let waiter = Waiter.stream(continuation, final)
                        if case .failure(let error) = self.start(request, streamed: true, waiter, ticket) {
                            Self.fail(waiter, error)
                        }
                    }
                } onCancel: {
                    self.abandon(ticket)
                }
            }
            for try await event in events {
                try await onEvent(event)
                if case .item(let bytes) = event { shared.release(ticket.value, bytes: bytes.readableBytes) }
            }
            let response = try await group.next()!!
            return response
        }
    }

    /// Starts a request in the machine and records its waiter, in one step; refused when the
    /// task is already cancelled (checked under the lock that ``abandon(_:)`` takes, so a
    /// cancellation is seen either here or there), or when the machine says no.
    private func start(
        _ request: Gloss_V1_Request, streamed: Bool, _ waiter: Waiter, _ ticket: Ticket?, checkCancellation: Bool = true
    ) -> Result<UInt32, any Error> {
        let (result, work) = shared.state.withLock { s -> (Result<UInt32, any Error>, Work) in
            if checkCancellation && Task.isCancelled { return (.failure(CancellationError()), Work()) }
            let action = s.machine.startRequest(request, streamed: streamed)
            switch action {
            case .sendRequest(let id, _):
                s.waiters[id] = waiter
                ticket?.id.withLock { $0 = id }
                return (.success(id), s.carryOut(action, shared))
            case .refuse(let failure):
                return (.failure(ClientError(failure)), Work())
            default:
                return (.failure(ClientError(.protocolViolation, "unexpected \(action) for a new request")), Work())
            }
        }
        shared.perform(work)
        return result
    }

    /// Stops waiting for a request (its task was cancelled) and asks the server to stop it.
    private func abandon(_ ticket: Ticket) {
        let work = shared.state.withLock { s -> Work in
            guard let id = ticket.value else { return Work() }
            return s.carryOut(s.machine.abandonRequest(id), shared)
        }
        shared.perform(work)
    }

    /// Asks the server to stop a request (a subscription, a long clone); it still ends with its
    /// final response, or `cancelled`.
    public func cancel(_ id: UInt32) async {
        shared.perform(shared.handle { $0.cancelRequest(id) })
    }

    /// Sends a PING and waits for the PONG that echoes it.
    public func ping(_ opaque: UInt64 = 42) async throws {
        let payload = WireMessage.ping(opaque: opaque).payload()
        try await withCheckedThrowingContinuation { (answered: CheckedContinuation<Void, any Error>) in
            let work = shared.state.withLock { s -> Work in
                let action = s.machine.startPing(payload)
                var work = s.carryOut(action, shared)
                switch action {
                case .sendPing(let id, _): s.pings[id] = answered
                case .refuse(let failure): work.later.append { answered.resume(throwing: ClientError(failure)) }
                default:
                    work.later.append { answered.resume(throwing: ClientError(.protocolViolation, "unexpected \(action) for a ping")) }
                }
                return work
            }
            shared.perform(work)
        }
    }

    /// Why the connection ended (the server's connection-level ERROR, or the close), or nil
    /// while it is open.
    public var closedError: ClientError? { shared.state.withLock { $0.machine.closeFailure }.map { ClientError($0) } }

    /// Closes the connection; requests still waiting fail with `connection-closed`.
    public func close() {
        shared.perform(shared.handle { $0.closeRequested() })
        // Closed already by the server: the output ends all the same.
        shared.writes.finish()
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

extension ClientError {
    /// The machine's failure, as the client reports it: the codes are the same words.
    init(_ failure: ClientConnectionStateMachine.Failure) {
        self.init(Code(rawValue: failure.code.rawValue), failure.message, server: failure.server)
    }
}

extension ClientConnectionStateMachine.Failure {
    /// A failure the client explained itself (a transport error, a TLS refusal), for the machine.
    init(_ error: ClientError, _ address: String) {
        self.init(Code(rawValue: error.code.rawValue), error.message, context: address, server: error.server)
    }
}
