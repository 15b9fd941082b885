import Foundation
import GlossClient
import GlossModel
import GlossServer
import GlossStore
@testable import GlossStoreSQLite
import GlossTestSupport
import GlossWire
import NIOCore
import Testing

/// End-to-end sync: real workspaces (replica + pending changesets on disk) talking to a real
/// in-process glossd over loopback TLS, checked against the server's own store.
@Suite(.serialized, .hangGuard, .timeLimit(.minutes(10)))
struct ClientSyncTests {
    // MARK: Helpers

    /// One annotator's working copy and the engine that syncs it.
    struct Annotator {
        let name: String
        let workspace: Workspace
        let connection: ClientConnection
        var engine: SyncEngine { SyncEngine(workspace: workspace, connection: connection) }
    }

    /// A server with a corpus whose revision 1 (by admin) adds documents and admin's spans.
    static func startCorpus(_ corpus: String, documents: [(DocumentID, String)], spans: [Annotation] = [])
        async throws -> (TestServer, ClientConnection)
    {
        let server = try await TestServer.start()
        let admin = try await server.connect()
        _ = try await admin.request(.with { $0.createCorpus = .with { $0.name = corpus } })
        var cs = Minter("admin", replica: 5).documents(base: 0, documents)
        cs.ops += spans.map(Op.create)
        let answer = try await push(admin, corpus: corpus, cs)
        #expect(answer.acceptedRevision == 1, "setup push: \(answer)")
        return (server, admin)
    }

    static func push(_ connection: ClientConnection, corpus: String, _ changeset: Changeset) async throws
        -> Gloss_V1_PushResponse
    {
        try await push(connection, corpus: corpus, Gloss_V1_Changeset(changeset))
    }

    static func push(_ connection: ClientConnection, corpus: String, _ changeset: Gloss_V1_Changeset) async throws
        -> Gloss_V1_PushResponse
    {
        let response = try await connection.request(
            .with {
                $0.push = .with {
                    $0.corpus = corpus
                    $0.changeset = changeset
                }
            })
        guard case .push(let push)? = response.body else { throw ClientError(.protocolViolation, "not a push response") }
        return push
    }

    /// A new annotator user with a cloned workspace under `directory`.
    static func annotator(_ name: String, server: TestServer, corpus: String, directory: TemporaryDirectory)
        async throws -> Annotator
    {
        let token = try server.user(name, role: .annotator, in: corpus)
        let connection = try await server.connect(token: token)
        #expect(connection.user == name)
        let workspace = try await SyncEngine.clone(
            url: GlossURL(host: "127.0.0.1", port: server.port, corpus: corpus),
            into: directory.url.appendingPathComponent(name), connection: connection, pin: server.fingerprint,
            caFile: nil, token: token)
        return Annotator(name: name, workspace: workspace, connection: connection)
    }

    static func store(_ server: TestServer, _ corpus: String) throws -> CorpusStore {
        try server.server.router.corpora.handle(for: corpus).store
    }

    /// A span owned by the annotator, with a fresh id from its workspace.
    static func span(_ a: Annotator, _ doc: DocumentID, _ start: Int, _ end: Int, _ label: String) throws -> Annotation {
        Annotation.span(try a.workspace.mintID(), in: doc, [TextRange(start, end)], label: label, owner: a.name)
    }

