import GlossModel

/// A refused or failed account-store operation: a bad name, a duplicate, an unknown user,
/// token or corpus, or the database itself.
public struct AccountError: ContextualError, Hashable, Sendable {
    public typealias Code = ErrorCode<AccountError>

    public var code: Code
    public var message: String
    /// What the error is about: a user, token id, corpus name, or the database path.
    public var context: String?

    public init(_ code: Code, _ message: String, context: String? = nil) {
        self.code = code
        self.message = message
        self.context = context
    }
}

extension ErrorCode where Domain == AccountError {
    /// A user or corpus name breaks the naming rules.
    public static let invalidName = Self(rawValue: "invalid-name")
    /// A token label is too long or holds control characters.
    public static let invalidLabel = Self(rawValue: "invalid-label")
    /// A user or corpus with that name exists (corpus names compare case-insensitively).
    public static let alreadyExists = Self(rawValue: "already-exists")
    public static let unknownUser = Self(rawValue: "unknown-user")
    public static let unknownToken = Self(rawValue: "unknown-token")
    public static let unknownCorpus = Self(rawValue: "unknown-corpus")
    /// The change would leave a corpus without an owner.
    public static let lastOwner = Self(rawValue: "last-owner")
    /// The database refused or failed (I/O error, locked, full disk …).
    public static let backend = Self(rawValue: "backend")
    /// The database cannot be reached just now; nothing was changed, and the call may be retried.
    public static let unavailable = Self(rawValue: "unavailable")
    /// The database was written by a newer glossd, or holds values this version cannot read.
    public static let unsupportedFormat = Self(rawValue: "unsupported-format")
}
