import Foundation
import GlossModel
import GlossStore

/// A document of the local view in a line: what `gloss docs` lists.
public struct DocumentSummary: Sendable {
    public var document: Document
    /// Live annotations in the local view.
    public var annotations: Int
    /// The layers they are in, sorted.
    public var layers: [String]
}

/// The local view: the replica's head plus the pending work that applies cleanly. What one
/// command asks of it costs what it touches: a document's state reads that document, an id
/// prefix is found through the ``AnnotationIndex``, and counts come from the index plus the
/// annotations pending ops touch.
extension Workspace {
    /// A document as the annotator sees it: the replica's head plus the pending work that
    /// applies cleanly.
    public func localState(of document: DocumentID) throws -> DocumentState {
        try localState(of: document, pending: try rebasedWork().changesets(touching: [document]))
    }

    /// Every document of the local view with its state, rebasing the pending work once.
    public func localView() throws -> [(document: Document, state: DocumentState)] {
        let pending = try rebased().changesets
        return try localDocuments(pending: pending).map { ($0, try localState(of: $0.id, pending: pending)) }
    }

    /// The documents of the local view among `wanted`, with their states: the same as
    /// filtering ``localView()``, reading only those documents.
    public func localView(of wanted: Set<DocumentID>) throws -> [(document: Document, state: DocumentState)] {
        let work = try rebasedWork()
        let pending = try work.changesets(touching: wanted)
        return try localDocuments(pending: try work.changesetsChangingDocuments()).filter { wanted.contains($0.id) }.map {
            ($0, try localState(of: $0.id, pending: pending))
        }
    }

    /// Documents in the local view.
    public func localDocuments() throws -> [Document] {
        try localDocuments(pending: try rebasedWork().changesetsChangingDocuments())
    }

    /// A document of the local view given the pending work already rebased (commands that
    /// look at several documents rebase once, not once per document): all of it, or at least
    /// every changeset with ops on the document.
    func localState(of document: DocumentID, pending: [Changeset]) throws -> DocumentState {
        var state = DocumentState()
        if let entry = try replica.document(document), entry.isLive {
            state.document = entry.document
            for a in try replica.headAnnotations(of: document) { state.annotations[a.id] = a }
        }
        for changeset in pending {
            for op in changeset.ops where op.document == document { try state.apply(op) }
        }
        return state
    }

    /// The documents of the local view given the pending work: all of it, or at least every
    /// changeset that adds, removes or revises documents.
    private func localDocuments(pending: [Changeset]) throws -> [Document] {
        var live = Dictionary(uniqueKeysWithValues: try replica.documents().filter(\.isLive).map { ($0.document.id, $0.document) })
        for changeset in pending {
            for op in changeset.ops {
                if case .addDocument(let d) = op { live[d.id] = d }
                if case .removeDocument(let id) = op { live[id] = nil }
                if case .reviseText(let id, let change) = op, var d = live[id] {
                    (d.digest, d.length) = (change.to, change.toLength)
                    live[id] = d
                }
            }
        }
        return live.values.sorted { $0.id < $1.id }
    }

    /// A document's text, from the replica or a pending changeset.
    public func text(of document: Document) throws -> String {
        if let text = try? replica.text(document.digest) { return text }
        for changeset in try pending() { if let text = changeset.texts[document.digest] { return text } }
        throw WorkspaceError(.corrupt, "the text of \(document.id) is missing")
    }

    /// Finds an annotation by a unique prefix of its id, across the local view.
    ///
    /// Only documents that can hold a match are read: those the index names for the prefix,
    /// and those where pending work creates one. Every match of the local view is in one of
    /// them, so a prefix that matches several is refused with the same count as over the
    /// whole view.
    public func annotation(prefix: String) throws -> Annotation {
        let work = try rebasedWork()
        let wanted = prefix.lowercased()
        let candidates = try annotationIndex().documents(matching: wanted)
            .union(work.documentsCreating { $0.description.hasPrefix(wanted) })
        let pending = try work.changesets(touching: candidates)
        let annotations = try candidates.sorted().flatMap { try localState(of: $0, pending: pending).annotations.values }
        return try Self.unique(
            prefix, in: annotations, id: \.id.description, missing: .unknownAnnotation, what: "annotation",
            listedBy: "gloss annotations")
    }

