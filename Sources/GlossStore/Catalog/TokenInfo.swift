import Foundation

/// A stored token as listed: everything but the secret, which the store never had.
public struct TokenInfo: Hashable, Sendable {
    /// The first 8 hex digits of the token's hash.
    public var id: String
    public var user: String
    /// A free-form note given at issue time ("laptop", "CI" …).
    public var label: String
    public var createdAt: Date
    public var isRevoked: Bool

    public init(id: String, user: String, label: String, createdAt: Date, isRevoked: Bool) {
        self.id = id
        self.user = user
        self.label = label
        self.createdAt = createdAt
        self.isRevoked = isRevoked
    }
}
