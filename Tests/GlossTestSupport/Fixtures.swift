import GlossModel

/// Small builders for tests: replicas with counters, documents, spans and changesets.
public struct Minter: Sendable {
    public let user: String
    public let replica: ReplicaID
    public private(set) var counter: UInt64 = 0

    public init(_ user: String, replica: UInt64) {
        self.user = user
        self.replica = ReplicaID(replica)
    }

    public mutating func nextID() -> AnnotationID {
        counter += 1
        return AnnotationID(replica: replica, counter: counter)
    }

    public mutating func span(_ doc: DocumentID, _ start: Int, _ end: Int, _ label: String, attributes: [String: String] = [:])
        -> Annotation
    {
        Annotation.span(nextID(), in: doc, [TextRange(start, end)], label: label, owner: user, attributes: attributes)
    }

    public mutating func relation(_ doc: DocumentID, _ from: AnnotationID, _ to: AnnotationID, _ label: String) -> Annotation {
        Annotation.relation(nextID(), in: doc, from: from, to: to, label: label, owner: user)
    }

    public func changeset(base: Int, _ ops: [Op], texts: [TextDigest: String] = [:]) -> Changeset {
        Changeset(author: user, replica: replica, base: base, ops: ops, texts: texts)
    }

    /// A changeset adding documents with their texts.
    public func documents(base: Int, _ docs: [(DocumentID, String)]) -> Changeset {
        var cs = Changeset(author: user, replica: replica, base: base, ops: [])
        for (id, text) in docs { cs.addDocument(id, text: text) }
        return cs
    }
}

public enum SampleTexts {
    public static let news = "Barack Obama visited Zürich — then Tokyo 東京 on 2023-01-18.\r\nHe met 👍🏽 friends."
    public static let short = "Alice founded Acme in Paris."
}
