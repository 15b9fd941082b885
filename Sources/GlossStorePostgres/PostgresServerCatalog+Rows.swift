import Foundation
import GlossStore
import NIOCore
import PostgresNIO

/// The ``ServerCatalog`` rows in PostgreSQL's SQL. The rights generation is bumped by triggers
/// (see the schema), never here.
extension PostgresServerCatalog {
    // MARK: Users

    public func insertUser(_ user: User) throws {
        try write(subject: user.name) { connection in
            let inserted = try connection.query(
                """
                INSERT INTO users(name, is_admin, created) VALUES (\(user.name), \(user.isAdmin), \(Self.milliseconds(user.createdAt)))
                ON CONFLICT DO NOTHING RETURNING name
                """)
            guard !inserted.isEmpty else {
                throw CatalogError(.alreadyExists, "a user with that name exists", context: user.name)
            }
        }
    }

    public func user(named name: String) throws -> User? {
        try single { connection in
            try connection.query("SELECT name, is_admin, created FROM users WHERE name = \(name)").first.map(Self.user)
        }
    }

    public func users() throws -> [User] {
        try single { connection in
            try connection.query("SELECT name, is_admin, created FROM users ORDER BY name").map(Self.user)
        }
    }

    public func userSummaries() throws -> [UserSummary] {
        try read { connection in
            var grants: [String: [UserSummary.Grant]] = [:]
            for row in try connection.query("SELECT user_name, corpus, role FROM grants ORDER BY user_name, corpus") {
                let (user, corpus, role) = try row.decode((String, String, Int16).self)
                grants[user, default: []].append(UserSummary.Grant(corpus: corpus, role: try self.role(role)))
            }
            var counts: [String: (active: Int, revoked: Int)] = [:]
            for row in try connection.query(
                """
                SELECT user_name, COUNT(*) FILTER (WHERE NOT revoked), COUNT(*) FILTER (WHERE revoked)
                FROM tokens GROUP BY user_name
                """)
            {
                let (user, active, revoked) = try row.decode((String, Int64, Int64).self)
                counts[user] = (Int(active), Int(revoked))
            }
            return try connection.query("SELECT name, is_admin, created FROM users ORDER BY name").map { row in
                let user = try Self.user(row)
                let count = counts[user.name] ?? (0, 0)
                return UserSummary(
                    user: user, grants: grants[user.name] ?? [], activeTokens: count.active, revokedTokens: count.revoked)
            }
        }
    }

    // MARK: Tokens

    public func insertToken(_ token: TokenRecord) throws {
        let info = token.info
        try write(subject: info.id) { connection in
            // The foreign key also holds the user to existing; this names the failure.
            guard try !connection.query("SELECT 1 FROM users WHERE name = \(info.user)").isEmpty else {
                throw CatalogError(.unknownUser, "no such user", context: info.user)
            }
            let inserted = try connection.query(
                """
                INSERT INTO tokens(hash, id, user_name, label, created, revoked)
                VALUES (\(ByteBuffer(bytes: token.hash)), \(info.id), \(info.user), \(info.label),
                    \(Self.milliseconds(info.createdAt)), \(info.isRevoked))
                ON CONFLICT DO NOTHING RETURNING id
                """)
            guard !inserted.isEmpty else {
                throw CatalogError(.alreadyExists, "a token with that hash or id exists", context: info.id)
            }
        }
    }

    public func user(forTokenHash hash: [UInt8]) throws -> User? {
        try single { connection in
            try connection.query(
                """
                SELECT users.name, users.is_admin, users.created FROM tokens JOIN users ON users.name = tokens.user_name
                WHERE tokens.hash = \(ByteBuffer(bytes: hash)) AND NOT tokens.revoked
                """
            ).first.map(Self.user)
        }
    }

    public func revokeToken(id: String) throws {
        try write { connection in
            guard try !connection.query("UPDATE tokens SET revoked = true WHERE id = \(id) RETURNING id").isEmpty else {
                throw CatalogError(.unknownToken, "no token with that id", context: id)
            }
        }
    }

    public func tokens(for user: String) throws -> [TokenInfo] {
        try read { connection in
            guard try !connection.query("SELECT 1 FROM users WHERE name = \(user)").isEmpty else {
                throw CatalogError(.unknownUser, "no such user", context: user)
            }
            return try connection.query(
                "SELECT id, user_name, label, created, revoked FROM tokens WHERE user_name = \(user) ORDER BY created, id"
            ).map(Self.tokenInfo)
        }
    }

