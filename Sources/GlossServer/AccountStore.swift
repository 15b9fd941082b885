import Crypto
import Foundation
import GlossStore
import GlossStoreSQLite

/// Users, bearer tokens, corpora and per-corpus grants: the server's account rules over a
/// ``ServerCatalog`` that stores the rows (one SQLite file by default, or PostgreSQL).
///
/// Tokens are stored only as SHA-256 hashes of their secrets: a copy of the database does not
/// let anyone authenticate. A change is durable when its method returns. Methods are safe to
/// call from any thread; each runs in one transaction of the catalog, and blocks.
///
/// Naming rules: user names are 1–64 characters of `a-z 0-9 . _ -`; corpus names 1–64
/// characters of `a-z A-Z 0-9 . _ -`, unique regardless of case (each corpus gets its own file,
/// and some file systems ignore case). Both start with a letter or digit, which keeps `.`,
/// `..` and option-like names such as `-rf` out.
public final class AccountStore: Sendable {
    /// Where the rows live.
    public let catalog: any ServerCatalog
    /// The catalog's location: the database file of an SQLite catalog (what admin tools and
    /// the integrity check open), else the catalog's address for messages.
    public let path: String

    /// The longest token label accepted, in characters.
    public static let maxLabelLength = 128

    /// Opens (creating if needed) the SQLite account database at `path`.
    ///
    /// - Throws: ``AccountError``: `backend` when the file cannot be opened or migrated,
    ///   `unsupportedFormat` when a newer glossd has migrated it.
    public convenience init(path: String) throws {
        try self.init(path: path, tracingStatements: nil)
    }

    /// Opens the SQLite database with `trace` called for each SQL statement any of its
    /// connections runs (tests count the statements a request costs).
    convenience init(path: String, tracingStatements trace: (@Sendable (String) -> Void)?) throws {
        let catalog = try Self.translating { try SQLiteServerCatalog(path: path, tracingStatements: trace) }
        self.init(catalog: catalog)
    }

    /// The account rules over `catalog`'s rows.
    public init(catalog: any ServerCatalog) {
        self.catalog = catalog
        self.path = catalog.location
    }

    // MARK: What only an SQLite catalog has

    /// The catalog when it is one SQLite file (the default), for what only a file has:
    /// backups, journal compaction, the durability setting, SQLite's integrity check.
    public var sqliteCatalog: SQLiteServerCatalog? { catalog as? SQLiteServerCatalog }

    /// Checkpoints and truncates an SQLite catalog's journal (at shutdown); other catalogs
    /// have no journal of ours to give back.
    public func compactJournal() {
        sqliteCatalog?.compactJournal()
    }

    /// An SQLite catalog's writer `synchronous` setting (2 = FULL: every commit is fsynced).
    ///
    /// - Throws: ``AccountError`` `backend`, also when the catalog is not SQLite.
    public func writerSynchronousLevel() throws -> Int {
        try Self.translating { try requireSQLite().writerSynchronousLevel() }
    }

    /// Writes a consistent copy of an SQLite account database to a new file at `path` with
    /// SQLite's online backup API, while the server keeps using this store (and others keep
    /// writing). A PostgreSQL catalog is backed up with PostgreSQL's own tools.
    ///
    /// - Throws: ``AccountError`` `alreadyExists` when `path` exists, `backend` when the copy
    ///   fails or the catalog is not SQLite.
    public func backup(to path: String) throws {
        try Self.translating { try requireSQLite().backup(to: path) }
    }

    private func requireSQLite() throws -> SQLiteServerCatalog {
        guard let sqlite = sqliteCatalog else {
            throw CatalogError(.backend, "only an SQLite account database has this operation", context: path)
        }
        return sqlite
    }

    // MARK: Users

    /// Creates a user.
    ///
    /// - Throws: ``AccountError``: `invalidName`, `alreadyExists`.
    @discardableResult
    public func addUser(_ name: String, isAdmin: Bool = false) throws -> User {
        try Self.validateUserName(name)
        let user = User(name: name, isAdmin: isAdmin, createdAt: Self.now())
        try Self.translating([.alreadyExists: ("a user with that name exists", name)]) { try catalog.insertUser(user) }
        return user
    }

