import GlossWire
import NIOCore
import Testing

// ServerConnectionStateMachine, with no I/O: each event's action and resulting state, against
// wire.md section 4 (connection states) and section 5 (flows).

private typealias Machine = ServerConnectionStateMachine

private func hello(min: UInt32 = 1, max: UInt32 = 1, capabilities: [String] = ["deflate"]) -> WireMessage {
    .hello(.with { $0.minVersion = min; $0.maxVersion = max; $0.capabilities = capabilities; $0.clientName = "test" })
}

private func auth(_ id: UInt32, token: String = "secret") -> WireMessage {
    .request(id, Sample.request(.auth(.with { $0.token = token })))
}

private let listCorpora = Sample.request(.listCorpora(.init()))

private func list(_ id: UInt32) -> WireMessage { .request(id, listCorpora) }

/// What a request's handler does for its final frame: claim it, write it, report it written.
private func finish(_ machine: inout Machine, _ id: UInt32) -> Machine.Action {
    let claimed = machine.claimFinalFrame(requestID: id)
    #expect(claimed, "request \(id) was not owed its final frame")
    return machine.sentFinalFrame()
}

private func closeError(_ action: Machine.Action) -> WireError? {
    if case .closeWithError(let error) = action { error } else { nil }
}

private func failedRequest(_ action: Machine.Action) -> (id: UInt32, error: WireError)? {
    if case .failRequest(let id, let error) = action { (id, error) } else { nil }
}

/// A machine in `awaitingAuth`, after a HELLO.
private func welcomed(limits: WireLimits = .default) -> Machine {
    var machine = Machine(limits: limits)
    #expect(machine.received(hello()) == .sendWelcome(version: 1, compression: true))
    return machine
}

/// A machine in `authenticating`, auth request id 1 pending.
private func authenticating() -> Machine {
    var machine = welcomed()
    #expect(machine.received(auth(1)) == .authenticate(requestID: 1, token: "secret"))
    return machine
}

/// A machine in `ready` for user "alice".
private func ready(limits: WireLimits = .default) -> Machine {
    var machine = welcomed(limits: limits)
    #expect(machine.received(auth(1)) == .authenticate(requestID: 1, token: "secret"))
    #expect(machine.authenticated(requestID: 1, user: "alice") == .respondAuthenticated(requestID: 1, user: "alice"))
    #expect(machine.sentFinalFrame() == .none)
    return machine
}

/// A machine draining with request 3 in flight.
private func draining() -> Machine {
    var machine = ready()
    #expect(machine.received(list(3)) == .handle(requestID: 3, request: listCorpora, user: "alice"))
    #expect(machine.startDraining() == .sendGoaway(lastRequestID: 3, thenClose: false))
    return machine
}

// MARK: - Happy path

@Test func happyPathFromHelloToFinishedRequests() {
    var machine = Machine()
    #expect(machine.state == .awaitingHello)
    #expect(machine.isHandshaking)

    #expect(machine.received(hello()) == .sendWelcome(version: 1, compression: true))
    #expect(machine.state == .awaitingAuth)
    #expect(machine.negotiatedVersion == 1)

    #expect(machine.received(auth(1, token: "tok-1")) == .authenticate(requestID: 1, token: "tok-1"))
    #expect(machine.state == .authenticating(requestID: 1))
    #expect(machine.isHandshaking)

    #expect(machine.authenticated(requestID: 1, user: "alice") == .respondAuthenticated(requestID: 1, user: "alice"))
    #expect(machine.state == .ready(user: "alice"))
    #expect(!machine.isHandshaking)
    #expect(machine.inFlight.isEmpty)
    // The handler reports the auth response's final frame like any other.
    #expect(machine.finalFramesWriting == 1)
    #expect(machine.sentFinalFrame() == .none)
    #expect(machine.finalFramesWriting == 0)
    #expect(machine.state == .ready(user: "alice"))

    let push = Sample.requests[5]
    #expect(machine.received(.request(3, push)) == .handle(requestID: 3, request: push, user: "alice"))
    #expect(machine.received(list(5)) == .handle(requestID: 5, request: listCorpora, user: "alice"))
    #expect(machine.inFlight == [3, 5])
    #expect(finish(&machine, 3) == .none)
    #expect(finish(&machine, 5) == .none)
    #expect(machine.inFlight.isEmpty)
    #expect(machine.state == .ready(user: "alice"))
}

