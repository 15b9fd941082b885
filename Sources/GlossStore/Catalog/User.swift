import Foundation

/// A user account of the server.
public struct User: Hashable, Sendable {
    /// The unique login name: 1–64 characters of `a-z 0-9 . _ -`, starting with a letter or digit.
    public var name: String
    /// Server admins create corpora and count as owners of every corpus.
    public var isAdmin: Bool
    public var createdAt: Date

    public init(name: String, isAdmin: Bool, createdAt: Date) {
        self.name = name
        self.isAdmin = isAdmin
        self.createdAt = createdAt
    }
}
