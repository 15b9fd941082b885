import GlossModel

/// The slice of a stored head that one changeset's check needs, read up front.
///
/// Reading first keeps ``AcceptanceCheck`` pure (no I/O, no throwing lookups) and bounds the
/// reads by the changeset's size and the touched documents' heads, each kind read in one batch
/// per document (a round trip each on a networked database, not one per op): the touched annotations
/// (from their head rows, or their documents' blocks, each decoded once), their references and
/// referrers, and the replicas of the revisions that last changed them.
struct PrefetchedHead: HeadView, Sendable {
    var schema: Schema = .open
    var schemaRevision = 0
    var documents: [DocumentID: DocumentEntry] = [:]
    var documentKeys: [DocumentID: Int64] = [:]
    var records: [DocumentID: DocumentRecord] = [:]
    var entries: [AnnotationKey: HeadEntry] = [:]
    var referrerLists: [AnnotationKey: [AnnotationID]] = [:]
    var replicas: [Int: ReplicaID] = [:]
    /// Documents whose every entry was read (a text revision re-anchors them all).
    var wholeDocuments: Set<DocumentID> = []
    /// The text revisions of each document after the base, read from its deltas.
    var revisedTexts: [DocumentID: [RecordedTextRevision]] = [:]
    /// The current texts of documents the ops revise, to check the revisions against.
    var texts: [TextDigest: String] = [:]

    func document(_ id: DocumentID) -> DocumentEntry? { documents[id] }
    func entry(_ key: AnnotationKey) -> HeadEntry? { entries[key] }
    func referrers(of key: AnnotationKey) -> [AnnotationID] { referrerLists[key] ?? [] }
    func replica(ofRevision revision: Int) -> ReplicaID? { replicas[revision] }

    func entries(of document: DocumentID) -> [HeadEntry]? {
        guard wholeDocuments.contains(document) else { return nil }
        return entries.filter { $0.key.document == document }.map(\.value)
    }

    func text(_ digest: TextDigest) -> String? { texts[digest] }

    func textRevisions(of document: DocumentID, after base: Int) -> [RecordedTextRevision]? {
        guard let revised = documents[document]?.textRevisedAt, revised > base else { return [] }
        return revisedTexts[document]?.filter { $0.revision > base }
    }

    /// Above this many ops on one document, one scan of its head rows beats point lookups.
    static let scanThreshold = 64

    static func load(
        for changeset: Changeset, from rows: any CorpusReader, cache: (any DecodedBlockCache)? = nil
    ) throws -> PrefetchedHead {
        try load(ops: changeset.ops, base: changeset.base, schema: schema(in: rows), from: rows, cache: cache)
    }

    /// The meta keys ``schema(in:)`` reads.
    static let schemaMetaKeys = [CorpusStore.MetaKey.schema, CorpusStore.MetaKey.schemaRevision]

    /// The corpus's schema and the revision that last set it.
    static func schema(in rows: any CorpusReader) throws -> (schema: Schema, revision: Int) {
        guard let json = try rows.meta(CorpusStore.MetaKey.schema) else { return (.open, 0) }
        return (
            try CorpusStore.decodeSchema(json),
            Int(try rows.meta(CorpusStore.MetaKey.schemaRevision).flatMap(CorpusStore.decodeInt) ?? 0)
        )
    }

    /// The head that `ops`, made against `base`, need checked; `schema` as ``schema(in:)`` read
    /// it (once for a changeset checked a document at a time).
    static func load(
        ops: [Op], base: Int, schema: (schema: Schema, revision: Int), from rows: any CorpusReader,
        cache: (any DecodedBlockCache)? = nil
    ) throws -> PrefetchedHead {
        var head = PrefetchedHead()
        (head.schema, head.schemaRevision) = schema
        let wanted = Self.wanted(by: ops)
        var deleted: [DocumentID: Set<AnnotationID>] = [:]
        var opCounts: [DocumentID: Int] = [:]
        var revising: Set<DocumentID> = []
        for op in ops {
            guard let d = op.document else { continue }
            opCounts[d, default: 0] += 1
            if case .delete(_, let id) = op { deleted[d, default: []].insert(id) }
            if case .reviseText = op { revising.insert(d) }
        }
        for (d, count) in opCounts {
            guard let record = try rows.document(d) else { continue }
            head.documents[d] = record.entry
            head.documentKeys[d] = record.key
            head.records[d] = record
            var ids = wanted[d] ?? []
            if let targets = deleted[d] {
                for (id, referrers) in try rows.referrers(document: record.key, targets: Array(targets)) {
                    head.referrerLists[AnnotationKey(d, id)] = referrers
                    ids.formUnion(referrers)
                }
            }
            let whole = count > scanThreshold || revising.contains(d)
            let entries =
                whole
                ? try DocumentHead.entries(key: record.key, document: d, rows, cache: cache)
                : try DocumentHead.entries(ids, key: record.key, document: d, rows, cache: cache)
            for (id, entry) in entries { head.entries[AnnotationKey(d, id)] = entry }
            if whole { head.wholeDocuments.insert(d) }
            if revising.contains(d), let stored = try rows.text(record.entry.document.digest) {
                let digest = record.entry.document.digest
                let raw = try BlobCompression.decompress(stored.data, expectedLength: stored.rawLength, what: "text \(digest)")
                head.texts[digest] = String(decoding: raw, as: UTF8.self)
            }
            // Offsets written before a text revision are carried over through it: its edits are
            // in the document's deltas since the base (rare, and read only then).
            if let revised = record.entry.textRevisedAt, revised > base {
                head.revisedTexts[d] = try rows.textRevisions(of: record, after: base, through: revised)
            }
        }
        // Which replica made each revision that matters: only those after the base can conflict.
        var revisions: Set<Int> = [head.schemaRevision]
        for e in head.entries.values {
            revisions.insert(e.createdAt)
            revisions.formUnion(e.fieldRevisions.values)
            if let d = e.deletedAt { revisions.insert(d) }
        }
        for d in head.documents.values {
            revisions.insert(d.addedAt)
            if let r = d.removedAt { revisions.insert(r) }
            if let r = d.textRevisedAt { revisions.insert(r) }
        }
        for list in head.revisedTexts.values { revisions.formUnion(list.map(\.revision)) }
        for rev in try rows.revisions(revisions.filter { $0 > base }.sorted()) { head.replicas[rev.number] = rev.replica }
        return head
    }
}

extension PrefetchedHead {
    /// The annotations `ops` touch or refer to, by document: what their check reads first
    /// (before the referrers of those they delete). Documents with only document ops appear
    /// with no annotations.
    static func wanted(by ops: some Sequence<Op>) -> [DocumentID: Set<AnnotationID>] {
        var wanted: [DocumentID: Set<AnnotationID>] = [:]
        for op in ops {
            guard let d = op.document else { continue }
            switch op {
            case .create(let a): wanted[d, default: []].formUnion([a.id] + a.references)
            case .set(_, let id, _, let value):
                wanted[d, default: []].insert(id)
                if case .reference(let r) = value { wanted[d, default: []].insert(r) }
            case .delete(_, let id): wanted[d, default: []].insert(id)
            case .addDocument, .removeDocument, .reviseText: wanted[d, default: []].formUnion([])
            case .setSchema: break
            }
        }
        return wanted
    }
}

extension Changeset {
    /// Whether accepting it changes the corpus's schema (so a batch reads the schema again).
    var setsSchema: Bool { ops.contains { if case .setSchema = $0 { true } else { false } } }
}
