/// Bytes that do not decode: truncated, malformed, or of an unknown format version.
public struct CodecError: Error, Hashable, Sendable, CustomStringConvertible {
    public typealias Code = ErrorCode<CodecError>

    public var code: Code
    public var message: String
    /// Byte offset where decoding failed.
    public var offset: Int

    public init(_ code: Code, _ message: String, offset: Int) {
        self.code = code
        self.message = message
        self.offset = offset
    }

    public var description: String { "\(code): \(message)" }
}

extension ErrorCode where Domain == CodecError {
    public static let truncated = Self(rawValue: "truncated")
    public static let malformed = Self(rawValue: "malformed")
    public static let unsupportedVersion = Self(rawValue: "unsupported-version")
}
