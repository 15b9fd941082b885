import GlossModel
import GlossStore
import NIOCore
import PostgresNIO

/// Row access to one corpus inside one transaction of ``PostgresCorpusBackend``, every
/// statement scoped to the corpus's key. A read is one statement (one round trip). In a write
/// transaction the row writes of an append wait in ``pending`` and go in one statement when a
/// read needs them, a write needs the database as it is, or the transaction commits.
struct PostgresCorpusRows: CorpusWriter {
    let connection: BlockingPostgresConnection
    /// `corpora_storage.key`.
    let corpus: Int32
    /// The corpus's name, for errors.
    let name: String
    /// Writes held back (write transactions only).
    let pending: PostgresPendingWrites?

    init(connection: BlockingPostgresConnection, corpus: Int32, name: String, pending: PostgresPendingWrites? = nil) {
        self.connection = connection
        self.corpus = corpus
        self.name = name
        self.pending = pending
    }

    /// Sends the writes held back, so that the database holds everything this transaction wrote.
    /// `withNextStatement`: they go with the connection's next statement (``BlockingPostgresConnection/sendWithNext(_:)``),
    /// which must be the transaction's `COMMIT`.
    func settle(withNextStatement: Bool = false) throws {
        guard let pending, !pending.isEmpty else { return }
        let (documents, headRows) = (pending.documents, pending.headRows)
        try pending.flush(corpus: corpus, connection, withNextStatement: withNextStatement)
        pending.known.absorb(documents: documents, headRows: headRows)
    }

    // MARK: Reads

    func headRevision() throws -> Int {
        let stored = try single(Int.self, "SELECT COALESCE(MAX(rev), 0) FROM revisions WHERE corpus = \(corpus)") ?? 0
        return max(stored, pending?.highestRevision ?? 0)
    }

    func revision(_ number: Int) throws -> Revision? {
        if let waiting = pending?.revisions[number] { return waiting }
        return try connection.query(
            "SELECT \(unescaped: Self.revisionColumns) FROM revisions WHERE corpus = \(corpus) AND rev = \(number)"
        ).first.map(Self.revision)
    }

    func revisionNumber(of changeset: ChangesetID) throws -> Int? {
        if let waiting = pending?.revisionByChangeset[changeset] { return waiting }
        return try single(Int.self, "SELECT rev FROM revisions WHERE corpus = \(corpus) AND changeset = \(Self.buffer(changeset.bytes))")
    }

    func revisions(after: Int, through: Int) throws -> [Revision] {
        try settle()
        return try connection.query(
            """
            SELECT \(unescaped: Self.revisionColumns) FROM revisions
            WHERE corpus = \(corpus) AND rev > \(after) AND rev <= \(through) ORDER BY rev
            """
        ).map(Self.revision)
    }

    func document(_ id: DocumentID) throws -> DocumentRecord? {
        if let waiting = pending?.documents[id] { return waiting }
        if let known = pending?.known.documents[id] { return known }
        let record = try connection.query(
            "SELECT \(unescaped: Self.documentColumns) FROM documents WHERE corpus = \(corpus) AND id = \(id.rawValue)"
        ).first.map(Self.document)
        pending?.known.documents[id] = .some(record)
        return record
    }

    func documents() throws -> [DocumentRecord] {
        try settle()
        return try connection.query("SELECT \(unescaped: Self.documentColumns) FROM documents WHERE corpus = \(corpus) ORDER BY id")
            .map(Self.document)
    }

    func documents(addedAfter after: Int, through: Int) throws -> [DocumentRecord] {
        try settle()
        return try connection.query(
            """
            SELECT \(unescaped: Self.documentColumns) FROM documents
            WHERE corpus = \(corpus) AND added > \(after) AND added <= \(through) ORDER BY id
            """
        ).map(Self.document)
    }

    func headBlock(document: Int64) throws -> HeadBlock? {
        if let head = pending?.known.heads[document], head.blockKnown { return head.block }
        let block = try connection.query(
            "SELECT entries, raw_len, data FROM head_blocks WHERE corpus = \(corpus) AND doc = \(document)"
        ).first.map { row in
            let (entries, rawLength, data) = try row.decode((Int, Int, ByteBuffer).self)
            return HeadBlock(entries: entries, rawLength: rawLength, data: Self.bytes(data))
        }
        if let known = pending?.known {
            known.heads[document, default: .init()].block = block
            known.heads[document, default: .init()].blockKnown = true
        }
        return block
    }

