import Foundation
@testable import GlossClient
import GlossModel
import GlossStore
@testable import GlossStoreSQLite
import GlossTestSupport
import Testing

/// Local commands cost what they touch (issue 10, point 6): an edit reads the head of its own
/// document and the rebase kept from the last command, not every document nor every pending
/// file; and what the kept rebase, the annotation index and the kept counts answer is exactly
/// what rebasing everything and reading every document would.
@Suite struct WorkspaceLocalCostTests {
    // MARK: A workspace without a server

    /// A workspace whose replica is filled straight through the store, as pulls would fill it:
    /// `documents` documents by a remote annotator, each with `spans` spans.
    struct Local {
        let directory: TemporaryDirectory
        let workspace: Workspace
        let documents: [DocumentID]
        var remote = Minter("ana", replica: 5)

        init(documents count: Int, spans: Int) throws {
            directory = try TemporaryDirectory("local-cost")
            workspace = try Workspace.create(
                at: directory.url,
                config: WorkspaceConfig(url: "gloss://127.0.0.1:1/c", pin: nil, caFile: nil, user: "kim", replica: 77),
                token: nil)
            documents = (0..<count).map { DocumentID(storedRawValue: "doc/\($0)") }
            let text = String(repeating: "word ", count: 200)
            try Self.accept(workspace.replica, remote.documents(base: 0, documents.map { ($0, text) }))
            for document in documents {
                let creates = (0..<spans).map { k in Op.create(remote.span(document, 5 * k, 5 * k + 4, "PER")) }
                try Self.accept(workspace.replica, remote.changeset(base: try workspace.replica.headRevision(), creates))
            }
        }

        /// Appends a changeset to a replica as a pulled revision would land.
        static func accept(_ replica: CorpusStore, _ changeset: Changeset) throws {
            let outcome = try replica.append(changeset)
            guard outcome.revision != nil else { throw WorkspaceError(.corrupt, "the replica refused a revision: \(outcome)") }
        }

        /// The workspace opened again, with its replica's head reads logged.
        func reopened(logging log: HeadReadLog) throws -> Workspace {
            try Workspace.open(containing: directory.url) { log.wrapping(try SQLiteCorpusBackend(path: $0)) }
        }

        /// The backend's key of a document, to compare with the log.
        func key(of document: DocumentID) throws -> Int64 {
            try #require(try workspace.replica.backend.read { try $0.document(document)?.key })
        }
    }

    // MARK: What one edit reads

    @Test func anEditReadsTheHeadOfItsDocumentOnly() throws {
        let local = try Local(documents: 12, spans: 30)
        defer { local.directory.remove() }
        let w = local.workspace
        // Pending work on every document, then the derived files a first `docs` makes.
        for (k, document) in local.documents.enumerated() {
            let head = try w.replica.headAnnotations(of: document)
            try w.commit([.set(document, head[k].id, .label, .string("ORG"))])
            try w.commit([.create(Annotation.span(try w.mintID(), in: document, [TextRange(0, 4)], label: "LOC", owner: "kim"))])
        }
        _ = try w.documentSummaries()

        let log = HeadReadLog()
        let reopened = try local.reopened(logging: log)
        let target = local.documents[7]
        let span = try w.replica.headAnnotations(of: target)[3]
        let found = try reopened.annotation(prefix: String(span.id.description.prefix(8)))
        #expect(found.id == span.id)
        try reopened.commit([.set(target, span.id, .label, .string("MISC"))])
        let spanRemoved = try w.replica.headAnnotations(of: target)[4]
        try reopened.commit([.delete(target, spanRemoved.id)])
        try reopened.commit([.create(Annotation.span(try reopened.mintID(), in: target, [TextRange(5, 9)], label: "LOC", owner: "kim"))])
        #expect(log.documentsRead.isSubset(of: [try local.key(of: target)]), "read the heads of \(log.documentsRead.sorted())")
        #expect(!log.documentsRead.isEmpty)

        // Counting afterwards reads no head at all: the index and the kept counts answer.
        log.reset()
        let summaries = try reopened.documentSummaries()
        #expect(log.documentsRead.isEmpty, "read the heads of \(log.documentsRead.sorted())")
        let counted = summaries.first { $0.document.id == target }
        #expect(counted?.annotations == 31, "30 spans, one created before, then one removed and one created")
        #expect(counted?.layers == ["ana", "kim"])
    }

