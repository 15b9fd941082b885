import Testing

@testable import GlossServer

@Suite struct AuthRateLimiterTests {
    @Test func fiveFailuresThenLimitedUntilTheFirstLeavesTheWindow() {
        var limiter = AuthRateLimiter()
        // Failures at 0, 1, 2, 3, 4 s: each attempt was allowed.
        for second in 0..<5 {
            #expect(limiter.check(address: "10.0.0.1", now: .seconds(second)) == .allowed)
            limiter.recordFailure(address: "10.0.0.1", now: .seconds(second))
        }
        #expect(limiter.check(address: "10.0.0.1", now: .seconds(10)) == .limited(retryAfter: .seconds(50)))
        #expect(limiter.check(address: "10.0.0.1", now: .milliseconds(59_999)) == .limited(retryAfter: .milliseconds(1)))
        // The failure at 0 s has left the window; the one at 1 s leaves it a second later.
        #expect(limiter.check(address: "10.0.0.1", now: .seconds(60)) == .allowed)
        limiter.recordFailure(address: "10.0.0.1", now: .seconds(60))
        #expect(limiter.check(address: "10.0.0.1", now: .seconds(60)) == .limited(retryAfter: .seconds(1)))
        #expect(limiter.check(address: "10.0.0.1", now: .seconds(61)) == .allowed)
    }

    @Test func fourFailuresAreFine() {
        var limiter = AuthRateLimiter()
        for second in 0..<4 { limiter.recordFailure(address: "a", now: .seconds(second)) }
        #expect(limiter.check(address: "a", now: .seconds(4)) == .allowed)
    }

    @Test func allowedAgainAfterTheWindowAndForgotten() {
        var limiter = AuthRateLimiter()
        for _ in 0..<5 { limiter.recordFailure(address: "a", now: .seconds(100)) }
        #expect(limiter.check(address: "a", now: .seconds(100)) == .limited(retryAfter: .seconds(60)))
        #expect(limiter.check(address: "a", now: .seconds(160)) == .allowed)
        #expect(limiter.trackedAddressCount == 0)
        // A fresh count: four more failures are still allowed.
        for _ in 0..<4 { limiter.recordFailure(address: "a", now: .seconds(161)) }
        #expect(limiter.check(address: "a", now: .seconds(161)) == .allowed)
    }

    @Test func successResetsTheAddress() {
        var limiter = AuthRateLimiter()
        for _ in 0..<4 { limiter.recordFailure(address: "a", now: .zero) }
        limiter.recordSuccess(address: "a")
        #expect(limiter.trackedAddressCount == 0)
        for _ in 0..<4 { limiter.recordFailure(address: "a", now: .seconds(1)) }
        #expect(limiter.check(address: "a", now: .seconds(1)) == .allowed)
        limiter.recordFailure(address: "a", now: .seconds(1))
        #expect(limiter.check(address: "a", now: .seconds(1)) != .allowed)
    }

    @Test func otherAddressesAreUnaffected() {
        var limiter = AuthRateLimiter()
        for _ in 0..<10 { limiter.recordFailure(address: "10.0.0.1", now: .zero) }
        #expect(limiter.check(address: "10.0.0.1", now: .zero) != .allowed)
        #expect(limiter.check(address: "10.0.0.2", now: .zero) == .allowed)
        #expect(limiter.check(address: "::1", now: .zero) == .allowed)
        limiter.recordSuccess(address: "10.0.0.2")
        #expect(limiter.check(address: "10.0.0.1", now: .zero) != .allowed)
    }

    @Test func customPolicy() {
        var limiter = AuthRateLimiter(maxFailures: 2, window: .milliseconds(500))
        limiter.recordFailure(address: "a", now: .milliseconds(100))
        #expect(limiter.check(address: "a", now: .milliseconds(100)) == .allowed)
        limiter.recordFailure(address: "a", now: .milliseconds(200))
        #expect(limiter.check(address: "a", now: .milliseconds(300)) == .limited(retryAfter: .milliseconds(300)))
        #expect(limiter.check(address: "a", now: .milliseconds(600)) == .allowed)
    }

    @Test func theAddressCapHoldsAndEvictsTheOldest() {
        var limiter = AuthRateLimiter(maxTrackedAddresses: 100)
        // A long-limited address, failing early.
        for _ in 0..<5 { limiter.recordFailure(address: "old", now: .zero) }
        for index in 0..<1_000 {
            limiter.recordFailure(address: "host-\(index)", now: .milliseconds(index))
            #expect(limiter.trackedAddressCount <= 100)
        }
        #expect(limiter.trackedAddressCount > 80)
        // The oldest went first; the most recent are still counted.
        #expect(limiter.check(address: "old", now: .seconds(1)) == .allowed)
        for _ in 0..<4 { limiter.recordFailure(address: "host-999", now: .seconds(1)) }
        #expect(limiter.check(address: "host-999", now: .seconds(1)) != .allowed)
    }

    @Test func expiredAddressesAreDroppedBeforeAnyLiveOne() {
        var limiter = AuthRateLimiter(maxTrackedAddresses: 10)
        for index in 0..<9 { limiter.recordFailure(address: "stale-\(index)", now: .zero) }
        for _ in 0..<5 { limiter.recordFailure(address: "attacker", now: .seconds(50)) }
        // At 70 s the stale ones are out of the window; the attacker's failures are not.
        limiter.recordFailure(address: "newcomer", now: .seconds(70))
        #expect(limiter.trackedAddressCount == 2)
        #expect(limiter.check(address: "attacker", now: .seconds(70)) == .limited(retryAfter: .seconds(40)))
    }
}
