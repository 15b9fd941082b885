/// The merge check that both the server and the client run.
///
/// Given a changeset made against base revision `b` and a head at `h ≥ b`, it walks the ops
/// once, looking up each touched annotation's per-field revisions in the head (so the cost is
/// O(ops), not O(history)):
/// - an op on a field nobody else changed since `b` is accepted as it is (rebase is the
///   identity, because offsets address immutable texts);
/// - the same field set to the same value on both sides has converged and is dropped;
/// - otherwise the op is held back in a typed ``Conflict``.
///
/// Changes made since `b` by the changeset's own replica are in its causal past and never
/// conflict with it: that is what lets a client push several pending changesets in a row.
/// Rule violations (bad label, range, reference …) throw a ``ValidationError`` naming the op.
/// A base that is not below `revision` (past the head) is refused before any op:
/// ``ValidationError/Code/basePastHead``.
public enum AcceptanceCheck {
    /// Checks `changeset` against `head`, as the revision it would become.
    public static func check(_ changeset: Changeset, against head: some HeadView, as revision: Int)
        throws(ValidationError) -> CheckOutcome
    {
        if let error = basePastHead(changeset.base, revision: revision) { throw error }
        try FieldLimits.v1.checkChangeset(message: changeset.message, opCount: changeset.ops.count, texts: changeset.texts.values)
        var run = CheckRun(
            base: changeset.base, replica: changeset.replica, texts: changeset.texts, head: head, revision: revision,
            capacity: changeset.ops.count)
        for (index, op) in changeset.ops.enumerated() { try run.process(op, at: index) }
        try run.settleDeletes()
        return run.outcome
    }

    /// Checks one part of a large changeset on its own: its corpus-level ops, or its ops on one
    /// document (see ``EncodedChangeset/parts``). Ops on different documents never interact,
    /// so checking the corpus part first and then each document, and putting the parts
    /// together with ``PartwiseCheck``, decides exactly what ``check(_:against:as:)`` decides
    /// for the whole changeset while holding one document's ops at a time.
    ///
    /// - Parameters:
    ///   - schema: the schema the corpus part left (nil when it set none): documents' ops are
    ///     validated against it.
    ///   - limit: only ops whose changeset-wide index is below it are checked, and deletes are
    ///     not settled: what a part still needs once an earlier op elsewhere broke a rule
    ///     (``PartwiseCheck/checkLimit``).
    public static func check(
        _ part: EncodedChangeset.DecodedPart, of changeset: EncodedChangeset, against head: some HeadView,
        as revision: Int, schema: Schema? = nil, limit: Int? = nil
    ) -> PartCheck {
        if let error = basePastHead(changeset.base, revision: revision) {
            // Ahead of every op, so that it is the violation the whole changeset reports and no
            // other part needs checking (``PartwiseCheck/checkLimit``).
            return PartCheck(
                outcome: CheckOutcome(), conflictOrder: [], violation: error,
                violationOrder: CheckPosition(phase: 0, index: -1))
        }
        var run = CheckRun(
            base: changeset.base, replica: changeset.replica, texts: changeset.texts, head: head, revision: revision,
            capacity: part.ops.count)
        run.schemaBefore = schema
        do throws(ValidationError) {
            for (op, index) in zip(part.ops, part.indices) {
                if let limit, index >= limit { break }
                try run.process(op, at: index)
            }
            if limit == nil { try run.settleDeletes() }
        } catch {
            return PartCheck(outcome: run.outcome, conflictOrder: run.conflictOrder, violation: error, violationOrder: run.position)
        }
        return PartCheck(outcome: run.outcome, conflictOrder: run.conflictOrder)
    }
}

extension AcceptanceCheck {
    /// The refusal of a base that is not below the revision the changeset would become, that
    /// is, past the head (revision − 1): with no revision after such a base nothing would count
    /// as theirs, so the changeset would never conflict, and the revision would record a base
    /// no replica can have pulled.
    static func basePastHead(_ base: Int, revision: Int) -> ValidationError? {
        guard base >= revision else { return nil }
        return ValidationError(
            .basePastHead, "the changeset's base revision \(base) is past the head (\(revision - 1))")
    }
}

extension ErrorCode where Domain == ValidationError {
    /// The changeset's base is past the head: the replica pulled from a server that has since
    /// been restored from an older backup, or from another server. glossd answers such a push
    /// ERROR `not-found` (wire.md, "Push"), never `Invalid`.
    public static let basePastHead = Self(rawValue: "base-past-head")
}

