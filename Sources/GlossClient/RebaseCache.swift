import Foundation
import GlossModel
import GlossWire

/// The pending changesets rebased on the replica's head, kept in `.gloss/rebased` so that a
/// command does not rebase every pending changeset again (and decode every pending file) to
/// learn what one more edit does.
///
/// Each changeset is kept encoded, beside what it touches: a command decodes only the ones on
/// the documents it looks at, and a commit appends one without encoding the others again.
///
/// Derived data: it is valid exactly while the replica's head and the pending files are the
/// ones it names (each file by name, size and modification time), and it is only written for a
/// rebase without conflicts. A missing, stale or unreadable cache is simply recomputed.
struct RebaseCache {
    /// What the cached rebase was computed from.
    struct Key: Hashable {
        var replica: ReplicaStamp
        /// Sorted by name, as the pending changesets are ordered.
        var files: [PendingFile]
    }

    /// One rebased changeset (base: the head; ops: what the check accepted), as kept.
    struct Entry {
        /// The documents its ops touch, sorted.
        var documents: [DocumentID]
        /// Whether it has ops on no document (a schema change), which every check reads.
        var changesSchema: Bool
        /// Whether it adds or removes documents.
        var changesDocuments: Bool
        /// The annotations it creates, with their documents.
        var created: [(id: AnnotationID, document: DocumentID)]
        /// The changeset in the wire encoding.
        var encoded: [UInt8]

        init(_ changeset: Changeset) throws {
            var documents = Set<DocumentID>()
            (changesSchema, changesDocuments, created) = (false, false, [])
            for op in changeset.ops {
                switch op {
                case .create(let a): created.append((a.id, a.document))
                case .addDocument, .removeDocument, .reviseText: changesDocuments = true
                case .setSchema: changesSchema = true
                case .set, .delete: break
                }
                if let document = op.document { documents.insert(document) }
            }
            self.documents = documents.sorted()
            encoded = try Gloss_V1_Changeset(changeset).serializedBytes()
        }

        init(
            documents: [DocumentID], changesSchema: Bool, changesDocuments: Bool,
            created: [(id: AnnotationID, document: DocumentID)], encoded: [UInt8]
        ) {
            (self.documents, self.changesSchema, self.changesDocuments) = (documents, changesSchema, changesDocuments)
            (self.created, self.encoded) = (created, encoded)
        }

        func changeset() throws -> Changeset {
            try Gloss_V1_Changeset(serializedBytes: encoded).changeset()
        }

        /// Whether its check, or the state of one of `wanted`, depends on it.
        func touches(_ wanted: Set<DocumentID>) -> Bool {
            changesSchema || documents.contains(where: wanted.contains)
        }
    }

    var key: Key
    /// The pending directory as stamped just before the listing that ``Key/files`` is; nil when
    /// the files were not all listed (a commit adds its own file to the key).
    var directory: PendingListing.Stamp?
    /// In pending order.
    var entries: [Entry]
    /// Live annotations per layer in the local view of each document the pending ops touch, once
    /// `gloss docs` has counted them (nil before): with the index's counts for the others, what
    /// `docs` lists. A commit keeps it up to date for the documents it touches.
    var layers: [DocumentID: [String: Int]]? = nil

    init(key: Key, directory: PendingListing.Stamp? = nil, entries: [Entry], layers: [DocumentID: [String: Int]]? = nil) {
        self.key = key
        self.directory = directory
        self.entries = entries
        self.layers = layers
    }

    /// The listing of the pending files it was keyed by, when it was one.
    var listing: PendingListing? { directory.map { PendingListing(directory: $0, files: key.files) } }

    init(key: Key, changesets: [Changeset]) throws {
        self.init(key: key, entries: try changesets.map(Entry.init))
    }

    /// Every rebased changeset, decoded.
    func changesets() throws -> [Changeset] { try entries.map { try $0.changeset() } }

    /// The rebased changesets a check of, or the states of, `documents` depend on, in order.
    func changesets(touching documents: Set<DocumentID>) throws -> [Changeset] {
        try entries.filter { $0.touches(documents) }.map { try $0.changeset() }
    }

    /// The rebased changesets that add or remove documents, in order.
    func changesetsChangingDocuments() throws -> [Changeset] {
        try entries.filter(\.changesDocuments).map { try $0.changeset() }
    }

    // MARK: Encoding

    private static let magic: [UInt8] = Array("GLRB".utf8)
    private static let version: UInt8 = 3

