import GlossWire
import NIOCore
import Testing

// ClientConnectionStateMachine, with no I/O: each event's action and resulting state, against
// wire.md section 4 (the client's states, request ids, connection and request errors) and
// section 5 (flows: one final frame per request, subscriptions, PING, GOAWAY).

private typealias Machine = ClientConnectionStateMachine
private typealias Failure = ClientConnectionStateMachine.Failure

private let address = "example.org:7743"
private let welcomeMessage = Gloss_V1_Welcome.with { $0.version = 1; $0.capabilities = ["deflate"]; $0.serverName = "glossd" }
private let listCorpora = Gloss_V1_Request.with { $0.listCorpora = .init() }
private let clone = Gloss_V1_Request.with { $0.clone = .with { $0.corpus = "news" } }
private let subscribe = Gloss_V1_Request.with { $0.subscribe = .with { $0.corpus = "news" } }
private let listed = Gloss_V1_Response.with { $0.listCorpora = .init() }
private let streamEnd = Gloss_V1_Response.with { $0.streamEnd = .with { $0.headRevision = 7 } }

private func subscribed(_ head: UInt64) -> Gloss_V1_Response {
    .with { $0.subscribe = .with { $0.headRevision = head } }
}

private func authed(_ user: String) -> Gloss_V1_Response {
    .with { $0.auth = .with { $0.user = user } }
}

private func serverError(_ id: UInt32, _ code: WireError.Code, _ message: String = "no") -> WireMessage {
    .error(id, WireError(code, message).errorBody)
}

/// A machine that has sent preface and HELLO.
private func connecting() -> Machine {
    var machine = Machine(token: "tok", clientName: "test/1", serverAddress: address)
    guard case .sendPrefaceAndHello = machine.connected() else {
        Issue.record("connected() did not send the preface and HELLO")
        return machine
    }
    return machine
}

/// A machine ready for requests as "alice".
private func ready() -> Machine {
    var machine = connecting()
    _ = machine.received(.welcome(welcomeMessage))
    #expect(machine.received(.response(1, authed("alice"))) == .handshakeCompleted(user: "alice", welcome: welcomeMessage))
    return machine
}

/// Starts a request and returns its id.
private func start(_ machine: inout Machine, _ request: Gloss_V1_Request, streamed: Bool = false) -> UInt32 {
    guard case .sendRequest(let id, let sent) = machine.startRequest(request, streamed: streamed) else {
        Issue.record("the request was refused")
        return 0
    }
    #expect(sent == request)
    return id
}

private func refusal(_ action: Machine.Action) -> Failure? {
    if case .refuse(let failure) = action { failure } else { nil }
}

private func handshakeFailure(_ action: Machine.Action) -> Failure? {
    if case .failHandshake(let failure) = action { failure } else { nil }
}

/// The final outcomes an action gives, by request id: what "exactly one final outcome" counts.
private func finalOutcomes(_ action: Machine.Action) -> [UInt32] {
    switch action {
    case .succeedRequest(let id, _), .finishSubscription(let id, _), .failRequest(let id, _), .abandonRequest(let id):
        [id]
    case .closeAndFail(let ids, _, _):
        ids
    default:
        []
    }
}

// MARK: - Handshake

