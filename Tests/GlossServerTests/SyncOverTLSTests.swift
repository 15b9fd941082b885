import Foundation
import GlossClient
import GlossModel
import GlossServer
import GlossStore
import GlossTestSupport
import GlossWire
import NIOCore
import Testing

/// Real TLS on loopback, a real glossd in process, real SQLite stores.
@Suite(.serialized, .hangGuard, .timeLimit(.minutes(10)))
struct SyncOverTLSTests {
    static func push(_ connection: ClientConnection, corpus: String, _ changeset: Changeset) async throws
        -> Gloss_V1_PushResponse
    {
        let response = try await connection.request(
            .with {
                $0.push = .with {
                    $0.corpus = corpus
                    $0.changeset = Gloss_V1_Changeset(changeset)
                }
            })
        guard case .push(let push)? = response.body else { throw ClientError(.protocolViolation, "not a push response") }
        return push
    }

    static func createCorpus(_ connection: ClientConnection, _ name: String) async throws {
        _ = try await connection.request(.with { $0.createCorpus = .with { $0.name = name } })
    }

    @Test func pushIsIdempotentAndPullStreamsWhatWasStored() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let admin = try await server.connect()
        #expect(admin.user == "admin")
        try await Self.createCorpus(admin, "news")

        var m = Minter("admin", replica: 5)
        var cs = m.documents(base: 0, [("d1", SampleTexts.news)])
        let spans = [m.span("d1", 0, 12, "PER"), m.span("d1", 21, 27, "LOC")]
        cs.ops += spans.map(Op.create)
        #expect(try await Self.push(admin, corpus: "news", cs).acceptedRevision == 1)
        // The acknowledgement was "lost": the same changeset again makes no second revision.
        #expect(try await Self.push(admin, corpus: "news", cs).duplicateRevision == 1)

        var items: [Gloss_V1_StreamItem] = []
        let end = try await admin.streaming(.with { $0.pull = .with { $0.corpus = "news" } }) { event in
            if case .item(let bytes) = event {
                items.append(try Gloss_V1_StreamItem(serializedBytes: Array(bytes.readableBytesView)))
            }
        }
        #expect(end.streamEnd.headRevision == 1)
        let revisions = items.compactMap { if case .revision(let r)? = $0.body { r } else { nil } }
        #expect(revisions.map(\.number) == [1])
        let blob = try #require(revisions.first?.deltas.first)
        let stored = StoredBlob(
            kind: .delta, revision: 1, document: "d1", rawLength: Int(blob.rawLength), data: Array(blob.deflated))
        #expect(try stored.ops() == cs.ops)
        let texts = items.compactMap { if case .text(let t)? = $0.body { t } else { nil } }
        #expect(texts.count == 1)

