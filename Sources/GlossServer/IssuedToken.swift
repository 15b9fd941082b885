/// A bearer token just issued: the only time its secret is available, since the store keeps
/// only its hash.
///
/// `description` leaves the secret out, so that logging the value does not leak it.
public struct IssuedToken: Hashable, Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The token's public id: the first 8 hex digits of its hash, shown in listings and used to
    /// revoke it.
    public var id: String
    /// The secret to hand to the user: `gls_` and 43 base64url characters (256 random bits).
    public var secret: String
    /// The name of the user the token authenticates.
    public var user: String

    public init(id: String, secret: String, user: String) {
        self.id = id
        self.secret = secret
        self.user = user
    }

    public var description: String { "token \(id) for \(user)" }
    public var debugDescription: String { "IssuedToken(id: \(id), user: \(user), secret: <redacted>)" }
}
