import Foundation
import GlossModel
import GlossStore

/// Where each live annotation of the replica's head is, by the start of its id, and how many
/// each document has in each layer: what `gloss span set 33ee` needs to find an annotation, and
/// `gloss docs` to count them, without decoding every document's head.
///
/// Kept in `.gloss/index`, stamped with the replica's head. Derived data: brought up to a newer
/// head by reading again only the documents that the revisions since touched, and built whole
/// when missing or unreadable. Each annotation costs 8 bytes: the first ``keyCharacters`` of its
/// id's text (which ids are shown and named by) and its document's number. A key names
/// candidates only; callers check the annotations themselves.
///
/// The file is mapped, not read: a look-up touches the few pages its binary search visits, and
/// counting reads only the table of documents at the end.
struct AnnotationIndex {
    var stamp: ReplicaStamp
    /// Documents by number; a removed one keeps its number, with no annotations.
    private(set) var documents: [DocumentID] = []
    private var numbers: [DocumentID: Int] = [:]
    /// Live annotations per layer, by document number.
    private(set) var layers: [[String: Int]] = []
    /// `key << 31 | document number`, sorted.
    private var entries = Entries.memory([])

    /// The sorted entries: in memory once changed, or still in the mapped file.
    private enum Entries {
        case memory([UInt64])
        /// The file, and where its entries start.
        case mapped(Data, offset: Int, count: Int)

        var count: Int {
            switch self {
            case .memory(let all): all.count
            case .mapped(_, _, let count): count
            }
        }

        func withEntries<T>(_ body: (UnsafeBufferPointer<UInt64>) throws -> T) rethrows -> T {
            switch self {
            case .memory(let all):
                return try all.withUnsafeBufferPointer(body)
            case .mapped(let data, let offset, let count):
                // The entries start 8-byte aligned in the file, and a mapping starts on a page.
                return try data.withUnsafeBytes { raw in
                    try body(UnsafeBufferPointer(start: (raw.baseAddress! + offset).assumingMemoryBound(to: UInt64.self), count: count))
                }
            }
        }

        var all: [UInt64] {
            switch self {
            case .memory(let all): all
            case .mapped: withEntries { Array($0) }
            }
        }
    }

    /// Characters of an id's text in a key: 33 bits (the first character carries 3).
    static let keyCharacters = 7
    private static let documentBits: UInt64 = 31
    private static let documentMask: UInt64 = (1 << documentBits) - 1
    /// The alphabet of ``AnnotationID/description`` (Crockford's base 32, lowercase).
    private static let digits: [UInt8: UInt64] = Dictionary(
        uniqueKeysWithValues: Array("0123456789abcdefghjkmnpqrstvwxyz".utf8).enumerated().map { ($1, UInt64($0)) })

    init(stamp: ReplicaStamp) { self.stamp = stamp }

    /// Annotations a document has in the replica's head, by layer (empty when it has none).
    func layers(of document: DocumentID) -> [String: Int] {
        numbers[document].map { layers[$0] } ?? [:]
    }

    /// Documents that may hold an annotation whose id starts with `prefix` (already lowercased):
    /// every one that does, and rarely one more (ids that share the key but not the rest).
    func documents(matching prefix: String) -> Set<DocumentID> {
        guard let range = Self.keyRange(prefix) else { return [] }
        return entries.withEntries { entries in
            var (lo, hi) = (0, entries.count)
            let lower = range.lowerBound << Self.documentBits
            while lo < hi {
                let mid = (lo + hi) / 2
                if UInt64(littleEndian: entries[mid]) < lower { lo = mid + 1 } else { hi = mid }
            }
            var found = Set<DocumentID>()
            while lo < entries.count {
                let entry = UInt64(littleEndian: entries[lo])
                guard entry >> Self.documentBits < range.upperBound else { break }
                // Checked as read: a damaged file must not trap (it is rebuilt when it does not decode).
                let n = Int(entry & Self.documentMask)
                if n < documents.count { found.insert(documents[n]) }
                lo += 1
            }
            return found
        }
    }

