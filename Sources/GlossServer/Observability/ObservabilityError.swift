import GlossModel

/// The metrics endpoint or the logging set-up could not start: an address that cannot be
/// bound, or a configuration value out of range.
public struct ObservabilityError: ContextualError, Hashable, Sendable {
    public typealias Code = ErrorCode<ObservabilityError>

    public var code: Code
    public var message: String
    /// What the error is about: the `host:port` to listen on, or the configuration key.
    public var context: String?

    public init(_ code: Code, _ message: String, context: String? = nil) {
        self.code = code
        self.message = message
        self.context = context
    }
}

extension ErrorCode where Domain == ObservabilityError {
    /// The metrics listener could not bind its address (in use, not local, no permission).
    public static let bindFailed = Self(rawValue: "bind-failed")
    /// A configuration value is out of range (a port past 65535, an empty host).
    public static let invalidConfiguration = Self(rawValue: "invalid-configuration")
}