    @Test func anEditDoesNotDecodeTheOtherPendingChangesets() throws {
        let local = try Local(documents: 4, spans: 10)
        defer { local.directory.remove() }
        let w = local.workspace
        for document in local.documents {
            let head = try w.replica.headAnnotations(of: document)
            try w.commit([.set(document, head[0].id, .label, .string("ORG"))])
        }
        _ = try w.rebased()
        // The first pending file's bytes turn to garbage, its size and time kept: a command that
        // read it would fail to decode it. The kept rebase stands for it, unread.
        let pending = local.directory.url.appendingPathComponent(".gloss/pending")
        let first = try #require(try FileManager.default.contentsOfDirectory(atPath: pending.path).filter { $0.hasSuffix(".cs") }.min())
        try Self.overwriteKeepingTime(pending.appendingPathComponent(first).path)

        let reopened = try Workspace.open(containing: local.directory.url)
        let document = local.documents[2]
        let span = try w.replica.headAnnotations(of: document)[5]
        _ = try reopened.annotation(prefix: String(span.id.description.prefix(10)))
        try reopened.commit([.set(document, span.id, .label, .string("LOC"))])
        #expect(try reopened.conflicts().isEmpty)
        #expect(try reopened.localState(of: document).annotations[span.id]?.label == "LOC")
        // Reading every pending file does meet the garbage.
        #expect(throws: WorkspaceError.self) { try reopened.pending() }
    }