@Test func theHandshakeGoesHelloThenAuthThenReady() {
    var machine = Machine(token: "tok", clientName: "test/1", serverAddress: address)
    #expect(machine.state == .idle)
    #expect(machine.isHandshaking)
    // deflate, and text revisions: this client reads them (a server refuses them to one that does not say so).
    let hello = Gloss_V1_Hello.with {
        $0.minVersion = 1; $0.maxVersion = 1; $0.capabilities = ["deflate", "text-revisions"]; $0.clientName = "test/1"
    }
    #expect(machine.connected() == .sendPrefaceAndHello(hello))
    #expect(machine.state == .awaitingWelcome)
    // Only once.
    #expect(machine.connected() == .none)

    let auth = Gloss_V1_Request.with { $0.auth = .with { $0.token = "tok" } }
    #expect(machine.received(.welcome(welcomeMessage)) == .send(.request(1, auth)))
    #expect(machine.state == .authenticating(requestID: 1))
    #expect(machine.welcome == welcomeMessage)
    #expect(machine.compressionAgreed)

    // No request goes out before the AUTH answer (wire.md section 4).
    #expect(refusal(machine.startRequest(listCorpora, streamed: false))?.code == .notConnected)
    #expect(machine.requestsInFlight.isEmpty)

    #expect(machine.received(.response(1, authed("alice"))) == .handshakeCompleted(user: "alice", welcome: welcomeMessage))
    #expect(machine.state == .ready(user: "alice"))
    #expect(!machine.isHandshaking)
    // The handshake timer changes nothing once the handshake is over.
    #expect(machine.handshakeTimedOut() == .none)
    #expect(machine.state == .ready(user: "alice"))
}

@Test func compressionIsAgreedOnlyWhenWelcomeListsDeflate() {
    var machine = connecting()
    _ = machine.received(.welcome(.with { $0.version = 1 }))
    #expect(!machine.compressionAgreed)
}

@Test(arguments: [WireError.Code.unsupportedVersion, .serverBusy, .badPreface])
func anErrorBeforeWelcomeFailsTheHandshakeWithTheServersError(code: WireError.Code) throws {
    var machine = connecting()
    let failure = try #require(handshakeFailure(machine.received(serverError(0, code, "the server says no"))))
    #expect(failure.code == .server)
    #expect(failure.server?.code == code)
    #expect(failure.message == "the server says no")
    #expect(failure.context == address)
    #expect(machine.closeFailure == failure)
    // After the handshake failed nothing more happens, and nothing starts.
    #expect(machine.received(.welcome(welcomeMessage)) == .none)
    #expect(refusal(machine.startRequest(listCorpora, streamed: false)) == failure)
}

@Test(arguments: [WireError.Code.authFailed, .rateLimited, .storageUnavailable, .internal])
func anAuthErrorFailsTheHandshake(code: WireError.Code) throws {
    var machine = connecting()
    _ = machine.received(.welcome(welcomeMessage))
    // With the AUTH request's id, as glossd sends it.
    let failure = try #require(handshakeFailure(machine.received(serverError(1, code))))
    #expect(failure.server?.code == code)
    #expect(machine.received(.response(1, authed("alice"))) == .none)
}

@Test func framesOutOfOrderFailTheHandshakeAsAProtocolViolation() throws {
    // A RESPONSE before WELCOME.
    var early = connecting()
    let first = try #require(handshakeFailure(early.received(.response(1, authed("alice")))))
    #expect(first.code == .protocolViolation)
    #expect(first.message.contains("expected WELCOME, got RESPONSE"))

    // A STREAM item where the AUTH answer belongs.
    var authenticating = connecting()
    _ = authenticating.received(.welcome(welcomeMessage))
    let second = try #require(handshakeFailure(authenticating.received(.stream(1, ByteBuffer()))))
    #expect(second.code == .protocolViolation)
    #expect(second.message.contains("expected the auth response, got STREAM"))

    // An AUTH answer without an auth body.
    var wrongBody = connecting()
    _ = wrongBody.received(.welcome(welcomeMessage))
    #expect(handshakeFailure(wrongBody.received(.response(1, listed)))?.code == .protocolViolation)

    // A WELCOME choosing a version this client does not speak.
    var version = connecting()
    let third = try #require(handshakeFailure(version.received(.welcome(.with { $0.version = 2 }))))
    #expect(third.code == .protocolViolation)
    #expect(third.message.contains("version 2"))
}

