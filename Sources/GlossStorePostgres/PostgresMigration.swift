import PostgresNIO

/// One step of a component's schema, applied once per database by
/// ``PostgresConnectionPool/migrate(component:_:)`` in a transaction of its own.
public struct PostgresMigration: Sendable {
    /// Steps apply in ascending version order; a database records the versions it has.
    public var version: Int
    /// What the step does, for logs.
    public var summary: String
    let apply: @Sendable (BlockingPostgresConnection) throws -> Void

    /// A step that runs `statements` in order.
    public init(version: Int, _ summary: String, statements: [String]) {
        self.version = version
        self.summary = summary
        self.apply = { connection in
            for sql in statements { try connection.execute(PostgresQuery(unsafeSQL: sql)) }
        }
    }

    /// A step that runs arbitrary work on the migration's transaction.
    public init(version: Int, _ summary: String, apply: @escaping @Sendable (BlockingPostgresConnection) throws -> Void) {
        self.version = version
        self.summary = summary
        self.apply = apply
    }
}
