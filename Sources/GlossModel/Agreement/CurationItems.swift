extension CurationItem {
    /// Groups the annotators' spans in one document into agreed items and disagreement items,
    /// in text order (by extent start, then end; agreed before disagreement at the same extent).
    ///
    /// - An *agreed* item is one label-and-ranges that every annotator has; each alternative
    ///   holds that annotator's span. When an annotator has the same span twice and another once,
    ///   one pair is agreed and the extra span joins the disagreements.
    /// - The other spans are clustered: two spans are in one cluster when they share a scalar or
    ///   have the same ranges (so zero-length spans at one offset meet), transitively, whatever
    ///   their labels and annotators. Each cluster is a *disagreement* item, whose alternatives
    ///   hold each annotator's spans in it (empty for an annotator who has none).
    ///
    /// - Parameters:
    ///   - layers: per annotator, the spans of their layer in the document (other kinds are ignored).
    ///   - annotators: the annotators to compare, in the order alternatives list them; an
    ///     annotator missing from `layers` has no spans.
    public static func items(layers: [String: [Annotation]], annotators: [String]) -> [CurationItem] {
        let spans = annotators.map { (layers[$0] ?? []).filter { $0.kind == .span }.sorted(by: SpanMatcher.textOrder) }
        var items: [CurationItem] = []

        // Agreed: take as many copies of a key as the annotator with the fewest has.
        var byKey: [[SpanKey: [Annotation]]] = spans.map { Dictionary(grouping: $0, by: SpanKey.init) }
        var leftover: [[Annotation]] = spans.map { _ in [] }
        if let first = byKey.first {
            for key in first.keys.sorted(by: SpanKey.textOrder) {
                let copies = byKey.map { $0[key]?.count ?? 0 }.min() ?? 0
                for c in 0..<copies {
                    let alternatives = annotators.indices.map { a in
                        Alternative(annotator: annotators[a], spans: [byKey[a][key]![c]])
                    }
                    items.append(
                        CurationItem(kind: .agreed, extent: Self.extent(of: alternatives), alternatives: alternatives))
                }
                if copies > 0 {
                    for a in byKey.indices { byKey[a][key]!.removeFirst(copies) }
                }
            }
        }
        for a in byKey.indices { leftover[a] = byKey[a].values.flatMap { $0 }.sorted(by: SpanMatcher.textOrder) }

        // Disagreements: clusters of the leftover spans.
        let pool = leftover.enumerated().flatMap { a, spans in spans.map { (annotator: a, span: $0) } }
            .sorted { SpanMatcher.textOrder($0.span, $1.span) }
        var parent = Array(pool.indices)
        func root(_ i: Int) -> Int {
            var i = i
            while parent[i] != i {
                parent[i] = parent[parent[i]]
                i = parent[i]
            }
            return i
        }
        let graph = SpanMatcher.overlapGraph(pool.map(\.span), pool.map(\.span))
        for (i, neighbours) in graph.enumerated() {
            for j in neighbours where j != i { parent[root(j)] = root(i) }
        }
        // Same ranges (zero-length ones included) meet even without a shared scalar.
        var sameRanges: [[TextRange]: Int] = [:]
        for (i, entry) in pool.enumerated() {
            if let j = sameRanges[entry.span.ranges] {
                parent[root(i)] = root(j)
            } else {
                sameRanges[entry.span.ranges] = i
            }
        }
        var clusters: [Int: [Int]] = [:]
        for i in pool.indices { clusters[root(i), default: []].append(i) }
        for members in clusters.values {
            let alternatives = annotators.indices.map { a in
                Alternative(
                    annotator: annotators[a], spans: members.filter { pool[$0].annotator == a }.map { pool[$0].span })
            }
            items.append(
                CurationItem(kind: .disagreement, extent: Self.extent(of: alternatives), alternatives: alternatives))
        }

        return items.sorted { a, b in
            (a.extent.start, a.extent.end, a.kind == .agreed ? 0 : 1, a.firstSpanOrder)
                < (b.extent.start, b.extent.end, b.kind == .agreed ? 0 : 1, b.firstSpanOrder)
        }
    }

    private static func extent(of alternatives: [Alternative]) -> TextRange {
        let ranges = alternatives.flatMap { $0.spans.flatMap(\.ranges) }
        return TextRange(ranges.map(\.start).min() ?? 0, ranges.map(\.end).max() ?? 0)
    }

    /// A tie-breaker for items with the same extent and kind: the label and id of their first span.
    private var firstSpanOrder: String {
        guard let span = alternatives.lazy.compactMap(\.spans.first).first else { return "" }
        return span.label + "\u{0}" + span.id.description
    }
}

extension SpanKey {
    /// Text order for keys: by start, end, label, then the ranges one by one.
    fileprivate static func textOrder(_ a: SpanKey, _ b: SpanKey) -> Bool {
        let x = (a.ranges.first?.start ?? 0, a.ranges.last?.end ?? 0, a.label)
        let y = (b.ranges.first?.start ?? 0, b.ranges.last?.end ?? 0, b.label)
        return x != y ? x < y : a.ranges.lexicographicallyPrecedes(b.ranges)
    }
}
