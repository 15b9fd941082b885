import GlossWire
import NIOCore
import Testing

// What ServerConnectionStateMachine decides besides the protocol states, now that it is the one
// owner of the connection's state: the handshake and idle timeouts (wire.md section 3), the
// authenticated user and compression. Time is given, never read: the tests are exact.

private typealias Machine = ServerConnectionStateMachine

private let listCorpora = Sample.request(.listCorpora(.init()))
private let t0 = ContinuousClock.now

private func machine() -> Machine {
    Machine(handshakeTimeout: .seconds(10), idleTimeout: .seconds(300), now: t0)
}

private func hello(deflate: Bool = true) -> WireMessage {
    .hello(.with { $0.minVersion = 1; $0.maxVersion = 1; $0.capabilities = deflate ? ["deflate"] : [] })
}

private func auth(_ id: UInt32) -> WireMessage { .request(id, Sample.request(.auth(.with { $0.token = "t" }))) }

/// Ready for "alice", authenticated at `at`.
private func ready(at: ContinuousClock.Instant = t0) -> Machine {
    var m = machine()
    _ = m.received(hello())
    _ = m.received(auth(1))
    _ = m.authenticated(requestID: 1, user: "alice")
    _ = m.sentFinalFrame()
    m.activity(at: at)
    return m
}

private func timeoutError(_ action: Machine.Action) -> WireError? {
    if case .closeWithError(let error) = action, error.code == .timeout { error } else { nil }
}

@Test func theHandshakeTimeoutRunsFromAcceptWhateverArrives() {
    var m = machine()
    _ = m.received(hello())
    // Frames during the handshake do not extend it.
    m.activity(at: t0 + .seconds(9))
    #expect(m.checkTimeouts(now: t0 + .seconds(10)) == .none)
    let error = timeoutError(m.checkTimeouts(now: t0 + .seconds(10) + .milliseconds(1)))
    #expect(error?.message == "the handshake did not finish in time")
    #expect(m.state == .closed)
    #expect(m.checkTimeouts(now: t0 + .seconds(60)) == .none)
}

@Test func theHandshakeTimeoutAppliesWhileAuthenticating() {
    var m = machine()
    _ = m.received(hello())
    _ = m.received(auth(1))
    #expect(timeoutError(m.checkTimeouts(now: t0 + .seconds(11))) != nil)
    // The token check that comes back afterwards changes nothing.
    #expect(m.authenticated(requestID: 1, user: "alice") == .none)
}

@Test func anIdleConnectionTimesOutFromItsLastFrame() {
    var m = ready(at: t0 + .seconds(5))
    #expect(m.checkTimeouts(now: t0 + .seconds(305)) == .none)
    m.activity(at: t0 + .seconds(100))
    // An earlier instant reported late does not move the last activity back.
    m.activity(at: t0 + .seconds(50))
    #expect(m.lastActivity == t0 + .seconds(100))
    #expect(m.checkTimeouts(now: t0 + .seconds(399)) == .none)
    let error = timeoutError(m.checkTimeouts(now: t0 + .seconds(401)))
    #expect(error?.message == "the connection was idle too long; reconnect")
}

@Test func aRequestInFlightOrAFinalFrameBeingWrittenKeepsTheConnectionFromIdling() {
    var m = ready()
    // A subscription, say: in flight for as long as it lasts.
    #expect(m.received(.request(3, listCorpora)) == .handle(requestID: 3, request: listCorpora, user: "alice"))
    #expect(m.checkTimeouts(now: t0 + .seconds(3600)) == .none)
    let claimed = m.claimFinalFrame(requestID: 3)
    #expect(claimed)
    #expect(m.checkTimeouts(now: t0 + .seconds(3600)) == .none)
    #expect(m.sentFinalFrame() == .none)
    #expect(timeoutError(m.checkTimeouts(now: t0 + .seconds(3600))) != nil)
}

@Test func theMachineKnowsTheUserAndCompression() {
    var m = machine()
    #expect(m.user == nil)
    #expect(!m.compression)
    _ = m.received(hello())
    #expect(m.compression)
    _ = m.received(auth(1))
    #expect(m.user == nil)
    _ = m.authenticated(requestID: 1, user: "alice")
    #expect(m.user == "alice")
    _ = m.sentFinalFrame()
    _ = m.received(.request(2, listCorpora))
    #expect(m.startDraining() == .sendGoaway(lastRequestID: 2, thenClose: false))
    // Still known while draining, for the byte rate of what the client sends meanwhile.
    #expect(m.user == "alice")

    var plain = machine()
    _ = plain.received(hello(deflate: false))
    #expect(!plain.compression)
}

// MARK: - Peers that do not read

@Test func theHandshakeTimeoutHoldsWhileAWriteIsStalled() {
    let start = ContinuousClock.now
    var machine = ServerConnectionStateMachine(handshakeTimeout: .seconds(10), idleTimeout: .seconds(30), now: start)
    _ = machine.received(.hello(.with { $0.minVersion = 1; $0.maxVersion = 1 }))
    // The WELCOME (or a PONG) is stuck: the peer reads nothing. The handshake timeout still
    // fires at 10 s; the handler sends its ERROR for a moment only.
    machine.writeStarted(at: start + .seconds(1))
    #expect(machine.checkTimeouts(now: start + .seconds(9)) == .none)
    guard case .closeWithError(let error) = machine.checkTimeouts(now: start + .seconds(11)) else {
        Issue.record("the handshake timeout did not fire")
        return
    }
    #expect(error.code == .timeout)
}

@Test func aStalledWriteAbortsEvenWithRequestsInFlight() {
    let start = ContinuousClock.now
    var machine = ServerConnectionStateMachine(idleTimeout: .seconds(30), now: start)
    _ = machine.received(.hello(.with { $0.minVersion = 1; $0.maxVersion = 1 }))
    _ = machine.received(.request(1, .with { $0.auth = .with { $0.token = "t" } }))
    _ = machine.authenticated(requestID: 1, user: "u")
    _ = machine.sentFinalFrame()
    _ = machine.received(.request(3, .with { $0.clone = .with { $0.corpus = "c" } }))
    #expect(machine.inFlight == [3])
    // A slow reader: each frame it takes is progress, however slowly they go.
    for second in stride(from: 0, to: 120, by: 20) {
        machine.writeStarted(at: start + .seconds(second))
        #expect(machine.checkTimeouts(now: start + .seconds(second + 19)) == .none)
        machine.writeFinished(at: start + .seconds(second + 19))
    }
    // Then it stops reading: a request in flight no longer keeps the connection.
    machine.writeStarted(at: start + .seconds(200))
    #expect(machine.checkTimeouts(now: start + .seconds(229)) == .none)
    guard case .abort = machine.checkTimeouts(now: start + .seconds(231)) else {
        Issue.record("a reader that stopped was not dropped")
        return
    }
}

@Test func theAssemblyBoundsWidenOnlyOnceAuthenticated() {
    let limits = WireLimits(maxAuthMessageBytes: 1000)
    var machine = ServerConnectionStateMachine(limits: limits)
    #expect(machine.assemblyBounds == limits.preAuthenticationBounds)
    _ = machine.received(.hello(.with { $0.minVersion = 1; $0.maxVersion = 1 }))
    _ = machine.received(.request(1, .with { $0.auth = .with { $0.token = "t" } }))
    #expect(machine.assemblyBounds.maxMessageBytes == 1000)
    #expect(machine.assemblyBounds.maxUnfinished == 1)
    _ = machine.authenticated(requestID: 1, user: "u")
    #expect(machine.assemblyBounds == limits.assemblyBounds)
}
