import GlossModel

/// Which state of the replica something derived from it was made from: the head revision and
/// the changeset that became it (a number alone would not tell two histories apart).
struct ReplicaStamp: Hashable {
    var revision: Int
    /// Nil at revision 0.
    var changeset: ChangesetID?
}

extension BinaryWriter {
    /// A stamp as the derived files store it: the revision, then the changeset's 16 bytes (zeros at 0).
    mutating func stamp(_ stamp: ReplicaStamp) {
        varint(stamp.revision)
        raw(stamp.changeset?.bytes ?? [UInt8](repeating: 0, count: 16))
    }
}

extension BinaryReader {
    mutating func stamp() throws -> ReplicaStamp {
        let revision = try int(max: .max, "revision")
        let id = ChangesetID(bytes: try raw(16))
        return ReplicaStamp(revision: revision, changeset: revision == 0 ? nil : id)
    }
}
