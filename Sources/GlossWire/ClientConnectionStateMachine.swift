import GlossModel
import NIOCore

/// The client's side of one connection, from the preface to the close: the handshake, the
/// requests in flight, PING/PONG, GOAWAY and subscriptions, and what the I/O handler has to do
/// about each event.
///
/// A value type with no I/O, like ``ServerConnectionStateMachine``: every event returns an
/// ``Action`` for the handler to carry out, so the client's protocol logic is tested without
/// sockets. The handler keeps only what the machine cannot hold (continuations, the channel)
/// and finds them by the request ids the actions name.
///
/// Every request started with ``startRequest(_:streamed:)`` gets exactly one final outcome
/// (``Action/succeedRequest(requestID:_:)``, ``Action/finishSubscription(requestID:_:)``,
/// ``Action/failRequest(requestID:_:)``, ``Action/abandonRequest(requestID:)`` or one place in
/// ``Action/closeAndFail(requestIDs:pingIDs:_:)``), whatever the server sends and whenever the
/// connection ends (wire.md section 5).
public struct ClientConnectionStateMachine: Sendable {
    /// Why a request, a ping, the handshake or the whole connection failed.
    public struct Failure: ContextualError, Hashable, Sendable {
        public typealias Code = ErrorCode<Failure>

        public var code: Code
        public var message: String
        /// The server it is about, as `host:port`.
        public var context: String?
        /// The server's ERROR, when the failure is one (code ``Code/server``).
        public var server: WireError?

        public init(_ code: Code, _ message: String, context: String? = nil, server: WireError? = nil) {
            self.code = code
            self.message = message
            self.context = context
            self.server = server
        }

        /// The server's ERROR frame (or a refusal that stands for one, such as `shutting-down`
        /// after GOAWAY).
        public init(server error: WireError, context: String? = nil) {
            self.init(.server, error.message, context: context, server: error)
        }
    }

    /// How a request ends (wire.md section 5).
    public enum RequestKind: Hashable, Sendable {
        /// One RESPONSE or ERROR.
        case single
        /// STREAM items (clone, pull), then one RESPONSE or ERROR.
        case stream
        /// An interim RESPONSE, STREAM notifications, then a final RESPONSE or ERROR.
        case subscription
    }

    /// A request the client has sent and not yet received the final frame of: its id is in use.
    public struct InFlightRequest: Hashable, Sendable {
        public var kind: RequestKind
        /// A subscription's interim RESPONSE has arrived: the next RESPONSE is its final one.
        public var confirmed = false
        /// The requester stopped waiting and was answered `cancelled`: whatever still comes for
        /// the request is dropped, and its final frame only frees the id (the server still owes
        /// one, and a CANCEL can cross it).
        public var abandoned = false
    }

    public enum State: Hashable, Sendable {
        /// Nothing sent yet.
        case idle
        /// Preface and HELLO sent; the server's preface and WELCOME awaited.
        case awaitingWelcome
        /// AUTH sent with this id; its answer awaited. No other request goes out before it.
        case authenticating(requestID: UInt32)
        case ready(user: String)
        /// GOAWAY received: requests in flight finish, no new ones start.
        case goingAway(user: String, lastRequestID: UInt32)
        /// The connection ended, for this reason (the first one: later ones change nothing).
        case closed(Failure)
    }

    public enum Action: Equatable, Sendable {
        case none
        /// Write the preface, then this HELLO, without waiting in between (wire.md section 1).
        case sendPrefaceAndHello(Gloss_V1_Hello)
        /// Write this message: the AUTH request, a PONG, a CANCEL.
        case send(WireMessage)
        /// Write this request, now in flight under this id.
        case sendRequest(requestID: UInt32, Gloss_V1_Request)
        /// Write a PING with this payload; ping `pingID` waits for the PONG that echoes it.
        case sendPing(pingID: UInt64, ByteBuffer)
        /// What was asked (a request, a ping) cannot start, for this reason: nothing is sent.
        case refuse(Failure)
        /// The AUTH answer arrived: the connection is ready for requests.
        case handshakeCompleted(user: String, welcome: Gloss_V1_Welcome)
        /// The handshake failed: report this to whoever connects, and close.
        case failHandshake(Failure)
        /// A subscription's interim RESPONSE: hand it to request N, which goes on.
        case deliverInterim(requestID: UInt32, Gloss_V1_Response)
        /// A STREAM payload (a `StreamItem`, or a subscription's `Notification`) for request N.
        case deliverItem(requestID: UInt32, ByteBuffer)
        /// Request N's final RESPONSE (a single or streamed request): it is over, its id free.
        case succeedRequest(requestID: UInt32, Gloss_V1_Response)
        /// A subscription's final RESPONSE: end its notifications with it; its id is free.
        case finishSubscription(requestID: UInt32, Gloss_V1_Response)
        /// Request N's final outcome is this failure (the server's ERROR with its id, or its
        /// REQUEST could not be written).
        case failRequest(requestID: UInt32, Failure)
        /// The requester gave up on request N: answer it `cancelled` now and send CANCEL so the
        /// server stops. The id stays in use until the server's final frame for it.
        case abandonRequest(requestID: UInt32)
        /// Our ping N got its PONG.
        case completePing(pingID: UInt64)
        /// The connection is over: fail each of these requests and pings with this failure
        /// (each once: nothing else answers them afterwards) and close.
        case closeAndFail(requestIDs: [UInt32], pingIDs: [UInt64], Failure)
    }