    func headLayout(document: Int64) throws -> (blockEntries: Int, rows: Int) {
        if let layout = knownLayout(document: document) { return layout }
        // Rows waiting for this document may or may not be new: the database counts them.
        if pending?.headRows[document] != nil { try settle() }
        let row = try connection.query(
            """
            SELECT (SELECT entries FROM head_blocks WHERE corpus = \(corpus) AND doc = \(document)),
                (SELECT COUNT(*) FROM head WHERE corpus = \(corpus) AND doc = \(document))
            """
        ).first
        let (entries, rows) = try row?.decode((Int?, Int).self) ?? (nil, 0)
        pending?.known.heads[document, default: .init()].rowCount = rows
        return (entries ?? 0, rows)
    }

    /// The layout from what this transaction knows, when it knows enough: the block, the row
    /// count, and whether each waiting row is new.
    private func knownLayout(document: Int64) -> (blockEntries: Int, rows: Int)? {
        guard let pending, let head = pending.known.heads[document], head.blockKnown, var rows = head.rowCount else {
            return nil
        }
        for id in (pending.headRows[document] ?? [:]).keys {
            switch head.row(id) {
            case .some(.some): break
            case .some(.none): rows += 1
            case .none: return nil
            }
        }
        return (head.block?.entries ?? 0, rows)
    }

    func headRow(document: Int64, id: AnnotationID) throws -> [UInt8]? {
        if pending != nil { return try headRows(document: document, ids: [id])[id] }
        return try single(
            ByteBuffer.self,
            """
            SELECT body FROM head WHERE corpus = \(corpus) AND doc = \(document)
                AND replica = \(Self.int(id.replica.rawValue)) AND counter = \(Self.int(id.counter))
            """
        ).map(Self.bytes)
    }

    /// In a write transaction: the rows as the database would have them once the waiting ones
    /// went, without sending them (a fold reads every row of its document; the rows
    /// waiting are upserts, so they simply win), and from what is known when every row is.
    func headRows(document: Int64) throws -> [(id: AnnotationID, body: [UInt8])] {
        guard let pending else { return try storedHeadRows(document: document) }
        var rows: [AnnotationID: [UInt8]]
        if let head = pending.known.heads[document], head.complete {
            rows = head.rows
        } else {
            rows = Dictionary(try storedHeadRows(document: document), uniquingKeysWith: { $1 })
            pending.known.heads[document, default: .init()].learnedAll(rows)
        }
        rows.merge(pending.headRows[document] ?? [:]) { $1 }
        return rows.sorted { $0.key < $1.key }.map { (id: $0.key, body: $0.value) }
    }

    private func storedHeadRows(document: Int64) throws -> [(id: AnnotationID, body: [UInt8])] {
        try connection.query(
            "SELECT replica, counter, body FROM head WHERE corpus = \(corpus) AND doc = \(document) ORDER BY replica, counter"
        ).map { row in
            let (replica, counter, body) = try row.decode((Int64, Int64, ByteBuffer).self)
            return (id: Self.annotationID(replica, counter), body: Self.bytes(body))
        }
    }

    func referrers(document: Int64, target: AnnotationID) throws -> [AnnotationID] {
        if pending?.referrers[document]?[target] != nil { return try referrers(document: document, targets: [target])[target] ?? [] }
        return try connection.query(
            """
            SELECT s_replica, s_counter FROM refs WHERE corpus = \(corpus) AND doc = \(document)
                AND t_replica = \(Self.int(target.replica.rawValue)) AND t_counter = \(Self.int(target.counter))
            ORDER BY s_replica, s_counter
            """
        ).map { row in
            let (replica, counter) = try row.decode((Int64, Int64).self)
            return Self.annotationID(replica, counter)
        }
    }

    func deltas(document: Int64, after: Int, through: Int) throws -> [StoredBlob] {
        try settle()
        return try connection.query(
            """
            SELECT d.rev, docs.id, d.raw_len, d.data FROM deltas d LEFT JOIN documents docs ON docs.key = d.doc
            WHERE d.corpus = \(corpus) AND d.doc = \(document) AND d.rev > \(after) AND d.rev <= \(through) ORDER BY d.rev
            """
        ).map { try Self.blob($0, kind: .delta) }
    }

    func deltas(after: Int, through: Int) throws -> [StoredBlob] {
        try settle()
        return try connection.query(
            """
            SELECT d.rev, docs.id, d.raw_len, d.data FROM deltas d LEFT JOIN documents docs ON docs.key = d.doc
            WHERE d.corpus = \(corpus) AND d.rev > \(after) AND d.rev <= \(through) ORDER BY d.rev, d.doc
            """
        ).map { try Self.blob($0, kind: .delta) }
    }

