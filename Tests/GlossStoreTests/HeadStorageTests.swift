import Foundation
import GlossModel
import GlossTestSupport
import Testing

@testable import GlossStore
@testable import GlossStoreSQLite

/// A document's head at rest: one compressed block plus the rows changed since (DocumentHead).
@Suite(.hangGuard, .timeLimit(.minutes(10)))
struct HeadStorageTests {
    /// Entries with every field a head keeps: spans with attributes, a relation, tombstones,
    /// fields changed at later revisions.
    static func entries(count: Int, document: DocumentID, seed: UInt64) -> [HeadEntry] {
        var rng = SplitMix64(seed: seed)
        var alice = Minter("alice", replica: 7)
        var bob = Minter("bob", replica: 9)
        var entries: [HeadEntry] = []
        for i in 0..<count {
            let start = Int(rng.next() % 1000)
            var annotation =
                i.isMultiple(of: 2)
                ? alice.span(document, start, start + 1 + Int(rng.next() % 20), ["PER", "LOC", "ORG"][i % 3])
                : bob.span(document, start, start + 3, "MISC", attributes: i.isMultiple(of: 5) ? ["certain": "no"] : [:])
            if i.isMultiple(of: 7) { annotation.layer = "gold" }
            let created = 1 + Int(rng.next() % 50)
            var entry = HeadEntry(annotation: annotation, createdAt: created)
            if i.isMultiple(of: 3) { entry.fieldRevisions[.label] = created + Int(rng.next() % 9) }
            if i.isMultiple(of: 11) { entry.fieldRevisions[.attribute("certain")] = created + 2 }
            if i.isMultiple(of: 13) { entry.deletedAt = created + 4 }
            entries.append(entry)
        }
        if entries.count >= 2 {
            let relation = alice.relation(document, entries[0].annotation.id, entries[1].annotation.id, "near")
            entries.append(HeadEntry(annotation: relation, createdAt: 60, fieldRevisions: [.to: 61]))
        }
        return entries
    }

    @Test(arguments: [0, 1, 2, 300])
    func aBlockRoundTripsEveryEntry(count: Int) throws {
        let document: DocumentID = "news/1"
        let entries = Self.entries(count: count, document: document, seed: UInt64(count))
        let decoded = try HeadBlockCodec.decode(HeadBlockCodec.encode(entries.shuffled()), document: document)
        #expect(decoded == Dictionary(uniqueKeysWithValues: entries.map { ($0.annotation.id, $0) }))
    }

    /// Reading a few entries skips the rest and finds exactly what a whole decode finds.
    @Test func aSelectiveReadFindsWhatAWholeDecodeFinds() throws {
        let document: DocumentID = "news/1"
        let entries = Self.entries(count: 300, document: document, seed: 5)
        let bytes = HeadBlockCodec.encode(entries)
        let whole = try HeadBlockCodec.decode(bytes, document: document)
        var rng = SplitMix64(seed: 9)
        let absent = AnnotationID(replica: ReplicaID(8), counter: 1)
        for size in [1, 2, 5, 40, 300] {
            var wanted = Set((0..<size).map { _ in entries[Int(rng.next() % UInt64(entries.count))].annotation.id })
            wanted.insert(absent)
            let some = try HeadBlockCodec.decode(bytes, document: document, only: wanted)
            #expect(some == whole.filter { wanted.contains($0.key) })
        }
        #expect(try HeadBlockCodec.decode(bytes, document: document, only: []).isEmpty)
    }

    /// Cut or corrupted blocks are refused with a codec error, never a crash or a wrong head.
    @Test func damagedBlocksAreRefusedNotMisread() throws {
        let document: DocumentID = "news/1"
        let entries = Self.entries(count: 40, document: document, seed: 3)
        let bytes = HeadBlockCodec.encode(entries)
        let whole = Dictionary(uniqueKeysWithValues: entries.map { ($0.annotation.id, $0) })
        for cut in stride(from: 0, to: bytes.count, by: 7) {
            #expect(throws: CodecError.self) { try HeadBlockCodec.decode(Array(bytes[..<cut]), document: document) }
        }
        var rng = SplitMix64(seed: 11)
        for _ in 0..<500 {
            var damaged = bytes
            damaged[Int(rng.next() % UInt64(bytes.count))] ^= UInt8(truncatingIfNeeded: rng.next() | 1)
            // Either refused, or (a flipped label byte, say) decoded into a different but well-formed head.
            if let decoded = try? HeadBlockCodec.decode(damaged, document: document) {
                #expect(decoded != whole || damaged == bytes)
            }
        }
    }

