import NIOCore

/// The server's side of one connection, from HELLO to close: which messages are allowed in
/// which state, and what the I/O handler has to do about each one.
///
/// A value type with no I/O: every event returns an ``Action`` for the handler to carry out,
/// so the whole protocol logic is tested without sockets (the pattern of NIO's
/// `ProtocolNegotiationHandlerStateMachine` and postgres-nio's connection state machine).
public struct ServerConnectionStateMachine: Sendable {
    public enum State: Hashable, Sendable {
        case awaitingHello
        case awaitingAuth
        case authenticating(requestID: UInt32)
        case ready(user: String)
        /// GOAWAY sent: finishing the requests in flight, refusing new ones.
        case draining(user: String?)
        case closed
    }

    public enum Action: Equatable, Sendable {
        case sendWelcome(version: UInt32, compression: Bool)
        /// Check the token (off the event loop), then call ``authenticated(requestID:user:)``
        /// or ``authenticationFailed(requestID:error:)``.
        case authenticate(requestID: UInt32, token: String)
        /// Send the AUTH response, then call ``sentFinalFrame()``.
        case respondAuthenticated(requestID: UInt32, user: String)
        /// Run the request for the user. Before writing its final frame call
        /// ``claimFinalFrame(requestID:)`` (write it only if that says so), and after writing it
        /// ``sentFinalFrame()``.
        case handle(requestID: UInt32, request: Gloss_V1_Request, user: String)
        case cancel(requestID: UInt32)
        /// Send PONG with this payload: the PING's, byte for byte.
        case sendPong(ByteBuffer)
        /// Answer ERROR for this request; the connection stays open.
        case failRequest(requestID: UInt32, error: WireError)
        /// Send a connection ERROR (request id 0), then close. Give the ERROR a moment only: a
        /// peer that reads nothing would hold it, and the connection, for ever.
        case closeWithError(WireError)
        /// Close now without writing anything: the peer has read nothing for the idle timeout.
        case abort(WireError)
        /// Send ERROR with the AUTH request's id (the authentication failed), then close.
        case rejectAuthentication(requestID: UInt32, error: WireError)
        /// Send GOAWAY naming the last request that will complete; close too when nothing is in flight.
        case sendGoaway(lastRequestID: UInt32, thenClose: Bool)
        /// The drain timeout: answer each of these requests (still running) ERROR with its id,
        /// calling ``sentFinalFrame()`` after each; their own final frames are no longer sent.
        case answerStillRunning(requestIDs: [UInt32], error: WireError)
        case close
        case none
    }

    public private(set) var state: State = .awaitingHello
    /// Requests still owed their final frame: their ids are in use.
    public private(set) var inFlight: Set<UInt32> = []
    /// Final frames claimed (their ids free again) but not yet written: a drain closes only
    /// once they are out.
    public private(set) var finalFramesWriting = 0
    public private(set) var negotiatedVersion: UInt32?
    /// Whether the client announced `deflate` in HELLO: the server may then compress what it
    /// sends (wire.md section 2, "Compression").
    public private(set) var compression = false
    /// What the client announced in HELLO (`deflate`, `text-revisions`, …).
    public private(set) var clientCapabilities: Set<String> = []
    /// When the connection was accepted: the handshake timeout runs from here.
    public let acceptedAt: ContinuousClock.Instant
    /// The last frame in either direction: the idle timeout runs from here.
    public private(set) var lastActivity: ContinuousClock.Instant
    /// Writes handed to the channel and not yet taken by it (it takes them as the peer reads).
    public private(set) var writesPending = 0
    /// When a pending write last went out, or the first one was started.
    public private(set) var lastWriteProgress: ContinuousClock.Instant
    private let versions: ClosedRange<UInt32>
    private let limits: WireLimits
    private let handshakeTimeout: Duration
    private let idleTimeout: Duration

    /// - Parameters:
    ///   - handshakeTimeout: from accept to the AUTH answer (wire.md section 3).
    ///   - idleTimeout: no frame either way while nothing is in flight.
    ///   - now: when the connection was accepted.
    public init(
        versions: ClosedRange<UInt32> = 1...1, limits: WireLimits = .default, handshakeTimeout: Duration = .seconds(10),
        idleTimeout: Duration = .seconds(300), now: ContinuousClock.Instant = .now
    ) {
        self.versions = versions
        self.limits = limits
        self.handshakeTimeout = handshakeTimeout
        self.idleTimeout = idleTimeout
        acceptedAt = now
        lastActivity = now
        lastWriteProgress = now
    }

    /// What the message assembler may buffer now: before the AUTH answer, one message of
    /// `maxAuthMessageBytes` (HELLO, AUTH, PING are all an unauthenticated peer may send).
    public var assemblyBounds: MessageAssembler.Bounds {
        switch state {
        case .awaitingHello, .awaitingAuth, .authenticating, .closed: limits.preAuthenticationBounds
        case .ready, .draining: limits.assemblyBounds
        }
    }

