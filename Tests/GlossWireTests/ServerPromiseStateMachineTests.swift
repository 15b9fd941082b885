import GlossWire
import NIOCore
import SwiftProtobuf
import Testing

// The promises of wire.md sections 4 and 5 that glossd 0.2.0 broke (its section 9), checked on
// the state machine alone: one final frame per request, GOAWAY included; AUTH errors carry the
// AUTH request's id; PONG echoes PING's bytes; a second AUTH closes; ids free once answered.

private typealias Machine = ServerConnectionStateMachine

private let listCorpora = Sample.request(.listCorpora(.init()))

private func list(_ id: UInt32) -> WireMessage { .request(id, listCorpora) }

private func auth(_ id: UInt32) -> WireMessage { .request(id, Sample.request(.auth(.with { $0.token = "t" }))) }

/// A machine authenticating with AUTH request `id`.
private func authenticating(_ id: UInt32 = 1) -> Machine {
    var machine = Machine()
    #expect(machine.received(.hello(.with { $0.minVersion = 1; $0.maxVersion = 1 })) == .sendWelcome(version: 1, compression: false))
    #expect(machine.received(auth(id)) == .authenticate(requestID: id, token: "t"))
    return machine
}

/// A machine ready for "alice", with these requests running.
private func ready(running: [UInt32] = []) -> Machine {
    var machine = authenticating()
    #expect(machine.authenticated(requestID: 1, user: "alice") == .respondAuthenticated(requestID: 1, user: "alice"))
    #expect(machine.sentFinalFrame() == .none)
    for id in running { #expect(machine.received(list(id)) == .handle(requestID: id, request: listCorpora, user: "alice")) }
    return machine
}

// MARK: - AUTH errors carry the AUTH request's id

@Test(arguments: [WireError.Code.authFailed, .rateLimited, .storageUnavailable, .internal])
func authErrorsCarryTheAuthRequestsIDThenClose(code: WireError.Code) {
    // AUTH with id 7, not 1: the id is the request's, not a constant.
    var machine = authenticating(7)
    let error = WireError(code, "refused")
    #expect(machine.authenticationFailed(requestID: 7, error: error) == .rejectAuthentication(requestID: 7, error: error))
    #expect(machine.state == .closed)
}

// MARK: - Second AUTH

@Test func aSecondAuthClosesTheConnectionWithProtocolError() throws {
    var machine = ready(running: [4])
    let action = machine.received(auth(9))
    guard case .closeWithError(let error) = action else {
        Issue.record("a second AUTH got \(action), not a connection error")
        return
    }
    #expect(error.code == .protocolError)
    #expect(machine.state == .closed)
}

// MARK: - PING

@Test(arguments: [
    [0xFF, 0xFF, 0xFF],  // not protobuf at all
    [0x09, 1, 2, 3, 4, 5, 6, 7, 8, 0xF8, 0x06, 0x01],  // opaque, then unknown field 111
    [0x09, 0, 0, 0, 0, 0, 0, 0, 0],  // opaque 0, written out (a canonical encoder omits it)
    [],
] as [[UInt8]])
func pongEchoesThePingPayloadByteForByte(payload: [UInt8]) throws {
    // Through the decoder, as the connection sees it: a PING never fails to decode.
    var assembler = MessageAssembler()
    let frame = Frame(type: .ping, flags: .end, payload: ByteBuffer(bytes: payload))
    let assembled = try #require(try assembler.append(frame))
    let message = try WireMessage(assembled)
    for var machine in [authenticating(), ready(running: [3])] {
        let before = machine.state
        #expect(machine.received(message) == .sendPong(ByteBuffer(bytes: payload)))
        #expect(machine.state == before)
    }
    // And the PONG goes out as those bytes.
    let frames = WireMessage.pong(ByteBuffer(bytes: payload)).frames()
    #expect(frames.map { Array($0.payload.readableBytesView) } == [payload])
}

// MARK: - Request ids

@Test func aRequestIDIsFreeOnceItsFinalFrameIsClaimed() {
    var machine = ready(running: [4])
    let claimed = machine.claimFinalFrame(requestID: 4)
    #expect(claimed)
    // The client may reuse 4 as soon as it has read the final frame, which may be before the
    // server learns that the write completed.
    #expect(machine.received(list(4)) == .handle(requestID: 4, request: listCorpora, user: "alice"))
    #expect(machine.sentFinalFrame() == .none)
    #expect(machine.inFlight == [4])
    #expect(machine.state == .ready(user: "alice"))
}

@Test func aFinalFrameIsClaimedOnce() {
    var machine = ready(running: [4])
    let first = machine.claimFinalFrame(requestID: 4)
    let second = machine.claimFinalFrame(requestID: 4)
    #expect(first)
    #expect(!second)
    #expect(machine.finalFramesWriting == 1)
}

// MARK: - Drain timeout

@Test func atTheDrainTimeoutEveryRequestStillRunningIsAnsweredShuttingDown() throws {
    var machine = ready(running: [3, 5, 8])
    #expect(machine.startDraining() == .sendGoaway(lastRequestID: 8, thenClose: false))
    // 3 finishes in time; 5 and 8 are still running at the timeout.
    let claimed3 = machine.claimFinalFrame(requestID: 3)
    #expect(claimed3)
    #expect(machine.sentFinalFrame() == .none)

    let action = machine.drainTimedOut()
    guard case .answerStillRunning(let ids, let error) = action else {
        Issue.record("the drain timeout did \(action)")
        return
    }
    #expect(ids == [5, 8])
    #expect(error.code == .shuttingDown)
    #expect(error.retryable)
    // Their own final frames, should they finish now, are not sent: one final frame each.
    let late5 = machine.claimFinalFrame(requestID: 5)
    #expect(!late5)
    // The connection closes once both answers are written, not before.
    #expect(machine.sentFinalFrame() == .none)
    #expect(machine.state != .closed)
    #expect(machine.sentFinalFrame() == .close)
    #expect(machine.state == .closed)
}

@Test func theDrainTimeoutWaitsForAFinalFrameAlreadyBeingWritten() {
    var machine = ready(running: [3, 5])
    #expect(machine.startDraining() == .sendGoaway(lastRequestID: 5, thenClose: false))
    let claimed3 = machine.claimFinalFrame(requestID: 3)
    #expect(claimed3)
    guard case .answerStillRunning(let ids, _) = machine.drainTimedOut() else {
        Issue.record("request 5 was not answered")
        return
    }
    #expect(ids == [5])
    #expect(machine.sentFinalFrame() == .none)  // 5's answer
    #expect(machine.sentFinalFrame() == .close)  // 3's own final frame
}

@Test func theDrainTimeoutWithNothingRunningCloses() {
    var machine = ready(running: [3])
    #expect(machine.startDraining() == .sendGoaway(lastRequestID: 3, thenClose: false))
    let claimed = machine.claimFinalFrame(requestID: 3)
    #expect(claimed)
    // 3's frame is still being written: nothing to answer, and no close before it is out.
    #expect(machine.drainTimedOut() == .none)
    #expect(machine.sentFinalFrame() == .close)
    #expect(machine.drainTimedOut() == .none)
}

@Test func theDrainTimeoutAnswersAnAuthStillBeingChecked() {
    var machine = authenticating(2)
    #expect(machine.startDraining() == .sendGoaway(lastRequestID: 2, thenClose: false))
    guard case .answerStillRunning(let ids, _) = machine.drainTimedOut() else {
        Issue.record("the pending AUTH was not answered")
        return
    }
    #expect(ids == [2])
    // The token check coming back late changes nothing.
    #expect(machine.authenticated(requestID: 2, user: "alice") == .none)
    #expect(machine.sentFinalFrame() == .close)
}
