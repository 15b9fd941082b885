import GlossWire
import Synchronization

/// Limits shared by all connections of one user, and of one client address: requests in flight
/// at once, and inbound bytes per second. One greedy client (or many connections from one
/// address) cannot take the server from everyone else.
///
/// Requests over the in-flight budget are refused with `too-many-requests` (retryable); bytes
/// over the rate are not refused but slowed: the connection stops reading until the budget
/// refills, and TCP pushes back on the sender.
public final class ClientBudgets: Sendable {
    public struct Limits: Hashable, Sendable {
        public var userRequestsInFlight: Int
        public var addressRequestsInFlight: Int
        /// 0: no limit.
        public var userBytesPerSecond: Int
        public var addressBytesPerSecond: Int

        public init(
            userRequestsInFlight: Int = 64, addressRequestsInFlight: Int = 256, userBytesPerSecond: Int = 0,
            addressBytesPerSecond: Int = 0
        ) {
            self.userRequestsInFlight = userRequestsInFlight
            self.addressRequestsInFlight = addressRequestsInFlight
            self.userBytesPerSecond = userBytesPerSecond
            self.addressBytesPerSecond = addressBytesPerSecond
        }
    }

    /// A token bucket holding at most one second of the rate.
    struct Bucket {
        var tokens: Double
        var updated: ContinuousClock.Instant

        /// Takes `bytes`; returns how long the caller must wait for the debt to be paid.
        mutating func take(_ bytes: Int, rate: Int, now: ContinuousClock.Instant) -> Duration {
            let elapsed = now - updated
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            tokens = min(Double(rate), tokens + seconds * Double(rate)) - Double(bytes)
            updated = now
            guard tokens < 0 else { return .zero }
            return .milliseconds(Int64((-tokens / Double(rate) * 1000).rounded(.up)))
        }
    }

    struct State {
        var userRequests: [String: Int] = [:]
        var addressRequests: [String: Int] = [:]
        var userBuckets: [String: Bucket] = [:]
        var addressBuckets: [String: Bucket] = [:]
    }

    public let limits: Limits
    private let state = Mutex(State())

    public init(limits: Limits) { self.limits = limits }

    /// Reserves a request slot, or says why not.
    func admitRequest(user: String, address: String) -> WireError? {
        state.withLock { s in
            if s.userRequests[user, default: 0] >= limits.userRequestsInFlight {
                return WireError(
                    .tooManyRequests,
                    "\(user) has \(limits.userRequestsInFlight) requests in flight across connections; wait for some to finish")
            }
            if s.addressRequests[address, default: 0] >= limits.addressRequestsInFlight {
                return WireError(
                    .tooManyRequests,
                    "\(address) has \(limits.addressRequestsInFlight) requests in flight across connections; wait for some to finish")
            }
            s.userRequests[user, default: 0] += 1
            s.addressRequests[address, default: 0] += 1
            return nil
        }
    }

    func finishRequest(user: String, address: String) {
        state.withLock { s in
            s.userRequests[user, default: 1] -= 1
            if s.userRequests[user] == 0 { s.userRequests[user] = nil }
            s.addressRequests[address, default: 1] -= 1
            if s.addressRequests[address] == 0 { s.addressRequests[address] = nil }
        }
    }

    /// Accounts inbound bytes; returns how long to pause reading (zero when within the rates).
    func received(_ bytes: Int, user: String?, address: String, now: ContinuousClock.Instant = .now) -> Duration {
        state.withLock { s in
            var wait = Duration.zero
            if limits.addressBytesPerSecond > 0 {
                var bucket = s.addressBuckets[address] ?? Bucket(tokens: Double(limits.addressBytesPerSecond), updated: now)
                wait = max(wait, bucket.take(bytes, rate: limits.addressBytesPerSecond, now: now))
                s.addressBuckets[address] = bucket
            }
            if let user, limits.userBytesPerSecond > 0 {
                var bucket = s.userBuckets[user] ?? Bucket(tokens: Double(limits.userBytesPerSecond), updated: now)
                wait = max(wait, bucket.take(bytes, rate: limits.userBytesPerSecond, now: now))
                s.userBuckets[user] = bucket
            }
            return wait
        }
    }
}
