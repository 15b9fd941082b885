/// A token row as a catalog stores it: the listing fields and the hash a presented secret is
/// looked up by. The secret itself is never stored.
public struct TokenRecord: Hashable, Sendable {
    /// The SHA-256 of the secret: unique, the authentication lookup key.
    public var hash: [UInt8]
    /// Its public id (unique), owner, label, time of issue and revocation flag.
    public var info: TokenInfo

    public init(hash: [UInt8], info: TokenInfo) {
        self.hash = hash
        self.info = info
    }
}
