import GlossModel

/// Document metadata at rest: a count, then length-prefixed key/value strings. Every backend
/// stores it in this form, so that stores copy between backends byte for byte.
public enum MetadataCodec {
    /// The bytes at rest of a document's metadata, keys sorted.
    public static func encode(_ map: [String: String]) -> [UInt8] {
        var w = BinaryWriter()
        w.varint(map.count)
        for (k, v) in map.sorted(by: { $0.key < $1.key }) {
            w.string(k)
            w.string(v)
        }
        return w.bytes
    }

    /// Lenient: metadata is informational, so an unreadable blob yields what decoded so far.
    public static func decode(_ bytes: [UInt8]) -> [String: String] {
        var r = BinaryReader(bytes, what: "document metadata")
        var map: [String: String] = [:]
        guard let n = try? r.count("entries", minBytes: 2) else { return map }
        for _ in 0..<n {
            guard let k = try? r.string(), let v = try? r.string() else { break }
            map[k] = v
        }
        return map
    }
}
