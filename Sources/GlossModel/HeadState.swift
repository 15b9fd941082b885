/// An in-memory head: the materialised state of a corpus with per-field revisions.
///
/// Standing alone it is a complete head (tests, small replicas). Layered over another
/// ``HeadView`` it records only what changed on top of it, which is how a client rebases
/// several pending changesets one after another without copying its replica.
public struct HeadState: HeadView, Sendable {
    private var base: (any HeadView & Sendable)?
    private var entries: [DocumentID: [AnnotationID: HeadEntry]] = [:]
    private var documents: [DocumentID: DocumentEntry] = [:]
    /// Documents removed in this layer: the base's annotations of them no longer show through.
    private var cleared: Set<DocumentID> = []
    /// Candidate referrers by target; filtered against the current entries on read.
    private var referrerIndex: [AnnotationKey: Set<AnnotationID>] = [:]
    private var revisionReplicas: [Int: ReplicaID] = [:]
    /// Text revisions committed into this state, per document, oldest first.
    private var textRevisionLog: [DocumentID: [RecordedTextRevision]] = [:]
    private var schemaValue: Schema?
    private var schemaRev: Int?
    /// The last revision committed into this state.
    public private(set) var revision: Int

    /// An empty corpus at revision 0.
    public init() { revision = 0 }

    /// A layer over `base`, which stands at `revision`.
    public init(over base: any HeadView & Sendable, revision: Int) {
        self.base = base
        self.revision = revision
    }

    public var schema: Schema { schemaValue ?? base?.schema ?? .open }
    public var schemaRevision: Int { schemaRev ?? base?.schemaRevision ?? 0 }

    public func document(_ id: DocumentID) -> DocumentEntry? { documents[id] ?? base?.document(id) }

    public func entry(_ key: AnnotationKey) -> HeadEntry? {
        if let e = entries[key.document]?[key.id] { return e }
        if cleared.contains(key.document) { return nil }
        return base?.entry(key)
    }

    public func referrers(of key: AnnotationKey) -> [AnnotationID] {
        var candidates = referrerIndex[key] ?? []
        if !cleared.contains(key.document), let base { candidates.formUnion(base.referrers(of: key)) }
        return candidates.filter { id in
            guard let e = entry(AnnotationKey(key.document, id)), e.isLive else { return false }
            return e.annotation.references.contains(key.id)
        }.sorted()
    }

    public func replica(ofRevision revision: Int) -> ReplicaID? {
        revisionReplicas[revision] ?? base?.replica(ofRevision: revision)
    }

    public func entries(of document: DocumentID) -> [HeadEntry]? {
        let mine = entries[document] ?? [:]
        guard let base, !cleared.contains(document) else { return Array(mine.values) }
        guard let below = base.entries(of: document) else { return nil }
        var merged = mine
        for e in below where merged[e.annotation.id] == nil { merged[e.annotation.id] = e }
        return Array(merged.values)
    }

    public func textRevisions(of document: DocumentID, after base: Int) -> [RecordedTextRevision]? {
        let mine = (textRevisionLog[document] ?? []).filter { $0.revision > base }
        guard let below = self.base, !cleared.contains(document) else { return mine }
        // The base need not keep revisions it never had after `base`.
        if let revised = below.document(document)?.textRevisedAt, revised > base {
            guard let older = below.textRevisions(of: document, after: base) else { return nil }
            return older + mine
        }
        return mine
    }

    /// Records an accepted changeset's effects as `revision`, made by `replica`.
    public mutating func commit(_ outcome: CheckOutcome, revision: Int, replica: ReplicaID) {
        for (id, doc) in outcome.documents {
            documents[id] = doc
            if doc.removedAt == revision || doc.addedAt == revision {
                // A removal, or an add that may follow an earlier removal: start the document afresh.
                entries[id] = nil
                textRevisionLog[id] = nil
                cleared.insert(id)
            }
        }
        for (id, changes) in outcome.textRevisions {
            textRevisionLog[id, default: []] += changes.map { RecordedTextRevision(revision: revision, change: $0) }
        }
        for (key, e) in outcome.entries {
            entries[key.document, default: [:]][key.id] = e
            guard e.annotation.hasReferences else { continue }
            for target in e.annotation.references {
                referrerIndex[AnnotationKey(key.document, target), default: []].insert(key.id)
            }
        }
        if let s = outcome.schema {
            schemaValue = s
            schemaRev = revision
        }
        revisionReplicas[revision] = replica
        self.revision = max(self.revision, revision)
    }

    /// Checks a changeset against this state and commits it when it has no conflicts.
    /// Returns the outcome either way.
    @discardableResult
    public mutating func apply(_ changeset: Changeset, as revision: Int) throws(ValidationError) -> CheckOutcome {
        let outcome = try AcceptanceCheck.check(changeset, against: self, as: revision)
        if outcome.conflicts.isEmpty { commit(outcome, revision: revision, replica: changeset.replica) }
        return outcome
    }

    /// Live documents, sorted by id (standalone states only: a layer lists just its own).
    public var liveDocuments: [DocumentEntry] {
        documents.values.filter(\.isLive).sorted { $0.document.id < $1.document.id }
    }

    /// Every entry of a document, live and tombstones (standalone states only).
    public func entries(in document: DocumentID) -> [AnnotationID: HeadEntry] { entries[document] ?? [:] }

    /// Live annotations of a document, sorted by id (standalone states only).
    public func liveAnnotations(in document: DocumentID) -> [Annotation] {
        (entries[document] ?? [:]).values.filter(\.isLive).map(\.annotation).sorted { $0.id < $1.id }
    }
}