@Test func everyKindOfRequestIsHandledWhenReady() {
    var machine = ready()
    // All but auth (index 0), which is refused once authenticated.
    for (index, request) in Sample.requests.enumerated().dropFirst() {
        let id = UInt32(10 + index)
        #expect(machine.received(.request(id, request)) == .handle(requestID: id, request: request, user: "alice"))
    }
    #expect(machine.inFlight.count == Sample.requests.count - 1)
}

@Test func compressionIsOnlyWhenTheClientAnnouncesDeflate() {
    var without = Machine()
    #expect(without.received(hello(capabilities: ["zstd"])) == .sendWelcome(version: 1, compression: false))
    var none = Machine()
    #expect(none.received(hello(capabilities: [])) == .sendWelcome(version: 1, compression: false))
}

/// What the client announced is kept for the requests that depend on it (a text revision is
/// only sent to a client that reads them).
@Test func theClientsCapabilitiesAreKept() {
    var new = Machine()
    _ = new.received(hello(capabilities: ["deflate", "text-revisions"]))
    #expect(new.clientCapabilities == ["deflate", "text-revisions"])
    var old = Machine()
    _ = old.received(hello(capabilities: ["deflate"]))
    #expect(!old.clientCapabilities.contains("text-revisions"))
}

// MARK: - Version negotiation

@Test(arguments: [
    // (server range, client range, chosen)
    (1 as UInt32, 1 as UInt32, 1 as UInt32, 1 as UInt32, 1 as UInt32),
    (1, 3, 2, 5, 3),
    (2, 5, 1, 3, 3),
    (1, 5, 2, 4, 4),
    (3, 3, 1, 9, 3),
])
func versionNegotiationPicksTheHighestCommonVersion(
    serverMin: UInt32, serverMax: UInt32, clientMin: UInt32, clientMax: UInt32, chosen: UInt32
) {
    var machine = Machine(versions: serverMin...serverMax)
    #expect(machine.received(hello(min: clientMin, max: clientMax)) == .sendWelcome(version: chosen, compression: true))
    #expect(machine.negotiatedVersion == chosen)
    #expect(machine.state == .awaitingAuth)
}

@Test(arguments: [
    (2 as UInt32, 3 as UInt32, 1 as UInt32, 1 as UInt32),
    (1, 3, 4, 9),
    (1, 1, 0, 0),  // a HELLO without versions
])
func disjointVersionsCloseWithUnsupportedVersion(
    serverMin: UInt32, serverMax: UInt32, clientMin: UInt32, clientMax: UInt32
) throws {
    var machine = Machine(versions: serverMin...serverMax)
    let error = try #require(closeError(machine.received(hello(min: clientMin, max: clientMax))))
    #expect(error.code == .unsupportedVersion)
    #expect(!error.retryable)
    // The message names the server's range (wire.md section 4) and the client's.
    #expect(error.message.contains("\(serverMin)-\(serverMax)"))
    #expect(error.message.contains("\(clientMin)-\(clientMax)"))
    #expect(machine.state == .closed)
    #expect(machine.negotiatedVersion == nil)
}

@Test func clientMinAboveItsMaxIsUnsupportedVersion() throws {
    // 3...1 is empty even though both ends fall in the server's 1...3.
    var machine = Machine(versions: 1...3)
    let error = try #require(closeError(machine.received(hello(min: 3, max: 1))))
    #expect(error.code == .unsupportedVersion)
    #expect(machine.state == .closed)
}

// MARK: - Messages not allowed in a state

@Test(arguments: [
    auth(1), list(1), WireMessage.ping(opaque: 1), .pong(opaque: 1), .cancel(1), .welcome(Sample.welcome),
    .response(1, Sample.responses[0]), .stream(1, ByteBuffer()), .goaway(.init()), .error(0, .init()),
])
func anythingButHelloFirstIsProtocolError(message: WireMessage) throws {
    var machine = Machine()
    let error = try #require(closeError(machine.received(message)))
    #expect(error.code == .protocolError)
    #expect(machine.state == .closed)
}