    /// The authenticated user, once AUTH has been answered (the per-user limits apply to it).
    public var user: String? {
        switch state {
        case .ready(let user): user
        case .draining(let user): user
        default: nil
        }
    }

    // MARK: Messages from the client

    public mutating func received(_ message: WireMessage) -> Action {
        switch (state, message) {
        case (.closed, _):
            return .none
        case (.awaitingHello, .hello(let hello)):
            return negotiate(hello)
        case (.awaitingHello, _):
            return fail(.protocolError, "expected HELLO first, got \(message.frameType)")
        case (_, .ping(let payload)):
            return .sendPong(payload)
        case (.awaitingAuth, .request(let id, let request)):
            guard case .auth(let auth)? = request.body else {
                return fail(.unauthenticated, "authenticate first: send an auth request with your token")
            }
            state = .authenticating(requestID: id)
            inFlight.insert(id)
            return .authenticate(requestID: id, token: auth.token)
        case (.authenticating, .request):
            return fail(.unauthenticated, "wait for the auth response before sending requests")
        case (.ready(let user), .request(let id, let request)):
            return admit(id, request, user: user)
        case (.draining, .request(let id, _)):
            return .failRequest(
                requestID: id, error: WireError(.shuttingDown, "the server is shutting down; connect again"))
        case (.ready, .cancel(let id)), (.draining, .cancel(let id)):
            return inFlight.contains(id) ? .cancel(requestID: id) : .none
        case (.ready, .pong), (.draining, .pong), (.authenticating, .pong), (.awaitingAuth, .pong):
            return .none
        case (.awaitingAuth, _), (.authenticating, _):
            return fail(.unauthenticated, "authenticate first: a \(message.frameType) frame is not allowed before auth")
        default:
            return fail(.protocolError, "a client does not send \(message.frameType) here")
        }
    }

    private mutating func negotiate(_ hello: Gloss_V1_Hello) -> Action {
        let low = max(versions.lowerBound, hello.minVersion)
        let high = min(versions.upperBound, hello.maxVersion)
        guard hello.minVersion <= hello.maxVersion, low <= high else {
            return fail(
                .unsupportedVersion,
                "this server speaks protocol versions \(versions.lowerBound)-\(versions.upperBound); the client speaks \(hello.minVersion)-\(hello.maxVersion): upgrade the older side")
        }
        negotiatedVersion = high
        compression = hello.capabilities.contains("deflate")
        clientCapabilities = Set(hello.capabilities)
        state = .awaitingAuth
        return .sendWelcome(version: high, compression: compression)
    }

    private mutating func admit(_ id: UInt32, _ request: Gloss_V1_Request, user: String) -> Action {
        if inFlight.contains(id) {
            return fail(.protocolError, "request id \(id) is already in use")
        }
        if case .auth? = request.body {
            // wire.md section 4: a second AUTH is a connection error, like any other frame the
            // state does not allow.
            return fail(.protocolError, "this connection is already authenticated: a second auth request (id \(id)) is not allowed")
        }
        if request.body == nil {
            return .failRequest(requestID: id, error: WireError(.badMessage, "the request has no body this server knows"))
        }
        guard inFlight.count < limits.maxRequestsInFlight else {
            return .failRequest(
                requestID: id,
                error: WireError(.tooManyRequests, "more than \(limits.maxRequestsInFlight) requests in flight; wait for some to finish"))
        }
        inFlight.insert(id)
        return .handle(requestID: id, request: request, user: user)
    }

    // MARK: Results of the handler's work

    /// The token was good. The handler sends the AUTH response, then reports
    /// ``sentFinalFrame()`` like any request (which closes a connection that started draining
    /// meanwhile).
    public mutating func authenticated(requestID: UInt32, user: String) -> Action {
        switch state {
        case .authenticating(requestID):
            state = .ready(user: user)
        case .draining where inFlight.contains(requestID):
            // GOAWAY promised this request an answer.
            state = .draining(user: user)
        default:
            return .none
        }
        inFlight.remove(requestID)
        finalFramesWriting += 1
        return .respondAuthenticated(requestID: requestID, user: user)
    }

    /// The token was refused, or could not be checked: ERROR with the AUTH request's id, then
    /// close (wire.md section 4, "answer to AUTH").
    public mutating func authenticationFailed(requestID: UInt32, error: WireError) -> Action {
        let awaited: Bool
        switch state {
        case .authenticating(requestID): awaited = true
        case .draining: awaited = inFlight.contains(requestID)
        default: awaited = false
        }
        guard awaited else { return .none }
        inFlight.remove(requestID)
        state = .closed
        return .rejectAuthentication(requestID: requestID, error: error)
    }

    /// A request is about to write its final frame. True when it is still owed one: its id is
    /// then free for the client to use again at once (it may do so as soon as it has read the
    /// frame), and the handler writes it and calls ``sentFinalFrame()``. False when something
    /// else answered it already (the drain timeout) or the connection is closed: write nothing.
    public mutating func claimFinalFrame(requestID: UInt32) -> Bool {
        guard state != .closed, inFlight.remove(requestID) != nil else { return false }
        finalFramesWriting += 1
        return true
    }

