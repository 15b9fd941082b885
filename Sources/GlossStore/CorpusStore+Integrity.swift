import GlossModel

extension ErrorCode where Domain == StoreError {
    /// The backend cannot do what was asked (an audit or a backup of a backend without them).
    public static let unsupported = Self(rawValue: "unsupported")
}

/// Whole-store verification (`glossd check`) and online copies (`glossd backup`).
extension CorpusStore {
    /// Checks everything the store holds and reports each problem found, located precisely.
    ///
    /// - the database engine's own check (`PRAGMA integrity_check`);
    /// - revision numbers run 1…head without a gap, each revision's base is below its number,
    ///   and no delta, snapshot or head row points at a revision or document that does not exist;
    /// - every text inflates to exactly its recorded length, is UTF-8, and hashes to its digest;
    /// - every document's delta chain starts with the delta adding it, each delta inflates,
    ///   decodes and applies in order, its base flags match its ops, and the row's chain
    ///   bookkeeping matches what is stored since the last base or snapshot;
    /// - every snapshot equals the state the deltas reconstruct at its revision;
    /// - at the head, the document row and the head table's live annotations equal that state;
    /// - the schema in the corpus meta equals the last schema delta.
    ///
    /// It streams: one document at a time, each in its own read transaction (so it is
    /// consistent while a server keeps committing), its deltas and head rows read one by one.
    /// Failures to read are reported as ``IntegrityProblem/Kind/unreadable`` problems and the
    /// check goes on with the next document.
    ///
    /// - Parameter corpus: the name put in each problem.
    /// - Throws: ``StoreError`` `unsupported` when the backend cannot be audited.
    public func checkIntegrity(corpus: String, maxProblems: Int = 1000) throws -> IntegrityReport {
        guard let backend = backend as? any AuditableCorpusBackend else {
            throw StoreError(.unsupported, "this store's backend cannot be audited", context: corpus)
        }
        let audit = CorpusAudit(corpus: corpus, backend: backend, maxProblems: maxProblems)
        audit.run()
        return audit.report
    }

    /// Writes a consistent copy of the whole store to a new database file at `path`, while
    /// this store (and any other process holding the file) keeps serving and committing.
    ///
    /// - Throws: ``StoreError`` `unsupported` for a backend that cannot copy itself, `backend`
    ///   when `path` exists or the copy fails.
    public func backup(to path: String) throws {
        guard let backend = backend as? any AuditableCorpusBackend else {
            throw StoreError(.unsupported, "this store's backend cannot make backups", context: path)
        }
        try backend.backup(to: path)
    }
}

/// One run of ``CorpusStore/checkIntegrity(corpus:maxProblems:)``: its state is the report and
/// what the text pass learnt, which the document pass reuses.
private final class CorpusAudit {
    let corpus: String
    let backend: any AuditableCorpusBackend
    var report: IntegrityReport
    /// Scalar lengths of the texts verified good, by digest.
    var textLengths: [TextDigest: Int] = [:]
    /// Texts already reported damaged: documents using them are not reported again.
    var damagedTexts: Set<TextDigest> = []

    /// Rows read per page where a pass pages (revisions, text digests).
    static let page = 1024
    /// A recorded length beyond this is damage, not data (and would overflow the inflate bound).
    static let maxBlobLength = 1 << 34

    init(corpus: String, backend: any AuditableCorpusBackend, maxProblems: Int) {
        self.corpus = corpus
        self.backend = backend
        self.report = IntegrityReport(maxProblems: maxProblems)
    }

    func problem(
        _ kind: IntegrityProblem.Kind, _ message: String, table: String, document: DocumentID? = nil,
        revision: Int? = nil, annotation: AnnotationID? = nil, digest: String? = nil, expected: String? = nil,
        found: String? = nil
    ) {
        report.record(
            IntegrityProblem(
                kind, message, corpus: corpus, table: table, document: document, revision: revision,
                annotation: annotation?.description, digest: digest, expected: expected, found: found))
    }

    /// Runs one step; an engine failure becomes an `unreadable` problem instead of ending the check.
    @discardableResult
    func guarded<T>(_ table: String, document: DocumentID? = nil, _ body: () throws -> T) -> T? {
        do {
            return try body()
        } catch {
            problem(.unreadable, "cannot read: \(error)", table: table, document: document)
            return nil
        }
    }