    private struct PendingPing: Hashable, Sendable {
        var id: UInt64
        var payload: ByteBuffer
    }

    public private(set) var state: State = .idle
    /// The requests in flight, by id (the AUTH request is not among them: the handshake owns it).
    public private(set) var requestsInFlight: [UInt32: InFlightRequest] = [:]
    /// The server's WELCOME, once it has arrived.
    public private(set) var welcome: Gloss_V1_Welcome?
    private var pendingPings: [PendingPing] = []
    private var nextPingID: UInt64 = 1
    /// The id the next request tries first. `gloss` uses 1 for AUTH, then 2, 3, … (wire.md
    /// section 4, "Request ids"), skipping ids still in flight once the counter wraps.
    private var nextRequestID: UInt32 = 2
    private static let authRequestID: UInt32 = 1

    private let token: String
    private let clientName: String
    private let versions: ClosedRange<UInt32>
    private let address: String

    /// - Parameters:
    ///   - token: the bearer token the AUTH request carries.
    ///   - clientName: `Hello.client_name`.
    ///   - serverAddress: `host:port`, for messages and ``Failure/context``.
    ///   - versions: the protocol versions this client speaks.
    ///   - firstRequestID: the id the first request after AUTH tries (tests start near the wrap).
    public init(
        token: String, clientName: String, serverAddress: String, versions: ClosedRange<UInt32> = 1...1,
        firstRequestID: UInt32 = 2
    ) {
        self.nextRequestID = firstRequestID
        self.token = token
        self.clientName = clientName
        self.address = serverAddress
        self.versions = versions
    }

    /// Whether the handshake is still running: ``handshakeTimedOut()`` and a close fail it.
    public var isHandshaking: Bool {
        switch state {
        case .idle, .awaitingWelcome, .authenticating: true
        default: false
        }
    }

    /// Why the connection ended, or nil while it is open.
    public var closeFailure: Failure? {
        if case .closed(let failure) = state { failure } else { nil }
    }

    /// Whether the server listed `deflate` in WELCOME: requests may then go compressed.
    public var compressionAgreed: Bool { welcome?.capabilities.contains("deflate") ?? false }

    /// Pings sent and not yet answered.
    public var pingsInFlight: Int { pendingPings.count }

    // MARK: Handshake

    /// TLS is up: send the preface and HELLO.
    public mutating func connected() -> Action {
        guard state == .idle else { return .none }
        state = .awaitingWelcome
        return .sendPrefaceAndHello(
            .with {
                $0.minVersion = versions.lowerBound
                $0.maxVersion = versions.upperBound
                // text-revisions: this client reads reviseText ops and anchors (storage-encoding.md).
                $0.capabilities = ["deflate", WireCapability.textRevisions]
                $0.clientName = clientName
            })
    }

    /// The handshake timer fired: a server that accepts and then says nothing must not hold
    /// the client. Nothing happens once the handshake is over.
    public mutating func handshakeTimedOut() -> Action {
        guard isHandshaking else { return .none }
        return failHandshake(Failure(.timeout, "\(address) did not finish the handshake in time", context: address))
    }

    // MARK: Messages from the server

    public mutating func received(_ message: WireMessage) -> Action {
        switch state {
        case .idle, .closed: return .none
        default: break
        }
        switch message {
        case .ping(let payload):
            // Byte for byte, without decoding it (wire.md section 5, Ping); during the
            // handshake too.
            return .send(.pong(payload))
        case .pong(let payload):
            return matchPong(payload)
        default:
            break
        }
        switch state {
        case .awaitingWelcome: return receivedBeforeWelcome(message)
        case .authenticating(let id): return receivedWhileAuthenticating(message, authID: id)
        case .ready, .goingAway: return receivedWhenReady(message)
        case .idle, .closed: return .none
        }
    }