@Test func nonAuthRequestBeforeAuthenticationIsUnauthenticated() throws {
    var machine = welcomed()
    let error = try #require(closeError(machine.received(list(1))))
    #expect(error.code == .unauthenticated)
    #expect(machine.state == .closed)
}

@Test func requestWhileAuthenticatingIsUnauthenticated() throws {
    var machine = authenticating()
    let error = try #require(closeError(machine.received(list(2))))
    #expect(error.code == .unauthenticated)
    #expect(machine.state == .closed)
    // The pending authentication's result no longer matters.
    #expect(machine.authenticated(requestID: 1, user: "alice") == .none)
}

@Test func secondAuthWhenReadyIsAConnectionProtocolError() throws {
    // wire.md section 4, row "ready": a second AUTH is `protocol-error`, close.
    var machine = ready()
    #expect(machine.received(list(3)) == .handle(requestID: 3, request: listCorpora, user: "alice"))
    let error = try #require(closeError(machine.received(auth(2))))
    #expect(error.code == .protocolError)
    #expect(machine.state == .closed)
    #expect(machine.received(list(4)) == .none)
    // The request that was running gets no frame of its own after the close.
    let claimed3 = machine.claimFinalFrame(requestID: 3)
    #expect(!claimed3)
}

@Test func requestWithoutABodyFailsThatRequestOnly() throws {
    var machine = ready()
    let failed = try #require(failedRequest(machine.received(.request(2, .init()))))
    #expect(failed.id == 2)
    #expect(failed.error.code == .badMessage)
    #expect(machine.state == .ready(user: "alice"))
}

@Test(arguments: [
    hello(), WireMessage.welcome(Sample.welcome), .response(4, Sample.responses[0]), .stream(4, ByteBuffer([1])),
    .goaway(.with { $0.lastRequestID = 1 }), .error(4, .init()),
])
func framesAClientDoesNotSendAreProtocolErrorWhenReady(message: WireMessage) throws {
    var machine = ready()
    let error = try #require(closeError(machine.received(message)))
    #expect(error.code == .protocolError)
    #expect(machine.state == .closed)
}

@Test(arguments: [hello(), WireMessage.welcome(Sample.welcome), .response(4, Sample.responses[0]), .cancel(4)])
func framesOtherThanAuthOrPingWhileAwaitingAuthAreUnauthenticated(message: WireMessage) throws {
    // wire.md section 4, row "awaiting AUTH": anything but REQUEST with auth or PING gets
    // `unauthenticated`, close. (PONG is tolerated: see pingIsAnsweredInEveryOpenState.)
    var machine = welcomed()
    let error = try #require(closeError(machine.received(message)))
    #expect(error.code == .unauthenticated)
    #expect(machine.state == .closed)
}

@Test(arguments: [hello(), WireMessage.response(4, Sample.responses[0]), .cancel(1)])
func framesOtherThanPingWhileAuthenticatingAreUnauthenticated(message: WireMessage) throws {
    // Authenticating is part of the "awaiting AUTH" row of wire.md section 4, like the
    // second REQUEST in requestWhileAuthenticatingIsUnauthenticated.
    var machine = authenticating()
    let error = try #require(closeError(machine.received(message)))
    #expect(error.code == .unauthenticated)
    #expect(machine.state == .closed)
}

@Test func reusingAnInFlightRequestIDIsProtocolError() throws {
    var machine = ready()
    #expect(machine.received(list(4)) == .handle(requestID: 4, request: listCorpora, user: "alice"))
    let error = try #require(closeError(machine.received(list(4))))
    #expect(error.code == .protocolError)
    #expect(error.message.contains("4"))
    #expect(machine.state == .closed)
}

// MARK: - Ping, limits, cancel

@Test func pingIsAnsweredInEveryOpenState() {
    var states: [(String, Machine)] = [("awaitingAuth", welcomed()), ("authenticating", authenticating()), ("ready", ready())]
    states.append(("draining", draining()))
    for (name, var machine) in states {
        let before = machine.state
        let ping = WireMessage.ping(opaque: 0xDEAD_BEEF)
        #expect(machine.received(ping) == .sendPong(ping.payload()), "\(name)")
        #expect(machine.state == before, "\(name)")
        // A PONG (answering a server PING) needs no action.
        #expect(machine.received(.pong(opaque: 1)) == .none, "\(name)")
        #expect(machine.state == before, "\(name)")
    }
}

