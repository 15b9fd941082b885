import GlossModel

/// The server's TLS identity could not be loaded or created: a PEM file that cannot be read or
/// parsed, a private key that does not belong to the certificate, a half-written identity.
public struct ServerIdentityError: ContextualError, Hashable, Sendable {
    public typealias Code = ErrorCode<ServerIdentityError>

    public var code: Code
    public var message: String
    /// The file or directory the error is about.
    public var context: String?

    public init(_ code: Code, _ message: String, context: String? = nil) {
        self.code = code
        self.message = message
        self.context = context
    }
}

extension ErrorCode where Domain == ServerIdentityError {
    /// A file could not be read, or is not text.
    public static let unreadable = Self(rawValue: "unreadable")
    /// A file or directory of a new identity could not be created or written.
    public static let unwritable = Self(rawValue: "unwritable")
    /// A file holds no certificate, or a certificate that does not parse.
    public static let invalidCertificate = Self(rawValue: "invalid-certificate")
    /// A file holds no private key, or one that does not parse (encrypted keys are not supported).
    public static let invalidKey = Self(rawValue: "invalid-key")
    /// The private key does not belong to the (leaf) certificate.
    public static let keyMismatch = Self(rawValue: "key-mismatch")
    /// Only one of the certificate and the key exists in the identity directory.
    public static let incomplete = Self(rawValue: "incomplete")
    /// Generating the self-signed certificate failed.
    public static let generationFailed = Self(rawValue: "generation-failed")
}