    func run() {
        report.counts.corpora = 1
        report.counts.databases = 1
        guarded("database") {
            for line in try backend.databaseIntegrityProblems(limit: 100) {
                problem(.databaseCorrupt, line, table: "database")
            }
        }
        let head = guarded("revisions") { try backend.read { try $0.headRevision() } } ?? 0
        report.headRevisions[corpus] = head
        checkRevisions(through: head)
        checkDanglingRows()
        checkTexts()
        checkCorpusChain()
        checkDocuments()
    }

    // MARK: Revisions and references

    /// Revision numbers must run 1…head: a missing row loses a changeset's metadata and its
    /// idempotency key. Revisions are append-only, so paging in separate reads is consistent.
    func checkRevisions(through head: Int) {
        var next = 1
        var after = 0
        while after < head {
            let through = min(head, after + Self.page)
            guard let rows = guarded("revisions", { try backend.read { try $0.revisions(after: after, through: through) } })
            else { return }
            for revision in rows {
                if revision.number != next { reportGap(from: next, to: revision.number - 1) }
                if revision.base >= revision.number {
                    problem(
                        .basePastHead,
                        "revision \(revision.number) records base \(revision.base), which was past the head when it was "
                            + "accepted: its changeset was never checked against the revisions it missed",
                        table: "revisions", revision: revision.number, expected: "a base below \(revision.number)",
                        found: "base \(revision.base)")
                }
                next = revision.number + 1
                report.counts.revisions += 1
            }
            after = through
        }
        if next <= head { reportGap(from: next, to: head) }
    }

    func reportGap(from first: Int, to last: Int) {
        let which = first == last ? "revision \(first) is" : "revisions \(first)...\(last) are"
        problem(
            .revisionGap, "\(which) missing: revision numbers must run 1...head without a gap", table: "revisions",
            revision: first, expected: "revision \(first)", found: "revision \(last + 1) follows revision \(first - 1)")
    }

    func checkDanglingRows() {
        guard let rows = guarded("deltas", { try backend.audit { try $0.danglingRows(limit: 100) } }) else { return }
        for row in rows {
            let what =
                switch row.table {
                case "head": "head rows"
                case "head_blocks": "a head block"
                case "deltas": "a delta row"
                default: "a snapshot row"
                }
            let target =
                row.missing == "revision"
                ? "revision \(row.revision.map(String.init) ?? "?")" : "document key \(row.documentKey)"
            problem(
                .danglingRow, "\(what) of document key \(row.documentKey) refer(s) to \(target), which does not exist",
                table: row.table, document: row.document, revision: row.revision,
                expected: "an existing \(row.missing)", found: target)
        }
    }

    // MARK: Texts

    func checkTexts() {
        var after: [UInt8]? = nil
        while true {
            // One read per page: texts are immutable once written, so pages need not share one.
            guard
                let digests = guarded("texts", {
                    try backend.audit { rows in
                        let page = try rows.textDigests(after: after, limit: Self.page)
                        for digest in page { try checkText(digest, rows) }
                        return page
                    }
                }), let last = digests.last
            else { return }
            after = last
        }
    }

    /// Inflates one text and checks it is UTF-8 hashing to its digest; returns its length in
    /// scalars when it is good.
    @discardableResult
    func checkText(_ stored: [UInt8], _ rows: any CorpusAuditReader) throws -> Int? {
        report.counts.texts += 1
        guard let digest = TextDigest(bytes: stored) else {
            problem(
                .blobCorrupt, "the digest a text is stored under is \(stored.count) bytes, not 32", table: "texts",
                digest: Self.hex(stored), expected: "32 bytes", found: "\(stored.count) bytes")
            return nil
        }
        guard let row = try rows.text(storedDigest: stored) else { return nil }
        guard let raw = inflate(row.data, rawLength: row.rawLength, table: "texts", digest: digest) else {
            damagedTexts.insert(digest)
            return nil
        }
        guard let text = String(validating: raw, as: UTF8.self) else {
            problem(.blobUndecodable, "the text is not valid UTF-8", table: "texts", digest: digest.description)
            damagedTexts.insert(digest)
            return nil
        }
        let actual = TextDigest(of: text)
        guard actual == digest else {
            problem(
                .textHashMismatch, "the text's SHA-256 is not the digest it is stored under", table: "texts",
                digest: digest.description, expected: digest.description, found: actual.description)
            damagedTexts.insert(digest)
            return nil
        }
        let length = text.unicodeScalars.count
        textLengths[digest] = length
        return length
    }

