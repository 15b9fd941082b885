import GlossClient
import GlossTestSupport
import GlossWire
import Testing

@testable import GlossServer

/// Per-user and per-address budgets, as pure state: no sockets, a clock the test sets.
@Suite(.hangGuard, .timeLimit(.minutes(10)))
struct ClientBudgetsTests {
    @Test func requestsInFlightAreCountedPerUserAndPerAddressAcrossConnections() {
        let budgets = ClientBudgets(limits: .init(userRequestsInFlight: 2, addressRequestsInFlight: 3))
        #expect(budgets.admitRequest(user: "ann", address: "10.0.0.1") == nil)
        #expect(budgets.admitRequest(user: "ann", address: "10.0.0.2") == nil)
        let third = budgets.admitRequest(user: "ann", address: "10.0.0.3")
        #expect(third?.code == .tooManyRequests)
        #expect(third?.message.contains("ann has 2 requests in flight") == true)
        // Another user from the same address until the address is full.
        #expect(budgets.admitRequest(user: "bob", address: "10.0.0.1") == nil)
        #expect(budgets.admitRequest(user: "cy", address: "10.0.0.1") == nil)
        #expect(budgets.admitRequest(user: "dee", address: "10.0.0.1")?.message.contains("10.0.0.1 has 3") == true)
        // Finishing frees the slot.
        budgets.finishRequest(user: "ann", address: "10.0.0.1")
        #expect(budgets.admitRequest(user: "ann", address: "10.0.0.9") == nil)
    }

    @Test func bytesOverTheRateArePaidForByWaiting() {
        let budgets = ClientBudgets(limits: .init(userBytesPerSecond: 1000, addressBytesPerSecond: 4000))
        let t0 = ContinuousClock.now
        // A second's worth is free (the bucket starts full); the next 500 bytes cost half a second.
        #expect(budgets.received(1000, user: "ann", address: "a", now: t0) == .zero)
        #expect(budgets.received(500, user: "ann", address: "a", now: t0) == .milliseconds(500))
        // After a second, half a second's debt is paid and the rest refilled.
        #expect(budgets.received(400, user: "ann", address: "a", now: t0 + .seconds(1)) == .zero)
        // Before authentication only the address counts: 4000 per second.
        #expect(budgets.received(3000, user: nil, address: "b", now: t0) == .zero)
        #expect(budgets.received(2000, user: nil, address: "b", now: t0) == .milliseconds(250))
        // No limit, no wait.
        let open = ClientBudgets(limits: .init())
        #expect(open.received(1 << 30, user: "x", address: "y", now: t0) == .zero)
    }

    @Test func aUsersRequestsAreLimitedAcrossConnectionsOverRealSockets() async throws {
        let server = try await TestServer.start(budgets: .init(userRequestsInFlight: 2))
        defer { Task { await server.stop() } }
        _ = try await server.connect().request(.with { $0.createCorpus = .with { $0.name = "c" } })
        let first = try await server.connect(), second = try await server.connect()
        // Two subscriptions stay in flight, one on each connection; a third is refused.
        let a = try first.stream(.with { $0.subscribe = .with { $0.corpus = "c" } })
        let b = try second.stream(.with { $0.subscribe = .with { $0.corpus = "c" } })
        for events in [a.events, b.events] {
            var iterator = events.makeAsyncIterator()
            _ = try await iterator.next()  // the confirmation
        }
        do {
            _ = try await first.request(.with { $0.listCorpora = .init() })
            Issue.record("a third request in flight was accepted")
        } catch let error as ClientError {
            #expect(error.server?.code == .tooManyRequests)
            #expect(error.server?.message.contains("admin has 2 requests in flight") == true)
        }
        // When one ends, the user may send again.
        await second.cancel(b.id)
        var accepted = false
        for _ in 0..<100 where !accepted {
            accepted = (try? await first.request(.with { $0.listCorpora = .init() })) != nil
            if !accepted { try await Task.sleep(for: .milliseconds(20)) }
        }
        #expect(accepted)
    }

    @Test func anAddressOverItsByteRateIsSlowedNotRefused() async throws {
        // 50 kB/s per address: a second's burst, then the rest of the push at that rate.
        let server = try await TestServer.start(budgets: .init(addressBytesPerSecond: 50_000))
        defer { Task { await server.stop() } }
        let admin = try await server.connect()
        _ = try await admin.request(.with { $0.createCorpus = .with { $0.name = "big" } })
        var minter = Minter("admin", replica: 3)
        // Random letters: frames are deflated, and only what crosses the wire counts.
        var rng = SplitMix64(seed: 7)
        let letters = Array("abcdefghijklmnopqrstuvwxyz ".unicodeScalars)
        var scalars = String.UnicodeScalarView()
        for _ in 0..<200_000 { scalars.append(letters[Int(rng.next() % UInt64(letters.count))]) }
        let text = String(scalars)
        let started = ContinuousClock.now
        let answer = try await ClientSyncTests.push(admin, corpus: "big", minter.documents(base: 0, [("d", text)]))
        let elapsed = ContinuousClock.now - started
        #expect(answer.acceptedRevision > 0, "the push was refused: \(answer)")
        // 200,000 random letters deflate to about 120 kB: (120 - 50) kB at 50 kB/s is 1.4 s at
        // least (a lower bound, which a loaded machine cannot break).
        #expect(elapsed >= .seconds(1), "a 120 kB push took only \(elapsed) at 50 kB/s")
    }
}