    /// An import writes a block and no rows; small pushes add rows; once the rows outnumber an
    /// eighth of the block the next write folds them in; every read sees the same head.
    @Test func rowsGatherThenFoldIntoTheBlock() throws {
        let dir = try TemporaryDirectory("head-storage")
        defer { dir.remove() }
        let store = try CorpusStore.sqlite(path: dir.path("corpus.sqlite"))
        var alice = Minter("alice", replica: 10)
        let doc: DocumentID = "news/1"
        let text = String(repeating: "Alice met Bob in Paris. ", count: 200)
        #expect(try store.append(alice.documents(base: 0, [(doc, text)])) == .accepted(revision: 1))
        let spans = (0..<400).map { alice.span(doc, $0 * 10, $0 * 10 + 5, "PER") }
        #expect(try store.append(alice.changeset(base: 1, spans.map(Op.create))) == .accepted(revision: 2))

        func layout() throws -> (blockEntries: Int, rows: Int) {
            let key = try #require(try store.backend.read { try $0.document(doc)?.key })
            return try store.backend.read { try $0.headLayout(document: key) }
        }
        #expect(try layout() == (400, 0))

        var expected = Dictionary(uniqueKeysWithValues: spans.map { ($0.id, $0) })
        var head = 2
        // 400 / 8 = 50 rows may gather; the 51st changed annotation folds them.
        for i in 0..<50 {
            head += 1
            #expect(try store.append(alice.changeset(base: head - 1, [.set(doc, spans[i].id, .label, .string("ORG"))]))
                == .accepted(revision: head))
            expected[spans[i].id]?.label = "ORG"
        }
        #expect(try layout() == (400, 50))
        #expect(try store.headAnnotations(of: doc) == expected.values.sorted { $0.id < $1.id })
        let entry = try #require(try store.headEntry(AnnotationKey(doc, spans[3].id)))
        #expect(entry.lastChange(of: .label) == 6 && entry.createdAt == 2)