        let listed = try await admin.request(.with { $0.listCorpora = .init() })
        #expect(listed.listCorpora.corpora.map(\.name) == ["news"])
        #expect(listed.listCorpora.corpora.first?.headRevision == 1)
        admin.close()
    }

    @Test func viewersCannotPushAndAnnotatorsCannotChangeDocuments() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let admin = try await server.connect()
        try await Self.createCorpus(admin, "c")
        var m = Minter("admin", replica: 5)
        #expect(try await Self.push(admin, corpus: "c", m.documents(base: 0, [("d", SampleTexts.short)])).acceptedRevision == 1)

        let viewer = try await server.connect(token: try server.user("vic", role: .viewer, in: "c"))
        var v = Minter("vic", replica: 6)
        await #expect(throws: ClientError.self) {
            _ = try await Self.push(viewer, corpus: "c", v.changeset(base: 1, [.create(v.span("d", 0, 5, "PER"))]))
        }
        do {
            _ = try await Self.push(viewer, corpus: "c", v.changeset(base: 1, [.create(v.span("d", 0, 5, "PER"))]))
        } catch let error as ClientError {
            #expect(error.server?.code == .permissionDenied)
        }
        let annotator = try await server.connect(token: try server.user("ann", role: .annotator, in: "c"))
        let a = Minter("ann", replica: 7)
        do {
            _ = try await Self.push(annotator, corpus: "c", a.documents(base: 1, [("d2", "more text")]))
            Issue.record("an annotator added a document")
        } catch let error as ClientError {
            #expect(error.server?.code == .permissionDenied)
        }
        // The viewer's connection survives a refused request.
        let list = try await viewer.request(.with { $0.listDocuments = .with { $0.corpus = "c" } })
        #expect(list.listDocuments.documents.map(\.id) == ["d"])
        m = Minter("admin", replica: 5)
        _ = m
    }

    @Test func wrongTokenAndWrongPinAreRefusedWhileOthersSync() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let good = try await server.connect()
        do {
            _ = try await server.connect(token: "gls_not-a-real-token")
            Issue.record("a wrong token was accepted")
        } catch let error as ClientError {
            #expect(error.server?.code == .authFailed)
        }
        do {
            _ = try await server.connect(trust: .pinned(CertificateFingerprint(derBytes: [1, 2, 3])))
            Issue.record("a wrong pin was accepted")
        } catch let error as ClientError {
            #expect(error.code == .pinMismatch)
            #expect(error.message.contains("WARNING: THE SERVER'S CERTIFICATE HAS CHANGED"))
            #expect(error.message.contains(server.fingerprint.description))
        }
        try await Self.createCorpus(good, "still-working")
        let listed = try await good.request(.with { $0.listCorpora = .init() })
        #expect(listed.listCorpora.corpora.map(\.name) == ["still-working"])
    }

    @Test func repeatedFailedLoginsAreRateLimited() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        var codes: [WireError.Code] = []
        for _ in 0..<7 {
            do {
                _ = try await server.connect(token: "gls_wrong")
            } catch let error as ClientError {
                if let code = error.server?.code { codes.append(code) }
            }
        }
        #expect(codes.prefix(5).allSatisfy { $0 == .authFailed })
        #expect(codes.last == .rateLimited)
    }

    @Test func subscribersHearAboutNewRevisions() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let admin = try await server.connect()
        try await Self.createCorpus(admin, "live")
        let watcher = try await server.connect()
        let (id, events) = try watcher.stream(.with { $0.subscribe = .with { $0.corpus = "live" } })
        var iterator = events.makeAsyncIterator()
        guard case .interim(let confirmed)? = try await iterator.next() else {
            Issue.record("no subscription confirmation")
            return
        }
        #expect(confirmed.subscribe.headRevision == 0)
        let m = Minter("admin", replica: 5)
        #expect(try await Self.push(admin, corpus: "live", m.documents(base: 0, [("d", "text")])).acceptedRevision == 1)
        guard case .item(let bytes)? = try await iterator.next() else {
            Issue.record("no notification")
            return
        }
        let note = try Gloss_V1_Notification(serializedBytes: Array(bytes.readableBytesView))
        #expect(note.revision == 1)
        #expect(note.author == "admin")
        await watcher.cancel(id)
    }

    /// The clone stream carries, per live document, its text and then every delta since the
    /// document was added, although the server keeps snapshots of it: applying them in order
    /// rebuilds exactly the server's head, and the replica can show every revision.
    @Test func cloneStreamRebuildsTheHead() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let admin = try await server.connect()
        try await Self.createCorpus(admin, "big")
        var m = Minter("admin", replica: 5)
        #expect(try await Self.push(admin, corpus: "big", m.documents(base: 0, [("a", SampleTexts.news), ("b", SampleTexts.short)])).acceptedRevision == 1)
        var spans: [Annotation] = []
        for i in 0..<60 {  // past the snapshot policy's chain length: snapshots appear
            let span = m.span(i % 2 == 0 ? "a" : "b", i % 20, i % 20 + 3, "L\(i % 5)")
            spans.append(span)
            var ops: [Op] = [.create(span)]
            if i > 2 { ops.append(.set(spans[i - 2].document, spans[i - 2].id, .label, .string("X\(i)"))) }
            #expect(try await Self.push(admin, corpus: "big", m.changeset(base: i + 1, ops)).acceptedRevision == UInt64(i + 2))
        }
        var states: [DocumentID: DocumentState] = [:]
        var (snapshots, deltas) = (0, 0)
        let end = try await admin.streaming(.with { $0.clone = .with { $0.corpus = "big" } }) { event in
            guard case .item(let bytes) = event else { return }
            let item = try Gloss_V1_StreamItem(serializedBytes: Array(bytes.readableBytesView))
            func apply(_ blob: Gloss_V1_StoredBlob, _ kind: StoredBlob.Kind) throws {
                let doc = DocumentID(storedRawValue: blob.document)
                let stored = StoredBlob(kind: kind, revision: Int(blob.revision), document: doc, rawLength: Int(blob.rawLength), data: Array(blob.deflated))
                for op in try stored.ops() { try states[doc, default: DocumentState()].apply(op) }
            }
            switch item.body {
            case .snapshot(let blob):
                snapshots += 1
                try apply(blob, .snapshot)
            case .revision(let r):
                for blob in r.deltas where !blob.document.isEmpty {
                    deltas += 1
                    try apply(blob, .delta)
                }
            default:
                break
            }
        }
        #expect(end.streamEnd.headRevision == 61)
        let store = try server.server.router.corpora.handle(for: "big").store
        #expect(try store.storedSnapshot(of: "a", atOrBefore: 61) != nil)
        #expect(snapshots == 0)
        #expect(deltas == (try store.storedDeltas(after: 0, through: 61).filter { $0.document != nil }.count))
        for doc in ["a", "b"] as [DocumentID] {
            #expect(states[doc]?.sortedAnnotations == (try store.headAnnotations(of: doc)))
        }
    }

    /// A replica far behind on a busy document gets its snapshot instead of the run of deltas
    /// (fewer bytes), and still ends equal to the server, history numbers included.
    @Test func pullSendsASnapshotWhenItIsSmallerThanTheDeltas() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let admin = try await server.connect()
        try await Self.createCorpus(admin, "busy")
        var m = Minter("admin", replica: 5)
        var cs = m.documents(base: 0, [("d", SampleTexts.news)])
        let spans = (0..<6).map { m.span("d", $0 * 3, $0 * 3 + 2, "L") }
        cs.ops += spans.map(Op.create)
        #expect(try await Self.push(admin, corpus: "busy", cs).acceptedRevision == 1)
        let dir = try TemporaryDirectory("pull-snapshot")
        defer { dir.remove() }
        let workspace = try await SyncEngine.clone(
            url: GlossURL(host: "127.0.0.1", port: server.port, corpus: "busy"), into: dir.url.appendingPathComponent("w"),
            connection: try await server.connect(), pin: server.fingerprint, caFile: nil, token: server.adminToken)
        // Many small edits: the chain outgrows twice the snapshot, so the store snapshots it.
        for i in 0..<80 {
            let op = Op.set("d", spans[i % 6].id, .label, .string("label-\(i)"))
            #expect(try await Self.push(admin, corpus: "busy", m.changeset(base: i + 1, [op])).acceptedRevision == UInt64(i + 2))
        }
        let engine = SyncEngine(workspace: workspace, connection: try await server.connect())
        let summary = try await engine.pull()
        #expect(summary.snapshots == 1)
        let store = try server.server.router.corpora.handle(for: "busy").store
        #expect(try workspace.replica.headAnnotations(of: "d") == (try store.headAnnotations(of: "d")))
        #expect(try workspace.replica.headRevision() == 81)
        // Whole revision rows, op counts included, although one document came as a snapshot.
        #expect(try workspace.replica.revisions() == (try store.revisions()).map(\.asReplicaKeepsIt))
        // A plain delta is kept byte for byte as the server stored it, not re-encoded.
        let op = Op.set("d", spans[0].id, .label, .string("last"))
        #expect(try await Self.push(admin, corpus: "busy", m.changeset(base: 81, [op])).acceptedRevision == 82)
        _ = try await engine.pull()
        #expect(try workspace.replica.storedDeltas(after: 81, through: 82) == (try store.storedDeltas(after: 81, through: 82)))
    }
}