    public func tokens() throws -> [TokenInfo] {
        try single { connection in
            try connection.query("SELECT id, user_name, label, created, revoked FROM tokens ORDER BY created, id")
                .map(Self.tokenInfo)
        }
    }

    public func tokenRecords() throws -> [TokenRecord] {
        try single { connection in
            try connection.query("SELECT id, user_name, label, created, revoked, hash FROM tokens ORDER BY created, id")
                .map { row in
                    let (id, user, label, created, revoked, hash) = try row.decode(
                        (String, String, String, Int64, Bool, ByteBuffer).self)
                    return TokenRecord(
                        hash: Array(buffer: hash),
                        info: TokenInfo(id: id, user: user, label: label, createdAt: Self.date(created), isRevoked: revoked))
                }
        }
    }

    // MARK: Corpora

    public func insertCorpus(_ corpus: CorpusRecord, owner: String) throws {
        try write(subject: corpus.name) { connection in
            guard try !connection.query("SELECT 1 FROM users WHERE name = \(owner)").isEmpty else {
                throw CatalogError(.unknownUser, "no such user", context: owner)
            }
            if let existing = try connection.query("SELECT name FROM corpora WHERE lower(name) = lower(\(corpus.name))").first
            {
                throw CatalogError(.alreadyExists, "a corpus with that name exists", context: try existing.decode(String.self))
            }
            // A node creating the same name (in any case) since the check: its row wins.
            let inserted = try connection.query(
                """
                INSERT INTO corpora(name, policy, created)
                VALUES (\(corpus.name), \(corpus.policy.rawValue), \(Self.milliseconds(corpus.createdAt)))
                ON CONFLICT DO NOTHING RETURNING name
                """)
            guard !inserted.isEmpty else {
                throw CatalogError(.alreadyExists, "a corpus with that name exists", context: corpus.name)
            }
            try connection.execute(
                "INSERT INTO grants(corpus, user_name, role) VALUES (\(corpus.name), \(owner), \(Int16(Role.owner.rawValue)))")
        }
    }

    public func corpus(named name: String) throws -> CorpusRecord? {
        try single { connection in
            try connection.query("SELECT name, policy, created FROM corpora WHERE name = \(name)").first.map(Self.corpus)
        }
    }

    public func corpora() throws -> [CorpusRecord] {
        try single { connection in
            try connection.query("SELECT name, policy, created FROM corpora ORDER BY name").map(Self.corpus)
        }
    }

    public func setPolicy(_ policy: CorpusPolicy, of corpus: String) throws {
        try write { connection in
            let updated = try connection.query(
                "UPDATE corpora SET policy = \(policy.rawValue) WHERE name = \(corpus) RETURNING name")
            guard !updated.isEmpty else {
                throw CatalogError(.unknownCorpus, "no such corpus", context: corpus)
            }
        }
    }

    // MARK: Grants

    public func setRole(_ role: Role?, of user: String, in corpus: String) throws {
        try write { connection in
            // The corpus's row lock, held to the commit, serialises its grant changes on every
            // node: the owner count read below cannot change before this transaction ends.
            guard try !connection.query("SELECT 1 FROM corpora WHERE name = \(corpus) FOR UPDATE").isEmpty else {
                throw CatalogError(.unknownCorpus, "no such corpus", context: corpus)
            }
            guard try !connection.query("SELECT 1 FROM users WHERE name = \(user)").isEmpty else {
                throw CatalogError(.unknownUser, "no such user", context: user)
            }
            let current = try connection.query("SELECT role FROM grants WHERE corpus = \(corpus) AND user_name = \(user)")
                .first.map { try $0.decode(Int16.self) }
            if current == Int16(Role.owner.rawValue), role != .owner {
                let owners = try connection.query(
                    "SELECT COUNT(*) FROM grants WHERE corpus = \(corpus) AND role = \(Int16(Role.owner.rawValue))"
                ).first?.decode(Int64.self) ?? 0
                guard owners > 1 else {
                    throw CatalogError(.lastOwner, "the corpus would be left without an owner", context: corpus)
                }
            }
            if let role {
                try connection.execute(
                    """
                    INSERT INTO grants(corpus, user_name, role) VALUES (\(corpus), \(user), \(Int16(role.rawValue)))
                    ON CONFLICT (corpus, user_name) DO UPDATE SET role = excluded.role
                    """)
            } else {
                try connection.execute("DELETE FROM grants WHERE corpus = \(corpus) AND user_name = \(user)")
            }
        }
    }