    func deltaDocuments(after: Int, through: Int) throws -> [(revision: Int, document: DocumentID?)] {
        try settle()
        return try connection.query(
            """
            SELECT d.rev, docs.id FROM deltas d LEFT JOIN documents docs ON docs.key = d.doc
            WHERE d.corpus = \(corpus) AND d.rev > \(after) AND d.rev <= \(through) ORDER BY d.rev, d.doc
            """
        ).map { row in
            let (revision, id) = try row.decode((Int, String?).self)
            return (revision, id.map(DocumentID.init(storedRawValue:)))
        }
    }

    func liveDocumentCount() throws -> Int {
        try settle()
        return try single(Int.self, "SELECT COUNT(*) FROM documents WHERE corpus = \(corpus) AND removed IS NULL") ?? 0
    }

    func documents(textRevisedAfter after: Int) throws -> [DocumentRecord] {
        try settle()
        return try connection.query(
            """
            SELECT \(unescaped: Self.documentColumns) FROM documents
            WHERE corpus = \(corpus) AND text_revised > \(after) ORDER BY id
            """
        ).map(Self.document)
    }

    func documentAdditions(after: Int, through: Int) throws -> [(revision: Int, document: DocumentID)] {
        try settle()
        return try connection.query(
            """
            SELECT d.rev, docs.id FROM deltas d JOIN documents docs ON docs.key = d.doc
            WHERE d.corpus = \(corpus) AND d.base AND d.rev > \(after) AND d.rev <= \(through) ORDER BY d.rev, docs.id
            """
        ).map { row in
            let (revision, id) = try row.decode((Int, String).self)
            return (revision, DocumentID(storedRawValue: id))
        }
    }

    func latestBaseDelta(document: Int64, atOrBefore revision: Int) throws -> Int? {
        try settle()
        return try connection.query(
            "SELECT MAX(rev) FROM deltas WHERE corpus = \(corpus) AND doc = \(document) AND rev <= \(revision) AND base"
        ).first?.decode(Int?.self)
    }

    func latestSnapshot(document: Int64, atOrBefore revision: Int) throws -> StoredBlob? {
        if pending?.snapshots[document] != nil { try settle() }
        return try connection.query(
            """
            SELECT s.rev, docs.id, s.raw_len, s.data FROM snapshots s LEFT JOIN documents docs ON docs.key = s.doc
            WHERE s.corpus = \(corpus) AND s.doc = \(document) AND s.rev <= \(revision) ORDER BY s.rev DESC LIMIT 1
            """
        ).first.map { try Self.blob($0, kind: .snapshot) }
    }

    func text(_ digest: TextDigest) throws -> (rawLength: Int, data: [UInt8])? {
        try text(storedDigest: digest.bytes)
    }

    func meta(_ key: String) throws -> [UInt8]? {
        if let known = pending?.known.meta[key] { return known }
        return try single(ByteBuffer.self, "SELECT value FROM meta WHERE corpus = \(corpus) AND key = \(key)").map(Self.bytes)
    }

    /// Sizes from the rows themselves (`octet_length` of the stored bytes), in one statement.
    /// `fileBytes` is what the corpus tables and their indexes take on disk
    /// (`pg_total_relation_size`) for all corpora of the database together: PostgreSQL does not
    /// account space per corpus, and the figure is what the database costs.
    func storageSummary() throws -> StorageSummary {
        try settle()
        let tables = PostgresCorpusSchema.corpusTables
        let row = try connection.query(
            """
            SELECT
                (SELECT COALESCE(SUM(octet_length(data)), 0)::bigint FROM deltas WHERE corpus = \(corpus)),
                (SELECT COUNT(*) FROM deltas WHERE corpus = \(corpus)),
                (SELECT COALESCE(SUM(octet_length(data)), 0)::bigint FROM snapshots WHERE corpus = \(corpus)),
                (SELECT COUNT(*) FROM snapshots WHERE corpus = \(corpus)),
                (SELECT COALESCE(SUM(octet_length(data)), 0)::bigint FROM texts WHERE corpus = \(corpus)),
                (SELECT COUNT(*) FROM head WHERE corpus = \(corpus)),
                (SELECT COALESCE(SUM(octet_length(body)), 0)::bigint FROM head WHERE corpus = \(corpus)),
                (SELECT COALESCE(SUM(entries), 0)::bigint FROM head_blocks WHERE corpus = \(corpus)),
                (SELECT COALESCE(SUM(octet_length(data)), 0)::bigint FROM head_blocks WHERE corpus = \(corpus)),
                (SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0)::bigint FROM pg_class c
                    WHERE c.relname = ANY(\(tables)) AND c.relkind = 'r' AND c.relnamespace = current_schema()::regnamespace)
            """
        ).first
        guard let row else { return StorageSummary() }
        let (deltaBytes, deltaCount, snapshotBytes, snapshotCount, textBytes, rows, rowBytes, blockEntries, blockBytes, fileBytes) =
            try row.decode((Int, Int, Int, Int, Int, Int, Int, Int, Int, Int).self)
        var s = StorageSummary()
        (s.deltaBytes, s.deltaCount, s.snapshotBytes, s.snapshotCount, s.textBytes) =
            (deltaBytes, deltaCount, snapshotBytes, snapshotCount, textBytes)
        s.headRows = rows + blockEntries
        s.headBytes = rowBytes + blockBytes
        s.fileBytes = fileBytes
        return s
    }

