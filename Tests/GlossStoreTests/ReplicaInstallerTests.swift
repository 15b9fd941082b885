import Foundation
import GlossModel
import GlossTestSupport
import Testing

@testable import GlossStore
@testable import GlossStoreSQLite

/// A replica installed from the server's stored blobs (what a clone streams) holds the server's
/// head exactly, and a stream that does not apply is refused with the document and revision.
@Suite(.hangGuard, .timeLimit(.minutes(10)))
struct ReplicaInstallerTests {
    /// A server store with edits, deletes, a relation, a schema change and snapshots.
    static func serverStore(in dir: TemporaryDirectory) throws -> (CorpusStore, [DocumentID]) {
        let store = try CorpusStore.sqlite(path: dir.path("server.sqlite"), snapshotPolicy: SnapshotPolicy(maxChainLength: 3))
        var alice = Minter("alice", replica: 10)
        var bob = Minter("bob", replica: 20)
        let docs: [DocumentID] = ["news/1", "short/1"]
        #expect(try store.append(alice.documents(base: 0, [(docs[0], SampleTexts.news), (docs[1], SampleTexts.short)])).revision == 1)
        var spans: [Annotation] = []
        for round in 0..<12 {
            let head = try store.headRevision()
            var ops: [Op] = []
            for doc in docs {
                let span = round.isMultiple(of: 2) ? alice.span(doc, round, round + 3, "PER") : bob.span(doc, round, round + 2, "LOC")
                spans.append(span)
                ops.append(.create(span))
            }
            if round == 4 { ops.append(.set(docs[0], spans[0].id, .label, .string("ORG"))) }
            if round == 5 { ops.append(.create(alice.relation(docs[0], spans[0].id, spans[2].id, "near"))) }
            if round == 7 { ops.append(.delete(docs[1], spans[1].id)) }
            if round == 9 { ops.append(.setSchema(.open)) }
            let changeset = round.isMultiple(of: 2) ? alice.changeset(base: head, ops) : bob.changeset(base: head, ops)
            #expect(try store.append(changeset).revision == head + 1)
        }
        return (store, docs)
    }

    /// The documents' texts as the server stores them, as a clone sends them.
    static func sendTexts(of documents: [DocumentID], from server: CorpusStore, to installer: ReplicaInstaller) throws {
        for document in documents {
            let entry = try #require(try server.document(document))
            let stored = try #require(try server.storedText(entry.document.digest))
            try installer.text(digest: entry.document.digest, rawLength: stored.rawLength, deflated: stored.data)
        }
    }

    /// Feeds `installer` the server's history from revision 1, as a clone without snapshots.
    static func stream(_ server: CorpusStore, into installer: ReplicaInstaller, texts documents: [DocumentID]) throws {
        try sendTexts(of: documents, from: server, to: installer)
        let deltas = Dictionary(grouping: try server.storedDeltas(after: 0, through: .max), by: \.revision)
        for revision in try server.revisions() {
            try installer.revision(revision, deltas: deltas[revision.number] ?? [])
        }
    }

    @Test func anInstalledReplicaHoldsTheServersHead() throws {
        let dir = try TemporaryDirectory("install")
        defer { dir.remove() }
        let (server, docs) = try Self.serverStore(in: dir)
        let backend = try SQLiteBulkBackend(path: dir.path("replica.sqlite"))
        let installer = try ReplicaInstaller(into: CorpusStore(backend: backend, snapshotPolicy: SnapshotPolicy(maxChainLength: 3)))
        try Self.stream(server, into: installer, texts: docs)
        try installer.finish(head: try server.headRevision())
        try backend.close()

        let replica = try CorpusStore.sqlite(path: dir.path("replica.sqlite"))
        #expect(try replica.headRevision() == (try server.headRevision()))
        #expect(try replica.revisions() == (try server.revisions()))
        #expect(try replica.documents() == (try server.documents()))
        #expect(try replica.schema() == (try server.schema()))
        for doc in docs {
            // Entries with their field revisions and tombstones, as blame and the merge read them.
            #expect(try replica.headEntries(of: doc) == (try server.headEntries(of: doc)))
            for revision in 1...(try server.headRevision()) {
                #expect(try replica.reconstruct(doc, at: revision) == (try server.reconstruct(doc, at: revision)))
            }
        }
        #expect(try replica.checkIntegrity(corpus: "replica").isClean)
    }

