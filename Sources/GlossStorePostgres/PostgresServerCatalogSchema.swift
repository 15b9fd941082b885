/// The server catalog's tables on PostgreSQL: the SQLite catalog's data model, which every
/// glossd node on the database shares, plus the cluster's one TLS identity.
///
/// - Names are text in the `C` collation: exact comparison and byte order, as SQLite's, whatever
///   the database's locale. Corpus names are also unique regardless of case, through a unique
///   index on `lower(name)` (in the `C` collation `lower` folds ASCII only, as SQLite's `NOCASE`).
/// - `user` is a reserved word in PostgreSQL, so user columns are `user_name`.
/// - Timestamps are milliseconds since 1970 (`bigint`), as in SQLite: exact round trips.
/// - The rights generation is one row, bumped by statement triggers on `users`, `corpora` and
///   `grants` in the transaction of the change, whoever makes it (a glossd node, `psql`):
///   the row's lock orders the bumps, so every committed change gets a higher number. Each bump
///   also notifies `gloss_rights` (from version 2), for nodes that keep the value in memory.
enum PostgresServerCatalogSchema {
    /// The name under which ``PostgresConnectionPool/migrate(component:_:)`` records these tables.
    static let component = "catalog"

    static let migrations: [PostgresMigration] = [
        PostgresMigration(
            version: 1, "users, tokens, corpora, grants, rights generation, server identity",
            statements: [
                """
                CREATE TABLE users(
                    name text COLLATE "C" PRIMARY KEY, is_admin boolean NOT NULL, created bigint NOT NULL)
                """,
                """
                CREATE TABLE tokens(
                    hash bytea PRIMARY KEY, id text COLLATE "C" NOT NULL UNIQUE,
                    user_name text COLLATE "C" NOT NULL REFERENCES users(name) ON DELETE CASCADE,
                    label text NOT NULL, created bigint NOT NULL, revoked boolean NOT NULL)
                """,
                "CREATE INDEX tokens_by_user ON tokens(user_name)",
                """
                CREATE TABLE corpora(
                    name text COLLATE "C" PRIMARY KEY,
                    policy text NOT NULL CHECK (policy IN ('shared', 'own')), created bigint NOT NULL)
                """,
                // Lookups are exact; uniqueness ignores case (one file per corpus on some nodes).
                "CREATE UNIQUE INDEX corpora_by_folded_name ON corpora(lower(name))",
                """
                CREATE TABLE grants(
                    corpus text COLLATE "C" NOT NULL REFERENCES corpora(name) ON DELETE CASCADE,
                    user_name text COLLATE "C" NOT NULL REFERENCES users(name) ON DELETE CASCADE,
                    role smallint NOT NULL, PRIMARY KEY(corpus, user_name))
                """,
                "CREATE INDEX grants_by_user ON grants(user_name)",
                "CREATE TABLE rights_generation(id integer PRIMARY KEY CHECK (id = 1), value bigint NOT NULL)",
                "INSERT INTO rights_generation(id, value) VALUES (1, 1)",
                """
                CREATE FUNCTION gloss_bump_rights_generation() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    UPDATE rights_generation SET value = value + 1 WHERE id = 1;
                    RETURN NULL;
                END
                $$
                """,
                """
                CREATE TRIGGER users_bump_rights AFTER INSERT OR UPDATE OR DELETE ON users
                FOR EACH STATEMENT EXECUTE FUNCTION gloss_bump_rights_generation()
                """,
                """
                CREATE TRIGGER corpora_bump_rights AFTER INSERT OR UPDATE OR DELETE ON corpora
                FOR EACH STATEMENT EXECUTE FUNCTION gloss_bump_rights_generation()
                """,
                """
                CREATE TRIGGER grants_bump_rights AFTER INSERT OR UPDATE OR DELETE ON grants
                FOR EACH STATEMENT EXECUTE FUNCTION gloss_bump_rights_generation()
                """,
                // One row: the certificate every node presents. The key is a secret: whoever may
                // read this table may impersonate the server.
                """
                CREATE TABLE server_identity(
                    id integer PRIMARY KEY CHECK (id = 1), certificate_pem text NOT NULL, key_pem text NOT NULL,
                    created timestamptz NOT NULL DEFAULT now())
                """,
            ]),
        // Nodes keep the generation in memory while they listen (PostgresRightsWatch): the bump
        // tells them, when it commits.
        PostgresMigration(
            version: 2, "notify the rights generation's bumps",
            statements: [
                """
                CREATE OR REPLACE FUNCTION gloss_bump_rights_generation() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    UPDATE rights_generation SET value = value + 1 WHERE id = 1;
                    PERFORM pg_notify('\(PostgresRightsWatch.channel)', '');
                    RETURN NULL;
                END
                $$
                """
            ]),
    ]
}