@Test func tooManyRequestsFailsTheRequestButKeepsTheConnection() throws {
    var machine = ready(limits: WireLimits(maxRequestsInFlight: 2))
    #expect(machine.received(list(3)) == .handle(requestID: 3, request: listCorpora, user: "alice"))
    #expect(machine.received(list(5)) == .handle(requestID: 5, request: listCorpora, user: "alice"))
    let failed = try #require(failedRequest(machine.received(list(7))))
    #expect(failed.id == 7)
    #expect(failed.error.code == .tooManyRequests)
    #expect(failed.error.retryable)
    #expect(machine.state == .ready(user: "alice"))
    #expect(machine.inFlight == [3, 5])
    // Once one finishes there is room again, and the refused id was never taken.
    #expect(finish(&machine, 3) == .none)
    #expect(machine.received(list(7)) == .handle(requestID: 7, request: listCorpora, user: "alice"))
}

@Test func cancelOfAnInFlightRequestCancelsItAndOfAnUnknownOneIsIgnored() {
    var machine = ready()
    #expect(machine.received(list(3)) == .handle(requestID: 3, request: listCorpora, user: "alice"))
    #expect(machine.received(.cancel(3)) == .cancel(requestID: 3))
    // Still in flight until its final frame is written.
    #expect(machine.inFlight == [3])
    // A cancel racing with the final frame, or of an id never used: nothing to do, no error.
    #expect(machine.received(.cancel(99)) == .none)
    #expect(finish(&machine, 3) == .none)
    #expect(machine.received(.cancel(3)) == .none)
    #expect(machine.state == .ready(user: "alice"))
}

// MARK: - Draining

@Test func drainingFinishesRequestsInFlightThenCloses() throws {
    var machine = ready()
    #expect(machine.received(list(3)) == .handle(requestID: 3, request: listCorpora, user: "alice"))
    #expect(machine.received(list(8)) == .handle(requestID: 8, request: listCorpora, user: "alice"))
    #expect(machine.startDraining() == .sendGoaway(lastRequestID: 8, thenClose: false))
    #expect(machine.state == .draining(user: "alice"))
    #expect(!machine.isHandshaking)

    // New requests are refused, retryably; the connection stays open.
    let failed = try #require(failedRequest(machine.received(list(9))))
    #expect(failed.id == 9)
    #expect(failed.error.code == .shuttingDown)
    #expect(failed.error.retryable)
    #expect(!machine.inFlight.contains(9))
    // CANCEL, PING and PONG still work.
    #expect(machine.received(.cancel(3)) == .cancel(requestID: 3))
    #expect(machine.received(.ping(opaque: 5)) == .sendPong(WireMessage.ping(opaque: 5).payload()))
    #expect(machine.startDraining() == .none)

    #expect(finish(&machine, 3) == .none)
    #expect(machine.state == .draining(user: "alice"))
    // Not closed before request 8's final frame is written, though its id is free once claimed.
    let claimed8 = machine.claimFinalFrame(requestID: 8)
    #expect(claimed8)
    #expect(machine.inFlight.isEmpty)
    #expect(machine.state == .draining(user: "alice"))
    #expect(machine.sentFinalFrame() == .close)
    #expect(machine.state == .closed)
}

@Test func drainingWhenIdleSendsGoawayAndCloses() {
    var machine = ready()
    #expect(machine.startDraining() == .sendGoaway(lastRequestID: 0, thenClose: true))
    #expect(machine.state == .closed)
    #expect(machine.received(list(3)) == .none)
}

@Test func drainingWhileAwaitingAuthClosesAtOnce() {
    var machine = welcomed()
    #expect(machine.startDraining() == .sendGoaway(lastRequestID: 0, thenClose: true))
    #expect(machine.state == .closed)
}

@Test func drainingWhileAuthenticatingStillAnswersTheAuthRequestThenCloses() {
    // GOAWAY names request 1 (the auth request) as one that will complete, so it must get its
    // final frame, and the connection must then close rather than wait for the idle timeout.
    var machine = authenticating()
    #expect(machine.startDraining() == .sendGoaway(lastRequestID: 1, thenClose: false))
    #expect(machine.authenticated(requestID: 1, user: "alice") == .respondAuthenticated(requestID: 1, user: "alice"))
    #expect(machine.state != .closed)
    // Requests after GOAWAY are still refused.
    #expect(failedRequest(machine.received(list(2)))?.error.code == .shuttingDown)
    #expect(machine.sentFinalFrame() == .close)
    #expect(machine.state == .closed)
}

