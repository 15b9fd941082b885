import GlossModel

/// A protocol failure, as sent in an ERROR frame: a code from `Protocol/wire.md`, whether the
/// request may be retried, and a message that says what to do.
public struct WireError: Error, Hashable, Sendable, CustomStringConvertible {
    public typealias Code = ErrorCode<WireError>

    public var code: Code
    public var message: String
    public var retryable: Bool
    /// Milliseconds to wait before retrying, when the server says so.
    public var retryAfterMilliseconds: UInt32

    public init(_ code: Code, _ message: String, retryable: Bool? = nil, retryAfterMilliseconds: UInt32 = 0) {
        self.code = code
        self.message = message
        self.retryable = retryable ?? code.isRetryable
        self.retryAfterMilliseconds = retryAfterMilliseconds
    }

    public var description: String { "\(code): \(message)" }
}

extension ErrorCode where Domain == WireError {
    public static let badPreface = Self(rawValue: "bad-preface")
    public static let protocolError = Self(rawValue: "protocol-error")
    public static let unsupportedVersion = Self(rawValue: "unsupported-version")
    public static let frameTooLarge = Self(rawValue: "frame-too-large")
    public static let messageTooLarge = Self(rawValue: "message-too-large")
    public static let decompressionFailed = Self(rawValue: "decompression-failed")
    public static let badMessage = Self(rawValue: "bad-message")
    public static let unauthenticated = Self(rawValue: "unauthenticated")
    public static let authFailed = Self(rawValue: "auth-failed")
    public static let rateLimited = Self(rawValue: "rate-limited")
    public static let permissionDenied = Self(rawValue: "permission-denied")
    public static let notFound = Self(rawValue: "not-found")
    /// What the request reads holds something this client did not say it understands (a text
    /// revision, for a client without the `text-revisions` capability): upgrade the client.
    public static let upgradeRequired = Self(rawValue: "upgrade-required")
    public static let alreadyExists = Self(rawValue: "already-exists")
    public static let tooManyRequests = Self(rawValue: "too-many-requests")
    public static let serverBusy = Self(rawValue: "server-busy")
    public static let shuttingDown = Self(rawValue: "shutting-down")
    /// The server cannot reach its database just now; nothing was acknowledged (a push retried
    /// after it is applied once, by its changeset id).
    public static let storageUnavailable = Self(rawValue: "storage-unavailable")
    public static let timeout = Self(rawValue: "timeout")
    public static let cancelled = Self(rawValue: "cancelled")
    public static let `internal` = Self(rawValue: "internal")

    /// Whether a client may retry the same request (the table in `Protocol/wire.md`).
    public var isRetryable: Bool {
        [Self.rateLimited, .tooManyRequests, .serverBusy, .shuttingDown, .storageUnavailable, .timeout, .internal].contains(self)
    }
}