/// Where something happened in a whole check: while walking the ops (phase 0) or while settling
/// deletes afterwards (phase 1), at an op's changeset-wide index. Conflicts and the first rule
/// violation of a whole check come in this order.
struct CheckPosition: Comparable, Hashable, Sendable {
    var phase: Int
    var index: Int

    static func < (a: CheckPosition, b: CheckPosition) -> Bool { (a.phase, a.index) < (b.phase, b.index) }
}

/// The state of one check: the changeset's effects so far, layered over the head.
private struct CheckRun<Head: HeadView> {
    struct FieldKey: Hashable {
        var key: AnnotationKey
        var field: Field
    }

    let base: Int
    let replica: ReplicaID
    let texts: [TextDigest: String]
    let head: Head
    let revision: Int
    var outcome = CheckOutcome()
    /// The schema set by ops checked before this run (a changeset's corpus part), if any.
    var schemaBefore: Schema?
    /// Where the run is: the op being processed, or the delete being settled.
    var position = CheckPosition(phase: 0, index: 0)
    /// Where each of `outcome.conflicts` was raised.
    var conflictOrder: [CheckPosition] = []
    /// Annotations whose every further op joins an existing conflict.
    var blocked: [AnnotationKey: Int] = [:]
    var blockedFields: [FieldKey: Int] = [:]
    var blockedDocuments: [DocumentID: Int] = [:]
    /// Deletes accepted so far: the entry before deletion, the op's index in `accepted`, and
    /// its changeset-wide index.
    var deletes: [(key: AnnotationKey, before: HeadEntry, acceptedIndex: Int, opIndex: Int)] = []
    /// References created by this changeset, by target.
    var addedReferrers: [AnnotationKey: Set<AnnotationID>] = [:]

    init(
        base: Int, replica: ReplicaID, texts: [TextDigest: String], head: Head, revision: Int, capacity: Int
    ) {
        self.base = base
        self.replica = replica
        self.texts = texts
        self.head = head
        self.revision = revision
        outcome.entries.reserveCapacity(capacity)
        outcome.accepted.reserveCapacity(capacity)
    }

    var schema: Schema { outcome.schema ?? schemaBefore ?? head.schema }

    /// A revision accepted after the base from another replica: one that mine has not seen.
    func isForeign(_ rev: Int) -> Bool {
        rev > base && rev != revision && head.replica(ofRevision: rev) != replica
    }

    func currentDocument(_ id: DocumentID) -> DocumentEntry? { outcome.documents[id] ?? head.document(id) }

    func currentEntry(_ key: AnnotationKey) -> HeadEntry? {
        if let e = outcome.entries[key] { return e }
        if let d = outcome.documents[key.document], d.addedAt == revision { return nil }
        return head.entry(key)
    }

    /// Processes the op at `index` in its changeset; a violation names it.
    mutating func process(_ op: Op, at index: Int) throws(ValidationError) {
        position = CheckPosition(phase: 0, index: index)
        do throws(ValidationError) {
            try FieldLimits.v1.check(op)
            try process(op)
        } catch {
            throw error.with(document: op.document, annotation: op.annotation, opIndex: index)
        }
    }

    mutating func process(_ op: Op) throws(ValidationError) {
        switch op {
        case .create(let a): try create(a, op)
        case .set(let d, let id, let field, let value): try set(AnnotationKey(d, id), field, value, op)
        case .delete(let d, let id): try delete(AnnotationKey(d, id), op)
        case .addDocument(let doc): try addDocument(doc, op)
        case .removeDocument(let d): try removeDocument(d, op)
        case .reviseText(let d, let change): try reviseText(d, change, op)
        case .setSchema(let s): setSchema(s, op)
        }
    }

    // MARK: Annotations

    mutating func create(_ given: Annotation, _ op: Op) throws(ValidationError) {
        let key = AnnotationKey(given.document, given.id)
        guard let doc = try liveDocument(given.document, op), !joinBlocked(key, op) else { return }
        if let e = currentEntry(key), e.isLive {
            throw ValidationError(.duplicateAnnotation, "annotation \(given.id) already exists")
        }
        var a = given
        var op = op
        if a.kind == .span, !a.ranges.isEmpty {
            switch try offsetsNow(a.ranges, in: doc) {
            case .unchanged: break
            case .moved(let ranges):
                a.ranges = ranges
                op = .create(a)
            case .lost(let proposed, let anchor):
                a.ranges = proposed
                a.anchor = a.anchor ?? anchor
                op = .create(a)
            case .unknown(let revisedAt):
                blocked[key] = textRevisedConflict(doc, at: revisedAt, annotation: a.id, op)
                return
            }
        }
        try Validator(schema: schema).validate(a, documentLength: doc.document.length)
        guard try referencesHold(a, op) else { return }
        record(HeadEntry(annotation: a, createdAt: revision), key)
        outcome.accepted.append(op)
    }