@Test func goawayDuringTheHandshakeFailsItAsShuttingDown() throws {
    for authenticating in [false, true] {
        var machine = connecting()
        if authenticating { _ = machine.received(.welcome(welcomeMessage)) }
        let failure = try #require(handshakeFailure(machine.received(.goaway(.with { $0.reason = "drain" }))))
        #expect(failure.server?.code == .shuttingDown)
        #expect(failure.server?.retryable == true)
    }
}

@Test func theHandshakeTimesOutOnceAndOnlyWhileRunning() throws {
    var machine = connecting()
    let failure = try #require(handshakeFailure(machine.handshakeTimedOut()))
    #expect(failure.code == .timeout)
    // The close that the timeout causes is no second outcome.
    #expect(machine.connectionClosed(Failure(.closed, "gone")) == .none)
    #expect(machine.closeFailure == failure)
}

@Test func aCloseOrUndecodableBytesDuringTheHandshakeFailIt() throws {
    var closed = connecting()
    let lost = Failure(.closed, "the peer hung up")
    #expect(closed.connectionClosed(lost) == .failHandshake(lost))

    var garbage = connecting()
    let failure = try #require(handshakeFailure(garbage.inputFailed(WireError(.frameTooLarge, "too big"))))
    #expect(failure.code == .protocolViolation)
    #expect(failure.message.contains("is not a Gloss server"))
}

// MARK: - Request ids

@Test func requestIDsAreUniqueAndFreedAfterTheFinalFrame() {
    var machine = ready()
    // AUTH had 1; then 2, 3, 4, … none of them in use twice.
    let ids = (0..<5).map { _ in start(&machine, listCorpora) }
    #expect(ids == [2, 3, 4, 5, 6])
    #expect(Set(machine.requestsInFlight.keys) == Set(ids))
    #expect(machine.requestsInFlight[2]?.kind == .single)

    #expect(machine.received(.response(4, listed)) == .succeedRequest(requestID: 4, listed))
    #expect(machine.requestsInFlight[4] == nil)
    #expect(machine.received(serverError(2, .notFound)) == .failRequest(requestID: 2, Failure(server: WireError(.notFound, "no"), context: address)))
    #expect(machine.requestsInFlight[2] == nil)
    // A second final frame for a freed id is ignored (a CANCEL can cross a final frame).
    #expect(machine.received(.response(4, listed)) == .none)
    #expect(machine.received(serverError(2, .cancelled)) == .none)
    #expect(Set(machine.requestsInFlight.keys) == [3, 5, 6])
}

@Test func theIDCounterWrapsPast0() {
    var machine = Machine(token: "tok", clientName: "test/1", serverAddress: address, firstRequestID: .max - 1)
    _ = machine.connected()
    _ = machine.received(.welcome(welcomeMessage))
    _ = machine.received(.response(1, authed("alice")))
    let ids = (0..<4).map { _ in start(&machine, listCorpora) }
    // 0 is for connection frames; 1 is free again once AUTH is answered.
    #expect(ids == [.max - 1, .max, 1, 2])
}

// MARK: - Streams and subscriptions

@Test func streamItemsGoToTheRequestTheyBelongTo() {
    var machine = ready()
    let first = start(&machine, clone, streamed: true)
    let second = start(&machine, clone, streamed: true)
    let single = start(&machine, listCorpora)
    #expect(machine.requestsInFlight[first]?.kind == .stream)

    let a = ByteBuffer(bytes: [1, 2, 3])
    let b = ByteBuffer(bytes: [4, 5])
    // Interleaved, as frames of different requests may be.
    #expect(machine.received(.stream(second, b)) == .deliverItem(requestID: second, b))
    #expect(machine.received(.stream(first, a)) == .deliverItem(requestID: first, a))
    #expect(machine.received(.stream(second, a)) == .deliverItem(requestID: second, a))
    // Not for a request that is not in flight, nor for one that does not stream.
    #expect(machine.received(.stream(99, a)) == .none)
    #expect(machine.received(.stream(single, a)) == .none)

    #expect(machine.received(.response(first, streamEnd)) == .succeedRequest(requestID: first, streamEnd))
    // After its final frame, nothing more goes to it.
    #expect(machine.received(.stream(first, a)) == .none)
    #expect(machine.received(.stream(second, b)) == .deliverItem(requestID: second, b))
}

