import GlossModel

/// A refused or failed ``ServerCatalog`` operation.
///
/// The codes name what a caller must tell apart (a name taken, a row missing, a change that
/// would leave a corpus without an owner, the database itself); the server's account store
/// turns them into its own errors and messages.
public struct CatalogError: ContextualError, Hashable, Sendable {
    public typealias Code = ErrorCode<CatalogError>

    public var code: Code
    public var message: String
    /// What the error is about: a user or corpus name, a token id, the database's location.
    public var context: String?

    public init(_ code: Code, _ message: String, context: String? = nil) {
        self.code = code
        self.message = message
        self.context = context
    }
}

extension ErrorCode where Domain == CatalogError {
    /// A row with that key exists: a user name, a corpus name regardless of case, a token hash
    /// or id. Also what a concurrent writer that won the race causes.
    public static let alreadyExists = Self(rawValue: "already-exists")
    /// No user with that name.
    public static let unknownUser = Self(rawValue: "unknown-user")
    /// No corpus with that (exact) name.
    public static let unknownCorpus = Self(rawValue: "unknown-corpus")
    /// No token with that id.
    public static let unknownToken = Self(rawValue: "unknown-token")
    /// The change would leave a corpus without an owner.
    public static let lastOwner = Self(rawValue: "last-owner")
    /// The database refused or failed (I/O error, lost connection, full disk …).
    public static let backend = Self(rawValue: "backend")
    /// The database cannot be reached just now; nothing was changed, and the call may be retried.
    public static let unavailable = Self(rawValue: "unavailable")
    /// The database was written by a newer glossd, or holds values this version cannot read.
    public static let unsupportedFormat = Self(rawValue: "unsupported-format")
}
