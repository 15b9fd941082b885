import GlossWire
import NIOCore

/// Where a request handler sends what it produces before its final response: stream items
/// (clone, pull, subscribe) and interim responses. Sending waits while the peer is slow, so a
/// stream holds a bounded amount in memory.
public protocol ResponseSink: Sendable {
    func stream(_ item: ByteBuffer) async throws
    func interim(_ response: Gloss_V1_Response) async throws
}