    @Test func aKeptListingIsDroppedOnceTheDirectoryChanges() throws {
        let local = try Local(documents: 2, spans: 6)
        defer { local.directory.remove() }
        let w = local.workspace
        let document = local.documents[0]
        let head = try w.replica.headAnnotations(of: document)
        for a in head.prefix(3) { try w.commit([.set(document, a.id, .label, .string("ORG"))]) }
        // Once the directory has been still for a while, the listing is kept with the rebase and
        // the next command takes it instead of looking at each file.
        Thread.sleep(forTimeInterval: 0.3)
        #expect(try w.rebased().changesets.count == 3)
        #expect(try Workspace.open(containing: local.directory.url).pendingEntries().count == 3)

        // Another process commits and drops: this one, and the next, see it.
        let other = try Workspace.open(containing: local.directory.url)
        try other.commit([.set(document, head[4].id, .label, .string("LOC"))])
        #expect(try w.rebased().changesets.map(\.ops) == other.rebased().changesets.map(\.ops))
        #expect(try w.pendingEntries().count == 4)
        try other.drop([try #require(try other.pendingEntries().first)])
        #expect(try w.pending().count == 3)
        #expect(try w.rebased().changesets.count == 3)
        #expect(try Workspace.open(containing: local.directory.url).rebased().changesets.count == 3)
    }

    /// Replaces a file's bytes with as many others and puts its modification time back.
    static func overwriteKeepingTime(_ path: String) throws {
        var info = stat()
        #expect(stat(path, &info) == 0)
        try Data(repeating: 0xFF, count: Int(info.st_size)).write(to: URL(fileURLWithPath: path))
        var times = [info.st_atim, info.st_mtim]
        #expect(utimensat(AT_FDCWD, path, &times, 0) == 0)
    }

    // MARK: The same answers as reading everything

    @Test(arguments: [1, 2, 3] as [UInt64])
    func keptAnswersMatchReadingEverything(seed: UInt64) throws {
        var local = try Local(documents: 6, spans: 8)
        defer { local.directory.remove() }
        var rng = SplitMix64(seed: seed)
        var w = local.workspace
        for step in 0..<70 {
            let view = try Self.referenceView(w)
            let all = view.flatMap { $0.state.annotations.values }.sorted { $0.id < $1.id }
            switch rng.int(below: 100) {
            case ..<25:
                let document = rng.pick(local.documents)
                let start = rng.int(below: 150) * 5
                try w.commit([.create(Annotation.span(try w.mintID(), in: document, [TextRange(start, start + 4)], label: "LOC", owner: "kim"))])
            case ..<45 where !all.isEmpty:
                let a = rng.pick(all)
                try w.commit([.set(a.document, a.id, .label, .string(rng.pick(["ORG", "PER", "DATE"])))])
            case ..<55 where !all.isEmpty:
                // `gloss span rm`: what points at it goes with it.
                let a = rng.pick(all)
                let referrers = all.filter { $0.document == a.document && $0.references.contains(a.id) }
                try w.commit(referrers.map { .delete($0.document, $0.id) } + [.delete(a.document, a.id)])
            case ..<62:
                let spans = all.filter { $0.kind == .span }
                guard let a = spans.isEmpty ? nil : rng.pick(spans), let b = spans.filter({ $0.document == a.document && $0.id != a.id }).first
                else { continue }
                try w.commit([.create(Annotation.relation(try w.mintID(), in: a.document, from: a.id, to: b.id, label: "near", owner: "kim"))])
            case ..<77:
                // A pull: the remote annotator changes what is on the server, at times the
                // same fields as the pending work (conflicts) or what it points at.
                let head = try w.replica.headRevision()
                let document = rng.pick(local.documents)
                let live = try w.replica.headAnnotations(of: document)
                let start = rng.int(below: 150) * 5
                var ops: [Op] = [.create(local.remote.span(document, start, start + 4, "EVENT"))]
                if let a = live.isEmpty ? nil : rng.pick(live) {
                    ops.append(.set(document, a.id, .label, .string(rng.pick(["ORG", "TIME"]))))
                }
                if let b = live.filter({ l in !live.contains { $0.references.contains(l.id) } }).last, rng.chance(30) {
                    ops.append(.delete(document, b.id))
                }
                try Local.accept(w.replica, local.remote.changeset(base: head, ops))
            case ..<85:
                if let last = try w.pendingEntries().last { try w.drop([last]) }
            case ..<92:
                // A resolution the data model refuses is refused here as in `gloss resolve`.
                for conflict in try w.conflicts() { _ = try? w.resolve(conflict.id, with: rng.chance(50) ? .mine : .theirs) }
                try w.applyResolutions()
            default:
                // Another command: a new process reads what this one kept.
                w = try Workspace.open(containing: local.directory.url)
            }
            try Self.expectSameAnswers(w, rng: &rng, step: step, seed: seed)
        }
    }

    /// Checks the workspace's rebase, counts and id look-ups against the same computed from
    /// scratch: every pending file rebased, every document read.
    static func expectSameAnswers(_ w: Workspace, rng: inout SplitMix64, step: Int, seed: UInt64) throws {
        let context = Comment(rawValue: "seed \(seed), step \(step)")
        let reference = try w.replica.rebase(try w.pending())
        let rebased = try w.rebased()
        #expect(rebased.changesets == reference.changesets, context)
        #expect(rebased.conflicts == reference.conflicts, context)

        let view = try referenceView(w, rebased: reference)
        #expect(try w.localDocuments() == view.map(\.document), context)
        let summaries = try w.documentSummaries()
        #expect(summaries.map(\.document) == view.map(\.document), context)
        for (summary, (_, state)) in zip(summaries, view) {
            #expect(summary.annotations == state.annotations.count, context)
            #expect(summary.layers == Set(state.annotations.values.map(\.layer)).sorted(), context)
        }
        for (document, state) in view.prefix(3) { #expect(try w.localState(of: document.id) == state, context) }

        // Prefixes of every length, of ids that exist and of ids that do not.
        let all = view.flatMap { $0.state.annotations.values }
        var prefixes = ["", "0", "zz", "Q", "i"]
        for _ in 0..<6 {
            guard let a = all.isEmpty ? nil : rng.pick(all) else { break }
            prefixes.append(String(a.id.description.prefix(1 + rng.int(below: 26))))
        }
        prefixes.append(AnnotationID(replica: ReplicaID(123), counter: 4).description.prefix(9).uppercased())
        for prefix in prefixes {
            let expected = Result {
                try Workspace.unique(
                    prefix, in: all, id: \.id.description, missing: .unknownAnnotation, what: "annotation",
                    listedBy: "gloss annotations")
            }
            let found = Result { try w.annotation(prefix: prefix) }
            switch (found, expected) {
            case (.success(let a), .success(let b)):
                #expect(a == b, context)
            case (.failure(let a as WorkspaceError), .failure(let b as WorkspaceError)):
                #expect(a.code == b.code && a.message == b.message, context)
            default:
                Issue.record("\(prefix): \(found) where reading everything gives \(expected); \(context)")
            }
        }
    }

    /// The local view as it is by definition: every live document of the replica, plus the
    /// pending work rebased from scratch, applied to each document's whole head.
    static func referenceView(_ w: Workspace, rebased: Rebaser.Result? = nil) throws -> [(document: Document, state: DocumentState)] {
        let pending = try rebased?.changesets ?? w.replica.rebase(try w.pending()).changesets
        var documents = Dictionary(uniqueKeysWithValues: try w.replica.documents().filter(\.isLive).map { ($0.document.id, $0.document) })
        for op in pending.flatMap(\.ops) {
            if case .addDocument(let d) = op { documents[d.id] = d }
            if case .removeDocument(let id) = op { documents[id] = nil }
        }
        return try documents.values.sorted { $0.id < $1.id }.map { document in
            var state = DocumentState(document: document)
            for a in try w.replica.headAnnotations(of: document.id) { state.annotations[a.id] = a }
            for op in pending.flatMap(\.ops) where op.document == document.id { try state.apply(op) }
            return (document, state)
        }
    }
}

/// Which documents' heads (block or rows) a workspace read.
final class HeadReadLog: @unchecked Sendable {
    private let lock = NSLock()
    private var keys = Set<Int64>()

    /// The backend keys of the documents whose heads were read since the last reset.
    var documentsRead: Set<Int64> { lock.withLock { keys } }
    func reset() { lock.withLock { keys = [] } }

    func wrapping(_ inner: any CorpusBackend) -> any CorpusBackend {
        ObservedCorpusBackend(inner) { [self] read in
            switch read {
            case .headBlock(let document), .headRow(let document), .headRows(let document):
                _ = lock.withLock { keys.insert(document) }
            case .batch(let document?, _):
                _ = lock.withLock { keys.insert(document) }
            case .history, .batch(nil, _):
                break
            }
        }
    }
}