    mutating func set(_ key: AnnotationKey, _ field: Field, _ given: FieldValue, _ op: Op) throws(ValidationError) {
        guard let doc = try liveDocument(key.document, op), !joinBlocked(key, op) else { return }
        var value = given
        var op = op
        // Ranges placed in the text mine's base had, in the text there is now.
        var lostAnchor: TextAnchor?
        if field == .ranges, case .ranges(let ranges) = given, !ranges.isEmpty {
            switch try offsetsNow(ranges, in: doc) {
            case .unchanged: break
            case .moved(let now):
                value = .ranges(now)
                op = .set(key.document, key.id, field, value)
            case .lost(let proposed, let anchor):
                value = .ranges(proposed)
                op = .set(key.document, key.id, field, value)
                lostAnchor = anchor
            case .unknown(let revisedAt):
                // Held back, with the field's earlier ops if a conflict holds them already.
                let fieldKey = FieldKey(key: key, field: field)
                if let c = blockedFields[fieldKey] {
                    outcome.conflicts[c].ops.append(op)
                } else {
                    blockedFields[fieldKey] = textRevisedConflict(doc, at: revisedAt, annotation: key.id, op)
                }
                return
            }
        }
        let fieldKey = FieldKey(key: key, field: field)
        if let c = blockedFields[fieldKey] {
            outcome.conflicts[c].ops.append(op)
            outcome.conflicts[c].mine = value
            return
        }
        guard let entry = try liveEntry(key, op) else { return }
        guard field.applies(to: entry.annotation.kind) else {
            throw ValidationError(.fieldNotApplicable, "a \(entry.annotation.kind) has no field \(field)")
        }
        let last = entry.lastChange(of: field)
        if isForeign(last) {
            let theirs = entry.annotation.value(of: field)
            if theirs == value { return }  // both sides made the same change
            blockedFields[fieldKey] = addConflict(
                Conflict(
                    kind: .field(field), document: key.document, annotation: key.id, mine: value, theirs: theirs,
                    theirRevision: last, theirState: entry.annotation, ops: [op]))
            return
        }
        var updated = entry
        try updated.annotation.set(field, to: value)
        if case .attribute = field { try FieldLimits.v1.checkAttributeCount(updated.annotation.attributes.count) }
        // Ranges that fell in revised text keep the proposal, flagged with where mine put them;
        // the anchor goes first, so that each op on its own leaves a valid span.
        if let lostAnchor, updated.annotation.anchor == nil {
            updated.annotation.anchor = lostAnchor
            updated.fieldRevisions[.anchor] = revision
            outcome.accepted.append(.set(key.document, key.id, .anchor, .anchor(lostAnchor)))
        }
        try Validator(schema: schema).validate(updated.annotation, documentLength: doc.document.length)
        if field == .from || field == .to {
            guard try referencesHold(updated.annotation, op) else { return }
        }
        updated.fieldRevisions[field] = revision
        record(updated, key)
        outcome.accepted.append(op)
    }

    mutating func delete(_ key: AnnotationKey, _ op: Op) throws(ValidationError) {
        guard try liveDocument(key.document, op) != nil, !joinBlocked(key, op) else { return }
        guard let entry = currentEntry(key) else {
            throw ValidationError(.unknownAnnotation, "annotation \(key.id) does not exist")
        }
        if let deletedAt = entry.deletedAt {
            if isForeign(deletedAt) { return }  // both sides deleted it
            throw ValidationError(.unknownAnnotation, "annotation \(key.id) was deleted in revision \(deletedAt)")
        }
        let theirEdits = entry.fieldRevisions.values.filter(isForeign)
        if let latest = theirEdits.max() {
            blocked[key] = addConflict(
                Conflict(
                    kind: .deleteEdit, document: key.document, annotation: key.id, theirRevision: latest,
                    theirState: entry.annotation, ops: [op]))
            return
        }
        var tombstone = entry
        tombstone.deletedAt = revision
        deletes.append((key, entry, outcome.accepted.count, position.index))
        outcome.entries[key] = tombstone
        outcome.accepted.append(op)
    }