    /// A final frame claimed with ``claimFinalFrame(requestID:)`` (or by ``authenticated(requestID:user:)``,
    /// or one of ``Action/answerStillRunning(requestIDs:error:)``) was written.
    public mutating func sentFinalFrame() -> Action {
        finalFramesWriting = max(0, finalFramesWriting - 1)
        return closeIfDrained()
    }

    /// While draining, close once every request has its final frame out.
    private mutating func closeIfDrained() -> Action {
        if case .draining = state, inFlight.isEmpty, finalFramesWriting == 0 {
            state = .closed
            return .close
        }
        return .none
    }

    // MARK: Connection-level events

    /// Graceful shutdown: GOAWAY, finish what is in flight, then close.
    public mutating func startDraining() -> Action {
        let user: String?
        switch state {
        case .closed, .draining: return .none
        case .ready(let u): user = u
        default: user = nil
        }
        let last = inFlight.max() ?? 0
        if inFlight.isEmpty && finalFramesWriting == 0 {
            state = .closed
            return .sendGoaway(lastRequestID: last, thenClose: true)
        }
        state = .draining(user: user)
        return .sendGoaway(lastRequestID: last, thenClose: false)
    }

    /// The drain timeout passed: every request still running is answered `shutting-down` now,
    /// so that each still gets exactly one final frame before the close (wire.md section 5,
    /// GOAWAY); the connection closes once those are written.
    public mutating func drainTimedOut() -> Action {
        switch state {
        case .closed: return .none
        case .draining: break
        case .ready(let user): state = .draining(user: user)
        default: state = .draining(user: nil)
        }
        let running = inFlight.sorted()
        guard !running.isEmpty else { return closeIfDrained() }
        inFlight.removeAll()
        finalFramesWriting += running.count
        return .answerStillRunning(
            requestIDs: running,
            error: WireError(
                .shuttingDown,
                "the server is shutting down and this request was still running at its drain timeout; connect again (a push may have been committed: its retry answers duplicate)"
            ))
    }

    /// The decoder or assembler refused the input.
    public mutating func inputFailed(_ error: WireError) -> Action {
        guard state != .closed else { return .none }
        state = .closed
        return .closeWithError(error)
    }

    /// A frame arrived or went out: the connection is not idle.
    public mutating func activity(at now: ContinuousClock.Instant) {
        lastActivity = max(lastActivity, now)
    }

    /// A frame is handed to the channel: from now the peer must keep reading.
    public mutating func writeStarted(at now: ContinuousClock.Instant) {
        if writesPending == 0 { lastWriteProgress = max(lastWriteProgress, now) }
        writesPending += 1
    }

    /// The channel took a frame (or the write failed): the peer made room by reading.
    public mutating func writeFinished(at now: ContinuousClock.Instant) {
        writesPending = max(0, writesPending - 1)
        lastWriteProgress = max(lastWriteProgress, now)
        lastActivity = max(lastActivity, now)
    }

    /// Checks the handshake and idle timeouts at `now`: ``timedOut()``'s action when one has
    /// passed, else nothing. The connection is idle only while no request is in flight (an open
    /// subscription is) and no final frame is being written (wire.md section 3). Whatever the
    /// state, a write that has made no progress for the idle timeout means a peer that does
    /// not read: the connection is dropped without another word.
    public mutating func checkTimeouts(now: ContinuousClock.Instant) -> Action {
        if state != .closed, writesPending > 0, now - lastWriteProgress > idleTimeout {
            state = .closed
            return .abort(
                WireError(.timeout, "the client read nothing for \(idleTimeout.components.seconds) s; closing its connection"))
        }
        let expired: Bool
        switch state {
        case .closed: expired = false
        case .awaitingHello, .awaitingAuth, .authenticating: expired = now - acceptedAt > handshakeTimeout
        case .ready, .draining:
            expired = now - lastActivity > idleTimeout && inFlight.isEmpty && finalFramesWriting == 0
        }
        return expired ? timedOut() : .none
    }

    /// The handshake or idle timer fired.
    public mutating func timedOut() -> Action {
        switch state {
        case .closed: return .none
        case .awaitingHello, .awaitingAuth, .authenticating:
            return fail(.timeout, "the handshake did not finish in time")
        case .ready, .draining:
            return fail(.timeout, "the connection was idle too long; reconnect")
        }
    }

    /// Whether the handshake is still running (the handshake timeout applies).
    public var isHandshaking: Bool {
        switch state {
        case .awaitingHello, .awaitingAuth, .authenticating: true
        default: false
        }
    }

    private mutating func fail(_ code: WireError.Code, _ message: String) -> Action {
        state = .closed
        return .closeWithError(WireError(code, message))
    }
}