    private mutating func receivedBeforeWelcome(_ message: WireMessage) -> Action {
        switch message {
        case .welcome(let welcome):
            guard versions.contains(welcome.version) else {
                return failHandshake(
                    violation(
                        "\(address) chose protocol version \(welcome.version); this client speaks \(versions.lowerBound)-\(versions.upperBound)"))
            }
            self.welcome = welcome
            state = .authenticating(requestID: Self.authRequestID)
            let auth = Gloss_V1_Request.with { $0.auth = .with { $0.token = token } }
            return .send(.request(Self.authRequestID, auth))
        case .error(_, let body):
            return failHandshake(Failure(server: WireError(body), context: address))
        case .goaway(let goaway):
            return failHandshake(shuttingDown(goaway))
        default:
            return failHandshake(violation("expected WELCOME, got \(message.frameType)"))
        }
    }

    private mutating func receivedWhileAuthenticating(_ message: WireMessage, authID: UInt32) -> Action {
        switch message {
        case .response(authID, let response):
            guard case .auth(let auth)? = response.body, let welcome else {
                return failHandshake(violation("expected an auth response"))
            }
            state = .ready(user: auth.user)
            return .handshakeCompleted(user: auth.user, welcome: welcome)
        case .error(_, let body):
            // With the AUTH request's id (auth-failed, rate-limited, …) or 0: either ends it.
            return failHandshake(Failure(server: WireError(body), context: address))
        case .goaway(let goaway):
            // Even if AUTH is answered, no request could follow it on this connection.
            return failHandshake(shuttingDown(goaway))
        default:
            return failHandshake(violation("expected the auth response, got \(message.frameType)"))
        }
    }

    private mutating func receivedWhenReady(_ message: WireMessage) -> Action {
        switch message {
        case .response(let id, let response):
            guard var request = requestsInFlight[id] else { return .none }  // a CANCEL crossed it
            if request.kind == .subscription, !request.confirmed, case .subscribe? = response.body {
                request.confirmed = true
                requestsInFlight[id] = request
                return request.abandoned ? .none : .deliverInterim(requestID: id, response)
            }
            requestsInFlight[id] = nil
            if request.abandoned { return .none }
            return request.kind == .subscription
                ? .finishSubscription(requestID: id, response) : .succeedRequest(requestID: id, response)
        case .stream(let id, let payload):
            guard let request = requestsInFlight[id], request.kind != .single, !request.abandoned else { return .none }
            return .deliverItem(requestID: id, payload)
        case .error(0, let body):
            // A connection error: the server closes after it, so everything in flight ends here.
            return closeAll(Failure(server: WireError(body), context: address))
        case .error(let id, let body):
            guard let request = requestsInFlight.removeValue(forKey: id), !request.abandoned else { return .none }
            return .failRequest(requestID: id, Failure(server: WireError(body), context: address))
        case .goaway(let goaway):
            // The requests in flight still get their final frames from the server.
            if case .ready(let user) = state { state = .goingAway(user: user, lastRequestID: goaway.lastRequestID) }
            return .none
        case .hello, .welcome, .request, .cancel, .ping, .pong:
            return closeAll(violation("the server sent \(message.frameType), which is not allowed once authenticated"))
        }
    }

    private mutating func matchPong(_ payload: ByteBuffer) -> Action {
        // The oldest ping with these bytes; a PONG for none is ignored (it may answer a ping
        // that timed out with its connection, or echo nothing we sent).
        guard let index = pendingPings.firstIndex(where: { $0.payload == payload }) else { return .none }
        return .completePing(pingID: pendingPings.remove(at: index).id)
    }

    // MARK: Requests and pings

    /// Starts a request: `streamed` when its items are wanted (clone, pull, subscribe), which
    /// makes a subscribe a ``RequestKind/subscription``.
    public mutating func startRequest(_ request: Gloss_V1_Request, streamed: Bool) -> Action {
        switch state {
        case .ready: break
        case .goingAway:
            return .refuse(Failure(server: WireError(.shuttingDown, "the server is shutting down; reconnect"), context: address))
        case .closed(let failure):
            return .refuse(failure)
        case .idle, .awaitingWelcome, .authenticating:
            return .refuse(Failure(.notConnected, "the connection to \(address) is not authenticated yet", context: address))
        }
        let kind: RequestKind
        switch (streamed, request.body) {
        case (false, _): kind = .single
        case (true, .subscribe?): kind = .subscription
        case (true, _): kind = .stream
        }
        let id = freeRequestID()
        requestsInFlight[id] = InFlightRequest(kind: kind)
        return .sendRequest(requestID: id, request)
    }

