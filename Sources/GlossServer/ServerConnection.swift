import Foundation
import GlossWire
import Logging
import NIOCore
import Synchronization

/// Runs one authenticated request to its final response: ``RequestRouter`` in glossd, a
/// stand-in in tests of the connection itself.
protocol RequestHandling: Sendable {
    func handle(_ request: Gloss_V1_Request, user: String, sink: any ResponseSink, readsTextRevisions: Bool) async throws
        -> Gloss_V1_Response
}

extension RequestRouter: RequestHandling {}

/// One client connection: feeds decoded messages to the ``ServerConnectionStateMachine`` and
/// carries out the actions it returns. Requests run as child tasks, so a long clone does not
/// hold up a ping or a push on the same connection.
///
/// The machine is the one owner of the connection's protocol state: the handshake, the
/// requests in flight and their final frames, the authenticated user, compression, and when
/// the handshake and idle timeouts pass. Besides it this class holds only I/O handles: the
/// output writer, the reader's task, and the tasks running requests (to cancel them).
final class ServerConnection: Sendable {
    enum Flow { case go, stop }

    /// A running request's task, with a number of its own: once a request has claimed its final
    /// frame its id may start a new request, whose entry the old one must not remove. Only for
    /// cancelling: which requests are in flight is the machine's to say.
    private struct Running {
        var serial: UInt64
        var task: Task<Void, Never>
    }

    let id: UInt64
    let address: String
    private let router: any RequestHandling
    private let authenticator: Authenticator
    private let configuration: ServerConfiguration
    private let logger: Logger
    private let machine: Mutex<ServerConnectionStateMachine>
    private let requests = Mutex<(next: UInt64, running: [UInt32: Running])>((0, [:]))
    /// Shared per-user and per-address limits; nil: none.
    private let budgets: ClientBudgets?
    private let outboundBox = Mutex<NIOAsyncChannelOutboundWriter<WireWrite>?>(nil)
    private let readerBox = Mutex<Task<Void, Never>?>(nil)
    /// Logs with connection and request ids, and metrics (when the server has them).
    private let observer: ConnectionObserver
    /// The frame decoder's payload limit, raised once the client has authenticated.
    private let payloadCap: FramePayloadCap?
    /// The server-wide budget for bytes in unfinished messages.
    private let bufferBudget: SharedByteBudget?
    /// How long an ERROR sent before closing may wait for the peer to read it.
    static let closingGrace: Duration = .seconds(2)

    init(
        id: UInt64, address: String, router: any RequestHandling, authenticator: Authenticator,
        configuration: ServerConfiguration, logger: Logger, metrics: ServerMetrics? = nil,
        tlsProbe: TLSHandshakeProbe? = nil, budgets: ClientBudgets? = nil, payloadCap: FramePayloadCap? = nil,
        bufferBudget: SharedByteBudget? = nil
    ) {
        self.budgets = budgets
        self.payloadCap = payloadCap
        self.bufferBudget = bufferBudget
        self.id = id
        self.address = address
        self.router = router
        self.authenticator = authenticator
        self.configuration = configuration
        observer = ConnectionObserver(logger: logger, peer: address, metrics: metrics, tls: tlsProbe)
        self.logger = observer.logger
        machine = Mutex(
            ServerConnectionStateMachine(
                limits: configuration.limits, handshakeTimeout: configuration.handshakeTimeout,
                idleTimeout: configuration.idleTimeout))
    }

    /// Serves the connection until it closes.
    func run(_ channel: NIOAsyncChannel<Frame, WireWrite>) async {
        observer.opened()
        defer { observer.closed() }
        do {
            try await channel.executeThenClose { inbound, outbound in
                outboundBox.withLock { $0 = outbound }
                try await outbound.write(.preface)
                // The read loop runs as a task of its own so that a close decided elsewhere (a
                // timeout, the end of a drain) can stop it by cancellation.
                let reader = Task { await self.readLoop(inbound) }
                readerBox.withLock { $0 = reader }
                let watcher = Task { await self.watchTimeouts() }
                await reader.value
                watcher.cancel()
                self.cancelRequests()
            }
        } catch {
            observer.readFailed(error)
            logger.debug("connection ended", metadata: ["error": "\(error)"])
        }
    }