    /// A document added at `revision` (nil: the document row) must have its text, of its length.
    func checkTextReference(_ document: Document, revision: Int?, table: String, _ rows: any CorpusAuditReader) throws {
        guard !damagedTexts.contains(document.digest) else { return }
        var length = textLengths[document.digest]
        if length == nil {
            // Not seen by the text pass: added since (a server is committing), or missing.
            guard try rows.text(storedDigest: document.digest.bytes) != nil else {
                problem(
                    .textMissing, "the document's text is not in the store", table: table, document: document.id,
                    revision: revision, digest: document.digest.description, expected: "a text row", found: "none")
                return
            }
            length = try checkText(document.digest.bytes, rows)
        }
        if let length, length != document.length {
            problem(
                .textLengthMismatch, "the document's length is not its text's length in Unicode scalars",
                table: table, document: document.id, revision: revision, digest: document.digest.description,
                expected: "\(length)", found: "\(document.length)")
        }
    }

    // MARK: Blobs

    /// Inflates a blob to exactly its recorded length, reporting it when it does not.
    func inflate(
        _ data: [UInt8], rawLength: Int, table: String, document: DocumentID? = nil, revision: Int? = nil,
        digest: TextDigest? = nil
    ) -> [UInt8]? {
        guard (0...Self.maxBlobLength).contains(rawLength) else {
            problem(
                .blobCorrupt, "the recorded length is impossible", table: table, document: document, revision: revision,
                digest: digest?.description, expected: "0...\(Self.maxBlobLength)", found: "\(rawLength)")
            return nil
        }
        do {
            let raw = try BlobCompression.decompress(data, expectedLength: rawLength, what: table)
            report.counts.inflatedBytes += raw.count
            return raw
        } catch {
            problem(
                .blobCorrupt, error.message, table: table, document: document, revision: revision,
                digest: digest?.description, expected: "\(rawLength) bytes after inflating", found: "\(data.count) "
                    + "compressed bytes that do not inflate to that")
            return nil
        }
    }

    /// Inflates and decodes a delta or snapshot.
    func decode(_ blob: StoredBlob, table: String, document: DocumentID?) -> (document: DocumentID?, ops: [Op])? {
        guard let raw = inflate(blob.data, rawLength: blob.rawLength, table: table, document: document, revision: blob.revision)
        else { return nil }
        do {
            return try DeltaCodec.decode(raw, what: "\(table) row")
        } catch {
            problem(
                .blobUndecodable, "\(error.message) (at byte \(error.offset))", table: table, document: document,
                revision: blob.revision)
            return nil
        }
    }

    // MARK: Corpus-level chain

    /// The schema deltas (document key 0) decode, hold only schema ops, and end in the schema
    /// the meta table holds; the replica's record of skipped revisions decodes.
    func checkCorpusChain() {
        guarded("deltas") {
            try backend.audit { rows in
                var known = true
                var last: (schema: Schema, revision: Int)?
                try rows.forEachDelta(document: CorpusStore.corpusChain) { blob, isBase in
                    report.counts.deltas += 1
                    guard let (document, ops) = decode(blob, table: "deltas", document: nil) else {
                        known = false
                        return
                    }
                    if let document {
                        problem(
                            .chainMalformed, "a corpus-level delta names a document", table: "deltas",
                            document: document, revision: blob.revision, expected: "no document", found: "\(document)")
                    }
                    if isBase || ops.contains(where: { $0.document != nil }) {
                        problem(
                            .chainMalformed, "a corpus-level delta holds document ops or is flagged a chain base",
                            table: "deltas", revision: blob.revision, expected: "schema ops only")
                    }
                    for case .setSchema(let schema) in ops { last = (schema, blob.revision) }
                }
                let stored: Schema?
                do {
                    stored = try rows.meta(CorpusStore.MetaKey.schema).map(CorpusStore.decodeSchema)
                } catch {
                    problem(.metaMismatch, "the stored schema does not decode: \(error)", table: "meta")
                    known = false
                    stored = nil
                }
                if known && stored != last?.schema {
                    problem(
                        .metaMismatch, "the schema in meta is not the one the last schema delta set", table: "meta",
                        revision: last?.revision, expected: last.map { "the schema of revision \($0.revision)" } ?? "none",
                        found: stored == nil ? "none" : "a different schema")
                }
                let storedRevision = try rows.meta(CorpusStore.MetaKey.schemaRevision).map {
                    CorpusStore.decodeInt($0) ?? -1
                }
                if known && storedRevision != last?.revision {
                    problem(
                        .metaMismatch, "the recorded schema revision is not the last schema delta's", table: "meta",
                        expected: last.map { "\($0.revision)" } ?? "none", found: storedRevision.map { "\($0)" } ?? "none")
                }
                do {
                    _ = try CorpusStore.historyGaps(in: rows)
                } catch {
                    problem(.metaMismatch, "the record of skipped revisions does not decode", table: "meta")
                }
            }
        }
    }

