import Foundation
import GlossModel
import GlossServer
import GlossStore
import GlossTestSupport
import Testing

/// Announcements a test hands to the relay by hand.
private final class ScriptedAnnouncer: RevisionAnnouncer, Sendable {
    let stream: AsyncStream<RevisionAnnouncement>
    let continuation: AsyncStream<RevisionAnnouncement>.Continuation

    init() { (stream, continuation) = AsyncStream.makeStream(of: RevisionAnnouncement.self) }

    func announcements() -> AsyncStream<RevisionAnnouncement> { stream }
}

/// Two nodes on one storage: their registries share the corpora's stores, as two glossd on one
/// PostgreSQL database do.
private struct TwoNodes {
    let storage = MemoryCorpusStorage()
    let a: CorpusRegistry
    let b: CorpusRegistry

    init() {
        a = CorpusRegistry(storage: storage, shared: true)
        b = CorpusRegistry(storage: storage, shared: true)
    }
}

@Suite(.hangGuard, .timeLimit(.minutes(10)))
struct PeerRevisionRelayTests {
    @Test func everyNodesRevisionsReachASubscriberInCommitOrderWithWhatThePushSaid() async throws {
        let nodes = TwoNodes()
        let alice = Minter("alice", replica: 1)
        let bob = Minter("bob", replica: 2)
        let subscription = nodes.b.broadcaster.subscribe(corpus: "c")
        // Node A takes the first push, node B the second; B's subscribers hear of both.
        var two = alice.documents(base: 0, [("d1", "Some text."), ("d2", "More text.")])
        two.message = "add two"
        var one = bob.documents(base: 1, [("d3", "Third.")])
        one.message = "add one"
        let first = try await nodes.a.handle(for: "c").committer.append(two)
        let second = try await nodes.b.handle(for: "c").committer.append(one)
        #expect(first == .accepted(revision: 1) && second == .accepted(revision: 2))
        // A shared node's committer publishes nothing itself: only the database knows the order.
        #expect(nodes.b.broadcaster.lastPublished(corpus: "c") == 0)

        let announcer = ScriptedAnnouncer()
        let relay = Task { await PeerRevisionRelay(registry: nodes.b, announcer: announcer, logger: .init(label: "t")).run() }
        defer { relay.cancel() }
        // One announcement of the newest revision stands for every one before it.
        announcer.continuation.yield(RevisionAnnouncement(corpus: "c", revision: 2))
        var events: [RevisionBroadcaster.Event] = []
        for await event in subscription.events {
            events.append(event)
            if events.count == 2 { break }
        }
        #expect(events.map(\.revision) == [1, 2])
        #expect(events.map(\.author) == ["alice", "bob"])
        #expect(events.map(\.message) == ["add two", "add one"])
        #expect(events.map(\.documents) == [["d1", "d2"], ["d3"]])
        #expect(events[0].summary == "2 ops on 2 documents")
    }

    @Test func aRevisionHeardTwiceIsPublishedOnceAndNothingOlderAfterANewerOne() async throws {
        let nodes = TwoNodes()
        let alice = Minter("alice", replica: 1)
        for base in 0..<3 {
            _ = try await nodes.a.handle(for: "c").committer.append(alice.documents(base: base, [(DocumentID(storedRawValue: "d\(base)"), "Text \(base).")]))
        }
        let subscription = nodes.b.broadcaster.subscribe(corpus: "c")
        let announcer = ScriptedAnnouncer()
        let relay = Task { await PeerRevisionRelay(registry: nodes.b, announcer: announcer, logger: .init(label: "t")).run() }
        defer { relay.cancel() }
        for revision in [2, 2, 1, 3] { announcer.continuation.yield(RevisionAnnouncement(corpus: "c", revision: revision)) }
        var seen: [Int] = []
        for await event in subscription.events {
            seen.append(event.revision)
            if event.revision == 3 { break }
        }
        #expect(seen == [1, 2, 3])
    }

    @Test func withNobodyWatchingALaterSubscriberIsNotSentTheWholeHistory() async throws {
        let nodes = TwoNodes()
        let alice = Minter("alice", replica: 1)
        for base in 0..<4 {
            _ = try await nodes.a.handle(for: "c").committer.append(alice.documents(base: base, [(DocumentID(storedRawValue: "d\(base)"), "Text \(base).")]))
        }
        let announcer = ScriptedAnnouncer()
        let relay = Task { await PeerRevisionRelay(registry: nodes.b, announcer: announcer, logger: .init(label: "t")).run() }
        defer { relay.cancel() }
        announcer.continuation.yield(RevisionAnnouncement(corpus: "c", revision: 4))
        // The relay has handled it once the broadcaster records the corpus at 4.
        let deadline = ContinuousClock.now + .seconds(60)
        while nodes.b.broadcaster.lastPublished(corpus: "c") < 4 && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(5))
        }
        #expect(nodes.b.broadcaster.lastPublished(corpus: "c") == 4)
        let subscription = nodes.b.broadcaster.subscribe(corpus: "c")
        _ = try await nodes.a.handle(for: "c").committer.append(alice.documents(base: 4, [("d4", "Text 4.")]))
        announcer.continuation.yield(RevisionAnnouncement(corpus: "c", revision: 5))
        var iterator = subscription.events.makeAsyncIterator()
        #expect(await iterator.next()?.revision == 5)
    }

    @Test func aSingleNodesCommitterPublishesABatchInRevisionOrder() async throws {
        let registry = CorpusRegistry(storage: MemoryCorpusStorage())
        let subscription = registry.broadcaster.subscribe(corpus: "c")
        let handle = try registry.handle(for: "c")
        // Many pushes at once: they commit in batches, and are answered in any order.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<40 {
                group.addTask {
                    let minter = Minter("u\(i)", replica: UInt64(100 + i))
                    _ = try await handle.committer.append(minter.documents(base: 0, [(DocumentID(storedRawValue: "doc\(i)"), "Text \(i).")]))
                }
            }
            try await group.waitForAll()
        }
        var seen: [Int] = []
        for await event in subscription.events {
            seen.append(event.revision)
            if seen.count == 40 { break }
        }
        #expect(seen == Array(1...40))
    }
}