    public func grants(corpus: String) throws -> [(user: String, role: Role)] {
        try read { connection in
            guard try !connection.query("SELECT 1 FROM corpora WHERE name = \(corpus)").isEmpty else {
                throw CatalogError(.unknownCorpus, "no such corpus", context: corpus)
            }
            return try connection.query("SELECT user_name, role FROM grants WHERE corpus = \(corpus) ORDER BY user_name")
                .map { row in
                    let (user, role) = try row.decode((String, Int16).self)
                    return (user, try self.role(role))
                }
        }
    }

    public func corpora(visibleTo user: String) throws -> [(CorpusRecord, Role)] {
        try read { connection in
            guard let isAdmin = try connection.query("SELECT is_admin FROM users WHERE name = \(user)").first?.decode(Bool.self)
            else {
                throw CatalogError(.unknownUser, "no such user", context: user)
            }
            if isAdmin {
                return try connection.query("SELECT name, policy, created FROM corpora ORDER BY name").map {
                    (try Self.corpus($0), .owner)
                }
            }
            return try connection.query(
                """
                SELECT corpora.name, corpora.policy, corpora.created, grants.role
                FROM grants JOIN corpora ON corpora.name = grants.corpus
                WHERE grants.user_name = \(user) ORDER BY corpora.name
                """
            ).map { row in (try Self.corpus(row), try self.role(row.decode((String, String, Int64, Int16).self).3)) }
        }
    }

    public func access(of user: String, in corpus: String) throws -> (generation: Int64, access: CorpusAccess?) {
        try single { connection in
            // One statement reads one snapshot, so the generation matches the rights it comes with.
            let rows = try connection.query(
                """
                SELECT rights_generation.value, corpora.policy, users.is_admin, grants.role
                FROM rights_generation
                LEFT JOIN corpora ON corpora.name = \(corpus)
                LEFT JOIN users ON users.name = \(user)
                LEFT JOIN grants ON grants.corpus = corpora.name AND grants.user_name = users.name
                WHERE rights_generation.id = 1
                """)
            guard let row = rows.first else {
                throw CatalogError(.unsupportedFormat, "the catalog has no rights generation", context: location)
            }
            let (generation, policyName, isAdmin, granted) = try row.decode((Int64, String?, Bool?, Int16?).self)
            guard let policyName else { return (generation, nil) }
            // The CHECK constraint keeps the column to known policies.
            let policy = CorpusPolicy(rawValue: policyName) ?? .shared
            let role: Role? = isAdmin == true ? .owner : try granted.map(self.role)
            return (generation, role.map { CorpusAccess(role: $0, policy: policy) })
        }
    }

    /// From memory while ``watchRights(logger:retryDelay:)`` listens, else one statement.
    public func rightsGeneration() throws -> Int64 {
        try rightsWatch.generation(readRightsGeneration)
    }

    private func readRightsGeneration() throws -> Int64 {
        try single { connection in
            guard let generation = try connection.query("SELECT value FROM rights_generation WHERE id = 1")
                .first?.decode(Int64.self)
            else {
                throw CatalogError(.unsupportedFormat, "the catalog has no rights generation", context: location)
            }
            return generation
        }
    }

    // MARK: Rows

    private func role(_ rawValue: Int16) throws -> Role {
        guard let role = Role(rawValue: Int(rawValue)) else {
            throw CatalogError(.unsupportedFormat, "unknown role number \(rawValue) in the database", context: location)
        }
        return role
    }

    private static func user(_ row: PostgresRow) throws -> User {
        let (name, isAdmin, created) = try row.decode((String, Bool, Int64).self)
        return User(name: name, isAdmin: isAdmin, createdAt: date(created))
    }

    private static func tokenInfo(_ row: PostgresRow) throws -> TokenInfo {
        let (id, user, label, created, revoked) = try row.decode((String, String, String, Int64, Bool).self)
        return TokenInfo(id: id, user: user, label: label, createdAt: date(created), isRevoked: revoked)
    }

    private static func corpus(_ row: PostgresRow) throws -> CorpusRecord {
        let (name, policy, created) = try row.decode((String, String, Int64).self)
        // The CHECK constraint keeps the column to known policies.
        return CorpusRecord(name: name, policy: CorpusPolicy(rawValue: policy) ?? .shared, createdAt: date(created))
    }

    /// Timestamps are stored as milliseconds since 1970.
    static func milliseconds(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded()) }
    static func date(_ milliseconds: Int64) -> Date { Date(timeIntervalSince1970: Double(milliseconds) / 1000) }
}
