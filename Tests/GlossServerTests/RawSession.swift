import GlossWire
import NIOCore

/// One raw TLS connection driven a step at a time inside `executeThenClose`: write bytes, then
/// read the server's messages until one that matters arrives. For tests that hold several
/// hostile connections open at once, which ``RawClient/exchange(port:_:timeout:splitAt:until:)``
/// (one connection, one exchange) cannot.
struct RawSession {
    private var inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    private let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    private var decoder = FrameDecoder(expectPreface: true)
    private var assembler = MessageAssembler()
    private var pending = ByteBuffer()
    /// Every message read so far.
    private(set) var received: [WireMessage] = []
    /// Messages before this index were looked at by an earlier ``read(until:)``.
    private var consumed = 0

    init(_ inbound: NIOAsyncChannelInboundStream<ByteBuffer>, _ outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>) {
        self.inbound = inbound.makeAsyncIterator()
        self.outbound = outbound
    }

    /// Runs `body` on a new raw connection to `port`.
    static func with<T: Sendable>(port: Int, _ body: (inout RawSession) async throws -> T) async throws -> T {
        let channel = try await RawClient.connect(port: port)
        return try await channel.executeThenClose { inbound, outbound in
            var session = RawSession(inbound, outbound)
            return try await body(&session)
        }
    }

    func send(_ bytes: [UInt8]) async throws {
        try await outbound.write(ByteBuffer(bytes: bytes))
    }

    /// Reads until a message not yet looked at satisfies `match`; returns it (and leaves the
    /// messages after it for the next call). Nil when the server closed first.
    mutating func read(until match: (WireMessage) -> Bool) async throws -> WireMessage? {
        while true {
            while consumed < received.count {
                consumed += 1
                if match(received[consumed - 1]) { return received[consumed - 1] }
            }
            guard var chunk = try await inbound.next() else { return nil }
            pending.writeBuffer(&chunk)
            while let frame = try decoder.decode(buffer: &pending) {
                if let message = try assembler.append(frame) { received.append(try WireMessage(message)) }
            }
        }
    }

    /// Preface, HELLO and AUTH; returns once the AUTH answer is in.
    mutating func authenticate(_ token: String) async throws {
        try await send(Preface.bytes + RawClient.hello + HostileInputMatrixTests.auth(token))
        _ = try await read { $0.frameType == .response || $0.frameType == .error }
    }

    /// A PING answered: every frame sent before it has been read by the server (it reads in order).
    mutating func roundTrip() async throws {
        let payload = [UInt8.random(in: 0...255), UInt8.random(in: 0...255), UInt8.random(in: 0...255), 7]
        try await send(RawClient.frameBytes(.ping(ByteBuffer(bytes: payload))))
        _ = try await read {
            if case .pong(let echoed) = $0 { return Array(echoed.readableBytesView) == payload }
            return $0.frameType == .error
        }
    }

    /// The errors received for `requestID`.
    func errors(for requestID: UInt32) -> [WireError] {
        received.compactMap { if case .error(requestID, let body) = $0 { WireError(body) } else { nil } }
    }
}