    /// A delete must not leave a live relation or note pointing at nothing. Checked once all
    /// ops ran, because a changeset may delete the relation after its endpoint.
    mutating func settleDeletes() throws(ValidationError) {
        var withdrawn: Set<Int> = []
        for (key, before, acceptedIndex, opIndex) in deletes {
            position = CheckPosition(phase: 1, index: opIndex)
            for referrer in referrers(of: key) {
                let referrerKey = AnnotationKey(key.document, referrer)
                let r = currentEntry(referrerKey)!
                let op = outcome.accepted[acceptedIndex]
                if let c = blocked[referrerKey] {
                    // Mine deletes the referrer too, but that delete is held back by a conflict:
                    // this delete waits with it.
                    outcome.conflicts[c].ops.append(op)
                    outcome.entries[key] = before
                    withdrawn.insert(acceptedIndex)
                    break
                }
                guard isForeign(r.lastReferenceChange) else {
                    throw ValidationError(
                        .referencedAnnotation,
                        "annotation \(key.id) is still referenced by \(referrer); delete that \(r.annotation.kind) too",
                        document: key.document, annotation: key.id)
                }
                _ = addConflict(
                    Conflict(
                        kind: .danglingReference, document: key.document, annotation: key.id,
                        theirRevision: r.lastReferenceChange, reference: referrer, theirState: r.annotation,
                        ops: [op]))
                outcome.entries[key] = before
                withdrawn.insert(acceptedIndex)
                break
            }
        }
        if !withdrawn.isEmpty {
            outcome.accepted = outcome.accepted.enumerated().filter { !withdrawn.contains($0.offset) }.map(\.element)
        }
    }

    // MARK: Documents and schema

    mutating func addDocument(_ doc: Document, _ op: Op) throws(ValidationError) {
        if let existing = currentDocument(doc.id), existing.isLive {
            if existing.document.digest == doc.digest && isForeign(existing.addedAt) { return }
            throw ValidationError(.duplicateDocument, "document \(doc.id) already exists")
        }
        guard let text = texts[doc.digest] else {
            throw ValidationError(.textMissing, "the changeset does not carry the text \(doc.digest)")
        }
        guard TextDigest(of: text) == doc.digest, text.unicodeScalars.count == doc.length else {
            throw ValidationError(.invalidField, "digest or length does not match the text of \(doc.id)")
        }
        outcome.documents[doc.id] = DocumentEntry(document: doc, addedAt: revision)
        outcome.entries = outcome.entries.filter { $0.key.document != doc.id }
        outcome.accepted.append(op)
    }

    mutating func removeDocument(_ id: DocumentID, _ op: Op) throws(ValidationError) {
        guard let existing = currentDocument(id) else {
            throw ValidationError(.unknownDocument, "document \(id) does not exist")
        }
        if let removedAt = existing.removedAt {
            if isForeign(removedAt) { return }
            throw ValidationError(.unknownDocument, "document \(id) was removed in revision \(removedAt)")
        }
        var removed = existing
        removed.removedAt = revision
        outcome.documents[id] = removed
        outcome.entries = outcome.entries.filter { $0.key.document != id }
        outcome.accepted.append(op)
    }

    mutating func reviseText(_ id: DocumentID, _ change: TextRevision, _ op: Op) throws(ValidationError) {
        guard var doc = try liveDocument(id, op) else { return }
        guard doc.document.digest == change.from else {
            if let revisedAt = doc.textRevisedAt, isForeign(revisedAt) {
                // Both sides revised the text: mine's edits are against a text that is gone.
                blockedDocuments[id] = textRevisedConflict(doc, at: revisedAt, annotation: nil, op)
                return
            }
            throw ValidationError(
                .staleText, "the revision replaces text \(change.from), but the document's text is \(doc.document.digest)")
        }
        guard change.fromLength == doc.document.length else {
            throw ValidationError(
                .invalidField,
                "the revision replaces a text of \(change.fromLength) scalars; the document's has \(doc.document.length)")
        }
        guard let text = texts[change.to] else {
            throw ValidationError(.textMissing, "the changeset does not carry the text \(change.to)")
        }
        guard TextDigest(of: text) == change.to, text.unicodeScalars.count == change.toLength else {
            throw ValidationError(.invalidField, "digest or length does not match the new text of \(id)")
        }
        try change.check()
        // Where the head has the old text, the edits must be true to both texts: what they say
        // is unchanged is, so no span is moved onto other words by a wrong revision.
        if let old = head.text(change.from) { try change.verify(old: old, new: text) }
        guard let entries = currentEntries(of: doc) else {
            throw ValidationError(.unsupported, "this store cannot revise the text of a document yet")
        }
        let diff = change.diff()
        for entry in entries where entry.annotation.kind == .span {
            let (now, lost) = change.reanchor(entry.annotation, through: diff)
            guard now != entry.annotation else { continue }
            var updated = entry
            updated.annotation = now
            // A span that only moved keeps its field revisions: its place in the words did not
            // change, so a concurrent edit of its ranges (carried over too) is no conflict.
            if lost {
                updated.fieldRevisions[.ranges] = revision
                updated.fieldRevisions[.anchor] = revision
            }
            record(updated, AnnotationKey(id, now.id))
        }
        doc.document.digest = change.to
        doc.document.length = change.toLength
        doc.textRevisedAt = revision
        outcome.documents[id] = doc
        outcome.textRevisions[id, default: []].append(change)
        outcome.accepted.append(op)
    }

