import Foundation
import GlossModel

/// A changeset on the wire: metadata plus its ops as runs of consecutive ops on one document,
/// each in the storage encoding (`Protocol/storage-encoding.md`), so op order is kept exactly.
extension Gloss_V1_Changeset {
    public init(_ changeset: Changeset) {
        self.init()
        id = changeset.id.bytes.withUnsafeBufferPointer { Data(buffer: $0) }
        author = changeset.author
        replica = changeset.replica.rawValue
        base = UInt64(changeset.base)
        message = changeset.message
        timestamp = changeset.timestamp
        ops = changeset.encodedRuns.map { run in Gloss_V1_EncodedOps.with { $0.encoded = Data(run) } }
        texts = changeset.texts.map { digest, text in
            Gloss_V1_DocumentText.with {
                $0.digest = Data(digest.bytes)
                $0.text = text
            }
        }.sorted { $0.digest.lexicographicallyPrecedes($1.digest) }
    }

    /// The model changeset; anything that does not decode is `bad-message`.
    public func changeset() throws(WireError) -> Changeset {
        let (id, texts, base) = try metadata()
        var decoded: [Op] = []
        for (index, run) in ops.enumerated() {
            do {
                decoded += try DeltaCodec.decode(Array(run.encoded), what: "ops run \(index) of changeset \(id)").ops
            } catch {
                throw WireError(.badMessage, error.message)
            }
        }
        return Changeset(
            id: id, author: author, replica: ReplicaID(replica), base: base, message: message,
            timestamp: timestamp, ops: decoded, texts: texts)
    }

    /// The changeset with its ops left encoded, as a server keeps a push: the runs' bytes are
    /// shared with this message, not copied, and decoded a document at a time later. Each run's
    /// header is read now; a run whose header does not decode, a bad id, digest or base are
    /// `bad-message`. A run whose ops do not decode is found when they are decoded
    /// (``EncodedChangeset/decode(_:)``), and is `bad-message` too.
    public func encodedChangeset() throws(WireError) -> EncodedChangeset {
        let (id, texts, base) = try metadata()
        do {
            return try EncodedChangeset(
                id: id, author: author, replica: ReplicaID(replica), base: base, message: message,
                timestamp: timestamp, runs: ops.map(\.encoded), texts: texts)
        } catch {
            throw WireError(.badMessage, error.message)
        }
    }

    private func metadata() throws(WireError) -> (id: ChangesetID, texts: [TextDigest: String], base: Int) {
        guard let id = ChangesetID(bytes: Array(id)) else {
            throw WireError(.badMessage, "a changeset id must be 16 bytes, not \(self.id.count)")
        }
        var texts: [TextDigest: String] = [:]
        for text in self.texts {
            guard let digest = TextDigest(bytes: Array(text.digest)) else {
                throw WireError(.badMessage, "a text digest must be 32 bytes")
            }
            texts[digest] = text.text
        }
        guard base <= UInt64(Int.max) else { throw WireError(.badMessage, "base revision \(base) is out of range") }
        return (id, texts, Int(base))
    }
}
