import Foundation
import GRDB
import GlossStore

/// The ``ServerCatalog`` rows in SQL. The rights generation is bumped by triggers (see the
/// schema), never here: any writer of the file bumps it, whatever tool it is.
extension SQLiteServerCatalog {
    // MARK: Users

    public func insertUser(_ user: User) throws {
        try write(subject: user.name) { db in
            guard try !Self.userExists(db, user.name) else {
                throw CatalogError(.alreadyExists, "a user with that name exists", context: user.name)
            }
            try db.execute(
                sql: "INSERT INTO users(name, is_admin, created) VALUES (?, ?, ?)",
                arguments: [user.name, user.isAdmin, Self.milliseconds(user.createdAt)])
        }
    }

    public func user(named name: String) throws -> User? {
        try read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM users WHERE name = ?", arguments: [name]).map(Self.user)
        }
    }

    public func users() throws -> [User] {
        try read { db in try Row.fetchAll(db, sql: "SELECT * FROM users ORDER BY name").map(Self.user) }
    }

    public func userSummaries() throws -> [UserSummary] {
        try read { db in
            var grants: [String: [UserSummary.Grant]] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT user, corpus, role FROM grants ORDER BY user, corpus") {
                grants[row["user"], default: []].append(
                    UserSummary.Grant(corpus: row["corpus"], role: try self.role(row["role"])))
            }
            var counts: [String: (active: Int, revoked: Int)] = [:]
            for row in try Row.fetchAll(
                db, sql: "SELECT user, SUM(revoked = 0) AS active, SUM(revoked != 0) AS revoked FROM tokens GROUP BY user")
            {
                counts[row["user"]] = (row["active"], row["revoked"])
            }
            return try Row.fetchAll(db, sql: "SELECT * FROM users ORDER BY name").map { row in
                let user = Self.user(row)
                let count = counts[user.name] ?? (0, 0)
                return UserSummary(
                    user: user, grants: grants[user.name] ?? [], activeTokens: count.active, revokedTokens: count.revoked)
            }
        }
    }

    // MARK: Tokens

    public func insertToken(_ token: TokenRecord) throws {
        let info = token.info
        try write(subject: info.id) { db in
            guard try Self.userExists(db, info.user) else {
                throw CatalogError(.unknownUser, "no such user", context: info.user)
            }
            guard try !Bool.fetchOne(db, sql: "SELECT EXISTS(SELECT 1 FROM tokens WHERE id = ?)", arguments: [info.id])!
            else {
                throw CatalogError(.alreadyExists, "a token with that id exists", context: info.id)
            }
            try db.execute(
                sql: "INSERT INTO tokens(hash, id, user, label, created, revoked) VALUES (?, ?, ?, ?, ?, ?)",
                arguments: [Data(token.hash), info.id, info.user, info.label, Self.milliseconds(info.createdAt), info.isRevoked])
        }
    }

    public func user(forTokenHash hash: [UInt8]) throws -> User? {
        try read { db in
            try Row.fetchOne(
                db,
                sql: """
                    SELECT users.* FROM tokens JOIN users ON users.name = tokens.user
                    WHERE tokens.hash = ? AND tokens.revoked = 0
                    """,
                arguments: [Data(hash)]
            ).map(Self.user)
        }
    }

    public func revokeToken(id: String) throws {
        try write { db in
            try db.execute(sql: "UPDATE tokens SET revoked = 1 WHERE id = ?", arguments: [id])
            guard db.changesCount > 0 else {
                throw CatalogError(.unknownToken, "no token with that id", context: id)
            }
        }
    }

    public func tokens(for user: String) throws -> [TokenInfo] {
        try read { db in
            guard try Self.userExists(db, user) else {
                throw CatalogError(.unknownUser, "no such user", context: user)
            }
            return try Row.fetchAll(
                db, sql: "SELECT id, user, label, created, revoked FROM tokens WHERE user = ? ORDER BY created, id",
                arguments: [user]
            ).map(Self.tokenInfo)
        }
    }

    public func tokens() throws -> [TokenInfo] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT id, user, label, created, revoked FROM tokens ORDER BY created, id")
                .map(Self.tokenInfo)
        }
    }

    public func tokenRecords() throws -> [TokenRecord] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT hash, id, user, label, created, revoked FROM tokens ORDER BY created, id")
                .map { row in TokenRecord(hash: [UInt8](row["hash"] as Data), info: Self.tokenInfo(row)) }
        }
    }

    // MARK: Corpora

    public func insertCorpus(_ corpus: CorpusRecord, owner: String) throws {
        try write(subject: corpus.name) { db in
            guard try Self.userExists(db, owner) else {
                throw CatalogError(.unknownUser, "no such user", context: owner)
            }
            if let existing = try String.fetchOne(
                db, sql: "SELECT name FROM corpora WHERE name = ? COLLATE NOCASE", arguments: [corpus.name])
            {
                throw CatalogError(.alreadyExists, "a corpus with that name exists", context: existing)
            }
            try db.execute(
                sql: "INSERT INTO corpora(name, policy, created) VALUES (?, ?, ?)",
                arguments: [corpus.name, corpus.policy.rawValue, Self.milliseconds(corpus.createdAt)])
            try db.execute(
                sql: "INSERT INTO grants(corpus, user, role) VALUES (?, ?, ?)",
                arguments: [corpus.name, owner, Role.owner.rawValue])
        }
    }

    public func corpus(named name: String) throws -> CorpusRecord? {
        try read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM corpora WHERE name = ?", arguments: [name]).map(Self.corpus)
        }
    }

    public func corpora() throws -> [CorpusRecord] {
        try read { db in try Row.fetchAll(db, sql: "SELECT * FROM corpora ORDER BY name").map(Self.corpus) }
    }

    public func setPolicy(_ policy: CorpusPolicy, of corpus: String) throws {
        try write { db in
            try db.execute(sql: "UPDATE corpora SET policy = ? WHERE name = ?", arguments: [policy.rawValue, corpus])
            guard db.changesCount > 0 else {
                throw CatalogError(.unknownCorpus, "no such corpus", context: corpus)
            }
        }
    }

    // MARK: Grants

    public func setRole(_ role: Role?, of user: String, in corpus: String) throws {
        // SQLite serialises writers, so the owner count cannot change between the check and the write.
        try write { db in
            guard try Self.corpusExists(db, corpus) else {
                throw CatalogError(.unknownCorpus, "no such corpus", context: corpus)
            }
            guard try Self.userExists(db, user) else {
                throw CatalogError(.unknownUser, "no such user", context: user)
            }
            let current = try Int.fetchOne(
                db, sql: "SELECT role FROM grants WHERE corpus = ? AND user = ?", arguments: [corpus, user])
            if current == Role.owner.rawValue, role != .owner {
                let owners = try Int.fetchOne(
                    db, sql: "SELECT COUNT(*) FROM grants WHERE corpus = ? AND role = ?",
                    arguments: [corpus, Role.owner.rawValue])!
                guard owners > 1 else {
                    throw CatalogError(.lastOwner, "the corpus would be left without an owner", context: corpus)
                }
            }
            if let role {
                try db.execute(
                    sql: """
                        INSERT INTO grants(corpus, user, role) VALUES (?, ?, ?)
                        ON CONFLICT(corpus, user) DO UPDATE SET role = excluded.role
                        """,
                    arguments: [corpus, user, role.rawValue])
            } else {
                try db.execute(sql: "DELETE FROM grants WHERE corpus = ? AND user = ?", arguments: [corpus, user])
            }
        }
    }

    public func grants(corpus: String) throws -> [(user: String, role: Role)] {
        try read { db in
            guard try Self.corpusExists(db, corpus) else {
                throw CatalogError(.unknownCorpus, "no such corpus", context: corpus)
            }
            return try Row.fetchAll(
                db, sql: "SELECT user, role FROM grants WHERE corpus = ? ORDER BY user", arguments: [corpus]
            ).map { row in (row["user"], try self.role(row["role"])) }
        }
    }

    public func corpora(visibleTo user: String) throws -> [(CorpusRecord, Role)] {
        try read { db in
            guard let isAdmin = try Bool.fetchOne(db, sql: "SELECT is_admin FROM users WHERE name = ?", arguments: [user])
            else {
                throw CatalogError(.unknownUser, "no such user", context: user)
            }
            if isAdmin {
                return try Row.fetchAll(db, sql: "SELECT * FROM corpora ORDER BY name").map { (Self.corpus($0), .owner) }
            }
            return try Row.fetchAll(
                db,
                sql: """
                    SELECT corpora.*, grants.role FROM grants JOIN corpora ON corpora.name = grants.corpus
                    WHERE grants.user = ? ORDER BY corpora.name
                    """,
                arguments: [user]
            ).map { row in (Self.corpus(row), try self.role(row["role"])) }
        }
    }

    public func access(of user: String, in corpus: String) throws -> (generation: Int64, access: CorpusAccess?) {
        try unisolatedRead { db in
            // One statement reads one snapshot, so the generation matches the rights it comes with.
            let row = try Row.fetchOne(
                db.cachedStatement(
                    sql: """
                        SELECT rights_generation.value AS generation, corpora.policy, users.is_admin, grants.role
                        FROM rights_generation
                        LEFT JOIN corpora ON corpora.name = ?
                        LEFT JOIN users ON users.name = ?
                        LEFT JOIN grants ON grants.corpus = corpora.name AND grants.user = users.name
                        WHERE rights_generation.id = 1
                        """),
                arguments: [corpus, user])
            guard let row else {
                throw CatalogError(.unsupportedFormat, "the account database has no rights generation", context: path)
            }
            let generation: Int64 = row["generation"]
            // The CHECK constraint keeps the column to known policies.
            guard let policy = (row["policy"] as String?).map({ CorpusPolicy(rawValue: $0) ?? .shared }) else {
                return (generation, nil)
            }
            let role: Role? = (row["is_admin"] as Bool?) == true ? .owner : try (row["role"] as Int?).map(self.role)
            return (generation, role.map { CorpusAccess(role: $0, policy: policy) })
        }
    }

    /// One primary-key `SELECT`, outside any transaction: cheap enough to ask before every
    /// request.
    public func rightsGeneration() throws -> Int64 {
        try unisolatedRead { db in
            guard let generation = try Int64.fetchOne(
                db.cachedStatement(sql: "SELECT value FROM rights_generation WHERE id = 1"))
            else {
                throw CatalogError(.unsupportedFormat, "the account database has no rights generation", context: path)
            }
            return generation
        }
    }

    // MARK: Rows

    private static func userExists(_ db: Database, _ name: String) throws -> Bool {
        try Bool.fetchOne(db, sql: "SELECT EXISTS(SELECT 1 FROM users WHERE name = ?)", arguments: [name]) ?? false
    }

    private static func corpusExists(_ db: Database, _ name: String) throws -> Bool {
        try Bool.fetchOne(db, sql: "SELECT EXISTS(SELECT 1 FROM corpora WHERE name = ?)", arguments: [name]) ?? false
    }

    private func role(_ rawValue: Int) throws -> Role {
        guard let role = Role(rawValue: rawValue) else {
            throw CatalogError(.unsupportedFormat, "unknown role number \(rawValue) in the database", context: path)
        }
        return role
    }

    private static func user(_ row: Row) -> User {
        User(name: row["name"], isAdmin: row["is_admin"], createdAt: date(row["created"]))
    }

    private static func tokenInfo(_ row: Row) -> TokenInfo {
        TokenInfo(
            id: row["id"], user: row["user"], label: row["label"], createdAt: date(row["created"]), isRevoked: row["revoked"])
    }

    private static func corpus(_ row: Row) -> CorpusRecord {
        // The CHECK constraint keeps the column to known policies.
        CorpusRecord(
            name: row["name"], policy: CorpusPolicy(rawValue: row["policy"]) ?? .shared, createdAt: date(row["created"]))
    }

    /// Timestamps are stored as milliseconds since 1970.
    private static func milliseconds(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded()) }
    private static func date(_ milliseconds: Int64) -> Date { Date(timeIntervalSince1970: Double(milliseconds) / 1000) }
}