@Test func aSubscriptionGetsAnInterimResponseThenNotificationsThenItsFinalFrame() {
    var machine = ready()
    let id = start(&machine, subscribe, streamed: true)
    #expect(machine.requestsInFlight[id]?.kind == .subscription)

    #expect(machine.received(.response(id, subscribed(5))) == .deliverInterim(requestID: id, subscribed(5)))
    #expect(machine.requestsInFlight[id]?.confirmed == true)
    let note = ByteBuffer(bytes: [0x08, 0x06])
    #expect(machine.received(.stream(id, note)) == .deliverItem(requestID: id, note))
    #expect(machine.cancelRequest(id) == .send(.cancel(id)))
    #expect(machine.received(.response(id, subscribed(6))) == .finishSubscription(requestID: id, subscribed(6)))
    #expect(machine.requestsInFlight[id] == nil)
    // A CANCEL for an id no longer in flight is not sent.
    #expect(machine.cancelRequest(id) == .none)
}

@Test func aSubscribeSentAsASingleRequestEndsAtItsFirstResponse() {
    var machine = ready()
    let id = start(&machine, subscribe, streamed: false)
    #expect(machine.received(.response(id, subscribed(5))) == .succeedRequest(requestID: id, subscribed(5)))
}

@Test func anAbandonedRequestIsAnsweredOnceAndKeepsItsIDUntilItsFinalFrame() {
    var machine = ready()
    let id = start(&machine, clone, streamed: true)
    #expect(machine.abandonRequest(id) == .abandonRequest(requestID: id))
    #expect(machine.abandonRequest(id) == .none)
    // What still comes for it is dropped; its id stays in use until the final frame.
    #expect(machine.received(.stream(id, ByteBuffer(bytes: [1]))) == .none)
    #expect(machine.requestsInFlight[id]?.abandoned == true)
    #expect(start(&machine, listCorpora) != id)
    #expect(machine.received(serverError(id, .cancelled)) == .none)
    #expect(machine.requestsInFlight[id] == nil)
}

// MARK: - PING / PONG

@Test(arguments: [
    [0xFF, 0xFF, 0xFF],  // not protobuf at all
    [0x09, 1, 2, 3, 4, 5, 6, 7, 8, 0xF8, 0x06, 0x01],  // opaque, then an unknown field
    [],
] as [[UInt8]])
func aServerPingIsAnsweredWithIdenticalBytes(payload: [UInt8]) {
    let ping = WireMessage.ping(ByteBuffer(bytes: payload))
    var awaitingWelcome = connecting()
    var authenticating = connecting()
    _ = authenticating.received(.welcome(welcomeMessage))
    var readyMachine = ready()
    _ = start(&readyMachine, listCorpora)
    // In every state once HELLO is out, the handshake included, without changing the state.
    for var machine in [awaitingWelcome, authenticating, readyMachine] {
        let before = machine.state
        let inFlight = machine.requestsInFlight
        guard case .send(.pong(let echoed)) = machine.received(ping) else {
            Issue.record("PING was not answered with PONG")
            continue
        }
        #expect(Array(echoed.readableBytesView) == payload)
        #expect(machine.state == before)
        #expect(machine.requestsInFlight == inFlight)
    }
    _ = awaitingWelcome.handshakeTimedOut()
    #expect(awaitingWelcome.received(ping) == .none)
}

