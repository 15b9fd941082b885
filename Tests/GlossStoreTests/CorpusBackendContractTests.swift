import Foundation
import GlossModel
import GlossStore
import GlossTestSupport
import Synchronization
import Testing

/// The concurrency contract of the storage seam (``CorpusBackend``), checked on every backend:
/// writes are atomic and serialised, a read sees one committed state, nested transactions undo
/// only their own writes, and the schema's unique keys hold.
@Suite(.hangGuard, .timeLimit(.minutes(10)))
struct CorpusBackendContractTests {
    /// A backend on a fresh corpus, and the directory it may live in.
    struct Fixture {
        let dir: TemporaryDirectory
        let backend: any CorpusBackend

        init(_ kind: StoreBackendKind) async throws {
            dir = try TemporaryDirectory("contract")
            backend = try await kind.makeStore(in: dir).backend
        }
    }

    static func revision(_ number: Int, changeset: UInt64? = nil) -> Revision {
        Revision(
            number: number, changeset: ChangesetID(high: 7, low: changeset ?? UInt64(number)), author: "alice",
            replica: ReplicaID(1), base: number - 1, message: "", timestamp: 0, opCount: 1)
    }

    struct Refused: Error {}

    @Test(arguments: StoreBackendKind.allCases)
    func aWriteThatThrowsLeavesNothing(kind: StoreBackendKind) async throws {
        let f = try await Fixture(kind)
        defer { f.dir.remove() }
        #expect(throws: Refused.self) {
            try f.backend.write { rows throws in
                try rows.insertRevision(Self.revision(1))
                try rows.setMeta("k", [1])
                #expect(try rows.headRevision() == 1)  // the transaction sees its own writes
                throw Refused()
            }
        }
        try f.backend.read { rows throws in
            #expect(try rows.headRevision() == 0)
            #expect(try rows.meta("k") == nil)
        }
    }

    @Test(arguments: StoreBackendKind.allCases)
    func aReadSeesOneStateWhileAWriteCommits(kind: StoreBackendKind) async throws {
        let f = try await Fixture(kind)
        defer { f.dir.remove() }
        try f.backend.write { try $0.insertRevision(Self.revision(1)) }
        let backend = f.backend
        let seen = try await GlossProcesses.onOwnThread {
            try backend.read { rows -> [Int] in
                let before = try rows.headRevision()
                // Another thread commits revision 2 while this read is open.
                let committed = DispatchSemaphore(value: 0)
                Thread.detachNewThread {
                    try? backend.write { try $0.insertRevision(Self.revision(2)) }
                    committed.signal()
                }
                committed.wait()
                return [before, try rows.headRevision(), try rows.revisions(after: 0, through: 9).count]
            }
        }
        #expect(seen == [1, 1, 1])
        #expect(try f.backend.read { try $0.headRevision() } == 2)
    }

    @Test(arguments: StoreBackendKind.allCases)
    func writesAreSerialisedSoNoNumberIsTakenTwice(kind: StoreBackendKind) async throws {
        let f = try await Fixture(kind)
        defer { f.dir.remove() }
        let backend = f.backend
        // Each write reads the head and takes the next number: interleaved writes would collide.
        let failures = Mutex(0)
        try await GlossProcesses.onOwnThread {
            DispatchQueue.concurrentPerform(iterations: 4) { worker in
                for i in 0..<10 {
                    do {
                        try backend.write { rows throws in
                            let next = try rows.headRevision() + 1
                            try rows.insertRevision(Self.revision(next, changeset: UInt64(worker * 100 + i)))
                        }
                    } catch {
                        failures.withLock { $0 += 1 }
                    }
                }
            }
        }
        #expect(failures.withLock { $0 } == 0)
        try f.backend.read { rows throws in
            #expect(try rows.headRevision() == 40)
            #expect(try rows.revisions(after: 0, through: 40).map(\.number) == Array(1...40))
        }
    }

    @Test(arguments: StoreBackendKind.allCases)
    func aNestedTransactionUndoesOnlyItsOwnWrites(kind: StoreBackendKind) async throws {
        let f = try await Fixture(kind)
        defer { f.dir.remove() }
        try f.backend.write { rows throws in
            try rows.setMeta("outer", [1])
            try rows.nested {
                try rows.setMeta("undone", [2])
                #expect(try rows.meta("undone") == [2])  // reads inside see its writes
                return .undo
            }
            #expect(throws: Refused.self) {
                try rows.nested {
                    try rows.setMeta("thrown", [3])
                    throw Refused()
                }
            }
            try rows.nested {
                try rows.setMeta("kept", [4])
                return .keep
            }
        }
        try f.backend.read { rows throws in
            #expect(try rows.meta("outer") == [1])
            #expect(try rows.meta("undone") == nil)
            #expect(try rows.meta("thrown") == nil)
            #expect(try rows.meta("kept") == [4])
        }
    }

    @Test(arguments: StoreBackendKind.allCases)
    func uniqueKeysHold(kind: StoreBackendKind) async throws {
        let f = try await Fixture(kind)
        defer { f.dir.remove() }
        try f.backend.write { rows throws in
            try rows.insertRevision(Self.revision(1))
            try rows.insertDelta(document: 0, revision: 1, isBase: false, rawLength: 1, data: [0])
        }
        // The same number, the same changeset under another number, a second delta at one place.
        #expect(throws: (any Error).self) { try f.backend.write { try $0.insertRevision(Self.revision(1, changeset: 99)) } }
        #expect(throws: (any Error).self) { try f.backend.write { try $0.insertRevision(Self.revision(2, changeset: 1)) } }
        #expect(throws: (any Error).self) {
            try f.backend.write { try $0.insertDelta(document: 0, revision: 1, isBase: false, rawLength: 1, data: [1]) }
        }
        try f.backend.read { rows throws in
            #expect(try rows.headRevision() == 1)
            #expect(try rows.deltas(after: 0, through: 1).map(\.data) == [[0]])
        }
    }

    @Test(arguments: StoreBackendKind.allCases)
    func documentKeysAreStableAndRowsFollowTheirDocument(kind: StoreBackendKind) async throws {
        let f = try await Fixture(kind)
        defer { f.dir.remove() }
        let text = TextDigest(of: "hello")
        func record(_ id: DocumentID, removedAt: Int? = nil) -> DocumentRecord {
            DocumentRecord(
                key: -1,
                entry: DocumentEntry(
                    document: Document(id: id, digest: text, length: 5, metadata: [:]), addedAt: 1, removedAt: removedAt))
        }
        let (a, b, again) = try f.backend.write { rows throws in
            (try rows.putDocument(record("b/1")), try rows.putDocument(record("a/1")), try rows.putDocument(record("b/1", removedAt: 2)))
        }
        #expect(a == again && a != b)
        let a1 = AnnotationID(replica: ReplicaID(1), counter: 1), a2 = AnnotationID(replica: ReplicaID(1), counter: 2)
        try f.backend.write { rows throws in
            try rows.putHeadRows(document: a, [(a2, [2]), (a1, [1])])
            try rows.addReferrer(document: a, target: a1, source: a2)
            try rows.addReferrer(document: a, target: a1, source: a2)  // a repeat is ignored
            try rows.insertDelta(document: a, revision: 1, isBase: true, rawLength: 1, data: [9])
        }
        try f.backend.read { rows throws in
            #expect(try rows.documents().map(\.entry.document.id) == ["a/1", "b/1"])  // by id
            #expect(try rows.liveDocumentCount() == 1)
            #expect(try rows.headRows(document: a).map(\.id) == [a1, a2])
            #expect(try rows.referrers(document: a, target: a1) == [a2])
            #expect(try rows.deltas(after: 0, through: 1).map(\.document) == ["b/1"])
            #expect(try rows.latestBaseDelta(document: a, atOrBefore: 5) == 1)
            #expect(try rows.headLayout(document: a) == (0, 2))
        }
        // A block takes the rows' place; clearing the head drops block, rows and referrers.
        try f.backend.write { rows in try rows.putHeadBlock(document: a, HeadBlock(entries: 2, rawLength: 3, data: [1, 2, 3])) }
        try f.backend.read { rows throws in
            #expect(try rows.headLayout(document: a) == (2, 0))
            #expect(try rows.headBlock(document: a)?.data == [1, 2, 3])
        }
        try f.backend.write { rows in try rows.clearHead(document: a) }
        try f.backend.read { rows throws in
            #expect(try rows.headBlock(document: a) == nil)
            #expect(try rows.referrers(document: a, target: a1).isEmpty)
        }
    }

    @Test(arguments: StoreBackendKind.allCases)
    func batchedReadsAnswerWhatOneReadPerItemDoes(kind: StoreBackendKind) async throws {
        let f = try await Fixture(kind)
        defer { f.dir.remove() }
        func id(_ replica: UInt64, _ counter: UInt64) -> AnnotationID { AnnotationID(replica: ReplicaID(replica), counter: counter) }
        // Ids with the top bit set too: stored by bit pattern on PostgreSQL.
        let present = [id(1, 1), id(1, 2), id(.max, 3), id(1 << 63, .max)]
        let absent = [id(2, 1), id(1, 99)]
        let key = try f.backend.write { rows throws -> Int64 in
            for n in 1...5 { try rows.insertRevision(Self.revision(n)) }
            let key = try rows.putDocument(
                DocumentRecord(
                    key: 0,
                    entry: DocumentEntry(
                        document: Document(id: DocumentID(storedRawValue: "d"), digest: TextDigest(of: "t"), length: 1),
                        addedAt: 1)))
            try rows.putHeadRows(document: key, present.enumerated().map { (i, id) in (id, [UInt8(i), 0xFF]) })
            try rows.addReferrer(document: key, target: present[0], source: present[1])
            try rows.addReferrer(document: key, target: present[0], source: present[2])
            try rows.addReferrer(document: key, target: present[3], source: present[0])
            return key
        }
        try f.backend.read { rows throws in
            let wanted = present + absent
            var oneByOne: [AnnotationID: [UInt8]] = [:]
            for id in wanted { oneByOne[id] = try rows.headRow(document: key, id: id) }
            #expect(try rows.headRows(document: key, ids: wanted) == oneByOne)
            #expect(try rows.headRows(document: key, ids: []).isEmpty)
            let referrers = try rows.referrers(document: key, targets: wanted)
            for target in wanted {
                #expect(Set(referrers[target] ?? []) == Set(try rows.referrers(document: key, target: target)))
            }
            #expect(try rows.revisions([5, 2, 9, 3]).map(\.number).sorted() == [2, 3, 5])
            #expect(try rows.revisions([]).isEmpty)
        }
    }
}