    // MARK: Documents

    /// One document per read transaction: its row, deltas, snapshots and head rows are then
    /// one consistent state even while a server commits, and memory holds one document.
    func checkDocuments() {
        var last: DocumentID? = nil
        while true {
            var current: DocumentID? = nil
            do {
                let done = try backend.audit { rows -> Bool in
                    guard let record = try rows.documents(after: last, limit: 1).first else { return true }
                    current = record.entry.document.id
                    try checkDocument(record, rows)
                    return false
                }
                if done { return }
            } catch {
                problem(.unreadable, "cannot read: \(error)", table: "documents", document: current)
                // Go on after the document that failed; stop when the next one cannot even be listed.
                if current == nil { return }
            }
            last = current
        }
    }

    /// What a document's chain bookkeeping should read: what the writer keeps in its row.
    struct Chain: Equatable {
        var length = 0
        var bytes = 0
        var baseBytes = 0

        var description: String { "chain_len \(length), chain_bytes \(bytes), base_bytes \(baseBytes)" }
    }

    func checkDocument(_ record: DocumentRecord, _ rows: any CorpusAuditReader) throws {
        report.counts.documents += 1
        let id = record.entry.document.id
        var pendingSnapshots = try rows.snapshotRevisions(document: record.key)[...]
        // The state the deltas build; `known` is false after a delta that does not decode or
        // apply, until a snapshot or the document's next addition gives a known state again.
        var state = DocumentState()
        var known = true
        var chain = Chain()
        var deltaCount = 0
        var addedAt: Int?
        var removedAt: Int?
        var textRevisedAt: Int?

        func takeSnapshot(_ revision: Int) throws {
            report.counts.snapshots += 1
            guard let blob = try rows.latestSnapshot(document: record.key, atOrBefore: revision),
                blob.revision == revision
            else { return }
            chain = Chain(baseBytes: blob.data.count)
            guard let (document, ops) = decode(blob, table: "snapshots", document: id) else { return }
            var snapshot = DocumentState()
            do {
                for op in ops { try snapshot.apply(op) }
            } catch {
                problem(.blobUndecodable, "the snapshot's ops do not apply: \(error)", table: "snapshots", document: id, revision: revision)
                return
            }
            if document != id {
                problem(
                    .snapshotMismatch, "the snapshot names another document", table: "snapshots", document: id,
                    revision: revision, expected: "\(id)", found: document.map { "\($0)" } ?? "none")
            }
            if known {
                compare(state, snapshot, revision: revision, id: id)
            } else {
                // Reconstruction starts from here too: check what follows against the snapshot.
                state = snapshot
                known = true
            }
        }

        try rows.forEachDelta(document: record.key) { blob, isBase in
            while let next = pendingSnapshots.first, next < blob.revision {
                try takeSnapshot(next)
                pendingSnapshots.removeFirst()
            }
            deltaCount += 1
            report.counts.deltas += 1
            // The bookkeeping follows the row's flag, as the writer did.
            if isBase {
                chain = Chain(baseBytes: blob.data.count)
            } else {
                chain.length += 1
                chain.bytes += blob.data.count
            }
            if let (document, ops) = decode(blob, table: "deltas", document: id) {
                try replay(
                    ops, of: document, isBase: isBase, isFirst: deltaCount == 1, at: blob.revision, record: record,
                    rows: rows, state: &state, known: &known, addedAt: &addedAt, removedAt: &removedAt,
                    textRevisedAt: &textRevisedAt)
            } else {
                known = false
            }
            if pendingSnapshots.first == blob.revision {
                try takeSnapshot(blob.revision)
                pendingSnapshots.removeFirst()
            }
        }
        for revision in pendingSnapshots { try takeSnapshot(revision) }

        if deltaCount == 0 {
            problem(
                .chainMalformed, "the document has no deltas", table: "deltas", document: id,
                expected: "a delta adding the document", found: "none")
            known = false
        }
        let recorded = Chain(length: record.chainLength, bytes: record.chainBytes, baseBytes: record.baseBytes)
        if deltaCount > 0 && recorded != chain {
            problem(
                .chainBookkeeping, "the document row's chain bookkeeping disagrees with the stored chain",
                table: "documents", document: id, expected: chain.description, found: recorded.description)
        }
        if known {
            checkEntry(record, state: state, addedAt: addedAt, removedAt: removedAt, textRevisedAt: textRevisedAt)
        }
        try checkHead(record, state: known ? state : nil, rows)
    }

