import GlossModel
import GlossTestSupport
import GlossWire
import NIOCore
import Testing

// The memory an assembler may hold: one small message before authentication, a share per
// connection, and a budget shared by every connection (wire.md section 3).

private func request(_ id: UInt32, end: Bool, _ count: Int) -> Frame {
    Frame(type: .request, flags: end ? .end : [], requestID: id, payload: ByteBuffer(repeating: 0x41, count: count))
}

private let limits = WireLimits(
    maxFramePayload: 1000, maxMessageBytes: 5000, maxRequestsInFlight: 8, maxAuthMessageBytes: 300,
    maxBufferedBytes: 3000)

@Test func beforeAuthenticationOneSmallMessageIsAllThatIsHeld() throws {
    var assembler = MessageAssembler(limits: limits, bounds: limits.preAuthenticationBounds)
    #expect(try assembler.assemble(request(1, end: false, 200)) == .incomplete)
    // A second unfinished message: a connection error.
    let second = #expect(throws: WireError.self) { try assembler.assemble(request(3, end: false, 10)) }
    #expect(second?.code == .protocolError)

    var other = MessageAssembler(limits: limits, bounds: limits.preAuthenticationBounds)
    #expect(try other.assemble(request(1, end: false, 200)) == .incomplete)
    // Past the auth message limit, even though far below the message limit.
    let large = #expect(throws: WireError.self) { try other.assemble(request(1, end: false, 200)) }
    #expect(large?.code == .messageTooLarge)
    #expect(large?.message.contains("300") == true)
}

