import GRDB

/// The catalog's tables, as GRDB migrations. The identifiers (`v1`, `v2-rights-generation`) are
/// recorded in every existing `server.sqlite`: never rename or change them, only add new ones.
extension SQLiteServerCatalog {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE users(
                        name TEXT PRIMARY KEY NOT NULL, is_admin INTEGER NOT NULL, created INTEGER NOT NULL);
                    CREATE TABLE tokens(
                        hash BLOB PRIMARY KEY NOT NULL, id TEXT NOT NULL UNIQUE,
                        user TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
                        label TEXT NOT NULL, created INTEGER NOT NULL, revoked INTEGER NOT NULL);
                    CREATE INDEX tokens_by_user ON tokens(user);
                    CREATE TABLE corpora(
                        name TEXT PRIMARY KEY NOT NULL,
                        policy TEXT NOT NULL CHECK (policy IN ('shared', 'own')), created INTEGER NOT NULL);
                    -- Lookups are exact; uniqueness ignores case (one file per corpus).
                    CREATE UNIQUE INDEX corpora_by_folded_name ON corpora(name COLLATE NOCASE);
                    CREATE TABLE grants(
                        corpus TEXT NOT NULL REFERENCES corpora(name) ON DELETE CASCADE,
                        user TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
                        role INTEGER NOT NULL, PRIMARY KEY(corpus, user)) WITHOUT ROWID;
                    CREATE INDEX grants_by_user ON grants(user);
                    """)
        }
        migrator.registerMigration("v2-rights-generation") { db in
            // See rightsGeneration(). Triggers rather than a bump in each write method: a
            // writer that knows nothing of the counter (an older method, a repair in the sqlite3
            // shell) still bumps it, in its own transaction. Foreign-key cascades fire them too.
            try db.execute(
                sql: """
                    CREATE TABLE rights_generation(id INTEGER PRIMARY KEY CHECK (id = 1), value INTEGER NOT NULL);
                    INSERT INTO rights_generation(id, value) VALUES (1, 1);
                    """)
            let changes = [
                ("grants", "INSERT"), ("grants", "UPDATE"), ("grants", "DELETE"),
                ("corpora", "INSERT"), ("corpora", "UPDATE"), ("corpora", "DELETE"),
                ("users", "INSERT"), ("users", "UPDATE"), ("users", "DELETE"),
            ]
            for (table, event) in changes {
                try db.execute(
                    sql: """
                        CREATE TRIGGER \(table)_\(event.lowercased())_bumps_rights AFTER \(event) ON \(table)
                        BEGIN UPDATE rights_generation SET value = value + 1 WHERE id = 1; END
                        """)
            }
        }
        return migrator
    }
}