    /// The user with this exact name, or nil.
    public func user(named name: String) throws -> User? {
        try Self.translating { try catalog.user(named: name) }
    }

    /// All users, by name.
    public func users() throws -> [User] {
        try Self.translating { try catalog.users() }
    }

    /// Every user with their grants and token counts, by name, read in one transaction (for
    /// `glossd user list`).
    public func userSummaries() throws -> [UserSummary] {
        try Self.translating { try catalog.userSummaries() }
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
        // The id is only 32 bits of the hash: draw again in the rare case it is taken. Eight
        // taken in a row means something else is wrong, not bad luck.
        var attempts = 0
        while true {
            let secret = Self.newSecret()
            let hash = Self.hash(secret)
            let id = Self.tokenID(hash: hash)
            let record = TokenRecord(
                hash: Array(hash), info: TokenInfo(id: id, user: user, label: label, createdAt: Self.now(), isRevoked: false))
            do {
                try catalog.insertToken(record)
                return IssuedToken(id: id, secret: secret, user: user)
            } catch let error as CatalogError where error.code == .alreadyExists && attempts < 8 {
                attempts += 1
            } catch let error as CatalogError {
                throw Self.accountError(error)
            }
        }
    }

    /// The user a token authenticates, or nil when the token is unknown or revoked (or is not
    /// shaped like one of ours: no `gls_` prefix, or longer than 256 bytes).
    public func authenticate(token: String) throws -> User? {
        // Not one of ours: spare the lookup (and hashing arbitrarily long input).
        guard token.hasPrefix(Self.tokenPrefix), token.utf8.count <= 256 else { return nil }
        return try Self.translating { try catalog.user(forTokenHash: Array(Self.hash(token))) }
    }

    /// Revokes a token by its id (as shown by ``tokens(for:)``, any case). Revoking a revoked
    /// token does nothing.
    ///
    /// - Throws: ``AccountError``: `unknownToken`.
    public func revokeToken(id: String) throws {
        // Ids are stored in lowercase hex; the message names the id as given.
        try Self.translating([.unknownToken: ("no token with that id", id)]) { try catalog.revokeToken(id: id.lowercased()) }
    }

    /// The tokens of `user`, oldest first, revoked ones included.
    ///
    /// - Throws: ``AccountError``: `unknownUser`.
    public func tokens(for user: String) throws -> [TokenInfo] {
        try Self.translating { try catalog.tokens(for: user) }
    }

    /// Every user's tokens, oldest first (then by id), revoked ones included. Only what a
    /// listing may show: the store has no secrets.
    public func tokens() throws -> [TokenInfo] {
        try Self.translating { try catalog.tokens() }
    }

    // MARK: Corpora

    /// Registers a corpus and makes `owner` its owner.
    ///
    /// - Throws: ``AccountError``: `invalidName`, `alreadyExists` (also for a name that
    ///   differs only in case; its context is the existing corpus's name when known),
    ///   `unknownUser`.
    public func createCorpus(name: String, owner: String, policy: CorpusPolicy = .shared) throws {
        try Self.validateCorpusName(name)
        let record = CorpusRecord(name: name, policy: policy, createdAt: Self.now())
        try Self.translating([.alreadyExists: ("a corpus with that name exists", nil)]) {
            try catalog.insertCorpus(record, owner: owner)
        }
    }

    /// The corpus with this exact name, or nil.
    public func corpus(named name: String) throws -> CorpusRecord? {
        try Self.translating { try catalog.corpus(named: name) }
    }

    /// All corpora, by name.
    public func corpora() throws -> [CorpusRecord] {
        try Self.translating { try catalog.corpora() }
    }