    /// Applies one delta's ops, checking the chain's shape and the texts documents are added with.
    func replay(
        _ ops: [Op], of document: DocumentID?, isBase: Bool, isFirst: Bool, at revision: Int, record: DocumentRecord,
        rows: any CorpusAuditReader, state: inout DocumentState, known: inout Bool, addedAt: inout Int?,
        removedAt: inout Int?, textRevisedAt: inout Int?
    ) throws {
        let id = record.entry.document.id
        if document != id {
            problem(
                .chainMalformed, "the delta names another document", table: "deltas", document: id, revision: revision,
                expected: "\(id)", found: document.map { "\($0)" } ?? "no document")
        }
        let adds = ops.contains { if case .addDocument = $0 { true } else { false } }
        if isFirst && !adds {
            problem(
                .chainMalformed, "the chain does not start with the delta adding the document", table: "deltas",
                document: id, revision: revision, expected: "addDocument", found: "a delta without it")
        }
        if adds != isBase {
            problem(
                .chainMalformed,
                adds ? "the delta adds the document but is not flagged a chain base"
                    : "the delta is flagged a chain base but does not add the document",
                table: "deltas", document: id, revision: revision, expected: "base = \(adds ? 1 : 0)",
                found: "base = \(isBase ? 1 : 0)")
        }
        var reportedAbsent = false
        for op in ops {
            if case .addDocument(let added) = op {
                try checkTextReference(added, revision: revision, table: "deltas", rows)
                addedAt = revision
                removedAt = nil
                textRevisedAt = nil
                if !known {
                    // An addition replaces the whole state: from here on it is known again.
                    state = DocumentState()
                    known = true
                }
            } else if known && state.document == nil && !reportedAbsent {
                reportedAbsent = true
                problem(
                    .chainMalformed, "ops touch the document while it is not there", table: "deltas", document: id,
                    revision: revision, annotation: op.annotation)
            }
            if case .removeDocument = op { removedAt = revision }
            if case .reviseText(_, let change) = op {
                textRevisedAt = revision
                let revised = Document(id: id, digest: change.to, length: change.toLength)
                try checkTextReference(revised, revision: revision, table: "deltas", rows)
            }
            guard known else { continue }
            do {
                try state.apply(op)
            } catch {
                problem(
                    .deltaDoesNotApply, error.message, table: "deltas", document: id, revision: revision,
                    annotation: op.annotation)
                known = false
            }
        }
    }

