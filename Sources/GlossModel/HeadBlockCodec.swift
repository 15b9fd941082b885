/// The encoding of a document's whole head in one block: every annotation the head knows
/// (tombstones included), with the revisions of its fields, sorted by id.
///
/// One block per document, with one string and replica table for all its entries, is what
/// makes the head small at rest: a row per annotation repeats its document key, its id and
/// the strings of its label and layer, and pays the database's per-row overhead, which made
/// the head table most of a store. Stores deflate the block.
///
/// Layout (integers LEB128 varints unless noted):
/// ```
/// u8 version (1)
/// count, strings…          labels, layers, owners, attribute keys and values
/// count, u64le replica…    replica ids
/// count, entry…            ascending by id
/// entry: id, annotation without its id (as in DeltaCodec),
///        zigzag(createdAt − previous entry's createdAt),
///        deletedAt − createdAt + 1 (0: live),
///        count, (field, revision − createdAt)…
/// ```
/// Ids are a replica index plus a counter delta, as in ``DeltaCodec``; because an import
/// creates a document's annotations together, neighbours by id share their creation revision
/// and the revision deltas are mostly zero.
public enum HeadBlockCodec {
    public static let version: UInt8 = 1

    /// Encodes head entries of one document, in any order (the block sorts them by id).
    public static func encode(_ entries: some Collection<HeadEntry>) -> [UInt8] {
        var encoder = OpEncoder()
        var previousCreated = 0
        // Sorted by reference to the entries: moving the structs themselves costs a retain and
        // release of each of their fields per move.
        let all = Array(entries)
        let order = all.indices.sorted { all[$0].annotation.id < all[$1].annotation.id }
        for entry in order.lazy.map({ all[$0] }) {
            encoder.id(entry.annotation.id)
            encoder.annotation(entry.annotation, withID: false)
            encoder.body.zigzag(Int64(entry.createdAt - previousCreated))
            previousCreated = entry.createdAt
            encoder.body.varint(entry.deletedAt.map { $0 - entry.createdAt + 1 } ?? 0)
            encoder.body.varint(entry.fieldRevisions.count)
            for (field, revision) in entry.fieldRevisions.sorted(by: { $0.key.description < $1.key.description }) {
                encoder.field(field)
                encoder.body.zigzag(Int64(revision - entry.createdAt))
            }
        }
        var out = BinaryWriter(capacity: encoder.body.bytes.count + 64)
        out.byte(version)
        encoder.writeTables(into: &out)
        out.varint(all.count)
        out.raw(encoder.body.bytes)
        return out.bytes
    }

    /// Decodes a block of `document`'s head, calling `body` with each entry in id order.
    public static func decode(
        _ bytes: [UInt8], document: DocumentID, _ body: (HeadEntry) throws -> Void
    ) throws {
        try decode(bytes, document: document, only: nil, body)
    }

    /// Decodes only the entries of `wanted` (when given), reading past the others without
    /// building them: a push that touches three annotations of a document pays a scan of its
    /// block, not the decoding of every entry. Stops once past the largest wanted id.
    ///
    /// - Throws: ``CodecError``; `malformed` for ids that do not ascend (up to where it stops).
    public static func decode(
        _ bytes: [UInt8], document: DocumentID, only wanted: Set<AnnotationID>?, _ body: (HeadEntry) throws -> Void
    ) throws {
        let last = wanted?.max()
        var reader = BinaryReader(bytes, what: "head block of \(document)")
        let v = try reader.byte()
        guard v == version else {
            throw CodecError(.unsupportedVersion, "head block has format version \(v); this build reads \(version)", offset: 0)
        }
        var decoder = try OpDecoder(reader: reader)
        let count = try decoder.reader.count("head entries", minBytes: 4)
        var previousCreated = 0
        var previousID: AnnotationID?
        for _ in 0..<count {
            let id = try decoder.id()
            // The encoder writes ids ascending, and the partial decode's early stop relies on it:
            // a damaged block out of order would silently hide entries from it.
            if let previousID, !(previousID < id) {
                throw decoder.reader.malformed("head entry \(id) after \(previousID): entries must ascend by id")
            }
            previousID = id
            if let wanted, !wanted.contains(id) {
                if let last, last < id { return }  // ascending ids: none of the rest is wanted
                try decoder.skipAnnotation()
                previousCreated = try revision(previousCreated, plus: decoder.reader.zigzag(), of: id, &decoder)
                _ = try decoder.reader.int(max: Int.max, "deleted revision")
                let n = try decoder.reader.count("field revisions", minBytes: 2)
                for _ in 0..<n {
                    try decoder.skipField()
                    _ = try decoder.reader.zigzag()
                }
                continue
            }
            let annotation = try decoder.annotation(id: id, document: document)
            let created = try revision(previousCreated, plus: decoder.reader.zigzag(), of: id, &decoder)
            previousCreated = created
            let deleted = try decoder.reader.int(max: Int.max, "deleted revision")
            let deletedAt = deleted == 0 ? nil : try revision(created, plus: Int64(deleted - 1), of: id, &decoder)
            let n = try decoder.reader.count("field revisions", minBytes: 2)
            var revisions: [Field: Int] = [:]
            for _ in 0..<n {
                let field = try decoder.field()
                revisions[field] = try revision(created, plus: decoder.reader.zigzag(), of: id, &decoder)
            }
            try body(
                HeadEntry(
                    annotation: annotation, createdAt: created, fieldRevisions: revisions,
                    deletedAt: deletedAt))
        }
        guard decoder.reader.isAtEnd else {
            throw decoder.reader.malformed("\(decoder.reader.remaining) bytes after the last head entry")
        }
    }

    /// `base + delta`, refused when it overflows or is negative (damaged or hostile bytes).
    private static func revision(
        _ base: Int, plus delta: Int64, of id: AnnotationID, _ decoder: inout OpDecoder
    ) throws(CodecError) -> Int {
        let (sum, overflow) = base.addingReportingOverflow(Int(delta))
        guard !overflow, sum >= 0 else { throw decoder.reader.malformed("revision out of range in head entry \(id)") }
        return sum
    }

    /// Decodes a whole block (or only the `wanted` entries) into entries by id.
    public static func decode(
        _ bytes: [UInt8], document: DocumentID, only wanted: Set<AnnotationID>? = nil
    ) throws -> [AnnotationID: HeadEntry] {
        var entries: [AnnotationID: HeadEntry] = [:]
        entries.reserveCapacity(wanted?.count ?? 64)
        try decode(bytes, document: document, only: wanted) { entries[$0.annotation.id] = $0 }
        return entries
    }
}
