import GlossModel

/// The ops that turn a view's spans and document labels into what edited inline markup says,
/// keeping annotation ids wherever an edit can be read as a change to an existing annotation.
///
/// Spans are matched in rounds, each one-to-one over what earlier rounds left:
/// 1. same label and ranges (preferring identical attributes): unchanged, or attribute `set`s;
/// 2. same ranges, another label: `set label` on the existing id;
/// 3. same label, overlapping ranges: `set ranges`, the pairs with the most shared scalars first;
/// 4. spans left in the markup are created (ids from the caller), spans left in the view deleted.
///
/// Document labels match by label (identical attributes first); the rest are created or deleted.
/// Attribute differences of a matched pair become `set attribute` ops (`.none` removes one).
/// Deleting an annotation also deletes every relation and note in the document that points at
/// it, transitively (``cascaded`` lists them so the CLI can say so). Ops come in an order the
/// acceptance check takes: deletes (referrers before what they point at), then sets, then creates.
public struct InlineMarkupDiff: Sendable {
    /// The ops, ready for a changeset.
    public var ops: [Op]
    /// The annotations created (spans and document labels).
    public var created: [Annotation]
    /// Ids of existing annotations that `set` ops change, in op order.
    public var changed: [AnnotationID]
    /// Spans and document labels of the view that the markup no longer has.
    public var deleted: [Annotation]
    /// Relations and notes deleted because they pointed at a deleted annotation.
    public var cascaded: [Annotation]

    /// Whether the markup changes nothing.
    public var isEmpty: Bool { ops.isEmpty }

    /// Compares the view with the edited markup.
    ///
    /// - Parameters:
    ///   - original: the annotations the markup was rendered from (its spans and document
    ///     labels count; other kinds are ignored).
    ///   - edited: what ``InlineMarkupParser`` read from the edited markup.
    ///   - document: the document the ops apply to.
    ///   - annotations: every annotation of the document (all layers), to find relations and
    ///     notes that point at deleted annotations.
    ///   - owner: owner of created annotations.
    ///   - layer: layer of created annotations.
    ///   - mintID: a fresh id for each created annotation.
    public init(
        original: [Annotation], edited: InlineMarkupContent, document: DocumentID, annotations: [Annotation],
        owner: String, layer: String, mintID: () throws -> AnnotationID
    ) rethrows {
        var sets: [Op] = []
        var changed: [AnnotationID] = []
        var created: [Annotation] = []
        func change(_ id: AnnotationID, _ field: Field, _ value: FieldValue) {
            sets.append(.set(document, id, field, value))
            if changed.last != id { changed.append(id) }
        }
        func changeAttributes(_ old: Annotation, _ new: [String: String]) {
            for key in Set(old.attributes.keys).union(new.keys).sorted() where old.attributes[key] != new[key] {
                change(old.id, .attribute(key), new[key].map(FieldValue.string) ?? .none)
            }
        }

        // Spans.
        let oldSpans = original.filter { $0.kind == .span }.sorted { $0.id < $1.id }
        var matcher = Matcher(old: oldSpans, new: edited.spans)
        matcher.matchByKey {
            InlineMarkupSpan($0)
        } new: {
            $0
        }
        matcher.matchByKey {
            SpanKey(label: $0.label, ranges: $0.ranges)
        } new: {
            SpanKey(label: $0.label, ranges: $0.ranges)
        }
        matcher.matchByKey {
            $0.ranges
        } new: {
            $0.ranges
        }
        matcher.matchByOverlap()
        for (o, n) in matcher.pairs {
            let old = oldSpans[o]
            let new = edited.spans[n]
            if old.label != new.label { change(old.id, .label, .string(new.label)) }
            if old.ranges != new.ranges { change(old.id, .ranges, .ranges(new.ranges)) }
            changeAttributes(old, new.attributes)
        }
        for n in matcher.unmatchedNew {
            let span = edited.spans[n]
            created.append(
                Annotation(
                    id: try mintID(), document: document, kind: .span, layer: layer, owner: owner, label: span.label,
                    ranges: span.ranges, attributes: span.attributes))
        }
        var deleted = matcher.unmatchedOld.map { oldSpans[$0] }

        // Document labels.
        let oldLabels = original.filter { $0.kind == .documentLabel }.sorted { $0.id < $1.id }
        var labelMatcher = Matcher(old: oldLabels, new: edited.documentLabels)
        labelMatcher.matchByKey {
            InlineMarkupLabel($0)
        } new: {
            $0
        }
        labelMatcher.matchByKey {
            $0.label
        } new: {
            $0.label
        }
        for (o, n) in labelMatcher.pairs { changeAttributes(oldLabels[o], edited.documentLabels[n].attributes) }
        for n in labelMatcher.unmatchedNew {
            let label = edited.documentLabels[n]
            created.append(
                Annotation(
                    id: try mintID(), document: document, kind: .documentLabel, layer: layer, owner: owner,
                    label: label.label, attributes: label.attributes))
        }
        deleted += labelMatcher.unmatchedOld.map { oldLabels[$0] }

        let (deletes, cascaded) = Self.deletions(of: deleted, among: annotations)
        ops = deletes.map { .delete(document, $0) } + sets + created.map(Op.create)
        self.created = created
        self.changed = changed
        self.deleted = deleted
        self.cascaded = cascaded
    }

