import Foundation
import Synchronization

/// Tells subscribers about new revisions of the corpora they watch (this node's pushes).
public final class RevisionBroadcaster: Sendable {
    public struct Event: Hashable, Sendable {
        public var corpus: String
        public var revision: Int
        public var author: String
        public var summary: String
        /// The documents it changed, sorted.
        public var documents: [String] = []
        public var message: String = ""
    }

    private let subscribers = Mutex<[UUID: (corpus: String, continuation: AsyncStream<Event>.Continuation)]>([:])

    public init() {}

    /// A stream of the corpus's new revisions, until ``unsubscribe(_:)``.
    public func subscribe(corpus: String) -> (id: UUID, events: AsyncStream<Event>) {
        let id = UUID()
        // A slow subscriber loses the oldest notifications rather than growing memory: it can
        // always pull to catch up.
        let (stream, continuation) = AsyncStream.makeStream(of: Event.self, bufferingPolicy: .bufferingNewest(1024))
        subscribers.withLock { $0[id] = (corpus, continuation) }
        return (id, stream)
    }

    public func unsubscribe(_ id: UUID) {
        subscribers.withLock { $0.removeValue(forKey: id) }?.continuation.finish()
    }

    public func publish(_ event: Event) {
        let targets = subscribers.withLock { $0.values.filter { $0.corpus == event.corpus }.map(\.continuation) }
        for continuation in targets { continuation.yield(event) }
    }

    public var subscriberCount: Int { subscribers.withLock { $0.count } }
}
