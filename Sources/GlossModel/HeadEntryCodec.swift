/// The encoding of one head-table row's body: an annotation (its id and document live in the
/// row's key), its creation revision, per-field revisions and deletion revision.
///
/// Layout: `u8 version (1)`, the string and replica tables as in ``DeltaCodec``, the
/// annotation without its id, then varints `createdAt`, `deletedAt + 1` (0: live), a count of
/// field revisions and for each a field and a revision.
public enum HeadEntryCodec {
    public static func encode(_ entry: HeadEntry) -> [UInt8] {
        var encoder = OpEncoder()
        encoder.annotation(entry.annotation, withID: false)
        encoder.body.varint(entry.createdAt)
        encoder.body.varint(entry.deletedAt.map { $0 + 1 } ?? 0)
        encoder.body.varint(entry.fieldRevisions.count)
        for (field, rev) in entry.fieldRevisions.sorted(by: { $0.key.description < $1.key.description }) {
            encoder.field(field)
            encoder.body.varint(rev)
        }
        var out = BinaryWriter(capacity: encoder.body.bytes.count + 16)
        out.byte(DeltaCodec.version)
        encoder.writeTables(into: &out)
        out.raw(encoder.body.bytes)
        return out.bytes
    }

    public static func decode(_ bytes: [UInt8], id: AnnotationID, document: DocumentID) throws(CodecError) -> HeadEntry {
        var reader = BinaryReader(bytes, what: "head entry \(id)")
        let v = try reader.byte()
        guard v == DeltaCodec.version else {
            throw CodecError(.unsupportedVersion, "head entry has format version \(v)", offset: 0)
        }
        var decoder = try OpDecoder(reader: reader)
        let annotation = try decoder.annotation(id: id, document: document)
        let createdAt = try decoder.reader.int(max: Int.max, "created revision")
        let deleted = try decoder.reader.int(max: Int.max, "deleted revision")
        let n = try decoder.reader.count("field revisions", minBytes: 2)
        var revisions: [Field: Int] = [:]
        for _ in 0..<n {
            let field = try decoder.field()
            revisions[field] = try decoder.reader.int(max: Int.max, "field revision")
        }
        guard decoder.reader.isAtEnd else { throw decoder.reader.malformed("trailing bytes") }
        return HeadEntry(
            annotation: annotation, createdAt: createdAt, fieldRevisions: revisions,
            deletedAt: deleted == 0 ? nil : deleted - 1)
    }
}
