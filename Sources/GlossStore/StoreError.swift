import GlossModel

/// A failure of the store itself: corrupt bytes at rest, a missing row, or the backend.
public struct StoreError: Error, Hashable, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, RawRepresentable, CustomStringConvertible {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// Stored bytes fail to inflate, have the wrong length, or do not decode.
        public static let corrupt = Code(rawValue: "corrupt")
        public static let notFound = Code(rawValue: "not-found")
        /// The database refused or failed (I/O error, locked, full disk …).
        public static let backend = Code(rawValue: "backend")
        /// The store was written by a newer format version.
        public static let unsupportedFormat = Code(rawValue: "unsupported-format")
    }

    public var code: Code
    public var message: String
    /// What the error is about: a document, a revision, a path.
    public var context: String?

    public init(_ code: Code, _ message: String, context: String? = nil) {
        self.code = code
        self.message = message
        self.context = context
    }

    public var description: String {
        "\(code): \(message)" + (context.map { " (\($0))" } ?? "")
    }
}