    /// The cache in `url`, or nil when there is none or it does not decode (it is rebuilt).
    static func load(from url: URL) -> RebaseCache? {
        guard let data = try? Data(contentsOf: url) else { return nil }
        return try? decode([UInt8](data))
    }

    /// Writes the cache atomically: a reader sees the old one or the new one, never a mix.
    func save(to url: URL) throws {
        try DerivedFile.write(encode(), to: url)
    }

    func encode() -> [UInt8] {
        var w = BinaryWriter(capacity: 64 + key.files.count * 24 + entries.reduce(0) { $0 + $1.encoded.count + 32 })
        w.raw(Self.magic)
        w.byte(Self.version)
        w.stamp(key.replica)
        w.varint(key.files.count)
        for file in key.files {
            w.string(file.name)
            w.varint(file.size)
            w.zigzag(file.modified)
        }
        if let directory {
            w.byte(1)
            w.varint(directory.inode)
            w.zigzag(directory.modified)
            w.zigzag(directory.taken)
        } else {
            w.byte(0)
        }
        w.varint(entries.count)
        for entry in entries {
            w.varint(entry.documents.count)
            for document in entry.documents { w.string(document.rawValue) }
            w.byte((entry.changesSchema ? 1 : 0) | (entry.changesDocuments ? 2 : 0))
            w.varint(entry.created.count)
            for (id, document) in entry.created {
                w.varint(id.replica.rawValue)
                w.varint(id.counter)
                w.varint(entry.documents.firstIndex(of: document)!)
            }
            w.varint(entry.encoded.count)
            w.raw(entry.encoded)
        }
        w.byte(layers == nil ? 0 : 1)
        for (document, counts) in (layers ?? [:]).sorted(by: { $0.key < $1.key }) {
            w.string(document.rawValue)
            Self.encode(counts, into: &w)
        }
        return w.bytes
    }

    /// Layer counts, sorted by layer; shared with ``AnnotationIndex``.
    static func encode(_ counts: [String: Int], into w: inout BinaryWriter) {
        w.varint(counts.count)
        for (layer, count) in counts.sorted(by: { $0.key < $1.key }) {
            w.string(layer)
            w.varint(count)
        }
    }

    static func decodeCounts(_ r: inout BinaryReader) throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for _ in 0..<(try r.count("layers")) { counts[try r.string()] = try r.int(max: .max, "count") }
        return counts
    }

    static func decode(_ bytes: [UInt8]) throws -> RebaseCache {
        var r = BinaryReader(bytes, what: "rebase cache")
        guard Array(try r.raw(magic.count)) == magic, try r.byte() == version else {
            throw r.malformed("not a rebase cache of this version")
        }
        let stamp = try r.stamp()
        var files: [PendingFile] = []
        for _ in 0..<(try r.count("files")) {
            files.append(PendingFile(name: try r.string(), size: try r.int(max: .max, "size"), modified: try r.zigzag()))
        }
        var directory: PendingListing.Stamp?
        if try r.byte() == 1 {
            directory = PendingListing.Stamp(inode: try r.varint(), modified: try r.zigzag(), taken: try r.zigzag())
        }
        var entries: [Entry] = []
        for _ in 0..<(try r.count("changesets")) {
            var documents: [DocumentID] = []
            for _ in 0..<(try r.count("documents")) { documents.append(DocumentID(storedRawValue: try r.string())) }
            let flags = try r.byte()
            var created: [(id: AnnotationID, document: DocumentID)] = []
            for _ in 0..<(try r.count("created", minBytes: 3)) {
                let id = AnnotationID(replica: ReplicaID(try r.varint()), counter: try r.varint())
                let index = try r.int(max: documents.count - 1, "document")
                created.append((id, documents[index]))
            }
            let length = try r.int(max: r.remaining, "changeset length")
            entries.append(
                Entry(
                    documents: documents, changesSchema: flags & 1 != 0, changesDocuments: flags & 2 != 0,
                    created: created, encoded: Array(try r.raw(length))))
        }
        var layers: [DocumentID: [String: Int]]?
        if try r.byte() == 1 {
            var counted: [DocumentID: [String: Int]] = [:]
            while !r.isAtEnd { counted[DocumentID(storedRawValue: try r.string())] = try decodeCounts(&r) }
            layers = counted
        }
        return RebaseCache(key: Key(replica: stamp, files: files), directory: directory, entries: entries, layers: layers)
    }
}
