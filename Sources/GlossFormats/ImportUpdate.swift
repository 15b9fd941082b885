import GlossModel

/// A re-import as an update: the ops that turn a document's current annotations into what the
/// imported file holds, keeping ids, rather than a second copy of everything.
///
/// Each imported annotation is matched with one the document holds, in this order:
/// 1. the id the file carries for it (``ImportedDocument/claimedIDs``), or for brat the id its
///    brat id had at the last import (the round-trip record, ``BratCollection/MetadataKey/ids``),
///    when that annotation exists in the same layer, of the same kind (and, for a note, on the
///    same target);
/// 2. otherwise an exact match of kind, layer, label and where it points: ranges for a span, its
///    (matched) arguments for a relation, target and text for a note.
///
/// A matched annotation keeps its id and gets `set` ops for the fields that differ; an unmatched
/// one is created. An annotation the document holds and the file does not is deleted only when
/// the format could have held it (``ImportCoverage``), it is in a layer the import covers (the
/// import's own layer and every layer the file names), the user may write that layer (their
/// own, or any with the curator role), and nothing that stays points at it. Everything else is
/// kept and counted as such.
public struct ImportUpdate: Sendable {
    /// What to record, in an order the acceptance check takes (see `DocumentState.ops(toReach:)`).
    public var ops: [Op]
    /// What the ops do, counted per annotation.
    public var tally: ImportTally
    /// Layers holding annotations the file no longer has that were kept because deleting them
    /// needs the curator role.
    public var protectedLayers: Set<String>

    /// Who imports and what they may delete.
    public struct Context: Sendable {
        /// The importing user.
        public var user: String
        /// The layer annotations go into when the format names none (`--layer`, else the user's).
        public var defaultLayer: String
        /// What the format can hold.
        public var coverage: ImportCoverage
        /// Whether the user may write other users' layers (curators and owners).
        public var mayWriteOtherLayers: Bool
        /// Whether annotations missing from the file are deleted at all (false when the file had
        /// problems that kept some of its lines out: a skipped line is not a deletion).
        public var deletesMissing: Bool

        /// A context.
        public init(
            user: String, defaultLayer: String, coverage: ImportCoverage, mayWriteOtherLayers: Bool,
            deletesMissing: Bool = true
        ) {
            self.user = user
            self.defaultLayer = defaultLayer
            self.coverage = coverage
            self.mayWriteOtherLayers = mayWriteOtherLayers
            self.deletesMissing = deletesMissing
        }
    }

    /// Plans the update of `current` (the document as it stands, pending work included) to the
    /// annotations of `imported` (the same document, with the same text).
    public static func plan(_ imported: ImportedDocument, onto current: DocumentState, context: Context) -> ImportUpdate {
        var claims = imported.claimedIDs
        if let document = current.document {
            claims.merge(BratCollection.recordedIDs(imported: imported.metadata, existing: document.metadata)) { a, _ in a }
        }
        var unmatched: [MatchKey: [AnnotationID]] = [:]
        for a in current.annotations.values.sorted(by: { $0.id < $1.id }) { unmatched[MatchKey(a), default: []].append(a.id) }
        var taken = Set<AnnotationID>()
        var finalID: [AnnotationID: AnnotationID] = [:]
        var target = current
        var tally = ImportTally()

        for var incoming in Annotation.referencesFirst(imported.annotations) {
            let mintedID = incoming.id
            incoming.from = incoming.from.map { finalID[$0] ?? $0 }
            incoming.to = incoming.to.map { finalID[$0] ?? $0 }
            incoming.target = incoming.target.map { finalID[$0] ?? $0 }
            let match = claimed(claims[mintedID], for: incoming, in: current, taken: taken)
                ?? exact(MatchKey(incoming), in: &unmatched, taken: taken)
            guard let match, let existing = current.annotations[match] else {
                finalID[mintedID] = mintedID
                target.annotations[mintedID] = incoming
                tally.created += 1
                continue
            }
            taken.insert(match)
            finalID[mintedID] = match
            let updated = existing.updated(to: incoming, attributesCovered: context.coverage.attributesOf.contains(existing.kind))
            if updated == existing {
                tally.unchanged += 1
            } else {
                tally.changed += 1
                target.annotations[match] = updated
            }
        }

        let coveredLayers = Set(imported.annotations.map(\.layer)).union([context.defaultLayer])
        var missing = current.annotations.values.filter {
            !taken.contains($0.id) && context.coverage.kinds.contains($0.kind) && coveredLayers.contains($0.layer)
        }
        var protectedLayers = Set<String>()
        if context.deletesMissing {
            missing.removeAll { a in
                let allowed = a.layer == context.user || context.mayWriteOtherLayers
                if !allowed { protectedLayers.insert(a.layer) }
                return !allowed
            }
        } else {
            missing = []
        }
        // What stays must not point at what goes: keep, to a fixed point, whatever something kept points at.
        var doomed = Set(missing.map(\.id))
        var changed = true
        while changed {
            changed = false
            for a in target.annotations.values where !doomed.contains(a.id) && a.hasReferences {
                for r in a.references where doomed.remove(r) != nil { changed = true }
            }
        }
        for id in doomed { target.annotations[id] = nil }
        tally.deleted = doomed.count
        tally.kept = current.annotations.values.filter {
            !taken.contains($0.id) && !doomed.contains($0.id) && context.coverage.kinds.contains($0.kind)
                && coveredLayers.contains($0.layer)
        }.count
        return ImportUpdate(ops: current.ops(toReach: target), tally: tally, protectedLayers: protectedLayers)
    }

