/// The corpus tables on PostgreSQL: the SQLite backend's data model, with a `corpus` column
/// leading every key, so that all corpora of a deployment share one set of tables.
///
/// One set of tables rather than a schema per corpus: a corpus is then a row, created in one
/// statement under a unique name, not a DDL migration per corpus; migrations run once per
/// database; and the catalog of tables stays small however many corpora there are.
///
/// Text keys that are ordered (`documents.id`, `meta.key`) use the `C` collation: byte order,
/// as SQLite's, whatever the database's locale. Stored blobs are `bytea` with `STORAGE
/// EXTERNAL`: they are deflated already, and PostgreSQL need not try to compress them again.
enum PostgresCorpusSchema {
    /// The name under which ``PostgresConnectionPool/migrate(component:_:)`` records these tables.
    static let component = "corpus"

    static let migrations: [PostgresMigration] = [
        PostgresMigration(
            version: 1, "corpus tables",
            statements: [
                """
                CREATE TABLE corpora_storage(
                    key integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL UNIQUE)
                """,
                """
                CREATE TABLE revisions(
                    corpus integer NOT NULL, rev bigint NOT NULL, changeset bytea NOT NULL, replica bigint NOT NULL,
                    author text NOT NULL, base bigint NOT NULL, message text NOT NULL, time bigint NOT NULL,
                    ops bigint NOT NULL, PRIMARY KEY(corpus, rev), UNIQUE(corpus, changeset))
                """,
                // Document keys are unique in the whole database (one identity column): simpler
                // than a counter per corpus, and never 0, the key of the corpus-level chain.
                """
                CREATE TABLE documents(
                    key bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, corpus integer NOT NULL,
                    id text COLLATE "C" NOT NULL, digest bytea NOT NULL, length bigint NOT NULL, metadata bytea NOT NULL,
                    added bigint NOT NULL, removed bigint, chain_len bigint NOT NULL, chain_bytes bigint NOT NULL,
                    base_bytes bigint NOT NULL, UNIQUE(corpus, id))
                """,
                "CREATE INDEX documents_by_added ON documents(corpus, added)",
                """
                CREATE TABLE texts(
                    corpus integer NOT NULL, digest bytea NOT NULL, raw_len bigint NOT NULL, data bytea NOT NULL,
                    PRIMARY KEY(corpus, digest))
                """,
                """
                CREATE TABLE deltas(
                    corpus integer NOT NULL, rev bigint NOT NULL, doc bigint NOT NULL, base boolean NOT NULL,
                    raw_len bigint NOT NULL, data bytea NOT NULL, PRIMARY KEY(corpus, rev, doc))
                """,
                "CREATE INDEX deltas_by_doc ON deltas(corpus, doc, rev)",
                """
                CREATE TABLE snapshots(
                    corpus integer NOT NULL, doc bigint NOT NULL, rev bigint NOT NULL, raw_len bigint NOT NULL,
                    data bytea NOT NULL, PRIMARY KEY(corpus, doc, rev))
                """,
                """
                CREATE TABLE head(
                    corpus integer NOT NULL, doc bigint NOT NULL, replica bigint NOT NULL, counter bigint NOT NULL,
                    body bytea NOT NULL, PRIMARY KEY(corpus, doc, replica, counter))
                """,
                """
                CREATE TABLE refs(
                    corpus integer NOT NULL, doc bigint NOT NULL, t_replica bigint NOT NULL, t_counter bigint NOT NULL,
                    s_replica bigint NOT NULL, s_counter bigint NOT NULL,
                    PRIMARY KEY(corpus, doc, t_replica, t_counter, s_replica, s_counter))
                """,
                """
                CREATE TABLE head_blocks(
                    corpus integer NOT NULL, doc bigint NOT NULL, entries bigint NOT NULL, raw_len bigint NOT NULL,
                    data bytea NOT NULL, PRIMARY KEY(corpus, doc))
                """,
                """
                CREATE TABLE meta(
                    corpus integer NOT NULL, key text COLLATE "C" NOT NULL, value bytea NOT NULL, PRIMARY KEY(corpus, key))
                """,
                "ALTER TABLE texts ALTER COLUMN data SET STORAGE EXTERNAL",
                "ALTER TABLE deltas ALTER COLUMN data SET STORAGE EXTERNAL",
                "ALTER TABLE snapshots ALTER COLUMN data SET STORAGE EXTERNAL",
                "ALTER TABLE head_blocks ALTER COLUMN data SET STORAGE EXTERNAL",
            ]),
        // What each changeset said, to tell a retry from a reused id; older rows have none.
        PostgresMigration(
            version: 2, "changeset content digests",
            statements: ["ALTER TABLE revisions ADD COLUMN content bytea"]),
        // The last revision that revised a document's text; documents stored before have none.
        PostgresMigration(
            version: 3, "text revisions",
            statements: [
                "ALTER TABLE documents ADD COLUMN text_revised bigint",
                "CREATE INDEX documents_by_text_revised ON documents(corpus, text_revised)",
            ]),
    ]

    /// The tables holding a corpus's rows (for sizes and for dropping a corpus).
    static let corpusTables = ["revisions", "documents", "texts", "deltas", "snapshots", "head", "refs", "head_blocks", "meta"]
}