    /// The document row must describe the state at the head.
    func checkEntry(
        _ record: DocumentRecord, state: DocumentState, addedAt: Int?, removedAt: Int?, textRevisedAt: Int?
    ) {
        let entry = record.entry
        let id = entry.document.id
        if entry.isLive {
            if let differences = Self.differences(state.document, entry.document) {
                problem(
                    .documentMismatch, "the document row differs from the document its deltas add", table: "documents",
                    document: id, expected: differences.expected, found: differences.found)
            }
        } else if state.document != nil {
            problem(
                .documentMismatch, "the document row says removed but its deltas leave it present",
                table: "documents", document: id, expected: "present", found: "removed at revision \(entry.removedAt!)")
        }
        if entry.addedAt != addedAt {
            problem(
                .documentMismatch, "the revision the row says the document was added at is not its last addition",
                table: "documents", document: id, expected: addedAt.map { "\($0)" } ?? "none", found: "\(entry.addedAt)")
        }
        if entry.removedAt != removedAt {
            problem(
                .documentMismatch, "the revision the row says the document was removed at disagrees with its deltas",
                table: "documents", document: id, expected: removedAt.map { "\($0)" } ?? "not removed",
                found: entry.removedAt.map { "\($0)" } ?? "not removed")
        }
        if entry.textRevisedAt != textRevisedAt {
            problem(
                .documentMismatch, "the revision the row says the text was last revised at disagrees with its deltas",
                table: "documents", document: id, expected: textRevisedAt.map { "\($0)" } ?? "never revised",
                found: entry.textRevisedAt.map { "\($0)" } ?? "never revised")
        }
    }

    /// The head block and each head row decode; with a known state, the live entries (a row
    /// winning over the block's entry) are exactly its annotations.
    func checkHead(_ record: DocumentRecord, state: DocumentState?, _ rows: any CorpusAuditReader) throws {
        let id = record.entry.document.id
        var head: [AnnotationID: HeadEntry] = [:]
        do {
            head = try DocumentHead.blockEntries(key: record.key, document: id, rows)
        } catch let error as StoreError where error.code == .corrupt {
            problem(.blobUndecodable, error.message, table: "head_blocks", document: id)
        }
        try rows.forEachHeadRow(document: record.key) { annotation, body in
            do throws(CodecError) {
                head[annotation] = try HeadEntryCodec.decode(body, id: annotation, document: id)
            } catch {
                problem(.blobUndecodable, error.message, table: "head", document: id, annotation: annotation)
            }
        }
        report.counts.headEntries += head.count
        let seen = Set(head.keys)
        guard let state else { return }
        for (annotation, entry) in head.sorted(by: { $0.key < $1.key }) {
            let expected = state.annotations[annotation]
            switch (expected, entry.isLive) {
            case (let expected?, true):
                if let differences = Self.differences(expected, entry.annotation) {
                    problem(
                        .headMismatch, "the head's annotation differs from its reconstruction", table: "head",
                        document: id, annotation: annotation, expected: differences.expected, found: differences.found)
                }
            case (let expected?, false):
                problem(
                    .headMissing, "the head has the annotation deleted but the deltas leave it live", table: "head",
                    document: id, revision: entry.deletedAt, annotation: annotation, expected: Self.describe(expected),
                    found: "deleted at revision \(entry.deletedAt ?? 0)")
            case (nil, true):
                problem(
                    .headUnexpected, "the head has a live annotation the deltas do not create (or delete it)",
                    table: "head", document: id, annotation: annotation, expected: "absent",
                    found: Self.describe(entry.annotation))
            case (nil, false):
                break
            }
        }
        for (annotation, expected) in state.annotations.sorted(by: { $0.key < $1.key }) where !seen.contains(annotation) {
            problem(
                .headMissing, "the deltas leave the annotation live but the head has no row for it", table: "head",
                document: id, annotation: annotation, expected: Self.describe(expected), found: "no row")
        }
    }

