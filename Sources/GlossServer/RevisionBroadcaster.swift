import Foundation
import GlossModel
import Synchronization

/// Tells subscribers about new revisions of the corpora they watch: this node's pushes, and on
/// a shared database every node's (``PeerRevisionRelay``).
///
/// Each corpus's events go out in revision order, each once: an event at or below the last one
/// published for its corpus is dropped, so the same revision heard twice (a node's own push, then
/// its database's notification of it) reaches subscribers once.
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

    /// What a subscriber hears of an accepted push.
    ///
    /// Built from the changeset by the node that took it, or from the stored revision by
    /// ``PeerRevisionRelay`` on the others: the two agree.
    public static func summary(opCount: Int, documentCount: Int) -> String {
        "\(opCount) op\(opCount == 1 ? "" : "s") on \(documentCount) document\(documentCount == 1 ? "" : "s")"
    }

    private struct State {
        var subscribers: [UUID: (corpus: String, continuation: AsyncStream<Event>.Continuation)] = [:]
        /// The last revision published, by corpus.
        var published: [String: Int] = [:]
    }

    private let state = Mutex(State())

    public init() {}

    /// A stream of the corpus's new revisions, until ``unsubscribe(_:)``.
    public func subscribe(corpus: String) -> (id: UUID, events: AsyncStream<Event>) {
        let id = UUID()
        // A slow subscriber loses the oldest notifications rather than growing memory: it can
        // always pull to catch up.
        let (stream, continuation) = AsyncStream.makeStream(of: Event.self, bufferingPolicy: .bufferingNewest(1024))
        state.withLock { $0.subscribers[id] = (corpus, continuation) }
        return (id, stream)
    }

    public func unsubscribe(_ id: UUID) {
        state.withLock { $0.subscribers.removeValue(forKey: id) }?.continuation.finish()
    }

    /// Sends the event to the corpus's subscribers, unless a revision as new was published.
    public func publish(_ event: Event) {
        // Yielded under the lock, so that two publishers cannot deliver out of order.
        state.withLock { state in
            guard event.revision > state.published[event.corpus, default: 0] else { return }
            state.published[event.corpus] = event.revision
            for subscriber in state.subscribers.values where subscriber.corpus == event.corpus {
                subscriber.continuation.yield(event)
            }
        }
    }

    /// Ends every subscription (a draining server): each subscriber's request then completes,
    /// and its client reconnects, through a load balancer to another node.
    public func finishAll() {
        let ended = state.withLock { state in
            defer { state.subscribers = [:] }
            return state.subscribers.values.map(\.continuation)
        }
        for continuation in ended { continuation.finish() }
    }

    /// Records that the corpus is at `revision` without telling anyone (nobody was watching):
    /// later events start from there.
    public func skip(corpus: String, through revision: Int) {
        state.withLock { state in
            state.published[corpus] = max(state.published[corpus, default: 0], revision)
        }
    }

    /// The last revision published for a corpus (0: none yet).
    public func lastPublished(corpus: String) -> Int { state.withLock { $0.published[corpus, default: 0] } }

    /// Whether anyone watches the corpus.
    public func hasSubscribers(corpus: String) -> Bool {
        state.withLock { $0.subscribers.values.contains { $0.corpus == corpus } }
    }

    public var subscriberCount: Int { state.withLock { $0.subscribers.count } }
}

extension RevisionBroadcaster.Event {
    /// The event of an accepted push, its author the authenticated user the server recorded.
    public init(corpus: String, revision: Int, changeset: EncodedChangeset) {
        self.init(
            corpus: corpus, revision: revision, author: changeset.author,
            summary: RevisionBroadcaster.summary(opCount: changeset.opCount, documentCount: changeset.documents.count),
            documents: changeset.documents.map(\.rawValue), message: changeset.message)
    }
}