    // MARK: Writes

    func insertRevision(_ r: Revision) throws {
        if let pending {
            pending.add(r)
            return
        }
        try connection.execute(
            """
            INSERT INTO revisions(corpus, rev, changeset, replica, author, base, message, time, ops, content)
            VALUES (\(corpus), \(r.number), \(Self.buffer(r.changeset.bytes)), \(Self.int(r.replica.rawValue)), \(r.author),
                \(r.base), \(r.message), \(r.timestamp), \(r.opCount), \(r.contentDigest.map { Self.buffer($0.bytes) }))
            """)
    }

    @discardableResult
    func putDocument(_ record: DocumentRecord) throws -> Int64 {
        let e = record.entry
        if let pending, let key = pending.documents[e.document.id]?.key ?? pending.known.documents[e.document.id]??.key {
            var waiting = record
            waiting.key = key
            pending.add(waiting)
            return key
        }
        // A new document (or one not read yet): its key comes back from the insert.
        try settle()
        let key = try single(
            Int64.self,
            """
            INSERT INTO documents(
                corpus, id, digest, length, metadata, added, removed, chain_len, chain_bytes, base_bytes, text_revised)
            VALUES (\(corpus), \(e.document.id.rawValue), \(Self.buffer(e.document.digest.bytes)), \(e.document.length),
                \(Self.buffer(MetadataCodec.encode(e.document.metadata))), \(e.addedAt), \(e.removedAt), \(record.chainLength),
                \(record.chainBytes), \(record.baseBytes), \(e.textRevisedAt))
            ON CONFLICT (corpus, id) DO UPDATE SET digest = excluded.digest, length = excluded.length,
                metadata = excluded.metadata, added = excluded.added, removed = excluded.removed,
                chain_len = excluded.chain_len, chain_bytes = excluded.chain_bytes, base_bytes = excluded.base_bytes,
                text_revised = excluded.text_revised
            RETURNING key
            """)
        guard let key else {
            throw PostgresStorageError(.database, "storing document \(e.document.id) returned no key", context: name)
        }
        var stored = record
        stored.key = key
        pending?.known.documents[e.document.id] = .some(stored)
        return key
    }

    /// Head rows go in batches of this many per statement (arrays bound as three parameters):
    /// an import writes a row per annotation, and a statement per row would be a round trip each.
    static let headRowBatch = 5000

    func putHeadRows(document: Int64, _ entries: [(id: AnnotationID, body: [UInt8])]) throws {
        if let pending, entries.count < Self.headRowBatch {
            pending.add(headRows: entries, document: document)
            return
        }
        // An import's many rows go in statements of their own, after what waits.
        try settle()
        pending?.known.heads[document] = nil
        // One statement may not touch a row twice (ON CONFLICT DO UPDATE): the last body for an
        // id wins, as with one replacing statement per row.
        var latest: [AnnotationID: Int] = [:]
        for (index, entry) in entries.enumerated() { latest[entry.id] = index }
        let unique = entries.indices.filter { latest[entries[$0].id] == $0 }
        var start = unique.startIndex
        while start < unique.endIndex {
            let batch = unique[start..<min(start + Self.headRowBatch, unique.endIndex)]
            let replicas = batch.map { Self.int(entries[$0].id.replica.rawValue) }
            let counters = batch.map { Self.int(entries[$0].id.counter) }
            let bodies = batch.map { Self.buffer(entries[$0].body) }
            try connection.execute(
                """
                INSERT INTO head(corpus, doc, replica, counter, body)
                SELECT \(corpus), \(document), r, c, b FROM unnest(\(replicas)::bigint[], \(counters)::bigint[], \(bodies)::bytea[]) AS u(r, c, b)
                ON CONFLICT (corpus, doc, replica, counter) DO UPDATE SET body = excluded.body
                """)
            start = batch.endIndex
        }
    }