    /// More documents than one batch builds at once (the head is built on every core, a batch
    /// at a time): every document still ends equal to the server's, and a broken one in a later
    /// batch is refused by name.
    @Test func documentsAreBuiltInBatchesAndABrokenOneInALaterBatchIsNamed() throws {
        let dir = try TemporaryDirectory("install-batches")
        defer { dir.remove() }
        let server = try CorpusStore.sqlite(path: dir.path("server.sqlite"), snapshotPolicy: SnapshotPolicy(maxChainLength: 2))
        var m = Minter("alice", replica: 10)
        let count = ReplicaInstaller.batchDocuments * 2 + 5
        let docs = (0..<count).map { DocumentID(storedRawValue: "doc/\($0)") }
        #expect(try server.append(m.documents(base: 0, docs.map { ($0, SampleTexts.news) })).revision == 1)
        for round in 0..<4 {
            let head = try server.headRevision()
            var ops: [Op] = []
            for (i, doc) in docs.enumerated() where (i + round).isMultiple(of: 3) {
                let a = m.span(doc, round, round + 4, "PER")
                let b = m.span(doc, round + 5, round + 9, "LOC")
                ops += [.create(a), .create(b), .create(m.relation(doc, a.id, b.id, "near"))]
            }
            #expect(try server.append(m.changeset(base: head, ops)).revision == head + 1)
        }
        let head = try server.headRevision()
        let deltas = Dictionary(grouping: try server.storedDeltas(after: 0, through: .max), by: \.revision)

        let backend = try SQLiteBulkBackend(path: dir.path("r.sqlite"))
        let installer = try ReplicaInstaller(into: CorpusStore(backend: backend, snapshotPolicy: SnapshotPolicy(maxChainLength: 2)))
        try Self.stream(server, into: installer, texts: docs)
        try installer.finish(head: head)
        try backend.close()
        let replica = try CorpusStore.sqlite(path: dir.path("r.sqlite"))
        for doc in docs {
            #expect(try replica.headEntries(of: doc) == (try server.headEntries(of: doc)), "\(doc)")
            #expect(try replica.reconstruct(doc, at: 3) == (try server.reconstruct(doc, at: 3)), "\(doc)")
        }
        #expect(try replica.checkIntegrity(corpus: "replica").isClean)

        // The last document's first relation loses its spans' delta: refused naming that document.
        let broken = docs[count - 1]
        let firstTouch = try #require(deltas.keys.sorted().first { r in r > 1 && deltas[r]!.contains { $0.document == broken } })
        let other = try ReplicaInstaller(into: CorpusStore(backend: try SQLiteBulkBackend(path: dir.path("r2.sqlite"))))
        try Self.sendTexts(of: docs, from: server, to: other)
        for revision in try server.revisions() {
            let kept = (deltas[revision.number] ?? []).map { blob -> StoredBlob in
                guard blob.revision == firstTouch, blob.document == broken else { return blob }
                // Its ops again, but the spans dropped: the relation then refers to nothing.
                let ops = (try? blob.ops())?.filter { if case .create(let a) = $0 { a.kind == .relation } else { true } } ?? []
                let raw = DeltaCodec.encode(ops, document: broken)
                return StoredBlob(kind: .delta, revision: blob.revision, document: broken, rawLength: raw.count, data: BlobCompression.compress(raw))
            }
            try other.revision(revision, deltas: kept)
        }
        do {
            try other.finish(head: head)
            Issue.record("a stream with a dangling relation was installed")
        } catch let error as StoreError {
            #expect(error.code == .corrupt)
            #expect(error.context == "\(broken) at revision \(firstTouch)", "\(error)")
        }
    }

