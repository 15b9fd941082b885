import GlossModel

/// A document's head as a store keeps it: one compressed ``HeadBlock`` of every entry, plus
/// head rows for the annotations changed since the block was written.
///
/// Reads put the two together (a row wins over the block's entry). Writes add rows while they
/// are few next to the block, so that a small push costs a few row inserts; once the rows
/// outnumber an eighth of the block (or ``minimumRows``), the next write folds them into a new
/// block. So at rest the head is mostly blocks, about a tenth of a row per annotation's size.
public enum DocumentHead {
    /// Rows a document may gather before they are folded, however small its block.
    static let minimumRows = 16
    /// Rows are folded once there are more than the block's entries divided by this.
    static let rowShare = 8

    /// Whether a write that leaves a document with `rows` head rows beside a block of
    /// `blockEntries` folds them into a new block (and so reads all of the document's rows).
    /// A backend that prefetches a batch's rows uses it to fetch such documents' rows whole.
    public static func folds(rows: Int, blockEntries: Int) -> Bool {
        rows > max(minimumRows, blockEntries / rowShare)
    }

    /// Every entry of a document's head, live and tombstones, by id.
    static func entries(
        key: Int64, document: DocumentID, _ rows: any CorpusReader, cache: (any DecodedBlockCache)? = nil
    ) throws -> [AnnotationID: HeadEntry] {
        var entries = try blockEntries(key: key, document: document, rows, cache: cache)
        for (id, body) in try rows.headRows(document: key) { entries[id] = try decode(body, id, document) }
        return entries
    }

    /// The entries of `ids` that a document's head has (live or tombstones): their rows, and
    /// the block for the rest, of which only those entries are decoded.
    static func entries(
        _ ids: Set<AnnotationID>, key: Int64, document: DocumentID, _ rows: any CorpusReader, cache: (any DecodedBlockCache)? = nil
    ) throws -> [AnnotationID: HeadEntry] {
        var found: [AnnotationID: HeadEntry] = [:]
        var rest: Set<AnnotationID> = []
        let bodies = try rows.headRows(document: key, ids: Array(ids))
        for id in ids {
            if let body = bodies[id] {
                found[id] = try decode(body, id, document)
            } else {
                rest.insert(id)
            }
        }
        guard !rest.isEmpty else { return found }
        return found.merging(try blockEntries(key: key, document: document, only: rest, rows, cache: cache)) { row, _ in row }
    }

    /// The entries of a document's block alone (empty without one), or only those of `wanted`.
    /// With a cache, a block seen before is not decoded again. One not seen is kept when it is
    /// read whole (decoded whole anyway); a read of a few entries decodes only those and keeps
    /// nothing: decoding a whole block to keep it costs a push many times its selective read,
    /// and pushes spread over more documents than the cache holds would pay that every time.
    /// Hot documents are kept all the same: their blocks enter when a write folds them.
    static func blockEntries(
        key: Int64, document: DocumentID, only wanted: Set<AnnotationID>? = nil, _ rows: any CorpusReader,
        cache: (any DecodedBlockCache)? = nil
    ) throws -> [AnnotationID: HeadEntry] {
        guard let block = try rows.headBlock(document: key) else { return [:] }
        guard let cache else { return try decode(block, document: document, only: wanted) }
        let cacheKey = HeadBlockCache.Key(document: key, block: block)
        let all: [AnnotationID: HeadEntry]
        if let hit = cache.entries(for: cacheKey) {
            all = hit
        } else if let wanted {
            return try decode(block, document: document, only: wanted)
        } else {
            all = try decode(block, document: document, only: nil)
            cache.store(all, for: cacheKey)
        }
        guard let wanted else { return all }
        var found: [AnnotationID: HeadEntry] = [:]
        for id in wanted { found[id] = all[id] }
        return found
    }

    /// Inflates and decodes a block, or only the entries of `wanted`.
    private static func decode(
        _ block: HeadBlock, document: DocumentID, only wanted: Set<AnnotationID>?
    ) throws -> [AnnotationID: HeadEntry] {
        let what = "head block of \(document)"
        let raw = try BlobCompression.decompress(block.data, expectedLength: block.rawLength, what: what)
        let entries: [AnnotationID: HeadEntry]
        do {
            entries = try HeadBlockCodec.decode(raw, document: document, only: wanted)
        } catch let error as CodecError {
            throw StoreError(.corrupt, error.message, context: what)
        }
        guard wanted != nil || entries.count == block.entries else {
            throw StoreError(
                .corrupt, "holds \(entries.count) entries where its row says \(block.entries)", context: what)
        }
        return entries
    }

    /// Writes a document's changed entries, as rows or folded with the rest into a new block.
    static func write(
        _ changed: [(id: AnnotationID, entry: HeadEntry)], key: Int64, document: DocumentID, _ rows: any CorpusWriter,
        cache: (any DecodedBlockCache)? = nil
    ) throws {
        guard !changed.isEmpty else { return }
        let layout = try rows.headLayout(document: key)
        if !folds(rows: layout.rows + changed.count, blockEntries: layout.blockEntries) {
            try rows.putHeadRows(
                document: key, changed.sorted { $0.id < $1.id }.map { ($0.id, HeadEntryCodec.encode($0.entry)) })
            return
        }
        var all = layout.blockEntries + layout.rows > 0 ? try entries(key: key, document: document, rows, cache: cache) : [:]
        for (id, entry) in changed { all[id] = entry }
        let folded = block(of: all.values)
        try rows.putHeadBlock(document: key, folded)
        cache?.storeWritten(all, for: HeadBlockCache.Key(document: key, block: folded))
    }

    /// Encodes and deflates entries into a block.
    static func block(of entries: some Collection<HeadEntry>) -> HeadBlock {
        let raw = HeadBlockCodec.encode(entries)
        return HeadBlock(entries: entries.count, rawLength: raw.count, data: BlobCompression.compress(raw))
    }

    static func decode(_ body: [UInt8], _ id: AnnotationID, _ document: DocumentID) throws -> HeadEntry {
        do {
            return try HeadEntryCodec.decode(body, id: id, document: document)
        } catch {
            throw StoreError(.corrupt, error.message, context: "head entry \(id) of \(document)")
        }
    }
}
