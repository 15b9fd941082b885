/// Limits failed authentications per client address: at most ``maxFailures`` in any
/// ``window`` (by default 5 per minute, `Protocol/wire.md` §3); past that, ``check(address:now:)``
/// answers `.limited` until the oldest of those failures leaves the window.
///
/// A pure value with no clock: every call takes `now`, the time elapsed since an origin the
/// caller picks once (e.g. `ContinuousClock.now - start`). Memory is bounded: at most
/// ``maxFailures`` timestamps per address and ``maxTrackedAddresses`` addresses; past that
/// cap, the addresses whose last failure is oldest are forgotten first.
///
/// The address is any string the caller chooses; grouping IPv6 addresses by prefix, if
/// wanted, is the caller's business.
public struct AuthRateLimiter: Sendable {
    /// Whether an authentication attempt may go ahead.
    public enum Decision: Hashable, Sendable {
        case allowed
        /// Too many recent failures: try again after this long.
        case limited(retryAfter: Duration)
    }

    public let maxFailures: Int
    public let window: Duration
    public let maxTrackedAddresses: Int

    /// Recent failure times per address, oldest first, at most `maxFailures` of them.
    private var failures: [String: [Duration]] = [:]

    /// - Precondition: all limits are positive.
    public init(maxFailures: Int = 5, window: Duration = .seconds(60), maxTrackedAddresses: Int = 10_000) {
        precondition(maxFailures > 0 && window > .zero && maxTrackedAddresses > 0, "rate limits must be positive")
        self.maxFailures = maxFailures
        self.window = window
        self.maxTrackedAddresses = maxTrackedAddresses
    }

    /// The number of addresses with failures still remembered.
    public var trackedAddressCount: Int { failures.count }

    /// Whether `address` may attempt to authenticate at `now`.
    public mutating func check(address: String, now: Duration) -> Decision {
        guard let recent = prune(address: address, now: now), recent.count >= maxFailures else { return .allowed }
        // `recent` holds the last `maxFailures` failures: the next attempt is allowed once
        // the oldest of them is out of the window.
        return .limited(retryAfter: recent[0] + window - now)
    }

    /// Records a failed authentication from `address` at `now`.
    public mutating func recordFailure(address: String, now: Duration) {
        var recent = prune(address: address, now: now) ?? []
        if recent.isEmpty, failures.count >= maxTrackedAddresses {
            makeRoom(now: now)
        }
        recent.append(now)
        if recent.count > maxFailures {
            recent.removeFirst(recent.count - maxFailures)
        }
        failures[address] = recent
    }

    /// Records a successful authentication: the address's failures are forgotten.
    public mutating func recordSuccess(address: String) {
        failures[address] = nil
    }

    /// Drops the failures of `address` that are out of the window and returns those left (nil
    /// when none).
    private mutating func prune(address: String, now: Duration) -> [Duration]? {
        guard var recent = failures[address] else { return nil }
        let cutoff = now - window
        recent.removeAll { $0 <= cutoff }
        failures[address] = recent.isEmpty ? nil : recent
        return recent.isEmpty ? nil : recent
    }

    /// Makes room for one more address: forgets every expired address, and if that is not
    /// enough, the tenth of the addresses whose last failure is oldest (so the sort is paid
    /// once per many insertions, not on each).
    private mutating func makeRoom(now: Duration) {
        let cutoff = now - window
        failures = failures.filter { $0.value.last! > cutoff }
        guard failures.count >= maxTrackedAddresses else { return }
        let excess = failures.count - maxTrackedAddresses + 1
        let evictions = max(excess, maxTrackedAddresses / 10)
        for (address, _) in failures.sorted(by: { $0.value.last! < $1.value.last! }).prefix(evictions) {
            failures[address] = nil
        }
    }
}