    /// Sets which annotations the annotators of `corpus` may change. Connections already open
    /// are held to the new policy from their next request.
    ///
    /// - Throws: ``AccountError``: `unknownCorpus`.
    public func setPolicy(_ policy: CorpusPolicy, of corpus: String) throws {
        try Self.translating { try catalog.setPolicy(policy, of: corpus) }
    }

    // MARK: Grants

    /// Gives `user` a role in `corpus`, replacing any previous one; a nil role revokes it.
    ///
    /// - Throws: ``AccountError``: `unknownCorpus`, `unknownUser`, and `lastOwner` when the
    ///   change would leave the corpus with no owner.
    public func grant(corpus: String, user: String, role: Role?) throws {
        let lastOwner = "\(user) is the only owner of \(corpus): make someone else owner first"
        try Self.translating([.lastOwner: (lastOwner, corpus)]) { try catalog.setRole(role, of: user, in: corpus) }
    }

    /// The role of `user` in `corpus`: a server admin is owner of every corpus, anyone else has
    /// the role granted to them. Nil when there is none, or no such user or corpus.
    public func role(of user: String, in corpus: String) throws -> Role? {
        try access(of: user, in: corpus).access?.role
    }

    /// What `user` may do in `corpus` (their role, as ``role(of:in:)`` resolves it, and the
    /// corpus's policy) with the ``rightsGeneration()`` it was read at, in one read. Nil
    /// access when there is no such corpus, or the user has no role in it.
    public func access(of user: String, in corpus: String) throws -> (generation: Int64, access: CorpusAccess?) {
        try Self.translating { try catalog.access(of: user, in: corpus) }
    }

    /// A number that changes whenever anything ``access(of:in:)`` reads does: a grant, a
    /// corpus's policy, a corpus or user added or removed, a user's admin flag. The catalog
    /// bumps it in the transaction of the change (SQLite: triggers, whichever process or tool
    /// makes it), so a server that cached rights at one generation knows they still hold while
    /// the number is the same.
    ///
    /// One cheap read (SQLite: a primary-key `SELECT` outside any transaction): cheap enough to
    /// ask before every request.
    public func rightsGeneration() throws -> Int64 {
        try Self.translating { try catalog.rightsGeneration() }
    }

    /// The roles granted in `corpus`, by user name (implicit admin ownership not included).
    ///
    /// - Throws: ``AccountError``: `unknownCorpus`.
    public func grants(corpus: String) throws -> [(user: String, role: Role)] {
        try Self.translating { try catalog.grants(corpus: corpus) }
    }

    /// The corpora `user` has a role in, by name, with that role (every corpus, as owner, for
    /// a server admin).
    ///
    /// - Throws: ``AccountError``: `unknownUser`.
    public func corpora(visibleTo user: String) throws -> [(CorpusRecord, Role)] {
        try Self.translating { try catalog.corpora(visibleTo: user) }
    }

    // MARK: Errors

    /// Runs a catalog call, turning its ``CatalogError`` into the ``AccountError`` with the same
    /// code. `messages` gives, per code, this store's message and context (nil: the catalog's
    /// context) where the catalog's own would say less.
    private static func translating<T>(
        _ messages: [CatalogError.Code: (message: String, context: String?)] = [:], _ work: () throws -> T
    ) throws -> T {
        do {
            return try work()
        } catch let error as CatalogError {
            throw accountError(error, messages[error.code])
        }
    }

    /// The account error for a catalog error: the codes share their raw values
    /// (`already-exists`, `unknown-user`, `last-owner`, `backend` …).
    private static func accountError(
        _ error: CatalogError, _ override: (message: String, context: String?)? = nil
    ) -> AccountError {
        AccountError(
            AccountError.Code(rawValue: error.code.rawValue), override?.message ?? error.message,
            context: override?.context ?? error.context)
    }

    /// Timestamps are kept to the millisecond.
    private static func milliseconds(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded()) }
    /// Now, at the precision stored, so a returned value equals the one read back later.
    private static func now() -> Date { Date(timeIntervalSince1970: Double(milliseconds(Date())) / 1000) }

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
}