    func putHeadBlock(document: Int64, _ block: HeadBlock) throws {
        // The block replaces every row of its document, those still waiting too: they need not
        // go first only to be deleted. The other waiting writes touch neither table for this
        // document, so they stay waiting.
        pending?.dropHeadRows(document: document)
        // Both in one statement: the block replaces the rows folded into it.
        try connection.execute(
            """
            WITH cleared AS (DELETE FROM head WHERE corpus = \(corpus) AND doc = \(document))
            INSERT INTO head_blocks(corpus, doc, entries, raw_len, data)
            VALUES (\(corpus), \(document), \(block.entries), \(block.rawLength), \(Self.buffer(block.data)))
            ON CONFLICT (corpus, doc) DO UPDATE SET entries = excluded.entries, raw_len = excluded.raw_len, data = excluded.data
            """)
        pending?.known.heads[document] = .folded(into: block)
    }

    func clearHead(document: Int64) throws {
        try settle()
        try connection.execute(
            """
            WITH blocks AS (DELETE FROM head_blocks WHERE corpus = \(corpus) AND doc = \(document)),
                rows AS (DELETE FROM head WHERE corpus = \(corpus) AND doc = \(document))
            DELETE FROM refs WHERE corpus = \(corpus) AND doc = \(document)
            """)
        pending?.known.heads[document] = .folded(into: nil)
    }

    func addReferrer(document: Int64, target: AnnotationID, source: AnnotationID) throws {
        if let pending {
            pending.addReferrer(document: document, target: target, source: source)
            return
        }
        try connection.execute(
            """
            INSERT INTO refs(corpus, doc, t_replica, t_counter, s_replica, s_counter)
            VALUES (\(corpus), \(document), \(Self.int(target.replica.rawValue)), \(Self.int(target.counter)),
                \(Self.int(source.replica.rawValue)), \(Self.int(source.counter)))
            ON CONFLICT DO NOTHING
            """)
    }

    func insertDelta(document: Int64, revision: Int, isBase: Bool, rawLength: Int, data: [UInt8]) throws {
        if let pending {
            pending.add(.init(document: document, revision: revision, isBase: isBase, rawLength: rawLength, data: data))
            return
        }
        try connection.execute(
            """
            INSERT INTO deltas(corpus, rev, doc, base, raw_len, data)
            VALUES (\(corpus), \(revision), \(document), \(isBase), \(rawLength), \(Self.buffer(data)))
            """)
    }

    func markBaseDelta(document: Int64, revision: Int) throws {
        try settle()
        try connection.execute("UPDATE deltas SET base = true WHERE corpus = \(corpus) AND doc = \(document) AND rev = \(revision)")
    }

    func insertSnapshot(document: Int64, revision: Int, rawLength: Int, data: [UInt8]) throws {
        if let pending {
            pending.addSnapshot(document: document, revision: revision, .init(rawLength: rawLength, data: data))
            return
        }
        try connection.execute(
            """
            INSERT INTO snapshots(corpus, doc, rev, raw_len, data)
            VALUES (\(corpus), \(document), \(revision), \(rawLength), \(Self.buffer(data)))
            ON CONFLICT (corpus, doc, rev) DO UPDATE SET raw_len = excluded.raw_len, data = excluded.data
            """)
    }

    func putText(_ digest: TextDigest, rawLength: Int, data: [UInt8]) throws {
        try settle()
        try connection.execute(
            """
            INSERT INTO texts(corpus, digest, raw_len, data) VALUES (\(corpus), \(Self.buffer(digest.bytes)), \(rawLength), \(Self.buffer(data)))
            ON CONFLICT DO NOTHING
            """)
    }

    func setMeta(_ key: String, _ value: [UInt8]) throws {
        try settle()
        try connection.execute(
            """
            INSERT INTO meta(corpus, key, value) VALUES (\(corpus), \(key), \(Self.buffer(value)))
            ON CONFLICT (corpus, key) DO UPDATE SET value = excluded.value
            """)
        pending?.known.meta[key] = .some(value)
    }

