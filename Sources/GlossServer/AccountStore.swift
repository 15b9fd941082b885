import Crypto
import Foundation
import GRDB
import GlossStore
import GlossStoreSQLite

/// Users, bearer tokens, corpora and per-corpus grants, in one SQLite file.
///
/// Tokens are stored only as SHA-256 hashes of their secrets: a copy of the database does not
/// let anyone authenticate. The file uses WAL with `synchronous = FULL`, so a change is durable
/// when its method returns. Methods are safe to call from any thread; each runs in one
/// transaction.
///
/// Naming rules: user names are 1–64 characters of `a-z 0-9 . _ -`; corpus names 1–64
/// characters of `a-z A-Z 0-9 . _ -`, unique regardless of case (each corpus gets its own file,
/// and some file systems ignore case). Both start with a letter or digit, which keeps `.`,
/// `..` and option-like names such as `-rf` out.
public final class AccountStore: Sendable {
    let pool: DatabasePool
    /// The database file.
    public let path: String

    /// The longest token label accepted, in characters.
    public static let maxLabelLength = 128

    /// Checkpoints and truncates the account database's journal (at shutdown).
    public func compactJournal() {
        try? pool.writeWithoutTransaction { db in _ = try db.checkpoint(.truncate) }
    }

    /// Opens (creating if needed) the account database at `path`.
    ///
    /// - Throws: ``AccountError``: `backend` when the file cannot be opened or migrated,
    ///   `unsupportedFormat` when a newer glossd has migrated it.
    public convenience init(path: String) throws {
        try self.init(path: path, tracingStatements: nil)
    }