    /// A snapshot must hold exactly the state its document's deltas build at its revision.
    func compare(_ expected: DocumentState, _ found: DocumentState, revision: Int, id: DocumentID) {
        if let differences = Self.differences(expected.document, found.document) {
            problem(
                .snapshotMismatch, "the snapshot's document differs from the deltas'", table: "snapshots", document: id,
                revision: revision, expected: differences.expected, found: differences.found)
        }
        for (annotation, want) in expected.annotations.sorted(by: { $0.key < $1.key }) {
            if let have = found.annotations[annotation] {
                if let differences = Self.differences(want, have) {
                    problem(
                        .snapshotMismatch, "the snapshot's annotation differs from its reconstruction",
                        table: "snapshots", document: id, revision: revision, annotation: annotation,
                        expected: differences.expected, found: differences.found)
                }
            } else {
                problem(
                    .snapshotMismatch, "the snapshot lacks an annotation the deltas leave live", table: "snapshots",
                    document: id, revision: revision, annotation: annotation, expected: Self.describe(want),
                    found: "absent")
            }
        }
        for (annotation, have) in found.annotations.sorted(by: { $0.key < $1.key })
        where expected.annotations[annotation] == nil {
            problem(
                .snapshotMismatch, "the snapshot has an annotation the deltas do not leave live", table: "snapshots",
                document: id, revision: revision, annotation: annotation, expected: "absent", found: Self.describe(have))
        }
    }

    // MARK: Describing differences

    /// The fields in which two annotations differ, each side as `field value; …`; nil when equal.
    static func differences(_ a: Annotation, _ b: Annotation) -> (expected: String, found: String)? {
        guard a != b else { return nil }
        var left: [String] = []
        var right: [String] = []
        func note(_ name: String, _ x: String, _ y: String) {
            guard x != y else { return }
            left.append("\(name) \(x)")
            right.append("\(name) \(y)")
        }
        note("kind", "\(a.kind)", "\(b.kind)")
        note("layer", quoted(a.layer), quoted(b.layer))
        note("owner", quoted(a.owner), quoted(b.owner))
        note("label", quoted(a.label), quoted(b.label))
        note("ranges", ranges(a.ranges), ranges(b.ranges))
        note("from", a.from.map { "\($0)" } ?? "none", b.from.map { "\($0)" } ?? "none")
        note("to", a.to.map { "\($0)" } ?? "none", b.to.map { "\($0)" } ?? "none")
        note("target", a.target.map { "\($0)" } ?? "none", b.target.map { "\($0)" } ?? "none")
        note("text", quoted(a.text), quoted(b.text))
        for key in Set(a.attributes.keys).union(b.attributes.keys).sorted() {
            note("attribute \(quoted(key))", a.attributes[key].map(quoted) ?? "none", b.attributes[key].map(quoted) ?? "none")
        }
        if a.document != b.document { note("document", "\(a.document)", "\(b.document)") }
        return (left.joined(separator: "; "), right.joined(separator: "; "))
    }

    static func differences(_ a: Document?, _ b: Document?) -> (expected: String, found: String)? {
        guard a != b else { return nil }
        guard let a, let b else {
            return (a.map { "document \($0.id)" } ?? "no document", b.map { "document \($0.id)" } ?? "no document")
        }
        var left: [String] = []
        var right: [String] = []
        if a.id != b.id { (left, right) = (left + ["id \(a.id)"], right + ["id \(b.id)"]) }
        if a.digest != b.digest { (left, right) = (left + ["text \(a.digest)"], right + ["text \(b.digest)"]) }
        if a.length != b.length { (left, right) = (left + ["length \(a.length)"], right + ["length \(b.length)"]) }
        if a.metadata != b.metadata {
            (left, right) = (left + ["metadata \(metadata(a.metadata))"], right + ["metadata \(metadata(b.metadata))"])
        }
        return (left.joined(separator: "; "), right.joined(separator: "; "))
    }

    /// A short description of an annotation for reports.
    static func describe(_ a: Annotation) -> String {
        var parts = ["\(a.kind)"]
        if !a.label.isEmpty { parts.append(quoted(a.label)) }
        if !a.ranges.isEmpty { parts.append(ranges(a.ranges)) }
        if let from = a.from, let to = a.to { parts.append("\(from) -> \(to)") }
        if !a.text.isEmpty { parts.append(quoted(a.text)) }
        parts.append("by \(a.owner)")
        return parts.joined(separator: " ")
    }

    static func quoted(_ s: String) -> String { "\"\(s)\"" }

    static func ranges(_ ranges: [TextRange]) -> String {
        "[" + ranges.map { "\($0.start)..<\($0.end)" }.joined(separator: ", ") + "]"
    }

    static func metadata(_ map: [String: String]) -> String {
        "{" + map.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", ") + "}"
    }

    static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { byte in (byte < 16 ? "0" : "") + String(byte, radix: 16) }.joined()
    }
}
