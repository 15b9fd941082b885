/// Bytes that do not decode: truncated, malformed, or of an unknown format version.
public struct CodecError: Error, Hashable, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, RawRepresentable, CustomStringConvertible {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        public static let truncated = Code(rawValue: "truncated")
        public static let malformed = Code(rawValue: "malformed")
        public static let unsupportedVersion = Code(rawValue: "unsupported-version")
    }

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