    /// Every document of the local view with its annotation count and layers, as counting the
    /// states of ``localView()`` gives them: the replica's counts from the index, and for the
    /// documents pending ops touch, counts kept with the rebase (made once from the index's
    /// counts and the annotations those ops touch, then kept up to date by each commit).
    public func documentSummaries() throws -> [DocumentSummary] {
        let work = try rebasedWork()
        let index = try annotationIndex()
        var layers: [DocumentID: [String: Int]]
        if let counted = work.cache?.layers {
            layers = counted
        } else {
            let pending = try work.result().changesets
            var opsByDocument: [DocumentID: [Op]] = [:]
            for changeset in pending {
                for op in changeset.ops {
                    if let document = op.document { opsByDocument[document, default: []].append(op) }
                }
            }
            layers = [:]
            for (document, ops) in opsByDocument {
                layers[document] = try localLayers(of: document, replica: index.layers(of: document), ops: ops, pending: pending)
            }
            if var cache = work.cache {
                cache.layers = layers
                keep(cache)
            }
        }
        return try localDocuments(pending: try work.changesetsChangingDocuments()).map { document in
            let counts = layers[document.id] ?? index.layers(of: document.id)
            return DocumentSummary(
                document: document, annotations: counts.values.reduce(0, +), layers: counts.keys.sorted())
        }
    }

    /// Live annotations per layer.
    static func layerCounts(_ state: DocumentState) -> [String: Int] {
        var counts: [String: Int] = [:]
        for a in state.annotations.values { counts[a.layer, default: 0] += 1 }
        return counts
    }

    /// A document's live annotations per layer in the local view, given its counts in the
    /// replica's head and the pending ops on it.
    private func localLayers(
        of document: DocumentID, replica counts: [String: Int], ops: [Op], pending: [Changeset]
    ) throws -> [String: Int] {
        let wholeDocument = ops.contains {
            switch $0 {
            case .addDocument, .removeDocument: true
            default: false
            }
        }
        guard let entry = try replica.document(document), entry.isLive, !wholeDocument else {
            // Added, removed or added again here: rare, so counted from its whole state.
            return Self.layerCounts(try localState(of: document, pending: pending))
        }
        // Ops change only the annotations they name: the rest of the head counts as it is.
        var before = DocumentState(document: entry.document)
        for (id, head) in try replica.headEntries(Set(ops.compactMap { $0.annotation }), of: document) where head.isLive {
            before.annotations[id] = head.annotation
        }
        var after = before
        for op in ops { try after.apply(op) }
        var layers = counts
        for (layer, n) in Self.layerCounts(before) { layers[layer, default: 0] -= n }
        for (layer, n) in Self.layerCounts(after) { layers[layer, default: 0] += n }
        return layers.filter { $0.value > 0 }
    }

    /// The index of the replica's head, brought up to it: from the stored one plus the
    /// documents changed since, or built whole (once after a clone, or when it was lost).
    func annotationIndex() throws -> AnnotationIndex {
        let stamp = try replicaStamp()
        let stored = AnnotationIndex.load(from: indexFile)
        if let stored, stored.stamp == stamp { return stored }
        var index: AnnotationIndex
        if var stored, stored.stamp.revision < stamp.revision, try replicaStamp(at: stored.stamp.revision) == stored.stamp {
            let changed = Set(
                try replica.storedDeltas(after: stored.stamp.revision, through: stamp.revision).compactMap(\.document))
            try stored.update(changed.sorted(), from: replica)
            index = stored
        } else {
            index = AnnotationIndex(stamp: stamp)
            try index.update(try replica.documents().map(\.document.id), from: replica)
        }
        index.stamp = stamp
        // Derived: a workspace whose index cannot be written still works, only slower.
        try? index.save(to: indexFile)
        return index
    }
}