        head += 1
        #expect(try store.append(alice.changeset(base: head - 1, [.delete(doc, spans[399].id)])) == .accepted(revision: head))
        expected[spans[399].id] = nil
        #expect(try layout() == (400, 0))
        #expect(try store.headAnnotations(of: doc) == expected.values.sorted { $0.id < $1.id })
        #expect(try store.headEntry(AnnotationKey(doc, spans[399].id))?.deletedAt == head)
        #expect(try store.headEntry(AnnotationKey(doc, spans[3].id))?.lastChange(of: .label) == 6)
        #expect(try store.checkIntegrity(corpus: "c").isClean)
    }

    /// A push reads the few entries it changes from a block the cache does not hold, and keeps
    /// nothing: decoding a whole block to keep it cost a push several times its selective read,
    /// on every push when pushes spread over more documents than the cache holds. A whole read
    /// keeps the block (it was decoded whole anyway), and so does a write that folds one.
    @Test func aPushDecodesOnlyWhatItTouchesOfABlockNotHeld() throws {
        let dir = try TemporaryDirectory("head-cache-admission")
        defer { dir.remove() }
        let path = dir.path("corpus.sqlite")
        let writer = try CorpusStore.sqlite(path: path)
        var alice = Minter("alice", replica: 10)
        let doc: DocumentID = "news/1"
        #expect(try writer.append(alice.documents(base: 0, [(doc, String(repeating: "Alice met Bob. ", count: 300))])).revision == 1)
        let spans = (0..<400).map { alice.span(doc, $0 * 10, $0 * 10 + 5, "PER") }
        #expect(try writer.append(alice.changeset(base: 1, spans.map(Op.create))) == .accepted(revision: 2))

        // A fresh store on the same file: its cache holds nothing.
        let pusher = try CorpusStore.sqlite(path: path)
        let cache = try #require(pusher.headCache)
        #expect(try pusher.append(alice.changeset(base: 2, [.set(doc, spans[7].id, .label, .string("ORG"))])) == .accepted(revision: 3))
        #expect(cache.held == (0, 0))
        #expect(try pusher.headEntry(AnnotationKey(doc, spans[8].id))?.annotation.label == "PER")
        #expect(cache.held == (0, 0))
        // A whole read keeps the block; the next push's read is a hit.
        #expect(try pusher.headAnnotations(of: doc).count == 400)
        #expect(cache.held == (1, 400))
        #expect(try pusher.append(alice.changeset(base: 3, [.set(doc, spans[9].id, .label, .string("LOC"))])) == .accepted(revision: 4))
        #expect(try pusher.headEntries(of: doc).first { $0.annotation.id == spans[7].id }?.annotation.label == "ORG")
        #expect(try pusher.headEntries(of: doc).first { $0.annotation.id == spans[9].id }?.annotation.label == "LOC")
    }

    /// Decoded blocks are kept by their bytes: a store never reads a block another writer (a
    /// second process on the same file) has replaced, and a small cache keeps only recent blocks.
    @Test func decodedBlocksFollowTheirBytes() throws {
        let dir = try TemporaryDirectory("head-cache")
        defer { dir.remove() }
        let path = dir.path("corpus.sqlite")
        let first = try CorpusStore.sqlite(path: path)
        let second = try CorpusStore.sqlite(path: path)
        var alice = Minter("alice", replica: 10)
        let doc: DocumentID = "news/1"
        #expect(try first.append(alice.documents(base: 0, [(doc, String(repeating: "Alice met Bob. ", count: 300))])).revision == 1)
        let spans = (0..<400).map { alice.span(doc, $0 * 10, $0 * 10 + 5, "PER") }
        #expect(try first.append(alice.changeset(base: 1, spans.map(Op.create))) == .accepted(revision: 2))
        #expect(try first.headAnnotations(of: doc).count == 400)
        #expect(first.headCache.map { $0.held == (1, 400) } == true)

        // The other writer folds 60 changes into a new block of the same document.
        for i in 0..<60 {
            #expect(try second.append(alice.changeset(base: 2 + i, [.set(doc, spans[i].id, .label, .string("ORG"))])).revision == 3 + i)
        }
        let labels = try first.headAnnotations(of: doc).map(\.label)
        #expect(labels.filter { $0 == "ORG" }.count == 60)
        #expect(try first.headEntry(AnnotationKey(doc, spans[0].id))?.annotation.label == "ORG")

        // Least recently used blocks go once the entries held pass the capacity.
        let cache = HeadBlockCache(capacity: 500)
        let blocks = (0..<3).map { n in
            DocumentHead.block(of: Self.entries(count: 200, document: doc, seed: UInt64(n)))
        }
        for (n, block) in blocks.enumerated() {
            cache.store(try HeadBlockCodec.decode(
                BlobCompression.decompress(block.data, expectedLength: block.rawLength, what: "block"), document: doc),
                for: HeadBlockCache.Key(document: Int64(n), block: block))
        }
        #expect(cache.held.blocks == 2)
        #expect(cache.entries(for: HeadBlockCache.Key(document: 0, block: blocks[0])) == nil)
        #expect(cache.entries(for: HeadBlockCache.Key(document: 2, block: blocks[2]))?.count == 201)
    }

    /// A store written before blocks existed keeps its rows as rows over an empty block; the
    /// document's next write folds them.
    @Test func rowsOfAnOlderStoreReadAndFold() throws {
        let dir = try TemporaryDirectory("head-legacy")
        defer { dir.remove() }
        let store = try CorpusStore.sqlite(path: dir.path("corpus.sqlite"))
        var alice = Minter("alice", replica: 10)
        let doc: DocumentID = "news/1"
        #expect(try store.append(alice.documents(base: 0, [(doc, SampleTexts.news)])) == .accepted(revision: 1))
        let spans = (0..<30).map { alice.span(doc, $0, $0 + 2, "PER") }
        #expect(try store.append(alice.changeset(base: 1, spans.map(Op.create))) == .accepted(revision: 2))
        // Unfold the block into one row per annotation, as such a store has.
        try store.backend.write { rows in
            let key = try #require(try rows.document(doc)?.key)
            let entries = try DocumentHead.entries(key: key, document: doc, rows)
            try rows.clearHead(document: key)
            try rows.putHeadRows(document: key, entries.map { ($0.key, HeadEntryCodec.encode($0.value)) })
            #expect(try rows.headLayout(document: key) == (0, 30))
        }
        #expect(try store.headAnnotations(of: doc) == spans.sorted { $0.id < $1.id })
        #expect(try store.append(alice.changeset(base: 2, [.delete(doc, spans[0].id)])) == .accepted(revision: 3))
        let key = try #require(try store.backend.read { try $0.document(doc)?.key })
        #expect(try store.backend.read { try $0.headLayout(document: key) } == (30, 0))
        #expect(try store.headAnnotations(of: doc) == Array(spans.dropFirst()).sorted { $0.id < $1.id })
    }
}