    /// Refuses a connection over the limit: the preface, and an ERROR once the client's HELLO
    /// is in (so that the client reads it before it sees the close), then close.
    static func refuse(_ channel: NIOAsyncChannel<Frame, WireWrite>, _ error: WireError) async {
        try? await channel.executeThenClose { inbound, outbound in
            try await outbound.write(.preface)
            let waitForHello = Task {
                var frames = inbound.makeAsyncIterator()
                _ = try? await frames.next()
            }
            let timer = Task {
                try? await Task.sleep(for: .seconds(2))
                waitForHello.cancel()
            }
            await waitForHello.value
            timer.cancel()
            try await outbound.write(contentsOf: WireMessage.error(0, error.errorBody).frames().map(WireWrite.frame))
        }
    }

    private func readLoop(_ inbound: NIOAsyncChannelInboundStream<Frame>) async {
        var assembler = MessageAssembler(
            limits: configuration.limits, bounds: configuration.limits.preAuthenticationBounds, budget: bufferBudget)
        defer { assembler.releaseAll() }
        do {
            for try await frame in inbound {
                // The user is known once authenticated, for the per-user byte rate; until then
                // the assembler holds one small message at most.
                let (user, bounds) = machine.withLock { m in
                    m.activity(at: .now)
                    return (m.user, m.assemblyBounds)
                }
                assembler.bounds = bounds
                // Over its byte rate, a client waits: reading pauses and TCP pushes back.
                if let budgets {
                    let pause = budgets.received(
                        Frame.headerSize + frame.payload.readableBytes, user: user, address: address)
                    if pause > .zero { try await Task.sleep(for: pause) }
                }
                let assembled: AssembledMessage
                switch try assembler.assemble(frame) {
                case .incomplete: continue
                case .complete(let message): assembled = message
                case .refused(let requestID, let error):
                    observer.refused(requestID, error)
                    if await send(.error(requestID, error.errorBody)) == .stop { return }
                    continue
                }
                let message = try WireMessage(assembled)
                let action = machine.withLock { $0.received(message) }
                observer.received(message, action: action)
                if await perform(action) == .stop { return }
            }
        } catch let error as WireError {
            logger.info("refused input", metadata: ["code": "\(error.code)", "reason": "\(error.message)"])
            _ = await perform(machine.withLock { $0.inputFailed(error) })
        } catch {
            observer.readFailed(error)
            logger.debug("read failed", metadata: ["error": "\(error)"])
        }
    }

    /// Starts a graceful shutdown of this connection.
    func drain() async {
        _ = await perform(machine.withLock { $0.startDraining() })
    }

    // MARK: Actions