    private mutating func freeRequestID() -> UInt32 {
        // At most max_requests_in_flight ids are in use, so this ends after a few steps.
        while nextRequestID == 0 || requestsInFlight[nextRequestID] != nil { nextRequestID &+= 1 }
        defer { nextRequestID &+= 1 }
        return nextRequestID
    }

    /// Asks the server to stop request `id` (a subscription, a long clone); it still ends with
    /// its final frame.
    public mutating func cancelRequest(_ id: UInt32) -> Action {
        guard closeFailure == nil, requestsInFlight[id] != nil else { return .none }
        return .send(.cancel(id))
    }

    /// The requester stopped waiting (its task was cancelled).
    public mutating func abandonRequest(_ id: UInt32) -> Action {
        guard closeFailure == nil, var request = requestsInFlight[id], !request.abandoned else { return .none }
        request.abandoned = true
        requestsInFlight[id] = request
        return .abandonRequest(requestID: id)
    }

    /// Request `id` could not be written.
    public mutating func requestWriteFailed(_ id: UInt32, _ failure: Failure) -> Action {
        guard closeFailure == nil, let request = requestsInFlight.removeValue(forKey: id), !request.abandoned else {
            return .none
        }
        return .failRequest(requestID: id, failure)
    }

    /// Sends a PING with this payload; the PONG that echoes it completes it.
    public mutating func startPing(_ payload: ByteBuffer) -> Action {
        if let failure = closeFailure { return .refuse(failure) }
        guard !isHandshaking else {
            return .refuse(Failure(.notConnected, "the connection to \(address) is not authenticated yet", context: address))
        }
        let id = nextPingID
        nextPingID += 1
        pendingPings.append(PendingPing(id: id, payload: payload))
        return .sendPing(pingID: id, payload)
    }

    // MARK: The end

    /// The server's bytes were refused (the frame decoder or the message assembler threw).
    public mutating func inputFailed(_ error: WireError) -> Action {
        switch state {
        case .closed: return .none
        case .idle, .awaitingWelcome, .authenticating:
            return failHandshake(
                violation("\(address) is not a Gloss server: what it sent is not the Gloss protocol (\(error.message)); check the host and port"))
        case .ready, .goingAway:
            return closeAll(violation("the server at \(address) sent something that is not Gloss: \(error.message)"))
        }
    }

    /// The connection ended under us; `failure` says how, in the handler's words (a transport
    /// error means more there than here). A connection error the server sent first stays the
    /// reason.
    public mutating func connectionClosed(_ failure: Failure) -> Action {
        switch state {
        case .closed: return .none
        case .idle, .awaitingWelcome, .authenticating: return failHandshake(failure)
        case .ready, .goingAway: return closeAll(failure)
        }
    }

    /// The client closes the connection itself.
    public mutating func closeRequested() -> Action {
        connectionClosed(Failure(.closed, "the connection to \(address) was closed by this client", context: address))
    }

    private mutating func failHandshake(_ failure: Failure) -> Action {
        state = .closed(failure)
        requestsInFlight.removeAll()
        pendingPings.removeAll()
        return .failHandshake(failure)
    }

    private mutating func closeAll(_ failure: Failure) -> Action {
        state = .closed(failure)
        // Abandoned requests were answered already: each gets one outcome.
        let requests = requestsInFlight.filter { !$0.value.abandoned }.keys.sorted()
        let pings = pendingPings.map(\.id)
        requestsInFlight.removeAll()
        pendingPings.removeAll()
        return .closeAndFail(requestIDs: requests, pingIDs: pings, failure)
    }

    private func violation(_ message: String) -> Failure {
        Failure(.protocolViolation, message, context: address)
    }

    private func shuttingDown(_ goaway: Gloss_V1_Goaway) -> Failure {
        let reason = goaway.reason.isEmpty ? "" : " (\(goaway.reason))"
        return Failure(
            server: WireError(.shuttingDown, "\(address) is shutting down\(reason); connect again"), context: address)
    }
}

extension ErrorCode where Domain == ClientConnectionStateMachine.Failure {
    /// The server's ERROR (``ClientConnectionStateMachine/Failure/server`` holds it).
    public static let server = Self(rawValue: "server-error")
    /// The connection ended (the transport, or this client closed it).
    public static let closed = Self(rawValue: "connection-closed")
    /// The server sent something the protocol does not allow here.
    public static let protocolViolation = Self(rawValue: "protocol-violation")
    /// The handshake did not finish in time.
    public static let timeout = Self(rawValue: "timeout")
    /// A request or ping before the handshake finished.
    public static let notConnected = Self(rawValue: "not-connected")
}