    /// Where offsets mine wrote against the text of its base are now.
    enum OffsetsNow {
        /// No revision mine has not seen: as written.
        case unchanged
        /// Every range lies in text no revision touched since: here now.
        case moved([TextRange])
        /// Some range's text changed or vanished: the proposal (empty when nothing is left) and
        /// where mine had it.
        case lost(proposed: [TextRange], anchor: TextAnchor)
        /// This head does not keep the revisions (the server): the revision to rebase past.
        case unknown(revisedAt: Int)
    }

    /// Carries `ranges` through every text revision of the document since mine's base that
    /// mine has not seen (revisions by mine's own replica are its past: it wrote after them).
    func offsetsNow(_ ranges: [TextRange], in doc: DocumentEntry) throws(ValidationError) -> OffsetsNow {
        guard let revisedAt = doc.textRevisedAt, revisedAt > base, revisedAt != revision else { return .unchanged }
        guard let revisions = head.textRevisions(of: doc.document.id, after: base) else {
            return isForeign(revisedAt) ? .unknown(revisedAt: revisedAt) : .unchanged
        }
        var now = ranges
        var anchor: TextAnchor?
        for recorded in revisions where isForeign(recorded.revision) {
            // Offsets are checked against the text they were written for before they are mapped.
            try Validator(schema: .open).validateRanges(now, documentLength: recorded.change.fromLength)
            try recorded.change.check()
            switch recorded.change.diff().map(now) {
            case .moved(let moved):
                now = moved
            case .changed(let proposed):
                if anchor == nil { anchor = TextAnchor(text: recorded.change.from, ranges: now) }
                now = proposed ?? []
            }
            if now.isEmpty { break }
        }
        if let anchor { return .lost(proposed: now, anchor: anchor) }
        return now == ranges ? .unchanged : .moved(now)
    }

    /// A conflict holding `op` back until the client rebases it past the revision at `revisedAt`.
    mutating func textRevisedConflict(_ doc: DocumentEntry, at revisedAt: Int, annotation: AnnotationID?, _ op: Op) -> Int {
        addConflict(
            Conflict(kind: .textRevised, document: doc.document.id, annotation: annotation, theirRevision: revisedAt, ops: [op]))
    }

    /// Every entry of a document as this changeset leaves it so far; nil when the head cannot list them.
    func currentEntries(of doc: DocumentEntry) -> [HeadEntry]? {
        let id = doc.document.id
        let changed = outcome.entries.filter { $0.key.document == id }
        if doc.addedAt == revision { return Array(changed.values) }
        guard let below = head.entries(of: id) else { return nil }
        var merged = Dictionary(uniqueKeysWithValues: changed.map { ($0.key.id, $0.value) })
        for e in below where merged[e.annotation.id] == nil { merged[e.annotation.id] = e }
        return merged.values.sorted { $0.annotation.id < $1.annotation.id }
    }

    mutating func setSchema(_ schema: Schema, _ op: Op) {
        if outcome.schema == nil && isForeign(head.schemaRevision) && head.schema != schema {
            _ = addConflict(
                Conflict(kind: .schema, document: nil, annotation: nil, theirRevision: head.schemaRevision, ops: [op]))
            return
        }
        outcome.schema = schema
        outcome.accepted.append(op)
    }

    // MARK: Helpers

