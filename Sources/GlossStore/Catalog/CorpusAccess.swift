/// What one user may do in one corpus: their role there and the corpus's policy, the two
/// things a push is authorised by.
public struct CorpusAccess: Hashable, Sendable {
    /// The user's role (a server admin is owner of every corpus).
    public var role: Role
    /// Which annotations the corpus's annotators may change.
    public var policy: CorpusPolicy

    public init(role: Role, policy: CorpusPolicy) {
        self.role = role
        self.policy = policy
    }
}