    /// A savepoint. Savepoints of one name shadow each other, so nesting needs no counter:
    /// `ROLLBACK TO` and `RELEASE` act on the innermost.
    ///
    /// Writes waiting from before go first, so the savepoint holds them; the body's own go at its
    /// end, inside it, so that a failing one fails the body and is undone with it.
    func nested(_ body: () throws -> NestedCompletion) throws {
        try settle()
        try connection.execute("SAVEPOINT gloss_nested")
        let completion: NestedCompletion
        do {
            completion = try body()
            if completion == .keep { try settle() }
        } catch {
            // Also what makes the enclosing transaction usable again after a failed statement.
            try rollBackNested()
            try connection.execute("RELEASE SAVEPOINT gloss_nested")
            throw error
        }
        if completion == .undo { try rollBackNested() }
        try connection.execute("RELEASE SAVEPOINT gloss_nested")
    }

    /// Undoes the innermost savepoint; what was learned since may be of rows it undid.
    private func rollBackNested() throws {
        pending?.discardRows()
        pending?.known.forget()
        try connection.execute("ROLLBACK TO SAVEPOINT gloss_nested")
    }

    // MARK: Row mapping

    /// The first column of the first row, if any.
    private func single<T: PostgresDecodable>(_ type: T.Type, _ query: PostgresQuery) throws -> T? where T._DecodableType == T {
        try connection.query(query).first?.decode(T?.self) ?? nil
    }

    /// PostgreSQL integers are signed: 64-bit ids are stored by bit pattern, as in SQLite.
    static func int(_ v: UInt64) -> Int64 { Int64(bitPattern: v) }

    static func annotationID(_ replica: Int64, _ counter: Int64) -> AnnotationID {
        AnnotationID(replica: ReplicaID(UInt64(bitPattern: replica)), counter: UInt64(bitPattern: counter))
    }

    static func buffer(_ bytes: [UInt8]) -> ByteBuffer { ByteBuffer(bytes: bytes) }

    static func bytes(_ buffer: ByteBuffer) -> [UInt8] { Array(buffer.readableBytesView) }

    static let revisionColumns = "rev, changeset, author, replica, base, message, time, ops, content"

    static func revision(_ row: PostgresRow) throws -> Revision {
        let (number, changeset, author, replica, base, message, time, ops, content) =
            try row.decode((Int, ByteBuffer, String, Int64, Int, String, Int64, Int, ByteBuffer?).self)
        return Revision(
            number: number, changeset: ChangesetID(bytes: bytes(changeset)) ?? ChangesetID(high: 0, low: 0), author: author,
            replica: ReplicaID(UInt64(bitPattern: replica)), base: base, message: message, timestamp: time, opCount: ops,
            contentDigest: content.flatMap { ChangesetContentDigest(bytes: bytes($0)) })
    }

    static let documentColumns =
        "key, id, digest, length, metadata, added, removed, chain_len, chain_bytes, base_bytes, text_revised"

    /// A damaged digest (not 32 bytes) reads as all zeros, so that an audit reports the
    /// document's entry as differing from what its deltas say rather than stopping.
    static func document(_ row: PostgresRow) throws -> DocumentRecord {
        let (key, id, digest, length, metadata, added, removed, chainLength, chainBytes, baseBytes, textRevised) =
            try row.decode((Int64, String, ByteBuffer, Int, ByteBuffer, Int, Int?, Int, Int, Int, Int?).self)
        let doc = Document(
            id: DocumentID(storedRawValue: id),
            digest: TextDigest(bytes: bytes(digest)) ?? TextDigest(bytes: [UInt8](repeating: 0, count: 32))!, length: length,
            metadata: MetadataCodec.decode(bytes(metadata)))
        return DocumentRecord(
            key: key, entry: DocumentEntry(document: doc, addedAt: added, removedAt: removed, textRevisedAt: textRevised),
            chainLength: chainLength,
            chainBytes: chainBytes, baseBytes: baseBytes)
    }

    static func blob(_ row: PostgresRow, kind: StoredBlob.Kind) throws -> StoredBlob {
        let (revision, id, rawLength, data) = try row.decode((Int, String?, Int, ByteBuffer).self)
        return StoredBlob(
            kind: kind, revision: revision, document: id.map(DocumentID.init(storedRawValue:)), rawLength: rawLength,
            data: bytes(data))
    }
}
