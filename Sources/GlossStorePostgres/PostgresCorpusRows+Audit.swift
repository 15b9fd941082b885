import GlossModel
import GlossStore
import NIOCore
import PostgresNIO

/// The reads of an integrity check. Walks go in pages (keyset pagination on the snapshot of
/// the audit's REPEATABLE READ transaction), so that a long chain is never held whole and the
/// body may run its own statements on the connection between rows.
extension PostgresCorpusRows: CorpusAuditReader {
    /// Rows per page of a walk.
    static let auditPage = 256

    func documents(after id: DocumentID?, limit: Int) throws -> [DocumentRecord] {
        try connection.query(
            """
            SELECT \(unescaped: Self.documentColumns) FROM documents
            WHERE corpus = \(corpus) AND id > \(id?.rawValue ?? "") ORDER BY id LIMIT \(limit)
            """
        ).map(Self.document)
    }

    func forEachDelta(document: Int64, _ body: (StoredBlob, Bool) throws -> Void) throws {
        var after = Int.min
        while true {
            let rows = try connection.query(
                """
                SELECT d.rev, docs.id, d.raw_len, d.data, d.base FROM deltas d LEFT JOIN documents docs ON docs.key = d.doc
                WHERE d.corpus = \(corpus) AND d.doc = \(document) AND d.rev > \(after) ORDER BY d.rev LIMIT \(Self.auditPage)
                """)
            for row in rows {
                let (revision, id, rawLength, data, isBase) = try row.decode((Int, String?, Int, ByteBuffer, Bool).self)
                let blob = StoredBlob(
                    kind: .delta, revision: revision, document: id.map(DocumentID.init(storedRawValue:)), rawLength: rawLength,
                    data: Self.bytes(data))
                try body(blob, isBase)
                after = revision
            }
            if rows.count < Self.auditPage { return }
        }
    }

    func snapshotRevisions(document: Int64) throws -> [Int] {
        try connection.query("SELECT rev FROM snapshots WHERE corpus = \(corpus) AND doc = \(document) ORDER BY rev")
            .map { try $0.decode(Int.self) }
    }

    func referrerPairs(document: Int64) throws -> [(target: AnnotationID, source: AnnotationID)] {
        try connection.query(
            """
            SELECT t_replica, t_counter, s_replica, s_counter FROM refs WHERE corpus = \(corpus) AND doc = \(document)
            ORDER BY t_replica, t_counter, s_replica, s_counter
            """
        ).map { row in
            let (targetReplica, targetCounter, replica, counter) = try row.decode((Int64, Int64, Int64, Int64).self)
            return (Self.annotationID(targetReplica, targetCounter), Self.annotationID(replica, counter))
        }
    }

    func metaEntries() throws -> [(key: String, value: [UInt8])] {
        try connection.query("SELECT key, value FROM meta WHERE corpus = \(corpus) ORDER BY key").map { row in
            let (key, value) = try row.decode((String, ByteBuffer).self)
            return (key, Self.bytes(value))
        }
    }

    func forEachHeadRow(document: Int64, _ body: (AnnotationID, [UInt8]) throws -> Void) throws {
        var after: (replica: Int64, counter: Int64) = (.min, .min)
        var first = true
        while true {
            let rows = try connection.query(
                """
                SELECT replica, counter, body FROM head
                WHERE corpus = \(corpus) AND doc = \(document) AND (\(first) OR (replica, counter) > (\(after.replica), \(after.counter)))
                ORDER BY replica, counter LIMIT \(Self.auditPage)
                """)
            for row in rows {
                let (replica, counter, data) = try row.decode((Int64, Int64, ByteBuffer).self)
                try body(Self.annotationID(replica, counter), Self.bytes(data))
                after = (replica, counter)
            }
            first = false
            if rows.count < Self.auditPage { return }
        }
    }

    func textDigests(after digest: [UInt8]?, limit: Int) throws -> [[UInt8]] {
        try connection.query(
            """
            SELECT digest FROM texts WHERE corpus = \(corpus) AND digest > \(Self.buffer(digest ?? []))
            ORDER BY digest LIMIT \(limit)
            """
        ).map { Self.bytes(try $0.decode(ByteBuffer.self)) }
    }

    func text(storedDigest digest: [UInt8]) throws -> (rawLength: Int, data: [UInt8])? {
        try connection.query("SELECT raw_len, data FROM texts WHERE corpus = \(corpus) AND digest = \(Self.buffer(digest))")
            .first.map { row in
                let (rawLength, data) = try row.decode((Int, ByteBuffer).self)
                return (rawLength, Self.bytes(data))
            }
    }

    func danglingRows(limit: Int) throws
        -> [(table: String, documentKey: Int64, document: DocumentID?, revision: Int?, missing: String)]
    {
        // Documents are looked up within the corpus: a key of another corpus's document is as
        // dangling as a key of none.
        try connection.query(
            """
            SELECT 'deltas', d.doc, docs.id, d.rev, 'revision' FROM deltas d
                LEFT JOIN documents docs ON docs.key = d.doc AND docs.corpus = d.corpus
                WHERE d.corpus = \(corpus) AND NOT EXISTS (SELECT 1 FROM revisions r WHERE r.corpus = d.corpus AND r.rev = d.rev)
            UNION ALL
            SELECT 'deltas', d.doc, NULL, d.rev, 'document' FROM deltas d
                WHERE d.corpus = \(corpus) AND d.doc <> 0
                    AND NOT EXISTS (SELECT 1 FROM documents docs WHERE docs.corpus = d.corpus AND docs.key = d.doc)
            UNION ALL
            SELECT 'snapshots', s.doc, docs.id, s.rev, 'revision' FROM snapshots s
                LEFT JOIN documents docs ON docs.key = s.doc AND docs.corpus = s.corpus
                WHERE s.corpus = \(corpus) AND NOT EXISTS (SELECT 1 FROM revisions r WHERE r.corpus = s.corpus AND r.rev = s.rev)
            UNION ALL
            SELECT 'snapshots', s.doc, NULL, s.rev, 'document' FROM snapshots s
                WHERE s.corpus = \(corpus)
                    AND NOT EXISTS (SELECT 1 FROM documents docs WHERE docs.corpus = s.corpus AND docs.key = s.doc)
            UNION ALL
            SELECT DISTINCT 'head', h.doc, NULL::text, NULL::bigint, 'document' FROM head h
                WHERE h.corpus = \(corpus)
                    AND NOT EXISTS (SELECT 1 FROM documents docs WHERE docs.corpus = h.corpus AND docs.key = h.doc)
            UNION ALL
            SELECT 'head_blocks', b.doc, NULL, NULL, 'document' FROM head_blocks b
                WHERE b.corpus = \(corpus)
                    AND NOT EXISTS (SELECT 1 FROM documents docs WHERE docs.corpus = b.corpus AND docs.key = b.doc)
            LIMIT \(limit)
            """
        ).map { row in
            let (table, key, id, revision, missing) = try row.decode((String, Int64, String?, Int?, String).self)
            return (table, key, id.map(DocumentID.init(storedRawValue:)), revision, missing)
        }
    }
}