    @discardableResult
    private func perform(_ action: ServerConnectionStateMachine.Action) async -> Flow {
        switch action {
        case .none:
            return .go
        case .sendWelcome(let version, let compress):
            let welcome = Gloss_V1_Welcome.with {
                $0.version = version
                // What both sides have: deflate when agreed, text-revisions when announced.
                let announced = machine.withLock { $0.clientCapabilities }
                $0.capabilities =
                    (compress ? [WireCapability.deflate] : [])
                    + (announced.contains(WireCapability.textRevisions) ? [WireCapability.textRevisions] : [])
                $0.serverName = "glossd"
                $0.limits = .with {
                    $0.maxFramePayload = UInt32(configuration.limits.maxFramePayload)
                    $0.maxMessageBytes = UInt64(configuration.limits.maxMessageBytes)
                    $0.maxRequestsInFlight = UInt32(configuration.limits.maxRequestsInFlight)
                    $0.idleTimeoutSeconds = UInt32(configuration.idleTimeout.components.seconds)
                }
            }
            return await send(.welcome(welcome))
        case .authenticate(let requestID, let token):
            let trace = observer.startedAuthentication(requestID)
            start(requestID) { serial in
                let result = await self.authenticator.authenticate(token: token, address: self.address)
                trace.authenticated(result)
                let next = self.machine.withLock { m in
                    switch result {
                    case .success(let user):
                        return m.authenticated(requestID: requestID, user: user)
                    case .failure(let error): return m.authenticationFailed(requestID: requestID, error: error)
                    }
                }
                self.forget(requestID, serial: serial)
                await self.perform(next)
            }
            return .go
        case .respondAuthenticated(let requestID, let user):
            logger.info("authenticated", metadata: ["user": "\(user)"])
            // Before the answer: the client may send its first large frame as soon as it reads it.
            payloadCap?.set(configuration.limits.maxFramePayload)
            guard await send(.response(requestID, .with { $0.auth = .with { $0.user = user } })) == .go else { return .stop }
            return await perform(machine.withLock { $0.sentFinalFrame() })
        case .handle(let requestID, let request, let user):
            let trace = observer.started(requestID, request, user: user)
            start(requestID) { serial in
                let sink = ConnectionSink(connection: self, requestID: requestID)
                let final: WireMessage
                do {
                    if let refused = self.budgets?.admitRequest(user: user, address: self.address) { throw refused }
                    defer { self.budgets?.finishRequest(user: user, address: self.address) }
                    let readsTextRevisions = self.machine.withLock { $0.clientCapabilities.contains(WireCapability.textRevisions) }
                    final = .response(
                        requestID,
                        try await self.router.handle(request, user: user, sink: sink, readsTextRevisions: readsTextRevisions))
                } catch let error as WireError {
                    final = .error(requestID, error.errorBody)
                } catch is CancellationError {
                    final = .error(requestID, WireError(.cancelled, "request \(requestID) was cancelled").errorBody)
                } catch {
                    final = .error(requestID, WireError(.internal, "\(error)").errorBody)
                }
                // The id is released before the frame goes out, so a client reusing it as soon as
                // it reads the frame is never refused; and not at all if the drain timeout already
                // answered the request.
                self.forget(requestID, serial: serial)
                guard self.machine.withLock({ $0.claimFinalFrame(requestID: requestID) }) else {
                    trace.finished(.error(requestID, WireError(.shuttingDown, "answered at the drain timeout").errorBody))
                    return
                }
                // A cancelled request still owes its final frame, and writes from a cancelled
                // task fail: send it from a task that is not.
                await Task.detached { await self.send(final) }.value
                trace.finished(final)
                await self.perform(self.machine.withLock { $0.sentFinalFrame() })
            }
            return .go
        case .cancel(let requestID):
            requests.withLock { $0.running[requestID] }?.task.cancel()
            return .go
        case .sendPong(let payload):
            return await send(.pong(payload))
        case .failRequest(let requestID, let error):
            return await send(.error(requestID, error.errorBody))
        case .closeWithError(let error):
            logger.info("closing", metadata: ["code": "\(error.code)", "reason": "\(error.message)"])
            await sendBeforeClosing(.error(0, error.errorBody))
            finish()
            return .stop
        case .abort(let error):
            logger.info("dropping the connection", metadata: ["code": "\(error.code)", "reason": "\(error.message)"])
            finish()
            return .stop
        case .rejectAuthentication(let requestID, let error):
            logger.info("authentication refused, closing", metadata: ["code": "\(error.code)", "reason": "\(error.message)"])
            await sendBeforeClosing(.error(requestID, error.errorBody))
            finish()
            return .stop
        case .sendGoaway(let last, let thenClose):
            await send(.goaway(.with {
                $0.lastRequestID = last
                $0.reason = "the server is shutting down"
            }))
            if thenClose {
                finish()
                return .stop
            }
            return .go
        case .answerStillRunning(let requestIDs, let error):
            logger.warning("drain timeout: answering requests still running", metadata: ["requests": "\(requestIDs)"])
            var flow = Flow.go
            for requestID in requestIDs {
                await send(.error(requestID, error.errorBody))
                if await perform(machine.withLock { $0.sentFinalFrame() }) == .stop { flow = .stop }
            }
            return flow
        case .close:
            finish()
            return .stop
        }
    }

