import GlossModel
import GlossStore
import PostgresNIO

/// A failure of the PostgreSQL storage: the database cannot be reached, refused a statement,
/// holds a schema newer than this build, or the storage URL is wrong.
///
/// Errors that a body passed to ``PostgresConnectionPool/transaction(isolation:readOnly:_:)`` throws
/// itself pass through unchanged; only PostgreSQL's own failures become this type.
public struct PostgresStorageError: ContextualError, StorageFailure, Hashable, Sendable {
    public typealias Code = ErrorCode<PostgresStorageError>

    public var code: Code
    public var message: String
    /// What the error is about: the database (`host:port/name`), a table, a corpus, a URL.
    public var context: String?
    /// PostgreSQL's SQLSTATE when the server refused a statement (`23505`: a unique key).
    public var sqlState: String?

    public init(_ code: Code, _ message: String, context: String? = nil, sqlState: String? = nil) {
        self.code = code
        self.message = message
        self.context = context
        self.sqlState = sqlState
    }

    /// Whether the same work may succeed if tried again: the database was unreachable or the
    /// connection dropped, or PostgreSQL gave up on a transaction to break a deadlock or a
    /// serialisation conflict.
    public var isRetryable: Bool {
        code == .unavailable || sqlState == "40001" || sqlState == "40P01"
    }
}

extension ErrorCode where Domain == PostgresStorageError {
    /// The database cannot be reached, or the connection dropped: retryable.
    public static let unavailable = Self(rawValue: "unavailable")
    /// A unique key would be broken (SQLSTATE 23505); the transaction was rolled back.
    public static let uniqueViolation = Self(rawValue: "unique-violation")
    /// PostgreSQL refused or failed a statement for another reason (its SQLSTATE says which).
    public static let database = Self(rawValue: "database")
    /// The database's schema was written by a newer glossd than this one.
    public static let newerSchema = Self(rawValue: "newer-schema")
    /// The storage URL is malformed, or carries something it must not (a password).
    public static let invalidURL = Self(rawValue: "invalid-url")
    /// ``PostgresConnectionPool/shutdown()`` was called, or ``PostgresConnectionPool/start()`` never was.
    public static let notRunning = Self(rawValue: "not-running")
}

extension PostgresStorageError {
    /// PostgreSQL's `unique_violation`.
    public static let uniqueViolationState = "23505"

    /// Translates a postgres-nio failure: server errors keep their SQLSTATE and message,
    /// connection failures become ``Code/unavailable``. Anything else is described as is.
    static func translating(_ error: any Error, context: String) -> any Error {
        if error is PostgresStorageError { return error }
        guard let psql = error as? PSQLError else {
            return PostgresStorageError(.database, "PostgreSQL client error: \(error)", context: context)
        }
        if let info = psql.serverInfo, let state = info[.sqlState] {
            let message = info[.message] ?? "no message"
            let detail = info[.detail].map { " (\($0))" } ?? ""
            if state == uniqueViolationState {
                return PostgresStorageError(
                    .uniqueViolation, "a unique key would be broken: \(message)\(detail)", context: context, sqlState: state)
            }
            // Class 08 (connection exception) and 57P01–57P03 (the server shutting down or not
            // yet accepting connections) mean "try again later", not "your statement is wrong".
            if state.hasPrefix("08") || ["57P01", "57P02", "57P03"].contains(state) {
                return PostgresStorageError(
                    .unavailable, "PostgreSQL is not available: \(message) (SQLSTATE \(state))", context: context, sqlState: state)
            }
            return PostgresStorageError(.database, "PostgreSQL error \(state): \(message)\(detail)", context: context, sqlState: state)
        }
        switch psql.code {
        case .connectionError, .serverClosedConnection, .clientClosedConnection, .uncleanShutdown, .poolClosed,
            .sslUnsupported, .failedToAddSSLHandler:
            let cause = psql.underlying.map { ": \($0)" } ?? ""
            return PostgresStorageError(
                .unavailable, "cannot reach PostgreSQL or the connection dropped (\(psql.code))\(cause)", context: context)
        default:
            return PostgresStorageError(.database, "PostgreSQL client error \(psql.code): \(String(reflecting: psql))", context: context)
        }
    }
}

extension Error {
    /// The SQLSTATE PostgreSQL refused a statement with (`"23505"` for a broken unique key),
    /// whether the error is a ``PostgresStorageError`` or postgres-nio's own; nil otherwise.
    public var postgresSQLState: String? {
        if let error = self as? PostgresStorageError { return error.sqlState }
        if let error = self as? PSQLError { return error.serverInfo?[.sqlState] }
        return nil
    }

    /// Whether this error is PostgreSQL refusing a duplicate unique key (SQLSTATE 23505).
    public var isPostgresUniqueViolation: Bool { postgresSQLState == PostgresStorageError.uniqueViolationState }
}
