import GlossModel
import GlossStore
import NIOCore
import PostgresNIO

/// A group commit's reads, made for all its changesets at once: the head revision, the batch's
/// duplicates, the schema's meta values, its documents (with their head blocks and row counts)
/// and the head rows of the annotations asked for, queued together for one wait, instead of
/// some four statements per changeset. What they find goes into
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
        var statements: [PostgresQuery] = [
            "SELECT COALESCE(MAX(rev), 0) FROM revisions WHERE corpus = \(corpus)",
            """
            SELECT changeset, rev FROM revisions
            WHERE corpus = \(corpus) AND changeset = ANY(\(changesets.map { Self.buffer($0.bytes) })::bytea[])
            """,
            "SELECT key, value FROM meta WHERE corpus = \(corpus) AND key = ANY(\(metaKeys)::text[])",
        ]
        if !annotations.isEmpty { statements += prefetchStatements(annotations) }
        let results = try connection.queries(statements)

        let head = max(try results[0].first?.decode(Int.self) ?? 0, pending.highestRevision ?? 0)
        var known = pending.revisionByChangeset.filter { Set(changesets).contains($0.key) }
        for row in results[1] {
            let (changeset, revision) = try row.decode((ByteBuffer, Int).self)
            if let id = ChangesetID(bytes: Self.bytes(changeset)) { known[id] = revision }
        }
        for key in metaKeys { pending.known.meta[key] = .some(nil) }
        for row in results[2] {
            let (key, value) = try row.decode((String, ByteBuffer).self)
            pending.known.meta[key] = .some(Self.bytes(value))
        }
        if !annotations.isEmpty {
            try learn(documents: results[3], rows: results[4], annotations: annotations, into: pending.known)
        }
        return (head, known)
    }

    func prefetch(_ annotations: [DocumentID: Set<AnnotationID>]) throws {
        guard let known = pending?.known, !annotations.isEmpty else { return }
        try settle()
        let results = try connection.queries(prefetchStatements(annotations))
        try learn(documents: results[0], rows: results[1], annotations: annotations, into: known)
    }

    /// Two statements, queued together: the documents by id, each with its head block and its
    /// number of head rows; then the head rows of the annotations asked for, and every row of a
    /// document the batch may fold (a fold reads them all). Whether it may fold is decided in
    /// SQL by ``DocumentHead/folds(rows:blockEntries:)``'s rule, counting every annotation asked
    /// for as a new row, and said by a row with no annotation, so that the second statement
    /// needs nothing from the first.
    private func prefetchStatements(_ annotations: [DocumentID: Set<AnnotationID>]) -> [PostgresQuery] {
        let ids = annotations.keys.sorted()
        var wanted: [(document: String, id: AnnotationID)] = []
        for document in ids {
            for id in annotations[document]! { wanted.append((document.rawValue, id)) }
        }
        return [
            """
            SELECT \(unescaped: Self.qualifiedDocumentColumns),
                b.entries, b.raw_len, b.data, (SELECT COUNT(*) FROM head h WHERE h.corpus = d.corpus AND h.doc = d.key)
            FROM documents d LEFT JOIN head_blocks b ON b.corpus = d.corpus AND b.doc = d.key
            WHERE d.corpus = \(corpus) AND d.id = ANY(\(ids.map(\.rawValue))::text[])
            """,
            """
            WITH w(id, replica, counter) AS (
                SELECT * FROM unnest(\(wanted.map(\.document))::text[], \(wanted.map { Self.int($0.id.replica.rawValue) })::bigint[],
                    \(wanted.map { Self.int($0.id.counter) })::bigint[])),
            asked AS (SELECT id, COUNT(*) AS n FROM w GROUP BY id),
            d AS (
                SELECT d.key, d.id, a.n + (SELECT COUNT(*) FROM head h WHERE h.corpus = d.corpus AND h.doc = d.key) AS rows,
                    COALESCE((SELECT b.entries FROM head_blocks b WHERE b.corpus = d.corpus AND b.doc = d.key), 0) AS entries
                FROM documents d JOIN asked a ON d.id = a.id COLLATE "C" WHERE d.corpus = \(corpus)),
            whole AS (
                SELECT key FROM d
                WHERE rows > GREATEST(\(DocumentHead.minimumRows)::bigint, entries / \(DocumentHead.rowShare)::bigint))
            SELECT h.doc, h.replica, h.counter, h.body FROM head h
                JOIN d ON h.doc = d.key JOIN w ON d.id = w.id COLLATE "C" AND h.replica = w.replica AND h.counter = w.counter
            WHERE h.corpus = \(corpus) AND d.key NOT IN (SELECT key FROM whole)
            UNION ALL
            SELECT h.doc, h.replica, h.counter, h.body FROM head h WHERE h.corpus = \(corpus) AND h.doc IN (SELECT key FROM whole)
            UNION ALL
            SELECT key, NULL, NULL, NULL FROM whole
            """,
        ]
    }

    /// Keeps what ``prefetchStatements(_:)`` found.
    private func learn(
        documents documentRows: [PostgresRow], rows headRows: [PostgresRow], annotations: [DocumentID: Set<AnnotationID>],
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
        for id in annotations.keys where keys[id] == nil { known.documents[id] = .some(nil) }

        var found: [Int64: [AnnotationID: [UInt8]]] = [:]
        var whole: Set<Int64> = []
        for row in headRows {
            let (doc, replica, counter, body) = try row.decode((Int64, Int64?, Int64?, ByteBuffer?).self)
            guard let replica, let counter, let body else {
                whole.insert(doc)
                continue
            }
            found[doc, default: [:]][Self.annotationID(replica, counter)] = Self.bytes(body)
        }
        for key in whole { known.heads[key, default: .init()].learnedAll(found[key] ?? [:]) }
        for (document, ids) in annotations {
            guard let key = keys[document], !whole.contains(key) else { continue }
            known.learned(rows: found[key] ?? [:], asked: ids, document: key)
        }
    }
}