    /// Reads `documents` again from the replica's head (all of them when building anew).
    mutating func update(_ changed: some Collection<DocumentID>, from replica: CorpusStore) throws {
        var renumbered = Set<Int>()
        for document in changed { renumbered.insert(number(document)) }
        var all = entries.all.map { UInt64(littleEndian: $0) }
        all.removeAll { renumbered.contains(Int($0 & Self.documentMask)) }
        for document in changed {
            let n = number(document)
            var counts: [String: Int] = [:]
            if let entry = try replica.document(document), entry.isLive {
                for annotation in try replica.headAnnotations(of: document) {
                    all.append(Self.key(annotation.id) << Self.documentBits | UInt64(n))
                    counts[annotation.layer, default: 0] += 1
                }
            }
            layers[n] = counts
        }
        all.sort()
        entries = .memory(all.map(\.littleEndian))
    }

    private mutating func number(_ document: DocumentID) -> Int {
        if let n = numbers[document] { return n }
        numbers[document] = documents.count
        documents.append(document)
        layers.append([:])
        return documents.count - 1
    }

    /// An id's key: its first ``keyCharacters`` characters as a base-32 number.
    static func key(_ id: AnnotationID) -> UInt64 {
        var key: UInt64 = 0
        for c in id.description.utf8.prefix(keyCharacters) { key = key << 5 | (digits[c] ?? 0) }
        return key
    }

    /// The keys of ids that start with `prefix`; nil when no id can (a character outside the alphabet).
    static func keyRange(_ prefix: String) -> Range<UInt64>? {
        var value: UInt64 = 0
        let head = prefix.utf8.prefix(keyCharacters)
        for c in head {
            guard let digit = digits[c] else { return nil }
            value = value << 5 | digit
        }
        let free = UInt64(5 * (keyCharacters - head.count))
        return (value << free)..<((value + 1) << free)
    }

    // MARK: Encoding
    //
    // "GLIX", a version byte, three zero bytes, the number of entries (8 bytes, little-endian),
    // the entries (8 bytes each, little-endian, sorted), then the stamp and the documents with
    // their layer counts.

    private static let magic: [UInt8] = Array("GLIX".utf8)
    private static let version: UInt8 = 2
    private static let entriesOffset = 16

    /// The index in `url`, or nil when there is none or it does not decode (it is rebuilt).
    static func load(from url: URL) -> AnnotationIndex? {
        guard let data = try? Data(contentsOf: url, options: .alwaysMapped) else { return nil }
        return try? decode(data)
    }

    /// Writes the index atomically.
    func save(to url: URL) throws {
        try DerivedFile.write(encode(), to: url)
    }

    func encode() -> Data {
        var head = BinaryWriter(capacity: Self.entriesOffset)
        head.raw(Self.magic)
        head.raw([Self.version, 0, 0, 0])
        head.fixed64(UInt64(entries.count))
        var tail = BinaryWriter(capacity: 64 + documents.count * 48)
        tail.stamp(stamp)
        tail.varint(documents.count)
        for (document, counts) in zip(documents, layers) {
            tail.string(document.rawValue)
            RebaseCache.encode(counts, into: &tail)
        }
        var data = Data(head.bytes)
        entries.withEntries { data.append(UnsafeBufferPointer(start: $0.baseAddress, count: $0.count)) }
        data.append(contentsOf: tail.bytes)
        return data
    }

    static func decode(_ data: Data) throws -> AnnotationIndex {
        var r = BinaryReader(Array(data.prefix(entriesOffset)), what: "annotation index")
        guard r.remaining == entriesOffset, Array(try r.raw(magic.count)) == magic, try r.byte() == version else {
            throw r.malformed("not an annotation index of this version")
        }
        _ = try r.raw(3)
        let count = try r.fixed64()
        guard count <= UInt64(data.count - entriesOffset) / 8 else { throw r.malformed("\(count) entries do not fit") }
        let tailStart = entriesOffset + Int(count) * 8
        var tail = BinaryReader(Array(data[(data.startIndex + tailStart)...]), what: "annotation index")
        var index = AnnotationIndex(stamp: try tail.stamp())
        for _ in 0..<(try tail.count("documents")) {
            let n = index.number(DocumentID(storedRawValue: try tail.string()))
            index.layers[n] = try RebaseCache.decodeCounts(&tail)
        }
        guard tail.isAtEnd else { throw tail.malformed("trailing bytes") }
        index.entries = .mapped(data, offset: entriesOffset, count: Int(count))
        return index
    }
}