    /// Opens the database with `trace` called for each SQL statement any of its connections
    /// runs (tests count the statements a request costs).
    init(path: String, tracingStatements trace: (@Sendable (String) -> Void)?) throws {
        self.path = path
        var configuration = Configuration()
        // An admin command may write while the server runs: wait for its lock instead of failing.
        configuration.busyMode = .timeout(5)
        if let trace {
            configuration.prepareDatabase { db in db.trace(options: .statement) { trace($0.description) } }
        }
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
            // GRDB sets `synchronous = NORMAL` on the writer when it enables WAL: a commit
            // could then be lost on power failure. Only the writer commits, so set it there.
            try pool.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA synchronous = FULL")
                guard try Int.fetchOne(db, sql: "PRAGMA synchronous") == 2 else {
                    throw AccountError(.backend, "SQLite refused synchronous = FULL", context: path)
                }
            }
            if try pool.read(Self.migrator.hasBeenSuperseded) {
                throw AccountError(
                    .unsupportedFormat, "the account database was written by a newer glossd", context: path)
            }
            try Self.migrator.migrate(pool)
        } catch let error as AccountError {
            throw error
        } catch {
            throw AccountError(.backend, "cannot open the account database: \(error)", context: path)
        }
    }

    /// The writer connection's `synchronous` setting (2 = FULL: every commit is fsynced).
    public func writerSynchronousLevel() throws -> Int {
        try translatingErrors {
            try pool.writeWithoutTransaction { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1 }
        }
    }

    // MARK: Backup

    /// Writes a consistent copy of the account database to a new file at `path` with SQLite's
    /// online backup API, while the server keeps using this store (and others keep writing).
    ///
    /// The copy is taken in one step inside one read transaction: in WAL mode that never blocks
    /// a writer, and it cannot be restarted by one, so it finishes under load.
    ///
    /// - Throws: ``AccountError`` `alreadyExists` when `path` exists, `backend` when the copy fails.
    public func backup(to path: String) throws {
        guard !FileManager.default.fileExists(atPath: path) else {
            throw AccountError(.alreadyExists, "the backup destination exists", context: path)
        }
        do {
            // The same copy as the corpus stores' (one step, rollback-journal mode).
            try SQLiteCorpusBackend.backup(from: pool, to: path)
        } catch let error as StoreError {
            throw AccountError(.backend, "backup failed: \(error.message)", context: path)
        }
    }

    // MARK: Users

    /// Creates a user.
    ///
    /// - Throws: ``AccountError``: `invalidName`, `alreadyExists`.
    @discardableResult
    public func addUser(_ name: String, isAdmin: Bool = false) throws -> User {
        try Self.validateUserName(name)
        let user = User(name: name, isAdmin: isAdmin, createdAt: Self.now())
        try write { db in
            guard try !Self.userExists(db, name) else {
                throw AccountError(.alreadyExists, "a user with that name exists", context: name)
            }
            try db.execute(
                sql: "INSERT INTO users(name, is_admin, created) VALUES (?, ?, ?)",
                arguments: [name, isAdmin, Self.milliseconds(user.createdAt)])
        }
        return user
    }

    /// The user with this exact name, or nil.
    public func user(named name: String) throws -> User? {
        try read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM users WHERE name = ?", arguments: [name]).map(Self.user)
        }
    }

    /// All users, by name.
    public func users() throws -> [User] {
        try read { db in try Row.fetchAll(db, sql: "SELECT * FROM users ORDER BY name").map(Self.user) }
    }

    /// Every user with their grants and token counts, by name, read in one transaction (for
    /// `glossd user list`).
    public func userSummaries() throws -> [UserSummary] {
        try read { db in
            var grants: [String: [UserSummary.Grant]] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT user, corpus, role FROM grants ORDER BY user, corpus") {
                grants[row["user"], default: []].append(UserSummary.Grant(corpus: row["corpus"], role: try Self.role(row["role"])))
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

    /// Issues a new bearer token for `user`. Its secret is in the result and nowhere else.
    ///
    /// - Parameter label: a note for listings ("laptop", "CI" …), at most
    ///   ``maxLabelLength`` characters, no control characters.
    /// - Throws: ``AccountError``: `unknownUser`, `invalidLabel`.
    public func issueToken(for user: String, label: String = "") throws -> IssuedToken {
        guard label.count <= Self.maxLabelLength,
            !label.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
        else {
            throw AccountError(
                .invalidLabel, "a token label has at most \(Self.maxLabelLength) characters and no control characters",
                context: label)
        }
        return try write { db in
            guard try Self.userExists(db, user) else {
                throw AccountError(.unknownUser, "no such user", context: user)
            }
            // The id is only 32 bits of the hash: draw again in the rare case it is taken.
            while true {
                let secret = Self.newSecret()
                let hash = Self.hash(secret)
                let id = Self.tokenID(hash: hash)
                guard try !Bool.fetchOne(db, sql: "SELECT EXISTS(SELECT 1 FROM tokens WHERE id = ?)", arguments: [id])!
                else { continue }
                try db.execute(
                    sql: "INSERT INTO tokens(hash, id, user, label, created, revoked) VALUES (?, ?, ?, ?, ?, 0)",
                    arguments: [hash, id, user, label, Self.milliseconds(Self.now())])
                return IssuedToken(id: id, secret: secret, user: user)
            }
        }
    }

    /// The user a token authenticates, or nil when the token is unknown or revoked (or is not
    /// shaped like one of ours: no `gls_` prefix, or longer than 256 bytes).
    public func authenticate(token: String) throws -> User? {
        // Not one of ours: spare the lookup (and hashing arbitrarily long input).
        guard token.hasPrefix(Self.tokenPrefix), token.utf8.count <= 256 else { return nil }
        return try read { db in
            try Row.fetchOne(
                db,
                sql: """
                    SELECT users.* FROM tokens JOIN users ON users.name = tokens.user
                    WHERE tokens.hash = ? AND tokens.revoked = 0
                    """,
                arguments: [Self.hash(token)]
            ).map(Self.user)
        }
    }

    /// Revokes a token by its id (as shown by ``tokens(for:)``, any case). Revoking a revoked
    /// token does nothing.
    ///
    /// - Throws: ``AccountError``: `unknownToken`.
    public func revokeToken(id: String) throws {
        try write { db in
            try db.execute(sql: "UPDATE tokens SET revoked = 1 WHERE id = ?", arguments: [id.lowercased()])
            guard db.changesCount > 0 else {
                throw AccountError(.unknownToken, "no token with that id", context: id)
            }
        }
    }

    /// The tokens of `user`, oldest first, revoked ones included.
    ///
    /// - Throws: ``AccountError``: `unknownUser`.
    public func tokens(for user: String) throws -> [TokenInfo] {
        try read { db in
            guard try Self.userExists(db, user) else {
                throw AccountError(.unknownUser, "no such user", context: user)
            }
            return try Row.fetchAll(
                db, sql: "SELECT id, user, label, created, revoked FROM tokens WHERE user = ? ORDER BY created, id",
                arguments: [user]
            ).map(Self.tokenInfo)
        }
    }

    /// Every user's tokens, oldest first (then by id), revoked ones included. Only what a
    /// listing may show: the store has no secrets.
    public func tokens() throws -> [TokenInfo] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT id, user, label, created, revoked FROM tokens ORDER BY created, id")
                .map(Self.tokenInfo)
        }
    }

    // MARK: Corpora

    /// Registers a corpus and makes `owner` its owner.
    ///
    /// - Throws: ``AccountError``: `invalidName`, `alreadyExists` (also for a name that
    ///   differs only in case), `unknownUser`.
    public func createCorpus(name: String, owner: String, policy: CorpusPolicy = .shared) throws {
        try Self.validateCorpusName(name)
        try write { db in
            guard try Self.userExists(db, owner) else {
                throw AccountError(.unknownUser, "no such user", context: owner)
            }
            if let existing = try String.fetchOne(
                db, sql: "SELECT name FROM corpora WHERE name = ? COLLATE NOCASE", arguments: [name])
            {
                throw AccountError(.alreadyExists, "a corpus with that name exists", context: existing)
            }
            try db.execute(
                sql: "INSERT INTO corpora(name, policy, created) VALUES (?, ?, ?)",
                arguments: [name, policy.rawValue, Self.milliseconds(Self.now())])
            try db.execute(
                sql: "INSERT INTO grants(corpus, user, role) VALUES (?, ?, ?)",
                arguments: [name, owner, Role.owner.rawValue])
        }
    }

    /// The corpus with this exact name, or nil.
    public func corpus(named name: String) throws -> CorpusRecord? {
        try read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM corpora WHERE name = ?", arguments: [name]).map(Self.corpus)
        }
    }

    /// All corpora, by name.
    public func corpora() throws -> [CorpusRecord] {
        try read { db in try Row.fetchAll(db, sql: "SELECT * FROM corpora ORDER BY name").map(Self.corpus) }
    }

    /// Sets which annotations the annotators of `corpus` may change. Connections already open
    /// are held to the new policy from their next request.
    ///
    /// - Throws: ``AccountError``: `unknownCorpus`.
    public func setPolicy(_ policy: CorpusPolicy, of corpus: String) throws {
        try write { db in
            try db.execute(sql: "UPDATE corpora SET policy = ? WHERE name = ?", arguments: [policy.rawValue, corpus])
            guard db.changesCount > 0 else {
                throw AccountError(.unknownCorpus, "no such corpus", context: corpus)
            }
        }
    }

    // MARK: Grants

    /// Gives `user` a role in `corpus`, replacing any previous one; a nil role revokes it.
    ///
    /// - Throws: ``AccountError``: `unknownCorpus`, `unknownUser`, and `lastOwner` when the
    ///   change would leave the corpus with no owner.
    public func grant(corpus: String, user: String, role: Role?) throws {
        try write { db in
            guard try Self.corpusExists(db, corpus) else {
                throw AccountError(.unknownCorpus, "no such corpus", context: corpus)
            }
            guard try Self.userExists(db, user) else {
                throw AccountError(.unknownUser, "no such user", context: user)
            }
            let current = try Self.grantedRole(db, user: user, corpus: corpus)
            if current == .owner, role != .owner {
                let owners = try Int.fetchOne(
                    db, sql: "SELECT COUNT(*) FROM grants WHERE corpus = ? AND role = ?",
                    arguments: [corpus, Role.owner.rawValue])!
                guard owners > 1 else {
                    throw AccountError(
                        .lastOwner, "\(user) is the only owner of \(corpus): make someone else owner first",
                        context: corpus)
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

    /// The role of `user` in `corpus`: a server admin is owner of every corpus, anyone else has
    /// the role granted to them. Nil when there is none, or no such user or corpus.
    public func role(of user: String, in corpus: String) throws -> Role? {
        try access(of: user, in: corpus).access?.role
    }

    /// What `user` may do in `corpus` (their role, as ``role(of:in:)`` resolves it, and the
    /// corpus's policy) with the ``rightsGeneration()`` it was read at, in one statement. Nil
    /// access when there is no such corpus, or the user has no role in it.
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
                throw AccountError(.unsupportedFormat, "the account database has no rights generation", context: path)
            }
            let generation: Int64 = row["generation"]
            // The CHECK constraint keeps the column to known policies.
            guard let policy = (row["policy"] as String?).map({ CorpusPolicy(rawValue: $0) ?? .shared }) else {
                return (generation, nil)
            }
            let role: Role? = (row["is_admin"] as Bool?) == true ? .owner : try (row["role"] as Int?).map(Self.role)
            return (generation, role.map { CorpusAccess(role: $0, policy: policy) })
        }
    }

    /// A number that changes whenever anything ``access(of:in:)`` reads does: a grant, a
    /// corpus's policy, a corpus or user added or removed, a user's admin flag. Triggers bump it
    /// in the transaction of the change, whichever process or tool makes it, so a server that
    /// cached rights at one generation knows they still hold while the number is the same.
    ///
    /// One primary-key `SELECT`, outside any transaction: cheap enough to ask before every
    /// request.
    public func rightsGeneration() throws -> Int64 {
        try unisolatedRead { db in
            guard let generation = try Int64.fetchOne(
                db.cachedStatement(sql: "SELECT value FROM rights_generation WHERE id = 1"))
            else {
                throw AccountError(.unsupportedFormat, "the account database has no rights generation", context: path)
            }
            return generation
        }
    }

    /// The roles granted in `corpus`, by user name (implicit admin ownership not included).
    ///
    /// - Throws: ``AccountError``: `unknownCorpus`.
    public func grants(corpus: String) throws -> [(user: String, role: Role)] {
        try read { db in
            guard try Self.corpusExists(db, corpus) else {
                throw AccountError(.unknownCorpus, "no such corpus", context: corpus)
            }
            return try Row.fetchAll(
                db, sql: "SELECT user, role FROM grants WHERE corpus = ? ORDER BY user", arguments: [corpus]
            ).map { row in (row["user"], try Self.role(row["role"])) }
        }
    }

    /// The corpora `user` has a role in, by name, with that role (every corpus, as owner, for
    /// a server admin).
    ///
    /// - Throws: ``AccountError``: `unknownUser`.
    public func corpora(visibleTo user: String) throws -> [(CorpusRecord, Role)] {
        try read { db in
            guard let isAdmin = try Bool.fetchOne(db, sql: "SELECT is_admin FROM users WHERE name = ?", arguments: [user])
            else {
                throw AccountError(.unknownUser, "no such user", context: user)
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
            ).map { row in (Self.corpus(row), try Self.role(row["role"])) }
        }
    }

    // MARK: Transactions

    private func read<T>(_ body: (Database) throws -> T) throws -> T {
        try translatingErrors { try pool.read(body) }
    }

    /// A read with no transaction around it: for a single statement, which is consistent on
    /// its own, without the `BEGIN` and `COMMIT` of ``read(_:)``.
    private func unisolatedRead<T>(_ body: (Database) throws -> T) throws -> T {
        try translatingErrors { try pool.unsafeRead(body) }
    }

    private func write<T>(_ body: (Database) throws -> T) throws -> T {
        try translatingErrors { try pool.write(body) }
    }

    /// SQLite's own failures become typed errors naming the file; a uniqueness violation (a
    /// concurrent writer in another process won the race) becomes `alreadyExists`. Errors raised
    /// by the store's rules pass through unchanged.
    private func translatingErrors<T>(_ work: () throws -> T) throws -> T {
        do {
            return try work()
        } catch let error as DatabaseError {
            if error.extendedResultCode == .SQLITE_CONSTRAINT_PRIMARYKEY
                || error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE
            {
                throw AccountError(.alreadyExists, "the name is taken: \(error.message ?? "")", context: path)
            }
            throw AccountError(
                .backend, "SQLite error \(error.resultCode): \(error.message ?? "no message")", context: path)
        }
    }

    // MARK: Rows

    private static func userExists(_ db: Database, _ name: String) throws -> Bool {
        try Bool.fetchOne(db, sql: "SELECT EXISTS(SELECT 1 FROM users WHERE name = ?)", arguments: [name]) ?? false
    }

    private static func corpusExists(_ db: Database, _ name: String) throws -> Bool {
        try Bool.fetchOne(db, sql: "SELECT EXISTS(SELECT 1 FROM corpora WHERE name = ?)", arguments: [name]) ?? false
    }

    private static func grantedRole(_ db: Database, user: String, corpus: String) throws -> Role? {
        try Int.fetchOne(db, sql: "SELECT role FROM grants WHERE corpus = ? AND user = ?", arguments: [corpus, user])
            .map(Self.role)
    }

    private static func role(_ rawValue: Int) throws -> Role {
        guard let role = Role(rawValue: rawValue) else {
            throw AccountError(.unsupportedFormat, "unknown role number \(rawValue) in the database")
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
    /// Now, at the precision stored, so a returned value equals the one read back later.
    private static func now() -> Date { date(milliseconds(Date())) }

    // MARK: Names and secrets

    static let tokenPrefix = "gls_"

    static func validateUserName(_ name: String) throws {
        guard isValidName(name, allowingUppercase: false) else {
            throw AccountError(
                .invalidName,
                "a user name has 1–64 characters of a-z, 0-9, '.', '_', '-' and starts with a letter or digit",
                context: name)
        }
    }

    static func validateCorpusName(_ name: String) throws {
        guard isValidName(name, allowingUppercase: true) else {
            throw AccountError(
                .invalidName,
                "a corpus name has 1–64 characters of a-z, A-Z, 0-9, '.', '_', '-' and starts with a letter or digit",
                context: name)
        }
    }

    private static func isValidName(_ name: String, allowingUppercase: Bool) -> Bool {
        let bytes = Array(name.utf8)
        guard (1...64).contains(bytes.count) else { return false }
        func isAlphanumeric(_ byte: UInt8) -> Bool {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"): true
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): allowingUppercase
            default: false
            }
        }
        return isAlphanumeric(bytes[0])
            && bytes.allSatisfy { isAlphanumeric($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") }
    }

    /// `gls_` and 32 random bytes in unpadded base64url (43 characters).
    static func newSecret() -> String {
        var generator = SystemRandomNumberGenerator()
        var bytes: [UInt8] = []
        bytes.reserveCapacity(32)
        for _ in 0..<4 {
            withUnsafeBytes(of: generator.next() as UInt64) { bytes.append(contentsOf: $0) }
        }
        let base64url = Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
        return tokenPrefix + base64url
    }

    /// SHA-256 of the whole secret, prefix included. A plain hash is enough: the secret has 256
    /// random bits, so there is nothing to brute-force.
    static func hash(_ secret: String) -> Data { Data(SHA256.hash(data: Array(secret.utf8))) }

    static func tokenID(hash: Data) -> String {
        hash.prefix(4).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }

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