@Test func onceAuthenticatedTheBoundsWiden() throws {
    var assembler = MessageAssembler(limits: limits, bounds: limits.preAuthenticationBounds)
    assembler.bounds = limits.assemblyBounds
    for _ in 0..<4 { #expect(try assembler.assemble(request(1, end: false, 500)) == .incomplete) }
    guard case .complete(let message) = try assembler.assemble(request(1, end: true, 500)) else {
        Issue.record("the message did not complete")
        return
    }
    #expect(message.payload.readableBytes == 2500)
}

@Test func aConnectionPastItsBufferedShareHasTheRequestRefusedAndTheRestDropped() throws {
    var assembler = MessageAssembler(limits: limits)
    #expect(try assembler.assemble(request(1, end: false, 1000)) == .incomplete)
    #expect(try assembler.assemble(request(3, end: false, 1000)) == .incomplete)
    #expect(try assembler.assemble(request(5, end: false, 1000)) == .incomplete)
    #expect(assembler.bufferedBytes == 3000)
    // Request 7 would cross 3,000 buffered bytes: refused, and only it.
    guard case .refused(7, let error) = try assembler.assemble(request(7, end: false, 1)) else {
        Issue.record("request 7 was not refused")
        return
    }
    #expect(error.code == .tooManyRequests)
    #expect(error.retryable)
    // Its remaining frames are dropped up to its END; then id 7 is a new request.
    #expect(try assembler.assemble(request(7, end: false, 1000)) == .incomplete)
    #expect(try assembler.assemble(request(7, end: true, 1000)) == .incomplete)
    #expect(assembler.bufferedBytes == 3000)
    guard case .complete(let small) = try assembler.assemble(request(7, end: true, 10)) else {
        Issue.record("a whole message after the refusal was not assembled")
        return
    }
    #expect(small.payload.readableBytes == 10)
    // A message finishing gives its bytes back.
    guard case .complete = try assembler.assemble(request(1, end: true, 0)) else {
        Issue.record("request 1 did not complete")
        return
    }
    #expect(assembler.bufferedBytes == 2000)
}

@Test func theSharedBudgetRefusesWithServerBusyAndGetsEveryByteBack() throws {
    let budget = SharedByteBudget(total: 1500)
    let wide = WireLimits(maxFramePayload: 1000, maxMessageBytes: 5000, maxBufferedBytes: 1 << 20)
    var first = MessageAssembler(limits: wide, budget: budget)
    var second = MessageAssembler(limits: wide, budget: budget)
    #expect(try first.assemble(request(1, end: false, 1000)) == .incomplete)
    #expect(budget.inUse == 1000)
    // A whole message in one frame is never buffered, so it needs nothing from the budget.
    guard case .complete = try second.assemble(request(1, end: true, 1000)) else {
        Issue.record("a single-frame message was refused")
        return
    }
    guard case .refused(3, let busy) = try second.assemble(request(3, end: false, 600)) else {
        Issue.record("the budget did not refuse")
        return
    }
    #expect(busy.code == .serverBusy)
    #expect(busy.retryable)
    #expect(busy.retryAfterMilliseconds > 0)
    #expect(budget.inUse == 1000)
    // The first connection's message completes: its bytes go back, and the other may go on.
    guard case .complete = try first.assemble(request(1, end: true, 10)) else {
        Issue.record("request 1 did not complete")
        return
    }
    #expect(budget.inUse == 0)
    #expect(try second.assemble(request(5, end: false, 600)) == .incomplete)
    #expect(budget.inUse == 600)
    // A connection that ends gives back what it held, and so does one that broke a limit.
    second.releaseAll()
    #expect(budget.inUse == 0)
    #expect(try first.assemble(request(9, end: false, 900)) == .incomplete)
    #expect(throws: WireError.self) { try first.assemble(Frame(type: .response, flags: .end, requestID: 9, payload: ByteBuffer())) }
    #expect(budget.inUse == 0)
}

@Test func aRefusedRequestThatWasAlreadyBufferingGivesItsBytesBack() throws {
    let budget = SharedByteBudget(total: 1500)
    let wide = WireLimits(maxFramePayload: 1000, maxMessageBytes: 5000, maxBufferedBytes: 1 << 20)
    var assembler = MessageAssembler(limits: wide, budget: budget)
    #expect(try assembler.assemble(request(1, end: false, 1000)) == .incomplete)
    guard case .refused(1, _) = try assembler.assemble(request(1, end: false, 1000)) else {
        Issue.record("the growing message was not refused")
        return
    }
    #expect(budget.inUse == 0)
    #expect(assembler.bufferedBytes == 0)
    #expect(assembler.unfinishedCount == 0)
}

// MARK: - Decoding does not multiply a push

/// `Request.push.changeset` with `runs` empty op runs (2 bytes each), the changeset split over
/// `parts` occurrences of the push field (protobuf merges them).
private func pushOfEmptyRuns(_ runs: Int, parts: Int = 1) -> [UInt8] {
    let field = ProtobufWireBytes.field
    var out: [UInt8] = []
    for part in 0..<parts {
        let share = runs / parts + (part < runs % parts ? 1 : 0)
        let changeset = [UInt8]((0..<share).flatMap { _ in field(7, []) })
        out += field(6, field(2, changeset))
    }
    return out
}

@Test func aPushOfMoreRunsThanAChangesetMayHoldOpsIsRefusedBeforeDecoding() throws {
    let limit = FieldLimits.v1.opsPerChangeset
    // At the limit, it decodes (it is then checked like any push).
    let atLimit = AssembledMessage(type: .request, requestID: 3, payload: ByteBuffer(bytes: pushOfEmptyRuns(limit)))
    guard case .request(_, let request) = try WireMessage(atLimit), case .push(let push)? = request.body else {
        Issue.record("a push at the limit did not decode")
        return
    }
    #expect(push.changeset.ops.count == limit)
    // One past it, even split over several push fields, is refused unread.
    for parts in [1, 3] {
        let past = AssembledMessage(type: .request, requestID: 3, payload: ByteBuffer(bytes: pushOfEmptyRuns(limit + 1, parts: parts)))
        let error = #expect(throws: WireError.self) { try WireMessage(past) }
        #expect(error?.code == .badMessage)
        #expect(error?.message.contains("\(limit + 1) op runs") == true)
    }
}
