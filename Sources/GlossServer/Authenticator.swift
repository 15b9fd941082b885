import GlossStore
import GlossWire
import Synchronization

/// Checks bearer tokens against the account store, with failed attempts rate-limited per
/// client address.
public final class Authenticator: Sendable {
    private let accounts: AccountStore
    /// Token checks read the account store: a blocking call.
    private let executor: StorageExecutor
    private let limiter = Mutex(AuthRateLimiter())
    private let origin = ContinuousClock.now

    public init(accounts: AccountStore, executor: StorageExecutor = .shared) {
        self.accounts = accounts
        self.executor = executor
    }

    public func authenticate(token: String, address: String) async -> Result<String, WireError> {
        let now = ContinuousClock.now - origin
        if case .limited(let retryAfter) = limiter.withLock({ $0.check(address: address, now: now) }) {
            let ms = UInt32(retryAfter.components.seconds * 1000 + retryAfter.components.attoseconds / 1_000_000_000_000_000)
            return .failure(
                WireError(.rateLimited, "too many failed logins from \(address); wait \(ms / 1000 + 1) s", retryAfterMilliseconds: ms))
        }
        let user: User?
        do {
            user = try await executor.run { [accounts] in try accounts.authenticate(token: token) }
        } catch let error as AccountError where error.code == .unavailable {
            return .failure(RequestRouter.storageUnavailable(error.message))
        } catch {
            return .failure(WireError(.internal, "cannot check the token: \(error)"))
        }
        guard let user else {
            limiter.withLock { $0.recordFailure(address: address, now: now) }
            return .failure(
                WireError(.authFailed, "the token is unknown or revoked; get a new one with `glossd token issue USER`"))
        }
        limiter.withLock { $0.recordSuccess(address: address) }
        return .success(user.name)
    }
}
