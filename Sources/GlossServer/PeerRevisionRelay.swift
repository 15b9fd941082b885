import GlossModel
import GlossStore
import Logging

/// On a database several glossd nodes share, publishes every node's new revisions to this
/// node's subscribers, in commit order, from the database's own announcements.
///
/// The committers of a shared registry publish nothing (``CorpusRegistry/isShared``): a
/// revision another node committed before one of ours must reach subscribers first, and only
/// the database knows that order. An announcement says "the corpus is at revision N"; the relay
/// reads the revisions since the last one it published and publishes each, so one lost while the
/// database connection was down still goes out, with the next.
public struct PeerRevisionRelay: Sendable {
    public let registry: CorpusRegistry
    public let announcer: any RevisionAnnouncer
    private let logger: Logger
    /// The most revisions published for one announcement: a subscriber that fell further
    /// behind is told of the newest, and pulls the rest anyway.
    static let maxCatchUp = 1_000

    public init(registry: CorpusRegistry, announcer: any RevisionAnnouncer, logger: Logger) {
        self.registry = registry
        self.announcer = announcer
        self.logger = logger
    }

    /// Relays until the task is cancelled.
    public func run() async {
        for await announcement in announcer.announcements() {
            do {
                try await relay(announcement)
            } catch {
                // The next announcement of the corpus catches up from the same point.
                logger.warning(
                    "could not read revisions to announce",
                    metadata: ["corpus": "\(announcement.corpus)", "revision": "\(announcement.revision)", "error": "\(error)"])
            }
        }
    }

    func relay(_ announcement: RevisionAnnouncement) async throws {
        let broadcaster = registry.broadcaster
        let corpus = announcement.corpus
        let last = broadcaster.lastPublished(corpus: corpus)
        guard announcement.revision > last else { return }
        guard broadcaster.hasSubscribers(corpus: corpus) else {
            // Nobody to tell: remember how far the corpus is, so that a later subscriber is
            // not sent its whole history.
            broadcaster.skip(corpus: corpus, through: announcement.revision)
            return
        }
        let from = max(last, announcement.revision - Self.maxCatchUp)
        let registry = self.registry
        let summaries = try await registry.executor.run {
            try registry.handle(for: corpus).store.revisionSummaries(after: from, through: announcement.revision)
        }
        for summary in summaries.reversed() {
            broadcaster.publish(Self.event(corpus: corpus, summary))
        }
    }

    /// The event of a stored revision: what the node that took the push would have sent.
    static func event(corpus: String, _ summary: RevisionSummary) -> RevisionBroadcaster.Event {
        RevisionBroadcaster.Event(
            corpus: corpus, revision: summary.revision.number, author: summary.revision.author,
            summary: RevisionBroadcaster.summary(opCount: summary.revision.opCount, documentCount: summary.documents.count),
            documents: summary.documents.map(\.rawValue), message: summary.revision.message)
    }
}