@Test func ourPingsAreMatchedByTheirEchoedBytes() {
    var machine = ready()
    let one = WireMessage.ping(opaque: 1).payload()
    let two = WireMessage.ping(opaque: 2).payload()
    #expect(machine.startPing(one) == .sendPing(pingID: 1, one))
    #expect(machine.startPing(two) == .sendPing(pingID: 2, two))
    #expect(machine.startPing(one) == .sendPing(pingID: 3, one))
    #expect(machine.pingsInFlight == 3)
    // Answered out of order: each PONG completes the oldest ping with its bytes.
    #expect(machine.received(.pong(two)) == .completePing(pingID: 2))
    #expect(machine.received(.pong(one)) == .completePing(pingID: 1))
    #expect(machine.received(.pong(one)) == .completePing(pingID: 3))
    // A PONG for no ping of ours is ignored.
    #expect(machine.received(.pong(two)) == .none)
    #expect(machine.pingsInFlight == 0)
}

// MARK: - GOAWAY

@Test func goawayLetsRequestsInFlightFinishOnceAndRefusesNewOnes() {
    var machine = ready()
    let single = start(&machine, listCorpora)
    let streamed = start(&machine, clone, streamed: true)
    let subscription = start(&machine, subscribe, streamed: true)
    _ = machine.received(.response(subscription, subscribed(3)))

    #expect(machine.received(.goaway(.with { $0.lastRequestID = subscription; $0.reason = "drain" })) == .none)
    #expect(machine.state == .goingAway(user: "alice", lastRequestID: subscription))
    // No new request on this connection; retryable, so the caller reconnects.
    let refused = refusal(machine.startRequest(listCorpora, streamed: false))
    #expect(refused?.server?.code == .shuttingDown)
    #expect(refused?.server?.retryable == true)

    // Each request in flight ends once, whichever frame ends it, and then never again.
    var outcomes: [UInt32] = []
    outcomes += finalOutcomes(machine.received(.response(subscription, subscribed(4))))
    outcomes += finalOutcomes(machine.received(.stream(streamed, ByteBuffer(bytes: [1]))))
    outcomes += finalOutcomes(machine.received(serverError(streamed, .shuttingDown)))
    outcomes += finalOutcomes(machine.received(.response(single, listed)))
    outcomes += finalOutcomes(machine.received(.response(single, listed)))
    outcomes += finalOutcomes(machine.received(.response(subscription, subscribed(4))))
    outcomes += finalOutcomes(machine.connectionClosed(Failure(.closed, "the server closed it")))
    #expect(outcomes.sorted() == [single, streamed, subscription].sorted())
    #expect(machine.requestsInFlight.isEmpty)
}

@Test func goawayThenCloseFailsWhatIsStillInFlightOnce() {
    var machine = ready()
    let single = start(&machine, listCorpora)
    let subscription = start(&machine, subscribe, streamed: true)
    _ = machine.received(.goaway(.with { $0.lastRequestID = subscription }))
    let lost = Failure(.closed, "the server closed it")
    #expect(machine.connectionClosed(lost) == .closeAndFail(requestIDs: [single, subscription], pingIDs: [], lost))
    #expect(machine.connectionClosed(lost) == .none)
}

// MARK: - Close

@Test func aCloseFailsEverythingInFlightExactlyOnce() {
    var machine = ready()
    let ids = [start(&machine, listCorpora), start(&machine, clone, streamed: true), start(&machine, subscribe, streamed: true)]
    let abandoned = start(&machine, listCorpora)
    _ = machine.abandonRequest(abandoned)
    let ping = WireMessage.ping(opaque: 9).payload()
    #expect(machine.startPing(ping) == .sendPing(pingID: 1, ping))

    let lost = Failure(.closed, "the connection ended")
    // The abandoned request had its outcome (cancelled) already: it is not failed again.
    #expect(machine.connectionClosed(lost) == .closeAndFail(requestIDs: ids, pingIDs: [1], lost))
    #expect(machine.requestsInFlight.isEmpty)
    #expect(machine.closeFailure == lost)

    // Nothing after the close gives a request a second outcome.
    for event in [
        machine.connectionClosed(Failure(.closed, "again")), machine.closeRequested(),
        machine.inputFailed(WireError(.protocolError, "late")), machine.received(.response(ids[0], listed)),
        machine.received(serverError(0, .timeout)), machine.abandonRequest(ids[1]), machine.cancelRequest(ids[2]),
        machine.requestWriteFailed(ids[0], lost), machine.received(.pong(ping)),
    ] {
        #expect(event == .none)
    }
    #expect(refusal(machine.startRequest(listCorpora, streamed: false)) == lost)
    #expect(refusal(machine.startPing(ping)) == lost)
}

