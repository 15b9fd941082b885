import GlossModel

/// A failure of the store itself: corrupt bytes at rest, a missing row, or the backend.
public struct StoreError: ContextualError, Hashable, Sendable {
    public typealias Code = ErrorCode<StoreError>

    public var code: Code
    public var message: String
    /// What the error is about: a document, a revision, a path.
    public var context: String?

    public init(_ code: Code, _ message: String, context: String? = nil) {
        self.code = code
        self.message = message
        self.context = context
    }
}

extension ErrorCode where Domain == StoreError {
    /// Stored bytes fail to inflate, have the wrong length, or do not decode.
    public static let corrupt = Self(rawValue: "corrupt")
    public static let notFound = Self(rawValue: "not-found")
    /// The database refused or failed (I/O error, locked, full disk …).
    public static let backend = Self(rawValue: "backend")
    /// The store was written by a newer format version.
    public static let unsupportedFormat = Self(rawValue: "unsupported-format")
    /// A replica was brought past these revisions of a document by a snapshot, so it cannot
    /// show the document as it was in between (the server can).
    public static let historyUnavailable = Self(rawValue: "history-unavailable")
}