    /// The claimed id, when it names an untaken annotation that can be this one.
    private static func claimed(
        _ id: AnnotationID?, for incoming: Annotation, in current: DocumentState, taken: Set<AnnotationID>
    ) -> AnnotationID? {
        guard let id, !taken.contains(id), let existing = current.annotations[id] else { return nil }
        // Kind, layer and a note's target cannot be changed by a `set`: a file that changes them
        // describes another annotation.
        guard existing.kind == incoming.kind, existing.layer == incoming.layer, existing.target == incoming.target
        else { return nil }
        return id
    }

    /// The first untaken annotation with the same key, removed from the index.
    private static func exact(_ key: MatchKey, in index: inout [MatchKey: [AnnotationID]], taken: Set<AnnotationID>)
        -> AnnotationID?
    {
        guard var ids = index[key] else { return nil }
        ids.removeAll { taken.contains($0) }
        guard !ids.isEmpty else {
            index[key] = nil
            return nil
        }
        let first = ids.removeFirst()
        index[key] = ids
        return first
    }

    /// What an exact match compares: everything but id, owner and attributes.
    private struct MatchKey: Hashable {
        var kind: AnnotationKind
        var layer: String
        var label: String
        var ranges: [TextRange]
        var from: AnnotationID?
        var to: AnnotationID?
        var target: AnnotationID?
        var text: String

        init(_ a: Annotation) {
            kind = a.kind
            layer = a.layer
            label = a.label
            ranges = a.ranges
            from = a.from
            to = a.to
            target = a.target
            text = a.text
        }
    }
}

/// How an import changed a corpus, counted in annotations.
public struct ImportTally: Hashable, Sendable {
    /// Annotations new to the document.
    public var created = 0
    /// Annotations matched that had a field changed.
    public var changed = 0
    /// Annotations the file no longer holds, deleted.
    public var deleted = 0
    /// Annotations matched and left as they were.
    public var unchanged = 0
    /// Annotations the file no longer holds but that were kept: in a layer the user may not
    /// write, pointed at by something that stays, or in a file with problems.
    public var kept = 0

    /// A tally.
    public init(created: Int = 0, changed: Int = 0, deleted: Int = 0, unchanged: Int = 0, kept: Int = 0) {
        self.created = created
        self.changed = changed
        self.deleted = deleted
        self.unchanged = unchanged
        self.kept = kept
    }

    /// Both tallies added.
    public static func + (a: ImportTally, b: ImportTally) -> ImportTally {
        ImportTally(
            created: a.created + b.created, changed: a.changed + b.changed, deleted: a.deleted + b.deleted,
            unchanged: a.unchanged + b.unchanged, kept: a.kept + b.kept)
    }

    /// Whether the import changes nothing.
    public var isEmpty: Bool { created == 0 && changed == 0 && deleted == 0 }
}

extension Annotation {
    /// This annotation with the fields a file gives it: label, ranges, arguments and note text
    /// as `incoming` has them; attributes replaced when the format holds this kind's
    /// attributes, otherwise only added to. Id, kind, layer, owner and target stay.
    func updated(to incoming: Annotation, attributesCovered: Bool) -> Annotation {
        var result = self
        for field in [Field.label, .ranges, .from, .to, .text] where field.applies(to: kind) {
            try? result.set(field, to: incoming.value(of: field))
        }
        if attributesCovered {
            result.attributes = incoming.attributes
        } else {
            result.attributes.merge(incoming.attributes) { _, new in new }
        }
        return result
    }
}
