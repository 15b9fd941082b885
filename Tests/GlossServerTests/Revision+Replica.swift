import GlossModel

extension Revision {
    /// The revision as a replica keeps it: the server's content digest is not on the wire.
    var asReplicaKeepsIt: Revision {
        var metadata = self
        metadata.contentDigest = nil
        return metadata
    }
}