    private func start(_ requestID: UInt32, _ work: @escaping @Sendable (_ serial: UInt64) async -> Void) {
        // Created under the lock: a quick request (auth) removes itself under the same lock, and
        // must not do so before it is recorded, or it would count as in flight forever and the
        // connection would never time out.
        requests.withLock { r in
            let serial = r.next
            r.next += 1
            r.running[requestID] = Running(serial: serial, task: Task { await work(serial) })
        }
    }

    /// Drops a request's task from the running ones, unless its id already runs a newer one.
    private func forget(_ requestID: UInt32, serial: UInt64) {
        requests.withLock { r in
            if r.running[requestID]?.serial == serial { r.running[requestID] = nil }
        }
    }

    /// Whether the request is still owed its final frame (the drain timeout may have answered it).
    func owesFinalFrame(_ requestID: UInt32) -> Bool {
        machine.withLock { $0.inFlight.contains(requestID) }
    }

    private func cancelRequests() {
        for running in requests.withLock({ $0.running.values }) { running.task.cancel() }
    }

    /// Writes a message's frames one at a time (frames of different requests may interleave),
    /// so that the bytes queued for a connection stay within the channel's high water mark
    /// plus one frame, and each frame the peer takes counts as write progress: a peer that
    /// reads slowly but steadily is never mistaken for one that reads nothing.
    @discardableResult
    func send(_ message: WireMessage) async -> Flow {
        guard let outbound = outboundBox.withLock({ $0 }) else { return .stop }
        let compress = machine.withLock { $0.compression }
        let frames = message.frames(limits: configuration.limits, compress: compress && message.frameType != .stream)
        for frame in frames {
            machine.withLock { $0.writeStarted(at: .now) }
            do {
                try await outbound.write(.frame(frame))
                machine.withLock { $0.writeFinished(at: .now) }
            } catch {
                machine.withLock { $0.writeFinished(at: .now) }
                return .stop
            }
        }
        return .go
    }

    /// Sends a last message, waiting at most ``closingGrace`` for the peer to take it.
    private func sendBeforeClosing(_ message: WireMessage) async {
        let sending = Task { await self.send(message) }
        let timer = Task {
            try? await Task.sleep(for: Self.closingGrace)
            sending.cancel()
        }
        _ = await sending.value
        timer.cancel()
    }

    /// The drain timeout passed: answers the requests still running `shutting-down`, then
    /// closes once those frames are out.
    func drainTimedOut() async {
        _ = await perform(machine.withLock { $0.drainTimedOut() })
    }

    /// Closes now, cancelling whatever still runs (when even the answers of
    /// ``drainTimedOut()`` could not be written in time).
    func forceClose() {
        cancelRequests()
        finish()
    }

    private func finish() {
        outboundBox.withLock { $0 }?.finish()
        readerBox.withLock { $0 }?.cancel()
    }

    // MARK: Timeouts

    /// Asks the machine, a few times per timeout, whether the handshake or idle timeout has
    /// passed: it knows the state, what is in flight and the last activity.
    private func watchTimeouts() async {
        let tick = min(configuration.handshakeTimeout, configuration.idleTimeout) / 4
        while !Task.isCancelled {
            try? await Task.sleep(for: tick)
            if Task.isCancelled { return }
            let action = machine.withLock { $0.checkTimeouts(now: .now) }
            if action != .none {
                _ = await perform(action)
                return
            }
        }
    }
}

/// Sends a request's stream items and interim responses as frames on its connection.
struct ConnectionSink: ResponseSink {
    let connection: ServerConnection
    let requestID: UInt32

    // Nothing more goes out for a request once it was answered (by the drain timeout).
    func stream(_ item: ByteBuffer) async throws {
        guard connection.owesFinalFrame(requestID), await connection.send(.stream(requestID, item)) == .go else {
            throw CancellationError()
        }
    }

    func interim(_ response: Gloss_V1_Response) async throws {
        guard connection.owesFinalFrame(requestID), await connection.send(.response(requestID, response)) == .go else {
            throw CancellationError()
        }
    }
}