    /// The ids to delete, referrers before what they point at, and the referrers that were not
    /// asked for.
    private static func deletions(of deleted: [Annotation], among annotations: [Annotation])
        -> (ids: [AnnotationID], cascaded: [Annotation])
    {
        var referrers: [AnnotationID: [Annotation]] = [:]
        for a in annotations {
            for target in Set(a.references) { referrers[target, default: []].append(a) }
        }
        var order: [AnnotationID] = []
        var visited = Set<AnnotationID>()
        var cascaded: [Annotation] = []
        let asked = Set(deleted.map(\.id))
        // Post-order: an annotation is listed after everything that points at it.
        func visit(_ a: Annotation) {
            guard visited.insert(a.id).inserted else { return }
            for r in (referrers[a.id] ?? []).sorted(by: { $0.id < $1.id }) {
                if !asked.contains(r.id), !visited.contains(r.id) { cascaded.append(r) }
                visit(r)
            }
            order.append(a.id)
        }
        for a in deleted { visit(a) }
        return (order, cascaded)
    }
}

private struct SpanKey: Hashable {
    var label: String
    var ranges: [TextRange]
}

/// One-to-one matching of old annotations with new items, in rounds.
private struct Matcher<New> {
    let old: [Annotation]
    let new: [New]
    var oldTaken: [Bool]
    var newTaken: [Bool]
    var pairs: [(old: Int, new: Int)] = []

    init(old: [Annotation], new: [New]) {
        self.old = old
        self.new = new
        oldTaken = Array(repeating: false, count: old.count)
        newTaken = Array(repeating: false, count: new.count)
    }

    var unmatchedOld: [Int] { old.indices.filter { !oldTaken[$0] } }
    var unmatchedNew: [Int] { new.indices.filter { !newTaken[$0] } }

    /// Pairs items with equal keys, earliest first on both sides.
    mutating func matchByKey<Key: Hashable>(_ oldKey: (Annotation) -> Key, new newKey: (New) -> Key) {
        var candidates: [Key: [Int]] = [:]
        for o in old.indices.reversed() where !oldTaken[o] { candidates[oldKey(old[o]), default: []].append(o) }
        for n in new.indices where !newTaken[n] {
            guard let o = candidates[newKey(new[n])]?.popLast() else { continue }
            take(o, n)
        }
    }

    private mutating func take(_ o: Int, _ n: Int) {
        oldTaken[o] = true
        newTaken[n] = true
        pairs.append((o, n))
    }
}

extension Matcher where New == InlineMarkupSpan {
    /// Pairs spans with the same label and overlapping ranges, most shared scalars first.
    mutating func matchByOverlap() {
        var byLabel: [String: [Int]] = [:]
        for o in old.indices where !oldTaken[o] { byLabel[old[o].label, default: []].append(o) }
        var candidates: [(shared: Int, old: Int, new: Int)] = []
        for n in new.indices where !newTaken[n] {
            for o in byLabel[new[n].label] ?? [] {
                let shared = Self.shared(old[o].ranges, new[n].ranges)
                if shared > 0 { candidates.append((shared, o, n)) }
            }
        }
        candidates.sort { ($1.shared, $0.old, $0.new) < ($0.shared, $1.old, $1.new) }
        for c in candidates where !oldTaken[c.old] && !newTaken[c.new] { take(c.old, c.new) }
    }

    /// The number of scalars two sorted range lists share.
    private static func shared(_ a: [TextRange], _ b: [TextRange]) -> Int {
        var total = 0
        for x in a {
            for y in b { total += max(0, min(x.end, y.end) - max(x.start, y.start)) }
        }
        return total
    }
}
