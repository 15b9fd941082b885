import GlossModel
import GlossStore

/// A refused or failed operation on a whole data directory: check, backup, restore, or taking
/// the directory's lock.
public struct DataDirectoryError: ContextualError, Sendable {
    public typealias Code = ErrorCode<DataDirectoryError>

    public var code: Code
    public var message: String
    /// What the error is about: a path, usually.
    public var context: String?
    /// For `integrity`: what the check found.
    public var report: IntegrityReport?

    public init(_ code: Code, _ message: String, context: String? = nil, report: IntegrityReport? = nil) {
        self.code = code
        self.message = message
        self.context = context
        self.report = report
    }
}

extension ErrorCode where Domain == DataDirectoryError {
    /// The directory has no `server.sqlite`: not a glossd data directory (or not this one).
    public static let notADataDirectory = Self(rawValue: "not-a-data-directory")
    /// A named corpus has no database file.
    public static let notFound = Self(rawValue: "not-found")
    /// A destination that must be new or empty is not (a backup's, or a restore's without
    /// `--force`), or a restore's staging directory is left over.
    public static let notEmpty = Self(rawValue: "not-empty")
    /// Another process (a running `glossd serve`, or a restore) holds the directory's lock.
    public static let locked = Self(rawValue: "locked")
    /// The backup has no manifest, or one that does not decode or names unsafe paths.
    public static let invalidManifest = Self(rawValue: "invalid-manifest")
    /// The backup was written by a newer glossd.
    public static let unsupportedFormat = Self(rawValue: "unsupported-format")
    /// A file the manifest lists is missing, or the backup's corpora are not the manifest's.
    public static let incomplete = Self(rawValue: "incomplete")
    /// The integrity check found problems (see ``DataDirectoryError/report``).
    public static let integrity = Self(rawValue: "integrity")
    /// A file operation failed (permissions, full disk …).
    public static let io = Self(rawValue: "io")
}
