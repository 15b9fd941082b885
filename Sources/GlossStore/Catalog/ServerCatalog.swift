/// The seam between the server's account logic and a database: the rows of users, bearer
/// tokens, the corpus registry and per-corpus grants, and the rights generation.
///
/// A catalog stores and reads rows and keeps the invariants below; it knows nothing of name
/// rules, secrets or hashing, which stay with the server's `AccountStore`. The embedded SQLite
/// catalog is the default, a PostgreSQL catalog serves several glossd nodes, and
/// ``MemoryServerCatalog`` is the reference for tests.
///
/// Calls are synchronous, with the same policy as ``CorpusBackend``: they block, so callers run
/// them on a thread that may block (never on an event loop or the cooperative pool).
///
/// ## Contract
/// Every catalog keeps it, and `ServerCatalogContractTests` checks it on each:
/// - **Each call is one transaction**: its writes appear together, durably committed when it
///   returns, or not at all when it throws; everything one read returns comes from one
///   committed state. Writes by other processes or nodes on the same database are seen by the
///   next call.
/// - **Names.** User names are unique (exactly); corpus names are unique regardless of case
///   (each corpus gets its own file on a file system that may ignore case), while lookups by
///   name are exact. Token hashes and token ids are unique. Breaking one throws
///   ``CatalogError`` `alreadyExists` (also when a concurrent writer won the race), and nothing
///   is written.
/// - **References.** A token belongs to an existing user, a grant to an existing user and
///   corpus: a write naming a missing one throws `unknownUser` or `unknownCorpus`, whose
///   context is that name. A corpus is created with its first owner in the same transaction.
/// - **Owners.** A corpus always keeps at least one owner: a grant change that would leave none
///   throws `lastOwner`. Concurrent changes of one corpus's grants are serialised, so two
///   owners demoting each other cannot both succeed.
/// - **Tokens** are found by the hash of their secret, and only while not revoked. Revoking
///   is by id (exact, as stored); revoking a revoked token succeeds and changes nothing.
/// - **The rights generation** (``rightsGeneration()``) strictly increases with every committed
///   change of what ``access(of:in:)`` reads: a user added (or removed, or their admin flag
///   changed, by any tool), a corpus added or removed, a policy set, a grant set or revoked.
///   Caches of access check it in one cheap read: while it is unchanged, their answers hold.
///   Issuing or revoking a token does not change what a user may do once authenticated, so
///   it need not move it (the SQLite catalog's does not).
/// - **Order.** Listings are sorted by name in byte order (then as each method says);
///   timestamps are kept at millisecond precision (callers pass times already rounded, and
///   read back what they wrote).
public protocol ServerCatalog: Sendable {
    /// Where the catalog lives, for messages: a file path, or a database address without its
    /// password.
    var location: String { get }

    // MARK: Users

    /// Adds a user.
    ///
    /// - Throws: ``CatalogError`` `alreadyExists` when a user has that name.
    func insertUser(_ user: User) throws
    /// The user with exactly this name, or nil.
    func user(named name: String) throws -> User?
    /// All users, by name.
    func users() throws -> [User]
    /// Every user with their grants (by corpus name) and token counts, by name, in one read.
    func userSummaries() throws -> [UserSummary]

    // MARK: Tokens

    /// Stores a token.
    ///
    /// - Throws: `unknownUser` when its user does not exist, `alreadyExists` when its hash or
    ///   id is taken.
    func insertToken(_ token: TokenRecord) throws
    /// The user whose unrevoked token has this hash, or nil.
    func user(forTokenHash hash: [UInt8]) throws -> User?
    /// Marks the token with this id revoked.
    ///
    /// - Throws: `unknownToken` when there is none.
    func revokeToken(id: String) throws
    /// The tokens of `user`, by time of issue then id, revoked ones included.
    ///
    /// - Throws: `unknownUser`.
    func tokens(for user: String) throws -> [TokenInfo]
    /// Every token, by time of issue then id, revoked ones included.
    func tokens() throws -> [TokenInfo]
    /// Every token with its hash, in the order of ``tokens()``: what moving a server to another
    /// catalog copies (`glossd migrate-store`), so that issued tokens keep working.
    func tokenRecords() throws -> [TokenRecord]

    // MARK: Corpora

    /// Registers a corpus and grants `owner` the owner role in it, in one transaction.
    ///
    /// - Throws: `unknownUser` when `owner` does not exist; `alreadyExists` when a corpus has
    ///   the name regardless of case, its context that corpus's name as stored when known.
    func insertCorpus(_ corpus: CorpusRecord, owner: String) throws
    /// The corpus with exactly this name, or nil.
    func corpus(named name: String) throws -> CorpusRecord?
    /// All corpora, by name.
    func corpora() throws -> [CorpusRecord]
    /// Sets a corpus's policy.
    ///
    /// - Throws: `unknownCorpus`.
    func setPolicy(_ policy: CorpusPolicy, of corpus: String) throws

    // MARK: Grants

    /// Gives `user` `role` in `corpus`, replacing any previous role; nil removes the grant.
    ///
    /// - Throws: `unknownCorpus`, `unknownUser`, `lastOwner` when the corpus would be left
    ///   without an owner.
    func setRole(_ role: Role?, of user: String, in corpus: String) throws
    /// The roles granted in `corpus`, by user name.
    ///
    /// - Throws: `unknownCorpus`.
    func grants(corpus: String) throws -> [(user: String, role: Role)]
    /// The corpora `user` has a role in, by name: every corpus as owner for a server admin,
    /// else those granted.
    ///
    /// - Throws: `unknownUser`.
    func corpora(visibleTo user: String) throws -> [(CorpusRecord, Role)]
    /// `user`'s access to `corpus` (owner of every corpus for an admin, else the granted role,
    /// with the corpus's policy) and the rights generation of the same committed state. Nil
    /// access when the corpus or user does not exist or there is no role.
    func access(of user: String, in corpus: String) throws -> (generation: Int64, access: CorpusAccess?)
    /// The current rights generation (see the contract): one cheap read, no transaction needed.
    func rightsGeneration() throws -> Int64
}
