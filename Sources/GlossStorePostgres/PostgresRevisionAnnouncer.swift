import GlossStore
import Logging
import PostgresNIO

/// New revisions announced by PostgreSQL itself: a trigger on `revisions` sends
/// `NOTIFY gloss_revisions, 'CORPUS REVISION'` inside the transaction that inserts the row, so
/// the notification goes out exactly when the revision commits, in commit order, whichever node
/// (or `glossd migrate-store`) wrote it, and never for a transaction rolled back.
///
/// Each node listens on one connection of its pool; when it is lost, the node listens again
/// after a pause. Revisions committed meanwhile reach subscribers with the corpus's next
/// announcement (``RevisionAnnouncer``).
public struct PostgresRevisionAnnouncer: RevisionAnnouncer {
    /// The notification channel.
    public static let channel = "gloss_revisions"
    static let component = "revision-announcements"

    public let database: PostgresConnectionPool
    private let logger: Logger
    /// The pause before listening again after losing the connection.
    private let retryDelay: Duration

    public init(database: PostgresConnectionPool, logger: Logger, retryDelay: Duration = .seconds(1)) {
        self.database = database
        self.logger = logger
        self.retryDelay = retryDelay
    }

    /// Installs the trigger (a versioned migration; after the corpus tables). Blocking.
    public static func prepare(_ database: PostgresConnectionPool) throws {
        try database.migrate(
            component: component,
            [
                PostgresMigration(
                    version: 1, "announce each new revision",
                    statements: [
                        """
                        CREATE FUNCTION gloss_announce_revision() RETURNS trigger LANGUAGE plpgsql AS $$
                        BEGIN
                            PERFORM pg_notify('\(channel)',
                                (SELECT name FROM corpora_storage WHERE key = NEW.corpus) || ' ' || NEW.rev);
                            RETURN NULL;
                        END $$
                        """,
                        """
                        CREATE TRIGGER revisions_announce AFTER INSERT ON revisions
                            FOR EACH ROW EXECUTE FUNCTION gloss_announce_revision()
                        """,
                    ])
            ])
    }

    /// A payload, `CORPUS REVISION`; nil for anything else (another program on the channel).
    static func parse(_ payload: String) -> RevisionAnnouncement? {
        guard let space = payload.lastIndex(of: " "), let revision = Int(payload[payload.index(after: space)...]),
            space > payload.startIndex
        else { return nil }
        return RevisionAnnouncement(corpus: String(payload[..<space]), revision: revision)
    }

    public func announcements() -> AsyncStream<RevisionAnnouncement> {
        let (stream, continuation) = AsyncStream.makeStream(of: RevisionAnnouncement.self, bufferingPolicy: .bufferingNewest(4096))
        let task = Task { [database, logger, retryDelay] in
            while !Task.isCancelled {
                do {
                    try await database.client.withConnection { connection in
                        for try await notification in try await connection.listen(Self.channel) {
                            if let announcement = Self.parse(notification.payload) { continuation.yield(announcement) }
                        }
                    }
                } catch is CancellationError {
                    break
                } catch {
                    if Task.isCancelled { break }
                    logger.warning(
                        "lost the database's revision announcements; listening again",
                        metadata: ["error": "\(error)", "database": "\(database.configuration.location)"])
                }
                try? await Task.sleep(for: retryDelay)
            }
            continuation.finish()
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }
}
