import Synchronization

/// A server catalog held in memory: the reference ``ServerCatalog`` for pure tests, and the
/// executable statement of what the SQL catalogs do.
///
/// Every call runs under one lock, so each is atomic and sees one state; the unique keys,
/// references, the last-owner rule and the rights generation behave as the ``ServerCatalog``
/// contract says. It also keeps a TLS identity (``ServerIdentityStore``). Nothing is durable:
/// the catalog lives as long as the value.
public final class MemoryServerCatalog: ServerCatalog, ServerIdentityStore {
    private struct Grant: Hashable {
        var corpus: String
        var user: String
    }

    private struct State {
        var users: [String: User] = [:]
        /// By hash; ``tokenHashByID`` keeps ids unique.
        var tokens: [[UInt8]: TokenInfo] = [:]
        var tokenHashByID: [String: [UInt8]] = [:]
        var corpora: [String: CorpusRecord] = [:]
        /// Folded name → name as stored: corpus names are unique regardless of case.
        var corpusByFoldedName: [String: String] = [:]
        var grants: [Grant: Role] = [:]
        var rightsGeneration: Int64 = 1
        var identity: (certificatePEM: String, keyPEM: String)?
    }

    private let state = Mutex(State())

    public init() {}

    public var location: String { "memory" }

    // MARK: Users

    public func insertUser(_ user: User) throws {
        try state.withLock { state in
            guard state.users[user.name] == nil else {
                throw CatalogError(.alreadyExists, "a user with that name exists", context: user.name)
            }
            state.users[user.name] = user
            state.rightsGeneration += 1
        }
    }

    public func user(named name: String) throws -> User? {
        state.withLock { $0.users[name] }
    }

    public func users() throws -> [User] {
        state.withLock { state in Self.byName(state.users.values, \.name) }
    }

    public func userSummaries() throws -> [UserSummary] {
        state.withLock { state in
            Self.byName(state.users.values, \.name).map { user in
                let grants = state.grants.filter { $0.key.user == user.name }
                    .map { UserSummary.Grant(corpus: $0.key.corpus, role: $0.value) }
                let tokens = state.tokens.values.filter { $0.user == user.name }
                return UserSummary(
                    user: user, grants: Self.byName(grants, \.corpus),
                    activeTokens: tokens.filter { !$0.isRevoked }.count, revokedTokens: tokens.filter(\.isRevoked).count)
            }
        }
    }

    // MARK: Tokens

    public func insertToken(_ token: TokenRecord) throws {
        try state.withLock { state in
            guard state.users[token.info.user] != nil else {
                throw CatalogError(.unknownUser, "no such user", context: token.info.user)
            }
            guard state.tokens[token.hash] == nil, state.tokenHashByID[token.info.id] == nil else {
                throw CatalogError(.alreadyExists, "a token with that hash or id exists", context: token.info.id)
            }
            state.tokens[token.hash] = token.info
            state.tokenHashByID[token.info.id] = token.hash
        }
    }

    public func user(forTokenHash hash: [UInt8]) throws -> User? {
        state.withLock { state in
            guard let token = state.tokens[hash], !token.isRevoked else { return nil }
            return state.users[token.user]
        }
    }

    public func revokeToken(id: String) throws {
        try state.withLock { state in
            guard let hash = state.tokenHashByID[id] else {
                throw CatalogError(.unknownToken, "no token with that id", context: id)
            }
            state.tokens[hash]?.isRevoked = true
        }
    }

    public func tokens(for user: String) throws -> [TokenInfo] {
        try state.withLock { state in
            guard state.users[user] != nil else {
                throw CatalogError(.unknownUser, "no such user", context: user)
            }
            return Self.byIssue(state.tokens.values.filter { $0.user == user })
        }
    }

    public func tokens() throws -> [TokenInfo] {
        state.withLock { state in Self.byIssue(Array(state.tokens.values)) }
    }

    public func tokenRecords() throws -> [TokenRecord] {
        state.withLock { state in
            let records = state.tokens.map { TokenRecord(hash: $0.key, info: $0.value) }
            return records.sorted { ($0.info.createdAt, $0.info.id) < ($1.info.createdAt, $1.info.id) }
        }
    }

    // MARK: Corpora

    public func insertCorpus(_ corpus: CorpusRecord, owner: String) throws {
        try state.withLock { state in
            guard state.users[owner] != nil else {
                throw CatalogError(.unknownUser, "no such user", context: owner)
            }
            let folded = Self.folded(corpus.name)
            if let existing = state.corpusByFoldedName[folded] {
                throw CatalogError(.alreadyExists, "a corpus with that name exists", context: existing)
            }
            state.corpora[corpus.name] = corpus
            state.corpusByFoldedName[folded] = corpus.name
            state.grants[Grant(corpus: corpus.name, user: owner)] = .owner
            state.rightsGeneration += 1
        }
    }