    /// The op's document when it is live; nil when the op joined a conflict instead.
    mutating func liveDocument(_ id: DocumentID, _ op: Op) throws(ValidationError) -> DocumentEntry? {
        if let c = blockedDocuments[id] {
            outcome.conflicts[c].ops.append(op)
            return nil
        }
        guard let doc = currentDocument(id) else {
            throw ValidationError(.unknownDocument, "document \(id) does not exist")
        }
        if let removedAt = doc.removedAt {
            guard isForeign(removedAt) else {
                throw ValidationError(.unknownDocument, "document \(id) was removed in revision \(removedAt)")
            }
            blockedDocuments[id] = addConflict(
                Conflict(kind: .documentRemoved, document: id, annotation: nil, theirRevision: removedAt, ops: [op]))
            return nil
        }
        return doc
    }

    /// The annotation's live entry; nil when it was deleted by theirs (the op then joins an
    /// edit/delete conflict).
    mutating func liveEntry(_ key: AnnotationKey, _ op: Op) throws(ValidationError) -> HeadEntry? {
        guard let entry = currentEntry(key) else {
            throw ValidationError(.unknownAnnotation, "annotation \(key.id) does not exist")
        }
        guard let deletedAt = entry.deletedAt else { return entry }
        guard isForeign(deletedAt) else {
            throw ValidationError(.unknownAnnotation, "annotation \(key.id) was deleted in revision \(deletedAt)")
        }
        blocked[key] = addConflict(
            Conflict(
                kind: .editDelete, document: key.document, annotation: key.id, theirRevision: deletedAt,
                theirState: entry.annotation, ops: [op]))
        return nil
    }

    /// Adds the op to the conflict that already holds its annotation back, if any.
    mutating func joinBlocked(_ key: AnnotationKey, _ op: Op) -> Bool {
        guard let c = blocked[key] else { return false }
        outcome.conflicts[c].ops.append(op)
        return true
    }

    /// Checks that every reference resolves to a live annotation of the same document, and that
    /// a relation's arguments fit its label. False when a reference dangles because theirs
    /// deleted its target (the op then joins a conflict).
    mutating func referencesHold(_ a: Annotation, _ op: Op) throws(ValidationError) -> Bool {
        var resolved: [AnnotationID: Annotation] = [:]
        var dangling: [(id: AnnotationID, entry: HeadEntry, deletedAt: Int)] = []
        for target in a.references {
            if target == a.id {
                throw ValidationError(.missingReference, "annotation \(a.id) refers to itself")
            }
            guard let e = currentEntry(AnnotationKey(a.document, target)) else {
                throw ValidationError(
                    .missingReference, "annotation \(target) does not exist in document \(a.document)")
            }
            if let deletedAt = e.deletedAt {
                guard isForeign(deletedAt) else {
                    throw ValidationError(
                        .missingReference, "annotation \(target) was deleted in revision \(deletedAt)")
                }
                dangling.append((target, e, deletedAt))
                continue
            }
            resolved[target] = e.annotation
        }
        if let first = dangling.first {
            // One conflict for the op, naming every endpoint theirs deleted, so that keeping
            // mine brings them all back.
            var conflict = Conflict(
                kind: .danglingReference, document: a.document, annotation: a.id,
                theirRevision: dangling.map(\.deletedAt).max()!, reference: first.id,
                theirState: first.entry.annotation, ops: [op])
            conflict.alsoDeleted = dangling.dropFirst().map(\.entry.annotation)
            blocked[AnnotationKey(a.document, a.id)] = addConflict(conflict)
            return false
        }
        if a.kind == .relation, let from = a.from.flatMap({ resolved[$0] }), let to = a.to.flatMap({ resolved[$0] }) {
            try Validator(schema: schema).validateArguments(relation: a, from: from, to: to)
        }
        return true
    }

    func referrers(of key: AnnotationKey) -> [AnnotationID] {
        let candidates = Set(head.referrers(of: key)).union(addedReferrers[key] ?? [])
        return candidates.filter { id in
            guard let e = currentEntry(AnnotationKey(key.document, id)), e.isLive else { return false }
            return e.annotation.references.contains(key.id)
        }.sorted()
    }

    mutating func record(_ entry: HeadEntry, _ key: AnnotationKey) {
        outcome.entries[key] = entry
        for target in entry.annotation.references {
            addedReferrers[AnnotationKey(key.document, target), default: []].insert(key.id)
        }
    }

    mutating func addConflict(_ conflict: Conflict) -> Int {
        outcome.conflicts.append(conflict)
        conflictOrder.append(position)
        return outcome.conflicts.count - 1
    }
}