    @Test func aSnapshotStartsADocumentsChainAndLeavesAHistoryGap() throws {
        let dir = try TemporaryDirectory("install-snapshot")
        defer { dir.remove() }
        let (server, docs) = try Self.serverStore(in: dir)
        let head = try server.headRevision()
        let snapshot = try #require(try server.storedSnapshot(of: docs[0], atOrBefore: head))
        let replica = CorpusStore(backend: try SQLiteBulkBackend(path: dir.path("r.sqlite")))
        let installer = try ReplicaInstaller(into: replica)
        try Self.sendTexts(of: docs, from: server, to: installer)
        // As the server streams it: the snapshot before its revision, no delta of that
        // document up to it.
        let deltas = Dictionary(grouping: try server.storedDeltas(after: 0, through: .max), by: \.revision)
        for revision in try server.revisions() {
            if revision.number == snapshot.revision { try installer.snapshot(snapshot) }
            let kept = (deltas[revision.number] ?? []).filter { $0.document != docs[0] || $0.revision > snapshot.revision }
            try installer.revision(revision, deltas: kept)
        }
        try installer.finish(head: head)
        #expect(try replica.headAnnotations(of: docs[0]) == (try server.headAnnotations(of: docs[0])))
        #expect(try replica.historyGaps(of: docs[0]) == [HistoryGap(knownThrough: 0, caughtUpAt: snapshot.revision)])
        #expect(throws: StoreError.self) { try replica.reconstruct(docs[0], at: snapshot.revision - 1) }
        #expect(try replica.reconstruct(docs[0], at: head) == (try server.reconstruct(docs[0], at: head)))
    }

    @Test func aStreamThatDoesNotApplyIsRefusedNamingWhere() throws {
        let dir = try TemporaryDirectory("install-bad")
        defer { dir.remove() }
        let (server, docs) = try Self.serverStore(in: dir)
        let installer = try ReplicaInstaller(into: CorpusStore(backend: try SQLiteBulkBackend(path: dir.path("r.sqlite"))))
        try Self.sendTexts(of: docs, from: server, to: installer)
        // Revision 2's delta of news/1 goes missing: the label set at revision 6 then names an
        // annotation that was never created.
        let deltas = Dictionary(grouping: try server.storedDeltas(after: 0, through: .max), by: \.revision)
        for revision in try server.revisions() {
            let kept = (deltas[revision.number] ?? []).filter { !($0.revision == 2 && $0.document == docs[0]) }
            try installer.revision(revision, deltas: kept)
        }
        do {
            try installer.finish(head: try server.headRevision())
            Issue.record("a stream missing a delta was installed")
        } catch let error as StoreError {
            #expect(error.code == .corrupt)
            #expect(error.context == "news/1 at revision 6", "\(error)")
        }

        // Out of order, and a short stream, are refused as they arrive and at the end.
        let other = try ReplicaInstaller(into: CorpusStore(backend: try SQLiteBulkBackend(path: dir.path("r2.sqlite"))))
        let revisions = try server.revisions()
        #expect(throws: StoreError.self) { try other.revision(revisions[1], deltas: []) }
        try other.revision(revisions[0], deltas: deltas[1] ?? [])
        #expect(throws: StoreError.self) { try other.finish(head: revisions.count) }

        // A text that is not its document's: refused when the document that adds it is checked.
        let swapped = try ReplicaInstaller(into: CorpusStore(backend: try SQLiteBulkBackend(path: dir.path("r3.sqlite"))))
        let entries = try docs.map { try #require(try server.document($0)) }
        let wrong = try #require(try server.storedText(entries[1].document.digest))
        try swapped.text(digest: entries[0].document.digest, rawLength: wrong.rawLength, deflated: wrong.data)
        try Self.sendTexts(of: [docs[1]], from: server, to: swapped)
        for revision in revisions { try swapped.revision(revision, deltas: deltas[revision.number] ?? []) }
        do {
            try swapped.finish(head: revisions.count)
            Issue.record("a text that is not its document's was installed")
        } catch let error as StoreError {
            #expect(error.code == .corrupt)
            #expect(error.context == "news/1 at revision 1", "\(error)")
        }
    }
}