    /// Every workspace equals the server: local view of every document, no pending work or
    /// conflict, and the same history.
    static func expectConverged(
        _ annotators: [Annotator], with store: CorpusStore, documents: [DocumentID],
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let serverRevisions = try store.revisions().map(\.asReplicaKeepsIt)
        for a in annotators {
            for doc in documents {
                let local = try a.workspace.localState(of: doc).sortedAnnotations
                let head = try store.headAnnotations(of: doc)
                #expect(local == head, "\(a.name)'s view of \(doc) differs from the server head", sourceLocation: sourceLocation)
            }
            #expect(try a.workspace.pending().isEmpty, "\(a.name) still has pending changesets", sourceLocation: sourceLocation)
            #expect(try a.workspace.conflicts().isEmpty, "\(a.name) still has conflicts", sourceLocation: sourceLocation)
            #expect(try a.workspace.replica.headRevision() == store.headRevision(), sourceLocation: sourceLocation)
            let replicaRevisions = try a.workspace.replica.revisions()
            // Identity of history first (numbers, idempotency keys, authors, replicas, contents) …
            func identity(_ r: Revision) -> String {
                "\(r.number) \(r.changeset) \(r.author) \(r.replica.rawValue) \(r.opCount) \(r.message) \(r.timestamp)"
            }
            #expect(
                replicaRevisions.map(identity) == serverRevisions.map(identity),
                "\(a.name)'s replica history differs from the server's", sourceLocation: sourceLocation)
            // … then the whole metadata, `base` included (what the changeset was made against).
            let bases = zip(replicaRevisions, serverRevisions).filter { $0.base != $1.base }
                .map { "r\($0.number): replica base \($0.base), server base \($1.base)" }
            #expect(
                replicaRevisions == serverRevisions,
                "\(a.name)'s replica revisions() differ from the server's: \(bases.joined(separator: "; "))",
                sourceLocation: sourceLocation)
        }
    }

    /// A lock-protected value that escaping closures can share.
    final class Shared<Value>: @unchecked Sendable {
        private var value: Value
        private let lock = NSLock()
        init(_ value: Value) { self.value = value }
        func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
            lock.lock()
            defer { lock.unlock() }
            return try body(&value)
        }
    }


    // MARK: 1. Three annotators, offline edits, syncs in different orders

    @Test func threeOfflineAnnotatorsConvergeWithTheServer() async throws {
        let corpus = "trio"
        var admin = Minter("admin", replica: 5)
        let s1 = admin.span("d1", 0, 12, "PER")  // alice and bob: label (conflict); carol: an attribute
        let s2 = admin.span("d1", 21, 27, "GPE")  // alice: ranges; bob: label (different fields)
        let s3 = admin.span("d1", 35, 40, "LOC")  // alice and carol: the same attribute value
        let s4 = admin.span("d1", 41, 43, "LOC")  // alice deletes; bob relabels (delete/edit)
        let s5 = admin.span("d1", 47, 57, "DATE")  // carol deletes; bob sets an attribute (edit/delete)
        let s6 = admin.span("d1", 71, 78, "MISC")  // carol and bob relabel (conflict)
        let t1 = admin.span("d2", 0, 5, "PER")  // bob relabels
        let t2 = admin.span("d2", 14, 18, "ORG")  // carol relabels; alice deletes (delete/edit)
        let t3 = admin.span("d2", 22, 27, "LOC")  // untouched
        let (server, _) = try await Self.startCorpus(
            corpus, documents: [("d1", SampleTexts.news), ("d2", SampleTexts.short)],
            spans: [s1, s2, s3, s4, s5, s6, t1, t2, t3])
        let tmp = try TemporaryDirectory("gloss-trio")
        defer {
            tmp.remove()
            Task { await server.stop() }
        }
        let alice = try await Self.annotator("alice", server: server, corpus: corpus, directory: tmp)
        let bob = try await Self.annotator("bob", server: server, corpus: corpus, directory: tmp)
        let carol = try await Self.annotator("carol", server: server, corpus: corpus, directory: tmp)
        for a in [alice, bob, carol] { #expect(try a.workspace.replica.headRevision() == 1) }

        // Offline: several local commits each, none synced.
        let a1 = try Self.span(alice, "d1", 13, 20, "EVENT")
        try alice.workspace.commit([
            .set("d1", s1.id, .label, .string("PER-ALICE")),
            .set("d1", s2.id, .ranges, .ranges([TextRange(21, 26)])),
        ])
        try alice.workspace.commit([.create(a1), .set("d1", s3.id, .attribute("certain"), .string("yes"))])
        try alice.workspace.commit([.delete("d1", s4.id), .delete("d2", t2.id)])

        let b1 = try Self.span(bob, "d2", 6, 13, "ACT")
        try bob.workspace.commit([
            .set("d1", s1.id, .label, .string("PER-BOB")),
            .set("d1", s2.id, .label, .string("LOC")),
        ])
        try bob.workspace.commit([.set("d1", s4.id, .label, .string("GPE")), .set("d1", s6.id, .label, .string("ORG"))])
        try bob.workspace.commit([
            .create(b1), .set("d2", t1.id, .label, .string("PERSON")),
            .set("d1", s5.id, .attribute("certain"), .string("no")),
        ])

        let c1 = try Self.span(carol, "d1", 58, 70, "MISC")
        try carol.workspace.commit([
            .set("d1", s3.id, .attribute("certain"), .string("yes")),
            .delete("d1", s5.id),
        ])
        try carol.workspace.commit([.create(c1), .set("d1", s6.id, .label, .string("EVENT"))])
        try carol.workspace.commit([
            .set("d1", s1.id, .attribute("negated"), .string("no")),
            .set("d2", t2.id, .label, .string("COMPANY")),
        ])
        for a in [alice, bob, carol] { #expect(try a.workspace.pending().count == 3, "\(a.name)'s commits") }
        // The local view shows local work before any sync.
        #expect(try alice.workspace.localState(of: "d1").annotations[s4.id] == nil)
        #expect(try bob.workspace.localState(of: "d1").annotations[s1.id]?.label == "PER-BOB")

        // How each annotator settles what it meets.
        func resolution(for conflict: Conflict) -> Resolution {
            switch conflict.kind {
            case .field(.label) where conflict.annotation == s1.id: .value(.string("PER-CURATED"))
            case .field: .mine
            case .editDelete: .theirs
            case .deleteEdit: .mine
            default: .theirs
            }
        }

        struct Seen: Hashable, CustomStringConvertible {
            var user: String
            var kind: Conflict.Kind
            var annotation: AnnotationID?
            var mine: FieldValue?
            var theirs: FieldValue?
            var description: String { "\(user): \(kind) on \(annotation.map(\.description) ?? "-") mine \(mine.map(\.description) ?? "-") theirs \(theirs.map(\.description) ?? "-")" }
        }
        var seen: Set<Seen> = []
        let orders = [[carol, alice, bob], [bob, carol, alice], [alice, bob, carol]]
        var quiet = false
        for round in 0..<8 {
            var activity = false
            for a in orders[round % orders.count] {
                let summary = try await a.engine.sync()
                activity = activity || summary.pulled > 0 || summary.pushed > 0 || !summary.conflicts.isEmpty
                #expect(
                    Set(summary.conflicts.map(\.id)) == Set(try a.workspace.conflicts().map(\.id)),
                    "round \(round): \(a.name)'s sync reports the workspace's open conflicts")
                for conflict in try a.workspace.conflicts() {
                    seen.insert(
                        Seen(user: a.name, kind: conflict.kind, annotation: conflict.annotation, mine: conflict.mine, theirs: conflict.theirs))
                    _ = try a.workspace.resolve(String(conflict.id.prefix(8)), with: resolution(for: conflict))
                }
            }
            if !activity {
                quiet = true
                break
            }
        }
        #expect(quiet, "the three workspaces did not become quiescent")

        let store = try Self.store(server, corpus)
        try Self.expectConverged([alice, bob, carol], with: store, documents: ["d1", "d2"])

        // The conflicts were the expected ones, and only those: different fields, identical
        // values and untouched annotations never conflict. With these orders:
        // round 1 (carol, alice, bob): carol pushes; alice's delete of t2 meets carol's relabel;
        //   bob's relabel of s6 meets carol's, and his attribute on s5 meets carol's delete.
        // round 2 (bob, carol, alice): bob pushes; alice's label on s1 meets bob's, and her
        //   delete of s4 meets bob's relabel. Round 3: alice pushes. Then everyone pulls.
        let expected: Set<Seen> = [
            Seen(user: "alice", kind: .deleteEdit, annotation: t2.id, mine: nil, theirs: nil),
            Seen(user: "bob", kind: .field(.label), annotation: s6.id, mine: .string("ORG"), theirs: .string("EVENT")),
            Seen(user: "bob", kind: .editDelete, annotation: s5.id, mine: nil, theirs: nil),
            Seen(user: "alice", kind: .field(.label), annotation: s1.id, mine: .string("PER-ALICE"), theirs: .string("PER-BOB")),
            Seen(user: "alice", kind: .deleteEdit, annotation: s4.id, mine: nil, theirs: nil),
        ]
        #expect(seen == expected, "conflicts seen: \(seen.sorted { $0.description < $1.description })")
        #expect(seen.contains { if case .field = $0.kind { true } else { false } })
        #expect(seen.contains { $0.kind == .editDelete })

        // And the merged result is what every side asked for.
        let d1 = Dictionary(uniqueKeysWithValues: try store.headAnnotations(of: "d1").map { ($0.id, $0) })
        let d2 = Dictionary(uniqueKeysWithValues: try store.headAnnotations(of: "d2").map { ($0.id, $0) })
        #expect(d1[s1.id]?.label == "PER-CURATED")
        #expect(d1[s1.id]?.attributes == ["negated": "no"])
        #expect(d1[s2.id]?.label == "LOC")
        #expect(d1[s2.id]?.ranges == [TextRange(21, 26)])
        #expect(d1[s3.id]?.attributes == ["certain": "yes"])
        #expect(d1[s4.id] == nil, "alice kept mine: her delete stands")
        #expect(d1[s5.id] == nil, "bob kept theirs: carol's delete stands")
        #expect(d1[s6.id]?.label == "ORG")
        #expect(d1[a1.id] == a1)
        #expect(d1[c1.id] == c1)
        #expect(d2[t1.id]?.label == "PERSON")
        #expect(d2[t2.id] == nil, "alice kept mine: her delete stands")
        #expect(d2[t3.id] == t3)
        #expect(d2[b1.id] == b1)
        #expect(d1.count == 6)
        #expect(d2.count == 3)
        // Nothing was pushed twice: every revision is a distinct changeset.
        let revisions = try store.revisions()
        #expect(Set(revisions.map(\.changeset)).count == revisions.count)
        #expect(Set(revisions.map(\.author)) == ["admin", "alice", "bob", "carol"])
    }

    // MARK: 2. One real field conflict, resolved with mine

    @Test func fieldConflictResolvedWithMineWinsEverywhere() async throws {
        let corpus = "duel"
        var admin = Minter("admin", replica: 5)
        let target = admin.span("d", 0, 5, "PER")
        let (server, _) = try await Self.startCorpus(corpus, documents: [("d", SampleTexts.short)], spans: [target])
        let tmp = try TemporaryDirectory("gloss-duel")
        defer {
            tmp.remove()
            Task { await server.stop() }
        }
        let alice = try await Self.annotator("alice", server: server, corpus: corpus, directory: tmp)
        let bob = try await Self.annotator("bob", server: server, corpus: corpus, directory: tmp)
        try alice.workspace.commit([.set("d", target.id, .label, .string("ALICE-LABEL"))])
        try bob.workspace.commit([.set("d", target.id, .label, .string("BOB-LABEL"))])

        let first = try await alice.engine.sync()
        #expect(first.conflicts.isEmpty)
        #expect(first.pushed == 1)
        let store = try Self.store(server, corpus)
        #expect(try store.headAnnotations(of: "d").first?.label == "ALICE-LABEL")

        let second = try await bob.engine.sync()
        #expect(second.pushed == 0, "bob must not push over a conflict")
        #expect(second.conflicts.count == 1)
        let conflict = try #require(second.conflicts.first)
        #expect(conflict.kind == .field(.label))
        #expect(conflict.annotation == target.id)
        #expect(conflict.mine == .string("BOB-LABEL"))
        #expect(conflict.theirs == .string("ALICE-LABEL"))
        #expect(conflict.theirRevision == 2)
        #expect(try bob.workspace.conflicts().map(\.id) == [conflict.id])
        #expect(try store.headRevision() == 2)
        // Until resolved, bob sees alice's label (the held-back op is not applied locally).
        #expect(try bob.workspace.localState(of: "d").annotations[target.id]?.label == "ALICE-LABEL")

        let resolved = try bob.workspace.resolve(String(conflict.id.prefix(6)), with: .mine)
        #expect(resolved.id == conflict.id)
        #expect(try bob.workspace.conflicts().isEmpty)
        let third = try await bob.engine.sync()
        #expect(third.conflicts.isEmpty)
        #expect(third.pushed == 1)
        _ = try await alice.engine.pull()

        #expect(try store.headAnnotations(of: "d").first?.label == "BOB-LABEL")
        #expect(try alice.workspace.localState(of: "d").annotations[target.id]?.label == "BOB-LABEL")
        #expect(try bob.workspace.localState(of: "d").annotations[target.id]?.label == "BOB-LABEL")
        #expect(try store.revisions().map(\.author) == ["admin", "alice", "bob"])
        try Self.expectConverged([alice, bob], with: store, documents: ["d"])
    }

    // MARK: 3. Lost acknowledgement: the retry is a duplicate, not a second revision

    @Test func pushRetriedAfterLostAcknowledgementIsNotDuplicated() async throws {
        let corpus = "retry"
        let (server, adminConnection) = try await Self.startCorpus(corpus, documents: [("d", SampleTexts.news)])
        let tmp = try TemporaryDirectory("gloss-retry")
        defer {
            tmp.remove()
            Task { await server.stop() }
        }
        let store = try Self.store(server, corpus)
        let alice = try await Self.annotator("alice", server: server, corpus: corpus, directory: tmp)
        let span = try Self.span(alice, "d", 0, 12, "PER")
        let committed = try alice.workspace.commit([.create(span)], message: "one span")

        let first = try await alice.engine.push()
        #expect(first.accepted == [2])
        #expect(first.duplicates == 0)
        #expect(!first.refused)
        #expect(try store.revisions().count == 2)
        // No pull: the changeset is still pending, as if the acknowledgement had been lost.
        #expect(try alice.workspace.pending().map(\.id) == [committed.id])

        let second = try await alice.engine.push()
        #expect(second.accepted.isEmpty)
        #expect(second.duplicates == 1)
        #expect(!second.refused)
        #expect(try store.revisions().count == 2, "the retry made a second revision")
        #expect(try store.revisionNumber(of: committed.id) == 2)

        let pulled = try await alice.engine.pull()
        #expect(pulled.acknowledged == 1)
        #expect(pulled.head == 2)
        #expect(try alice.workspace.pending().isEmpty)
        #expect(try alice.workspace.localState(of: "d").annotations[span.id] == span)
        try Self.expectConverged([alice], with: store, documents: ["d"])

        // The same check on the raw protocol: one changeset message, sent twice.
        var m = Minter("admin", replica: 9)
        let wire = Gloss_V1_Changeset(m.changeset(base: 2, [.create(m.span("d", 21, 27, "LOC"))]))
        let once = try await Self.push(adminConnection, corpus: corpus, wire)
        let twice = try await Self.push(adminConnection, corpus: corpus, wire)
        guard case .acceptedRevision(let accepted)? = once.outcome else {
            Issue.record("first push: \(once)")
            return
        }
        guard case .duplicateRevision(let duplicate)? = twice.outcome else {
            Issue.record("second push: \(twice)")
            return
        }
        #expect(accepted == 3)
        #expect(duplicate == accepted)
        #expect(try store.revisions().count == 3)
    }

    // MARK: 4. Shutdown while clients push: nothing acknowledged is lost

    @Test func acknowledgedPushesSurviveShutdown() async throws {
        let corpus = "drain"
        let (server, _) = try await Self.startCorpus(corpus, documents: [("d", SampleTexts.news)])
        defer { Task { await server.stop() } }
        let clients = 4
        let perClient = 25
        var connections: [(String, ClientConnection)] = []
        for k in 0..<clients {
            let name = "pusher\(k)"
            connections.append((name, try await server.connect(token: try server.user(name, role: .annotator, in: corpus))))
        }

        struct Ack: Sendable {
            var changeset: ChangesetID
            var revision: Int
            var duplicate: Bool
        }
        enum Outcome: Sendable {
            case ack(Ack)
            case failed(String, retryable: Bool)
        }
        let acknowledged = Shared(0)
        let shutdownAfter = 20
        let shutdownTask = Task {
            while acknowledged.withLock({ $0 }) < shutdownAfter { try? await Task.sleep(for: .milliseconds(1)) }
            await server.server.shutdown()
        }
        let outcomes = try await withThrowingTaskGroup(of: [Outcome].self) { group in
            for (k, (name, connection)) in connections.enumerated() {
                group.addTask {
                    var m = Minter(name, replica: UInt64(100 + k))
                    var out: [Outcome] = []
                    for i in 0..<perClient {
                        let start = (k * perClient + i) % 70
                        let cs = m.changeset(base: 1, [.create(m.span("d", start, start + 3, "PER"))])
                        do {
                            let answer = try await Self.push(connection, corpus: corpus, cs)
                            switch answer.outcome {
                            case .acceptedRevision(let r):
                                out.append(.ack(Ack(changeset: cs.id, revision: Int(r), duplicate: false)))
                                acknowledged.withLock { $0 += 1 }
                            case .duplicateRevision(let r):
                                out.append(.ack(Ack(changeset: cs.id, revision: Int(r), duplicate: true)))
                                acknowledged.withLock { $0 += 1 }
                            default:
                                out.append(.failed("push \(i) of \(name) answered \(answer)", retryable: false))
                            }
                        } catch let error as ClientError {
                            // Not acknowledged. After GOAWAY the request is refused (retryable) or
                            // the connection is closed under it.
                            let retryable = error.server.map(\.retryable) ?? (error.code == .closed)
                            out.append(.failed("push \(i) of \(name): \(error)", retryable: retryable))
                            break
                        }
                    }
                    return out
                }
            }
            var all: [Outcome] = []
            for try await part in group { all += part }
            return all
        }
        // The drain is over when shutdown returns (it waits for connections to finish).
        await shutdownTask.value

        let acks = outcomes.compactMap { if case .ack(let a) = $0 { a } else { nil } }
        let failures = outcomes.compactMap { if case .failed(let why, let retryable) = $0 { (why, retryable) } else { nil } }
        #expect(acks.count >= shutdownAfter)
        #expect(acks.allSatisfy { !$0.duplicate }, "fresh changesets cannot be duplicates")
        #expect(Set(acks.map(\.revision)).count == acks.count, "two acknowledgements share a revision")
        for (why, retryable) in failures {
            #expect(retryable, "a push failed during shutdown with a non-retryable error: \(why)")
        }
        // The shutdown really overlapped the pushes (otherwise this test proves nothing).
        #expect(!failures.isEmpty, "all \(acks.count) pushes finished before the shutdown began")

        // Reopen the corpus file as a fresh store: every acknowledged changeset is there, as
        // the revision it was acknowledged as.
        let path = server.directory.url.appendingPathComponent("corpora").appendingPathComponent("\(corpus).sqlite").path
        let reopened = try CorpusStore.sqlite(path: path)
        let revisions = try reopened.revisions()
        let byID = Dictionary(uniqueKeysWithValues: revisions.map { ($0.changeset, $0.number) })
        for ack in acks {
            #expect(byID[ack.changeset] == ack.revision, "acknowledged changeset \(ack.changeset) (r\(ack.revision)) is missing or renumbered")
        }
        #expect(try reopened.headRevision() >= acks.count + 1)
        #expect(revisions.map(\.number) == Array(1...revisions.count), "the revision log has gaps")
        // And the head holds every acknowledged span.
        let live = Set(try reopened.headAnnotations(of: "d").map(\.id))
        #expect(live.count == revisions.count - 1)
    }

    // MARK: 5. Live notifications

    @Test func subscriberHearsEveryRevisionWithItsAuthor() async throws {
        let corpus = "live"
        let (server, _) = try await Self.startCorpus(corpus, documents: [("d", SampleTexts.news)])
        defer { Task { await server.stop() } }
        let watcher = try await server.connect(token: try server.user("watcher", role: .viewer, in: corpus))
        let alice = try await server.connect(token: try server.user("alice", role: .annotator, in: corpus))
        let bob = try await server.connect(token: try server.user("bob", role: .annotator, in: corpus))

        let (id, events) = try watcher.stream(.with { $0.subscribe = .with { $0.corpus = corpus } })
        struct Received: Sendable {
            var confirmedHead: UInt64?
            var notes: [Gloss_V1_Notification] = []
            var ended = false
            var failure: String?
        }
        let received = Shared(Received())
        let reader = Task {
            do {
                for try await event in events {
                    switch event {
                    case .interim(let response):
                        received.withLock { $0.confirmedHead = response.subscribe.headRevision }
                    case .item(let bytes):
                        let note = try Gloss_V1_Notification(serializedBytes: Array(bytes.readableBytesView))
                        received.withLock { $0.notes.append(note) }
                    }
                }
                received.withLock { $0.ended = true }
            } catch {
                received.withLock {
                    $0.failure = "\(error)"
                    $0.ended = true
                }
            }
        }
        #expect(try await eventually { received.withLock { $0.confirmedHead != nil } }, "no subscription confirmation")
        #expect(received.withLock { $0.confirmedHead } == 1)

        let each = 5
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (k, (name, connection)) in [("alice", alice), ("bob", bob)].enumerated() {
                group.addTask {
                    var m = Minter(name, replica: UInt64(200 + k))
                    for i in 0..<each {
                        let cs = m.changeset(base: 1, [.create(m.span("d", i, i + 2 + k, "PER"))])
                        let answer = try await Self.push(connection, corpus: corpus, cs)
                        guard case .acceptedRevision? = answer.outcome else {
                            throw ClientError(.server, "push \(i) of \(name): \(answer)")
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(try await eventually { received.withLock { $0.notes.count >= 2 * each } }, "notifications missing")
        // Give a stray duplicate the chance to show up.
        try await Task.sleep(for: .milliseconds(200))

        let store = try Self.store(server, corpus)
        let pushed = try store.revisions(after: 1)
        #expect(pushed.count == 2 * each)
        let notes = received.withLock { $0.notes }
        #expect(notes.count == 2 * each, "one notification per revision, got \(notes.map(\.revision))")
        #expect(notes.map(\.revision).sorted() == pushed.map { UInt64($0.number) })
        let authorByRevision = Dictionary(uniqueKeysWithValues: pushed.map { (UInt64($0.number), $0.author) })
        for note in notes {
            #expect(note.corpus == corpus)
            #expect(note.author == authorByRevision[note.revision], "revision \(note.revision)'s author")
            #expect(note.summary == "1 op on 1 document")
        }
        #expect(notes.filter { $0.author == "alice" }.count == each)
        #expect(notes.filter { $0.author == "bob" }.count == each)

        // CANCEL ends the subscription with a final response, cleanly.
        #expect(server.server.router.broadcaster.subscriberCount == 1)
        await watcher.cancel(id)
        #expect(
            try await eventually { server.server.router.broadcaster.subscriberCount == 0 },
            "the server kept the subscription after CANCEL")
        #expect(
            try await eventually { received.withLock { $0.ended } },
            "no final response to CANCEL: the subscription never ended on the client")
        #expect(received.withLock { $0.failure } == nil)
        reader.cancel()
        // The connection itself is still usable.
        let list = try await watcher.request(.with { $0.listDocuments = .with { $0.corpus = corpus } })
        #expect(list.listDocuments.headRevision == UInt64(1 + 2 * each))
    }

    // MARK: 6. Edit/delete resolved with mine, on another user's annotation

    /// Bob relabels a span of alice's while alice deletes it; bob keeps his side. The shared
    /// policy lets any annotator edit any annotation, and "mine" for an edit/delete conflict
    /// brings the annotation back with bob's edit: the server must accept that.
    @Test func editDeleteResolvedWithMineRevivesTheAnnotation() async throws {
        let corpus = "revive"
        let (server, _) = try await Self.startCorpus(corpus, documents: [("d", SampleTexts.short)])
        let tmp = try TemporaryDirectory("gloss-revive")
        defer {
            tmp.remove()
            Task { await server.stop() }
        }
        let store = try Self.store(server, corpus)
        let alice = try await Self.annotator("alice", server: server, corpus: corpus, directory: tmp)
        let bob = try await Self.annotator("bob", server: server, corpus: corpus, directory: tmp)
        let span = try Self.span(alice, "d", 14, 18, "ORG")
        try alice.workspace.commit([.create(span)])
        #expect(try await alice.engine.sync().pushed == 1)
        _ = try await bob.engine.pull()

        try alice.workspace.commit([.delete("d", span.id)])
        try bob.workspace.commit([.set("d", span.id, .label, .string("COMPANY"))])
        #expect(try await alice.engine.sync().pushed == 1)
        let summary = try await bob.engine.sync()
        #expect(summary.conflicts.map(\.kind) == [.editDelete])
        let conflict = try #require(summary.conflicts.first)
        _ = try bob.workspace.resolve(conflict.id, with: .mine)

        do {
            let after = try await bob.engine.sync()
            #expect(after.conflicts.isEmpty)
            #expect(after.pushed == 1)
        } catch {
            Issue.record("bob's sync after resolving the edit/delete conflict with mine failed: \(error)")
            // Where that leaves the workspace: the resolution was folded into pending work that
            // the server refuses, and there is no conflict left to re-resolve.
            #expect(try bob.workspace.conflicts().isEmpty)
            let stuck = try bob.workspace.pending().flatMap(\.ops)
            Issue.record("bob's workspace is left with pending ops the server refuses: \(stuck)")
        }
        var revived = span
        revived.label = "COMPANY"
        #expect(try store.headAnnotations(of: "d") == [revived], "the span is back on the server with bob's label")
        #expect(try bob.workspace.localState(of: "d").annotations[span.id] == revived)
    }
}
