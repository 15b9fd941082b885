/// A user as `glossd user list` shows them: the account, the roles granted to them, and how
/// many tokens they hold.
public struct UserSummary: Hashable, Sendable {
    /// A role granted in one corpus.
    public struct Grant: Hashable, Sendable {
        public var corpus: String
        public var role: Role

        public init(corpus: String, role: Role) {
            self.corpus = corpus
            self.role = role
        }
    }

    public var user: User
    /// The roles granted to the user, by corpus name. A server admin's implicit ownership of
    /// every corpus is not listed (``User/isAdmin`` says it).
    public var grants: [Grant]
    /// Tokens that still authenticate.
    public var activeTokens: Int
    /// Tokens revoked (kept for listings).
    public var revokedTokens: Int

    public init(user: User, grants: [Grant], activeTokens: Int, revokedTokens: Int) {
        self.user = user
        self.grants = grants
        self.activeTokens = activeTokens
        self.revokedTokens = revokedTokens
    }
}
