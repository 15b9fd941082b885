import GlossModel
import GlossStore
import NIOCore
import PostgresNIO

/// A group commit's reads, made for all its changesets at once: the head revision, the batch's
/// duplicates, the schema's meta values and its documents (with their head blocks and row
/// counts) queued together for one wait, then the head rows of the annotations asked for;
/// instead of some four statements per changeset. What they find goes into
/// ``PostgresPendingWrites/known``, from which the check's reads are answered.
extension PostgresCorpusRows {
    /// ``documentColumns`` of the table aliased `d`.
    static let qualifiedDocumentColumns = documentColumns.split(separator: ",")
        .map { "d." + $0.trimmingCharacters(in: .whitespaces) }.joined(separator: ", ")
    /// How many columns ``documentColumns`` names.
    static let documentColumnCount = documentColumns.split(separator: ",").count

    func startBatch(
        of changesets: [ChangesetID], prefetching annotations: [DocumentID: Set<AnnotationID>], metaKeys: [String]
    ) throws -> (head: Int, known: [ChangesetID: Int]) {
        guard let pending else {
            return (try headRevision(), try revisionNumbers(of: changesets))
        }
        try settle()
        let ids = annotations.keys.sorted()
        var statements: [PostgresQuery] = [
            "SELECT COALESCE(MAX(rev), 0) FROM revisions WHERE corpus = \(corpus)",
            """
            SELECT changeset, rev FROM revisions
            WHERE corpus = \(corpus) AND changeset = ANY(\(changesets.map { Self.buffer($0.bytes) })::bytea[])
            """,
            "SELECT key, value FROM meta WHERE corpus = \(corpus) AND key = ANY(\(metaKeys)::text[])",
        ]
        if !ids.isEmpty { statements.append(Self.documentsWithHeads(corpus: corpus, ids: ids)) }
        let results = try connection.queries(statements)

        let head = try results[0].first?.decode(Int.self) ?? 0
        // Nothing waits after settle(): every revision is in the database.
        var known: [ChangesetID: Int] = [:]
        for row in results[1] {
            let (changeset, revision) = try row.decode((ByteBuffer, Int).self)
            if let id = ChangesetID(bytes: Self.bytes(changeset)) { known[id] = revision }
        }
        for key in metaKeys { pending.known.meta[key] = .some(nil) }
        for row in results[2] {
            let (key, value) = try row.decode((String, ByteBuffer).self)
            pending.known.meta[key] = .some(Self.bytes(value))
        }
        if !ids.isEmpty { try learnDocuments(results[3], ids: ids, annotations: annotations, into: pending.known) }
        return (head, known)
    }

    /// Documents by id, each with its head block and its number of head rows.
    private static func documentsWithHeads(corpus: Int32, ids: [DocumentID]) -> PostgresQuery {
        """
        SELECT \(unescaped: Self.qualifiedDocumentColumns),
            b.entries, b.raw_len, b.data, (SELECT COUNT(*) FROM head h WHERE h.corpus = d.corpus AND h.doc = d.key)
        FROM documents d LEFT JOIN head_blocks b ON b.corpus = d.corpus AND b.doc = d.key
        WHERE d.corpus = \(corpus) AND d.id = ANY(\(ids.map(\.rawValue))::text[])
        """
    }

    /// Keeps what ``documentsWithHeads(corpus:ids:)`` found, then reads the head rows asked for.
    private func learnDocuments(
        _ documentRows: [PostgresRow], ids: [DocumentID], annotations: [DocumentID: Set<AnnotationID>],
        into known: PostgresHeadKnowledge
    ) throws {
        var keys: [DocumentID: Int64] = [:]
        for row in documentRows {
            let record = try Self.document(row)
            let columns = row.makeRandomAccess()
            // The head block's columns follow the document's.
            let n = Self.documentColumnCount
            let entries = try columns[n].decode(Int?.self), rawLength = try columns[n + 1].decode(Int?.self)
            let data = try columns[n + 2].decode(ByteBuffer?.self), rowCount = try columns[n + 3].decode(Int.self)
            let block = entries.flatMap { entries in
                rawLength.flatMap { rawLength in data.map { HeadBlock(entries: entries, rawLength: rawLength, data: Self.bytes($0)) } }
            }
            keys[record.entry.document.id] = record.key
            known.documents[record.entry.document.id] = .some(record)
            var head = known.heads[record.key] ?? .init()
            (head.block, head.blockKnown, head.rowCount) = (block, true, rowCount)
            known.heads[record.key] = head
        }
        for id in ids where keys[id] == nil { known.documents[id] = .some(nil) }

        // The rows of the annotations asked for, in every document found; every row of a
        // document that this batch may fold (a fold reads them all), so that it costs no read.
        var wanted: [(doc: Int64, id: AnnotationID)] = []
        var whole: [Int64] = []
        for (document, ids) in annotations {
            guard let key = keys[document] else { continue }
            let head = known.heads[key]
            if let rowCount = head?.rowCount,
                DocumentHead.folds(rows: rowCount + ids.count, blockEntries: head?.block?.entries ?? 0)
            {
                whole.append(key)
            } else {
                for id in ids { wanted.append((key, id)) }
            }
        }
        guard !wanted.isEmpty || !whole.isEmpty else { return }
        var found: [Int64: [AnnotationID: [UInt8]]] = [:]
        for row in try connection.query(
            """
            SELECT h.doc, h.replica, h.counter, h.body FROM head h
            JOIN unnest(\(wanted.map(\.doc))::bigint[], \(wanted.map { Self.int($0.id.replica.rawValue) })::bigint[],
                \(wanted.map { Self.int($0.id.counter) })::bigint[]) AS w(doc, replica, counter)
                ON h.doc = w.doc AND h.replica = w.replica AND h.counter = w.counter
            WHERE h.corpus = \(corpus)
            UNION ALL
            SELECT h.doc, h.replica, h.counter, h.body FROM head h WHERE h.corpus = \(corpus) AND h.doc = ANY(\(whole)::bigint[])
            """)
        {
            let (doc, replica, counter, body) = try row.decode((Int64, Int64, Int64, ByteBuffer).self)
            found[doc, default: [:]][Self.annotationID(replica, counter)] = Self.bytes(body)
        }
        for key in whole { known.heads[key, default: .init()].learnedAll(found[key] ?? [:]) }
        let wholeSet = Set(whole)
        for (document, ids) in annotations {
            guard let key = keys[document], !wholeSet.contains(key) else { continue }
            known.learned(rows: found[key] ?? [:], asked: ids, document: key)
        }
    }
}
