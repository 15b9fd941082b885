import Crypto
import Foundation

/// What a changeset says, as one SHA-256: its author, replica, base, message, time, ops (their
/// encoded runs, byte for byte) and texts. The server keeps it with the revision, so that a
/// push of a changeset id it already has is told apart: the same content is an honest retry
/// (`duplicate`); other content under the same id is refused (``ValidationError/Code/changesetIDReused``).
public struct ChangesetContentDigest: Hashable, Sendable, CustomStringConvertible {
    public let bytes: [UInt8]

    /// - Returns: nil unless `bytes` is 32 bytes long.
    public init?(bytes: [UInt8]) {
        guard bytes.count == 32 else { return nil }
        self.bytes = bytes
    }

    init(
        author: String, replica: ReplicaID, base: Int, message: String, timestamp: Int64, runs: some Sequence<Data>,
        texts: [TextDigest: String]
    ) {
        var hash = SHA256()
        func field(_ data: some DataProtocol) {
            withUnsafeBytes(of: UInt64(data.count).bigEndian) { hash.update(bufferPointer: $0) }
            hash.update(data: data)
        }
        field(Array("gloss changeset content 1".utf8))
        field(Array(author.utf8))
        withUnsafeBytes(of: replica.rawValue.bigEndian) { hash.update(bufferPointer: $0) }
        withUnsafeBytes(of: Int64(base).bigEndian) { hash.update(bufferPointer: $0) }
        field(Array(message.utf8))
        withUnsafeBytes(of: timestamp.bigEndian) { hash.update(bufferPointer: $0) }
        for run in runs { field(run) }
        // A text is named by its digest, and the check makes it match: the digests stand for them.
        for digest in texts.keys.map(\.bytes).sorted(by: { $0.lexicographicallyPrecedes($1) }) { field(digest) }
        bytes = Array(hash.finalize())
    }

    public var description: String { bytes.prefix(8).map { String(format: "%02x", $0) }.joined() }
}

extension EncodedChangeset {
    /// Its content's digest, from the runs as they arrived.
    public var contentDigest: ChangesetContentDigest {
        ChangesetContentDigest(
            author: author, replica: replica, base: base, message: message, timestamp: timestamp,
            runs: runs.lazy.map(\.bytes), texts: texts)
    }
}

extension Changeset {
    /// Its content's digest, from its ops encoded as the wire carries them.
    public var contentDigest: ChangesetContentDigest {
        ChangesetContentDigest(
            author: author, replica: replica, base: base, message: message, timestamp: timestamp,
            runs: encodedRuns.lazy.map { Data($0) }, texts: texts)
    }
}