@Test func closingTheClientFailsTheRequestsWithConnectionClosed() throws {
    var machine = ready()
    let id = start(&machine, listCorpora)
    guard case .closeAndFail([id], [], let failure) = machine.closeRequested() else {
        Issue.record("closing did not fail the request in flight")
        return
    }
    #expect(failure.code == .closed)
}

@Test func aRequestWhoseWriteFailedEndsOnce() {
    var machine = ready()
    let id = start(&machine, listCorpora)
    let lost = Failure(.closed, "write failed")
    #expect(machine.requestWriteFailed(id, lost) == .failRequest(requestID: id, lost))
    #expect(machine.requestWriteFailed(id, lost) == .none)
    #expect(machine.connectionClosed(lost) == .closeAndFail(requestIDs: [], pingIDs: [], lost))
}

// MARK: - Connection errors and request errors

@Test func anErrorWithID0FailsTheConnectionAndEveryRequest() {
    var machine = ready()
    let ids = [start(&machine, listCorpora), start(&machine, subscribe, streamed: true)]
    let timeout = WireError(.timeout, "the connection was idle too long; reconnect")
    let failure = Failure(server: timeout, context: address)
    #expect(machine.received(.error(0, timeout.errorBody)) == .closeAndFail(requestIDs: ids, pingIDs: [], failure))
    #expect(machine.closeFailure?.server?.code == .timeout)
    // The transport's close that follows keeps the server's reason.
    #expect(machine.connectionClosed(Failure(.closed, "closed")) == .none)
    #expect(machine.closeFailure == failure)
}

@Test func anErrorWithARequestIDFailsOnlyThatRequest() {
    var machine = ready()
    let denied = start(&machine, listCorpora)
    let other = start(&machine, clone, streamed: true)
    let error = WireError(.permissionDenied, "viewers cannot push")
    #expect(machine.received(.error(denied, error.errorBody)) == .failRequest(requestID: denied, Failure(server: error, context: address)))
    #expect(machine.state == .ready(user: "alice"))
    #expect(machine.closeFailure == nil)
    #expect(machine.requestsInFlight[other] != nil)
    #expect(machine.received(.response(other, streamEnd)) == .succeedRequest(requestID: other, streamEnd))
    // And the connection takes new requests.
    #expect(start(&machine, listCorpora) != 0)
}

@Test(arguments: [
    WireMessage.hello(.init()), .welcome(welcomeMessage), .request(3, listCorpora), .cancel(3),
])
func aClientOnlyFrameFromTheServerClosesTheConnection(message: WireMessage) throws {
    var machine = ready()
    let id = start(&machine, listCorpora)
    guard case .closeAndFail([id], [], let failure) = machine.received(message) else {
        Issue.record("\(message.frameType) from the server did not close the connection")
        return
    }
    #expect(failure.code == .protocolViolation)
}

@Test func undecodableBytesAfterTheHandshakeCloseWithAProtocolViolation() throws {
    var machine = ready()
    let id = start(&machine, listCorpora)
    guard case .closeAndFail([id], [], let failure) = machine.inputFailed(WireError(.badMessage, "not protobuf")) else {
        Issue.record("undecodable input did not close the connection")
        return
    }
    #expect(failure.code == .protocolViolation)
    #expect(failure.message.contains("not protobuf"))
}
