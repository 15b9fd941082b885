import Foundation

/// A corpus as the account store knows it: its name and policy (its content lives in the
/// corpus store).
public struct CorpusRecord: Hashable, Sendable {
    /// The unique name: 1–64 characters of `a-z A-Z 0-9 . _ -`, starting with a letter or digit.
    public var name: String
    public var policy: CorpusPolicy
    public var createdAt: Date

    public init(name: String, policy: CorpusPolicy, createdAt: Date) {
        self.name = name
        self.policy = policy
        self.createdAt = createdAt
    }
}