    public func corpus(named name: String) throws -> CorpusRecord? {
        state.withLock { $0.corpora[name] }
    }

    public func corpora() throws -> [CorpusRecord] {
        state.withLock { state in Self.byName(state.corpora.values, \.name) }
    }

    public func setPolicy(_ policy: CorpusPolicy, of corpus: String) throws {
        try state.withLock { state in
            guard state.corpora[corpus] != nil else {
                throw CatalogError(.unknownCorpus, "no such corpus", context: corpus)
            }
            state.corpora[corpus]?.policy = policy
            state.rightsGeneration += 1
        }
    }

    // MARK: Grants

    public func setRole(_ role: Role?, of user: String, in corpus: String) throws {
        try state.withLock { state in
            guard state.corpora[corpus] != nil else {
                throw CatalogError(.unknownCorpus, "no such corpus", context: corpus)
            }
            guard state.users[user] != nil else {
                throw CatalogError(.unknownUser, "no such user", context: user)
            }
            let key = Grant(corpus: corpus, user: user)
            if state.grants[key] == .owner, role != .owner {
                let owners = state.grants.filter { $0.key.corpus == corpus && $0.value == .owner }.count
                guard owners > 1 else {
                    throw CatalogError(.lastOwner, "the corpus would be left without an owner", context: corpus)
                }
            }
            state.grants[key] = role
            state.rightsGeneration += 1
        }
    }

    public func grants(corpus: String) throws -> [(user: String, role: Role)] {
        try state.withLock { state in
            guard state.corpora[corpus] != nil else {
                throw CatalogError(.unknownCorpus, "no such corpus", context: corpus)
            }
            let grants = state.grants.filter { $0.key.corpus == corpus }.map { (user: $0.key.user, role: $0.value) }
            return Self.byName(grants, \.user)
        }
    }

    public func corpora(visibleTo user: String) throws -> [(CorpusRecord, Role)] {
        try state.withLock { state in
            guard let account = state.users[user] else {
                throw CatalogError(.unknownUser, "no such user", context: user)
            }
            let visible: [(CorpusRecord, Role)] =
                account.isAdmin
                ? state.corpora.values.map { ($0, .owner) }
                : state.grants.compactMap { grant, role in
                    guard grant.user == user, let corpus = state.corpora[grant.corpus] else { return nil }
                    return (corpus, role)
                }
            return Self.byName(visible, \.0.name)
        }
    }

    public func access(of user: String, in corpus: String) throws -> (generation: Int64, access: CorpusAccess?) {
        state.withLock { state in
            guard let record = state.corpora[corpus], let account = state.users[user] else {
                return (state.rightsGeneration, nil)
            }
            let role = account.isAdmin ? .owner : state.grants[Grant(corpus: corpus, user: user)]
            return (state.rightsGeneration, role.map { CorpusAccess(role: $0, policy: record.policy) })
        }
    }

    public func rightsGeneration() throws -> Int64 {
        state.withLock { $0.rightsGeneration }
    }

    // MARK: Server identity

    public func serverIdentity() throws -> (certificatePEM: String, keyPEM: String)? {
        state.withLock { $0.identity }
    }

    public func storeServerIdentityIfAbsent(certificatePEM: String, keyPEM: String) throws
        -> (certificatePEM: String, keyPEM: String)
    {
        state.withLock { state in
            if let stored = state.identity { return stored }
            state.identity = (certificatePEM, keyPEM)
            return (certificatePEM, keyPEM)
        }
    }

    // MARK: Order

    /// Folds ASCII letters only, as SQLite's `NOCASE` does (names are ASCII anyway).
    private static func folded(_ name: String) -> String {
        String(decoding: name.utf8.map { (65...90).contains($0) ? $0 + 32 : $0 }, as: UTF8.self)
    }

    /// Sorted by a name in byte order, as the SQL catalogs sort.
    private static func byName<S: Sequence>(_ items: S, _ name: (S.Element) -> String) -> [S.Element] {
        items.sorted { name($0).utf8.lexicographicallyPrecedes(name($1).utf8) }
    }

    /// By time of issue, then id.
    private static func byIssue(_ tokens: [TokenInfo]) -> [TokenInfo] {
        tokens.sorted { a, b in
            a.createdAt != b.createdAt ? a.createdAt < b.createdAt : a.id.utf8.lexicographicallyPrecedes(b.id.utf8)
        }
    }
}
