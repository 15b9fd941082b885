import Foundation
import GRDB
import GlossModel
import GlossServer
import GlossStore
@testable import GlossStoreSQLite
import GlossTestSupport
import Testing

/// `glossd check`'s engine: a real store (the sample text, spans, relations, edits, deletes, a
/// removed and re-added document, a schema change, snapshots) is copied, one byte or row of the
/// copy is damaged directly with GRDB, and the check must name exactly that damage.
@Suite(.hangGuard, .timeLimit(.minutes(10)))
struct IntegrityCheckTests {
    /// A store whose history exercises every kind of row, and what the tests need to find them.
    struct Fixture {
        let directory: TemporaryDirectory
        let path: String
        let federation: DocumentID = "fed/1923"
        let news: DocumentID = "news/1"
        let short: DocumentID = "short/1"
        /// Each document's text at the head.
        let texts: [DocumentID: String]
        /// Every text ever added (a re-added document brought a second one).
        let allTexts: Set<String>
        /// A span of `federation` that stays live to the head, with its label.
        let keptSpan: Annotation

        /// Builds the store. Snapshots every 3 deltas, so that chains have several.
        static func make() throws -> Fixture {
            let directory = try TemporaryDirectory("integrity")
            let path = directory.path("corpus.sqlite")
            let store = try CorpusStore.sqlite(path: path, snapshotPolicy: SnapshotPolicy(maxChainLength: 3))
            let federationText = try SharedData.federation()
            var alice = Minter("alice", replica: 11)
            var bob = Minter("bob", replica: 22)
            let fed: DocumentID = "fed/1923", news: DocumentID = "news/1", short: DocumentID = "short/1"
            let texts = [fed: federationText, news: SampleTexts.news, short: SampleTexts.short]

            func append(_ changeset: Changeset) throws {
                let outcome = try store.append(changeset)
                guard outcome.revision != nil else { throw StoreError(.corrupt, "fixture push refused: \(outcome)") }
            }
            let head = { try store.headRevision() }
            try append(alice.documents(base: 0, texts.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }))
            try append(alice.changeset(base: try head(), [.setSchema(.open)]))
            // A document's worth at once, as an import brings: its head is written as a block,
            // and the rounds below leave head rows beside it.
            try append(
                alice.changeset(
                    base: try head(), (0..<40).map { .create(alice.span(fed, $0 * 3, $0 * 3 + 2, "MISC")) }))
            // Spans on every document, a relation, edits and deletes, spread over revisions.
            var live: [Annotation] = []
            for round in 0..<8 {
                let byAlice = round.isMultiple(of: 2)
                var ops: [Op] = []
                for (doc, text) in texts.sorted(by: { $0.key < $1.key }) {
                    let start = (round * 7) % max(1, text.unicodeScalars.count - 6)
                    let label = round.isMultiple(of: 3) ? "PER" : "LOC"
                    let span =
                        byAlice ? alice.span(doc, start, start + 5, label) : bob.span(doc, start, start + 5, label)
                    ops.append(.create(span))
                    live.append(span)
                }
                if round == 3, let target = live.first(where: { $0.document == fed }) {
                    ops.append(.set(fed, target.id, .label, .string("ORG")))
                    ops.append(.set(fed, target.id, .attribute("certain"), .string("yes")))
                }
                if round == 5, let gone = live.first(where: { $0.document == news }) {
                    ops.append(.delete(news, gone.id))
                    live.removeAll { $0.id == gone.id }
                }
                if round == 6 {
                    let spans = live.filter { $0.document == fed }
                    ops.append(.create(alice.relation(fed, spans[0].id, spans[1].id, "near")))
                }
                try append((byAlice ? alice : bob).changeset(base: try head(), ops))
            }
            // Removed, then added again: a chain with two bases.
            try append(alice.changeset(base: try head(), [.removeDocument(short)]))
            var readd = alice.documents(base: try head(), [(short, SampleTexts.short + " Again.")])
            readd.ops.append(.create(alice.span(short, 0, 5, "PER")))
            try append(readd)
            let kept = try #require(
                try store.headAnnotations(of: fed).first { $0.kind == .span && $0.label == "PER" })
            var final = texts
            final[short] = SampleTexts.short + " Again."
            return Fixture(
                directory: directory, path: path, texts: final, allTexts: Set(texts.values).union(final.values),
                keptSpan: kept)
        }

        /// A copy of the store's file to damage (the original stays as built).
        func copy() throws -> String {
            let copy = directory.path("copy-\(UUID().uuidString).sqlite")
            try CorpusStore.sqlite(path: path).backup(to: copy)
            return copy
        }

        func check(_ path: String) throws -> IntegrityReport {
            try CorpusStore.sqlite(path: path).checkIntegrity(corpus: "c")
        }
    }

    /// Runs `body` on a plain connection to a damaged copy (no WAL pool, no migrations).
    static func damage(_ path: String, _ body: (Database) throws -> Void) throws {
        let queue = try DatabaseQueue(path: path)
        try queue.writeWithoutTransaction { db in try body(db) }
        try queue.close()
    }

    static func key(_ db: Database, _ document: DocumentID) throws -> Int64 {
        try #require(try Int64.fetchOne(db, sql: "SELECT key FROM documents WHERE id = ?", arguments: [document.rawValue]))
    }

    /// Sets both BTYPE bits of a raw-deflate stream's first block header: "reserved", which no
    /// inflater accepts. One byte changed, and a failure that does not depend on luck.
    static func breakDeflate(_ data: Data) -> Data {
        var bytes = [UInt8](data)
        bytes[0] |= 0b110
        return Data(bytes)
    }

    // MARK: Clean

    @Test func aRealStoreIsClean() throws {
        let f = try Fixture.make()
        defer { f.directory.remove() }
        let store = try CorpusStore.sqlite(path: f.path)
        let report = try store.checkIntegrity(corpus: "c")
        #expect(report.isClean, "\(report.summary)")
        // Everything was looked at, counted independently of the checker.
        let summary = try store.storageSummary()
        #expect(report.counts.documents == (try store.documents().count))
        #expect(report.counts.revisions == (try store.headRevision()))
        #expect(report.counts.deltas == summary.deltaCount)
        #expect(report.counts.snapshots == summary.snapshotCount)
        #expect(report.counts.snapshots > 0, "the fixture must exercise snapshots")
        #expect(report.counts.texts == f.allTexts.count)
        #expect(report.counts.headEntries == summary.headRows)
        #expect(report.headRevisions["c"] == (try store.headRevision()))
    }

    // MARK: Blobs

    @Test func aFlippedTextByteIsReportedOnThatText() throws {
        let f = try Fixture.make()
        defer { f.directory.remove() }
        let copy = try f.copy()
        let digest = TextDigest(of: f.texts[f.federation]!)
        try Self.damage(copy) { db in
            let data = try #require(try Data.fetchOne(db, sql: "SELECT data FROM texts WHERE digest = ?", arguments: [Data(digest.bytes)]))
            try db.execute(
                sql: "UPDATE texts SET data = ? WHERE digest = ?", arguments: [Self.breakDeflate(data), Data(digest.bytes)])
        }
        let report = try f.check(copy)
        // Once: documents using a damaged text are not reported again.
        #expect(report.problems.count == 1, "\(report.summary)")
        let problem = try #require(report.problems.first)
        #expect(problem.kind == .blobCorrupt)
        #expect(problem.table == "texts")
        #expect(problem.digest == digest.description)
        #expect(problem.corpus == "c")
    }

    @Test func aTextThatNoLongerHashesToItsDigestIsReported() throws {
        let f = try Fixture.make()
        defer { f.directory.remove() }
        let copy = try f.copy()
        let text = f.texts[f.news]!
        let digest = TextDigest(of: text)
        // One character changed for another of the same UTF-8 length, stored as a valid blob.
        let altered = String(text.prefix(1) == "X" ? "Y" : "X") + text.dropFirst()
        let raw = Array(altered.utf8)
        #expect(raw.count == Array(text.utf8).count)
        try Self.damage(copy) { db in
            try db.execute(
                sql: "UPDATE texts SET data = ? WHERE digest = ?",
                arguments: [Data(BlobCompression.compress(raw)), Data(digest.bytes)])
        }
        let report = try f.check(copy)
        #expect(report.problems.count == 1, "\(report.summary)")
        let problem = try #require(report.problems.first)
        #expect(problem.kind == .textHashMismatch)
        #expect(problem.digest == digest.description)
        #expect(problem.expected == digest.description)
        #expect(problem.found == TextDigest(of: altered).description)
    }

    @Test func aMissingTextIsReportedForTheDocumentsThatNeedIt() throws {
        let f = try Fixture.make()
        defer { f.directory.remove() }
        let copy = try f.copy()
        let digest = TextDigest(of: f.texts[f.news]!)
        try Self.damage(copy) { db in
            try db.execute(sql: "DELETE FROM texts WHERE digest = ?", arguments: [Data(digest.bytes)])
        }
        let report = try f.check(copy)
        #expect(!report.problems.isEmpty)
        for problem in report.problems {
            #expect(problem.kind == .textMissing, "\(problem)")
            #expect(problem.document == f.news)
            #expect(problem.digest == digest.description)
        }
        #expect(report.problems.contains { $0.revision == 1 }, "the delta adding it at revision 1")
    }

    @Test func aFlippedDeltaByteIsReportedAtItsDocumentAndRevision() throws {
        let f = try Fixture.make()
        defer { f.directory.remove() }
        let copy = try f.copy()
        var revision = 0
        try Self.damage(copy) { db in
            let key = try Self.key(db, f.federation)
            revision = try #require(
                try Int.fetchOne(db, sql: "SELECT MIN(rev) FROM deltas WHERE doc = ? AND base = 0", arguments: [key]))
            let data = try #require(
                try Data.fetchOne(db, sql: "SELECT data FROM deltas WHERE doc = ? AND rev = ?", arguments: [key, revision]))
            try db.execute(
                sql: "UPDATE deltas SET data = ? WHERE doc = ? AND rev = ?",
                arguments: [Self.breakDeflate(data), key, revision])
        }
        let report = try f.check(copy)
        #expect(report.problems.count == 1, "\(report.summary)")
        let problem = try #require(report.problems.first)
        #expect(problem.kind == .blobCorrupt)
        #expect(problem.table == "deltas")
        #expect(problem.document == f.federation)
        #expect(problem.revision == revision)
    }

    @Test func aDeltaThatDecodesToOtherOpsDisagreesWithTheHead() throws {
        let f = try Fixture.make()
        defer { f.directory.remove() }
        let copy = try f.copy()
        // The delta that created the kept span, re-encoded with another label: it inflates and
        // decodes, so only the comparison with the head (and later snapshots) can catch it.
        let store = try CorpusStore.sqlite(path: f.path)
        let creation = try #require(
            try store.storedDeltas(of: f.federation).first { delta in
                try delta.ops().contains { if case .create(let a) = $0 { a.id == f.keptSpan.id } else { false } }
            })
        let relabelled = try creation.ops().map { op -> Op in
            guard case .create(var a) = op, a.id == f.keptSpan.id else { return op }
            a.label = f.keptSpan.label + "X"
            return .create(a)
        }
        let raw = DeltaCodec.encode(relabelled, document: f.federation)
        try Self.damage(copy) { db in
            try db.execute(
                sql: "UPDATE deltas SET data = ?, raw_len = ? WHERE doc = ? AND rev = ?",
                arguments: [Data(BlobCompression.compress(raw)), raw.count, try Self.key(db, f.federation), creation.revision])
        }
        let report = try f.check(copy)
        let about = report.problems.filter { $0.annotation == f.keptSpan.id.description }
        #expect(!about.isEmpty, "\(report.summary)")
        // Every problem names the span, with the label the delta now says against the stored
        // one; the only other one allowed is the bookkeeping, as the delta's size changed.
        for problem in report.problems where problem.kind != .chainBookkeeping {
            #expect(problem.annotation == f.keptSpan.id.description, "\(problem)")
            #expect(problem.kind == .snapshotMismatch || problem.kind == .headMismatch, "\(problem)")
            #expect(problem.expected?.contains("label \"\(f.keptSpan.label)X\"") == true, "\(problem)")
        }
        #expect(about.contains { $0.kind == .headMismatch && $0.found == "label \"\(f.keptSpan.label)\"" })
    }

    @Test func aFlippedSnapshotByteIsReportedAtItsDocumentAndRevision() throws {
        let f = try Fixture.make()
        defer { f.directory.remove() }
        let copy = try f.copy()
        var target: (document: DocumentID, revision: Int)?
        try Self.damage(copy) { db in
            let row = try #require(
                try Row.fetchOne(
                    db, sql: "SELECT docs.id, s.doc, s.rev, s.data FROM snapshots s JOIN documents docs ON docs.key = s.doc "
                        + "ORDER BY s.rev LIMIT 1"))
            let key: Int64 = row[1]
            let revision: Int = row[2]
            target = (DocumentID(storedRawValue: row[0]), revision)
            try db.execute(
                sql: "UPDATE snapshots SET data = ? WHERE doc = ? AND rev = ?",
                arguments: [Self.breakDeflate(row[3]), key, revision])
        }
        let report = try f.check(copy)
        #expect(report.problems.count == 1, "\(report.summary)")
        let problem = try #require(report.problems.first)
        #expect(problem.kind == .blobCorrupt)
        #expect(problem.table == "snapshots")
        #expect(problem.document == target?.document)
        #expect(problem.revision == target?.revision)
    }

    @Test func aSnapshotThatDiffersFromItsDeltasIsReported() throws {
        let f = try Fixture.make()
        defer { f.directory.remove() }
        let copy = try f.copy()
        let store = try CorpusStore.sqlite(path: f.path)
        // The latest snapshot of the federation document holding the kept span.
        let snapshot = try #require(try store.storedSnapshot(of: f.federation, atOrBefore: store.headRevision()))
        var state = DocumentState()
        for op in try snapshot.ops() { try state.apply(op) }
        let victim = try #require(state.sortedAnnotations.first { $0.kind == .span })
        state.annotations[victim.id]?.ranges = [TextRange(victim.ranges[0].start, victim.ranges[0].end + 1)]
        let raw = DeltaCodec.encode(state.asOps, document: f.federation)
        try Self.damage(copy) { db in
            try db.execute(
                sql: "UPDATE snapshots SET data = ?, raw_len = ? WHERE doc = ? AND rev = ?",
                arguments: [
                    Data(BlobCompression.compress(raw)), raw.count, try Self.key(db, f.federation), snapshot.revision,
                ])
        }
        let report = try f.check(copy)
        let mismatches = report.problems.filter { $0.kind == .snapshotMismatch }
        #expect(mismatches.count == 1, "\(report.summary)")
        let problem = try #require(mismatches.first)
        #expect(problem.document == f.federation)
        #expect(problem.revision == snapshot.revision)
        #expect(problem.annotation == victim.id.description)
        #expect(problem.expected == "ranges [\(victim.ranges[0].start)..<\(victim.ranges[0].end)]")
        #expect(problem.found == "ranges [\(victim.ranges[0].start)..<\(victim.ranges[0].end + 1)]")
        // Only the snapshot is wrong; a changed compressed size may also show in the bookkeeping.
        #expect(report.problems.allSatisfy { $0.kind == .snapshotMismatch || $0.kind == .chainBookkeeping })
    }

    // MARK: Head, documents, chains

    /// The live annotations of a document's head block that have no head row, and the block's
    /// entries, read straight from the copy.
    static func blockOnlyEntries(_ db: Database, _ key: Int64, _ document: DocumentID) throws
        -> (live: [HeadEntry], all: [AnnotationID: HeadEntry])
    {
        let row = try #require(
            try Row.fetchOne(db, sql: "SELECT raw_len, data FROM head_blocks WHERE doc = ?", arguments: [key]),
            "the fixture must keep \(document)'s head in a block")
        let raw = try BlobCompression.decompress([UInt8](row[1] as Data), expectedLength: row[0], what: "block")
        let all = try HeadBlockCodec.decode(raw, document: document)
        let rows = Set(
            try Row.fetchAll(db, sql: "SELECT replica, counter FROM head WHERE doc = ?", arguments: [key]).map {
                AnnotationID(replica: ReplicaID(UInt64(bitPattern: $0[0])), counter: UInt64(bitPattern: $0[1]))
            })
        let live = all.values.filter { $0.isLive && !rows.contains($0.annotation.id) && $0.annotation.kind == .span }
        return (live.sorted { $0.annotation.id < $1.annotation.id }, all)
    }

    /// Writes `entries` back as the document's block, as a store would (a block that decodes).
    static func writeBlock(_ db: Database, _ key: Int64, _ entries: some Collection<HeadEntry>) throws {
        let raw = HeadBlockCodec.encode(entries)
        try db.execute(
            sql: "UPDATE head_blocks SET entries = ?, raw_len = ?, data = ? WHERE doc = ?",
            arguments: [entries.count, raw.count, Data(BlobCompression.compress(raw)), key])
    }

    @Test func anAlteredEntryOfAHeadBlockIsReportedWithItsAnnotation() throws {
        let f = try Fixture.make()
        defer { f.directory.remove() }
        let copy = try f.copy()
        var target: HeadEntry?
        var altered = ""
        try Self.damage(copy) { db in
            let key = try Self.key(db, f.federation)
            let block = try Self.blockOnlyEntries(db, key, f.federation)
            var all = block.all
            var entry = try #require(block.live.first)
            target = entry
            altered = entry.annotation.label + "Q"
            entry.annotation.label = altered
            all[entry.annotation.id] = entry
            try Self.writeBlock(db, key, Array(all.values))
        }
        let span = try #require(target).annotation
        let report = try f.check(copy)
        #expect(report.problems.count == 1, "\(report.summary)")
        let problem = try #require(report.problems.first)
        #expect(problem.kind == .headMismatch)
        #expect(problem.table == "head")
        #expect(problem.document == f.federation)
        #expect(problem.annotation == span.id.description)
        #expect(problem.expected == "label \"\(span.label)\"")
        #expect(problem.found == "label \"\(altered)\"")
    }

    @Test func anAlteredHeadRowIsReportedWithItsAnnotation() throws {
        let f = try Fixture.make()
        defer { f.directory.remove() }
        let copy = try f.copy()
        var altered: (id: AnnotationID, label: String, was: String)?
        try Self.damage(copy) { db in
            // A row of an annotation changed since its document's block was written.
            let rows = try Row.fetchAll(db, sql: "SELECT doc, replica, counter, body FROM head ORDER BY doc, replica, counter")
            try #require(!rows.isEmpty, "the fixture must leave some head rows unfolded")
            for row in rows {
                let id = AnnotationID(replica: ReplicaID(UInt64(bitPattern: row[1])), counter: UInt64(bitPattern: row[2]))
                let document = try #require(
                    try String.fetchOne(db, sql: "SELECT id FROM documents WHERE key = ?", arguments: [row[0] as Int64]))
                let entry = try HeadEntryCodec.decode([UInt8](row[3] as Data), id: id, document: DocumentID(storedRawValue: document))
                guard entry.isLive, entry.annotation.kind == .span, !entry.annotation.label.isEmpty else { continue }
                // The label sits in the row's string table: change its last byte.
                var body = [UInt8](row[3] as Data)
                let label = Array(entry.annotation.label.utf8)
                let at = try #require(
                    (0...(body.count - label.count)).first { Array(body[$0..<$0 + label.count]) == label })
                let new = label.last == UInt8(ascii: "Q") ? UInt8(ascii: "Z") : UInt8(ascii: "Q")
                body[at + label.count - 1] = new
                try db.execute(
                    sql: "UPDATE head SET body = ? WHERE doc = ? AND replica = ? AND counter = ?",
                    arguments: [Data(body), row[0] as Int64, row[1] as Int64, row[2] as Int64])
                altered = (id, String(decoding: label.dropLast() + [new], as: UTF8.self), entry.annotation.label)
                return
            }
            Issue.record("no live span among the head rows")
        }
        let change = try #require(altered)
        let report = try f.check(copy)
        #expect(report.problems.count == 1, "\(report.summary)")
        let problem = try #require(report.problems.first)
        #expect(problem.kind == .headMismatch)
        #expect(problem.table == "head")
        #expect(problem.annotation == change.id.description)
        #expect(problem.expected == "label \"\(change.was)\"")
        #expect(problem.found == "label \"\(change.label)\"")
    }

    @Test func anEntryMissingFromItsHeadBlockIsReportedMissing() throws {
        let f = try Fixture.make()
        defer { f.directory.remove() }
        let copy = try f.copy()
        var removed: AnnotationID?
        try Self.damage(copy) { db in
            let key = try Self.key(db, f.federation)
            let block = try Self.blockOnlyEntries(db, key, f.federation)
            var all = block.all
            let id = try #require(block.live.last).annotation.id
            removed = id
            all[id] = nil
            try Self.writeBlock(db, key, Array(all.values))
        }
        let report = try f.check(copy)
        #expect(report.problems.count == 1, "\(report.summary)")
        #expect(report.problems.first?.kind == .headMissing)
        #expect(report.problems.first?.annotation == removed?.description)
    }

    @Test func aHeadBlockThatDoesNotInflateIsReportedOnItsDocument() throws {
        let f = try Fixture.make()
        defer { f.directory.remove() }
        let copy = try f.copy()
        try Self.damage(copy) { db in
            let key = try Self.key(db, f.federation)
            let data = try #require(try Data.fetchOne(db, sql: "SELECT data FROM head_blocks WHERE doc = ?", arguments: [key]))
            try db.execute(
                sql: "UPDATE head_blocks SET data = ? WHERE doc = ?", arguments: [Self.breakDeflate(data), key])
        }
        let report = try f.check(copy)
        let undecodable = report.problems.filter { $0.kind == .blobUndecodable }
        #expect(undecodable.count == 1, "\(report.summary)")
        #expect(undecodable.first?.table == "head_blocks")
        #expect(undecodable.first?.document == f.federation)
        // Without its block the head lacks the document's annotations: each is named missing.
        #expect(report.problems.allSatisfy { $0.kind == .blobUndecodable || $0.kind == .headMissing }, "\(report.summary)")
    }

    @Test func wrongChainBookkeepingIsReported() throws {
        let f = try Fixture.make()
        defer { f.directory.remove() }
        let copy = try f.copy()
        let before = try #require(try CorpusStore.sqlite(path: f.path).backend.read { try $0.document(f.news) })
        try Self.damage(copy) { db in
            try db.execute(sql: "UPDATE documents SET chain_len = chain_len + 1 WHERE id = ?", arguments: [f.news.rawValue])
        }
        let report = try f.check(copy)
        #expect(report.problems.count == 1, "\(report.summary)")
        let problem = try #require(report.problems.first)
        #expect(problem.kind == .chainBookkeeping)
        #expect(problem.document == f.news)
        #expect(problem.expected?.hasPrefix("chain_len \(before.chainLength),") == true)
        #expect(problem.found?.hasPrefix("chain_len \(before.chainLength + 1),") == true)
    }

    @Test func aChainThatDoesNotStartWithItsBaseIsReported() throws {
        let f = try Fixture.make()
        defer { f.directory.remove() }
        let copy = try f.copy()
        try Self.damage(copy) { db in
            try db.execute(sql: "UPDATE deltas SET base = 0 WHERE doc = ? AND rev = 1", arguments: [try Self.key(db, f.news)])
        }
        let report = try f.check(copy)
        let malformed = report.problems.filter { $0.kind == .chainMalformed }
        #expect(malformed.count == 1, "\(report.summary)")
        #expect(malformed.first?.document == f.news)
        #expect(malformed.first?.revision == 1)
        #expect(malformed.first?.expected == "base = 1")
    }

    @Test func aDocumentRowThatDisagreesWithItsDeltasIsReported() throws {
        let f = try Fixture.make()
        defer { f.directory.remove() }
        let copy = try f.copy()
        let length = f.texts[f.short]!.unicodeScalars.count
        try Self.damage(copy) { db in
            try db.execute(sql: "UPDATE documents SET length = length + 1 WHERE id = ?", arguments: [f.short.rawValue])
        }
        let report = try f.check(copy)
        #expect(report.problems.count == 1, "\(report.summary)")
        #expect(report.problems.first?.kind == .documentMismatch)
        #expect(report.problems.first?.document == f.short)
        #expect(report.problems.first?.expected == "length \(length)")
        #expect(report.problems.first?.found == "length \(length + 1)")
    }

    // MARK: Revisions and SQLite

    @Test func aMissingRevisionRowIsReportedAsAGap() throws {
        let f = try Fixture.make()
        defer { f.directory.remove() }
        let copy = try f.copy()
        let head = try CorpusStore.sqlite(path: f.path).headRevision()
        let gap = head / 2
        try Self.damage(copy) { db in try db.execute(sql: "DELETE FROM revisions WHERE rev = ?", arguments: [gap]) }
        let report = try f.check(copy)
        let gaps = report.problems.filter { $0.kind == .revisionGap }
        #expect(gaps.count == 1, "\(report.summary)")
        #expect(gaps.first?.revision == gap)
        #expect(gaps.first?.table == "revisions")
        // The deltas of that revision now point at nothing: each is named.
        let dangling = report.problems.filter { $0.kind == .danglingRow }
        #expect(!dangling.isEmpty)
        #expect(dangling.contains { $0.table == "deltas" })
        #expect(dangling.allSatisfy { $0.revision == gap && ($0.table == "deltas" || $0.table == "snapshots") })
        #expect(report.problems.count == gaps.count + dangling.count, "\(report.summary)")
        #expect(report.counts.revisions == head - 1)
    }

    @Test func sqliteIntegrityCheckFailuresAreReported() throws {
        let f = try Fixture.make()
        defer { f.directory.remove() }
        let copy = try f.copy()
        // Redefine an index behind SQLite's back: its entries no longer match its definition,
        // which only the engine's own check can see (no Gloss read uses that index here).
        try Self.damage(copy) { db in
            try db.execute(sql: "PRAGMA writable_schema = ON")
            try db.execute(
                sql: "UPDATE sqlite_master SET sql = 'CREATE INDEX documents_by_added ON documents(length)' "
                    + "WHERE name = 'documents_by_added'")
            try db.execute(sql: "PRAGMA writable_schema = OFF")
        }
        let report = try f.check(copy)
        #expect(!report.problems.isEmpty)
        #expect(report.problems.allSatisfy { $0.kind == .databaseCorrupt && $0.table == "database" }, "\(report.summary)")
        #expect(report.problems.contains { $0.message.contains("documents_by_added") }, "\(report.summary)")
    }

    @Test func theReportEncodesAsJSONAndBack() throws {
        var report = IntegrityReport(maxProblems: 2)
        for revision in 1...3 {
            report.record(
                IntegrityProblem(
                    .revisionGap, "missing", corpus: "c", table: "revisions", document: "d/1", revision: revision,
                    annotation: "x", expected: "a", found: "b"))
        }
        #expect(report.problems.count == 2)
        #expect(report.problemCount == 3)
        let decoded = try JSONDecoder().decode(IntegrityReport.self, from: JSONEncoder().encode(report))
        #expect(decoded == report)
        #expect(report.summary.contains("and 1 more"))
    }
}
