import GlossTestSupport
import GlossWire
import NIOCore
import NIOEmbedded
import Testing

@testable import GlossServer

/// Slow-loris protection, on an `EmbeddedChannel` with a clock the test moves.
@Suite(.hangGuard, .timeLimit(.minutes(10)))
struct SlowTransferGuardTests {
    static func channel() throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(SlowTransferGuard(minimumRate: 100, grace: .seconds(10)))
        return channel
    }

    static func header(length: Int) -> [UInt8] {
        [UInt8(length >> 24 & 0xFF), UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF)]
            + [FrameType.ping.rawValue, 1, 0, 0, 0, 0, 0, 0]
    }

    static func timedOut(_ channel: EmbeddedChannel) -> WireError? {
        do {
            try channel.throwIfErrorCaught()
            return nil
        } catch let error as WireError {
            return error
        } catch {
            return nil
        }
    }

    @Test func aFrameTrickledBelowTheMinimumRateFails() throws {
        let channel = try Self.channel()
        try channel.writeInbound(ByteBuffer(bytes: Preface.bytes + Self.header(length: 1000)))
        var caught: WireError?
        for _ in 0..<20 where caught == nil {
            try channel.writeInbound(ByteBuffer(bytes: [0]))
            channel.embeddedEventLoop.advanceTime(by: .seconds(1))
            caught = Self.timedOut(channel)
        }
        let error = try #require(caught)
        #expect(error.code == .timeout)
        #expect(error.message.contains("minimum is 100 bytes/s"))
    }

    @Test func wholeFramesAndSilenceBetweenThemAreFine() throws {
        let channel = try Self.channel()
        try channel.writeInbound(ByteBuffer(bytes: Preface.bytes))
        for _ in 0..<5 {
            try channel.writeInbound(ByteBuffer(bytes: Self.header(length: 8) + [UInt8](repeating: 1, count: 8)))
            // A minute of silence between frames is the idle timeout's business, not this guard's.
            channel.embeddedEventLoop.advanceTime(by: .seconds(60))
        }
        #expect(Self.timedOut(channel) == nil)
    }

    @Test func aSlowButSteadyFrameIsFine() throws {
        let channel = try Self.channel()
        try channel.writeInbound(ByteBuffer(bytes: Preface.bytes + Self.header(length: 4000)))
        for _ in 0..<32 {
            try channel.writeInbound(ByteBuffer(bytes: [UInt8](repeating: 0, count: 125)))
            channel.embeddedEventLoop.advanceTime(by: .seconds(1))
        }
        #expect(Self.timedOut(channel) == nil)
        // The frame completed: the clock stopped, and a later stall is no longer counted.
        channel.embeddedEventLoop.advanceTime(by: .seconds(120))
        #expect(Self.timedOut(channel) == nil)
    }
}