@Test func drainingWhileAuthenticatingStillReportsAnAuthFailure() throws {
    var machine = authenticating()
    #expect(machine.startDraining() == .sendGoaway(lastRequestID: 1, thenClose: false))
    let error = WireError(.authFailed, "unknown token")
    #expect(machine.authenticationFailed(requestID: 1, error: error) == .rejectAuthentication(requestID: 1, error: error))
    #expect(machine.state == .closed)
}

@Test(arguments: [hello(), WireMessage.response(3, Sample.responses[0]), .goaway(.init())])
func framesAClientDoesNotSendAreProtocolErrorWhileDraining(message: WireMessage) throws {
    var machine = draining()
    let error = try #require(closeError(machine.received(message)))
    #expect(error.code == .protocolError)
    #expect(machine.state == .closed)
}

// MARK: - Failures and timeouts

@Test func authenticationFailureClosesWithTheError() throws {
    var machine = authenticating()
    // A result for another request id is not this authentication's.
    #expect(machine.authenticationFailed(requestID: 2, error: WireError(.authFailed, "x")) == .none)
    #expect(machine.authenticated(requestID: 2, user: "mallory") == .none)
    #expect(machine.state == .authenticating(requestID: 1))

    // The ERROR carries the AUTH request's id (wire.md section 4, "answer to AUTH"), then close.
    let error = WireError(.authFailed, "the token is unknown or revoked")
    #expect(machine.authenticationFailed(requestID: 1, error: error) == .rejectAuthentication(requestID: 1, error: error))
    #expect(machine.state == .closed)
}

@Test func rateLimitedAuthenticationKeepsItsRetryHint() {
    var machine = authenticating()
    let error = WireError(.rateLimited, "too many failed attempts", retryAfterMilliseconds: 30_000)
    #expect(machine.authenticationFailed(requestID: 1, error: error) == .rejectAuthentication(requestID: 1, error: error))
}

@Test func inputFailureClosesWithThatErrorInAnyOpenState() {
    let error = WireError(.frameTooLarge, "too big")
    for var machine in [Machine(), welcomed(), authenticating(), ready(), draining()] {
        #expect(machine.inputFailed(error) == .closeWithError(error))
        #expect(machine.state == .closed)
    }
}

@Test func handshakeTimeoutAndIdleTimeoutSayDifferentThings() throws {
    for var machine in [Machine(), welcomed(), authenticating()] {
        let error = try #require(closeError(machine.timedOut()))
        #expect(error.code == .timeout)
        #expect(error.message.contains("handshake"))
        #expect(machine.state == .closed)
    }
    for var machine in [ready(), draining()] {
        let error = try #require(closeError(machine.timedOut()))
        #expect(error.code == .timeout)
        #expect(error.message.contains("idle"))
        #expect(machine.state == .closed)
    }
}

@Test func afterCloseEverythingIsNone() {
    var machine = ready()
    #expect(machine.received(list(3)) == .handle(requestID: 3, request: listCorpora, user: "alice"))
    #expect(closeError(machine.inputFailed(WireError(.protocolError, "bad"))) != nil)
    #expect(machine.state == .closed)

    for message in [hello(), auth(5), list(6), .ping(opaque: 1), .pong(opaque: 1), .cancel(3), .goaway(.init())] {
        #expect(machine.received(message) == .none)
    }
    #expect(machine.authenticated(requestID: 1, user: "alice") == .none)
    #expect(machine.authenticationFailed(requestID: 1, error: WireError(.authFailed, "x")) == .none)
    let claimed3 = machine.claimFinalFrame(requestID: 3)
    #expect(!claimed3)
    #expect(machine.sentFinalFrame() == .none)
    #expect(machine.drainTimedOut() == .none)
    #expect(machine.startDraining() == .none)
    #expect(machine.inputFailed(WireError(.internal, "x")) == .none)
    #expect(machine.timedOut() == .none)
    #expect(machine.state == .closed)
}
