/// Counts the spans two annotators share, exactly or by overlap, one-to-one.
enum SpanMatcher {
    /// Spans with the same label and the same ranges, matched as multisets (two identical spans
    /// on one side match at most two on the other).
    static func exactMatches(_ a: [Annotation], _ b: [Annotation]) -> Int {
        var counts: [SpanKey: Int] = [:]
        for span in a { counts[SpanKey(span), default: 0] += 1 }
        var matched = 0
        for span in b {
            let key = SpanKey(span)
            if let n = counts[key], n > 0 {
                counts[key] = n - 1
                matched += 1
            }
        }
        return matched
    }

    /// The largest one-to-one matching of spans with the same label and overlapping ranges
    /// (a maximum bipartite matching per label, so the count does not depend on input order).
    static func overlapMatches(_ a: [Annotation], _ b: [Annotation]) -> Int {
        let left = Dictionary(grouping: a, by: \.label)
        let right = Dictionary(grouping: b, by: \.label)
        var matched = 0
        for (label, spans) in left {
            guard let others = right[label] else { continue }
            matched += maximumMatching(spans.sorted(by: textOrder), others.sorted(by: textOrder))
        }
        return matched
    }

    /// Whether two spans share at least one scalar (any range of one overlaps any of the other).
    static func overlap(_ a: Annotation, _ b: Annotation) -> Bool {
        var i = 0
        var j = 0
        // Both range lists are sorted: walk them together.
        while i < a.ranges.count, j < b.ranges.count {
            if a.ranges[i].overlaps(b.ranges[j]) { return true }
            if a.ranges[i].end <= b.ranges[j].end { i += 1 } else { j += 1 }
        }
        return false
    }

    static func textOrder(_ a: Annotation, _ b: Annotation) -> Bool {
        (a.ranges.first?.start ?? 0, a.ranges.last?.end ?? 0, a.label, a.id)
            < (b.ranges.first?.start ?? 0, b.ranges.last?.end ?? 0, b.label, b.id)
    }

    /// For each span of `a`, the indices of the spans of `b` it overlaps, ascending.
    ///
    /// - Precondition: `b` is sorted by start (``textOrder``).
    static func overlapGraph(_ a: [Annotation], _ b: [Annotation]) -> [[Int]] {
        // Only spans of b starting after (a's start − the longest extent in b) can reach a, so
        // the scan stays short in long documents.
        let starts = b.map { $0.ranges.first?.start ?? 0 }
        let longest = b.map { ($0.ranges.last?.end ?? 0) - ($0.ranges.first?.start ?? 0) }.max() ?? 0
        return a.map { span in
            let start = span.ranges.first?.start ?? 0
            let end = span.ranges.last?.end ?? 0
            var j = lowerBound(starts, start - longest)
            var edges: [Int] = []
            while j < b.count, starts[j] <= end {
                if overlap(span, b[j]) { edges.append(j) }
                j += 1
            }
            return edges
        }
    }

    /// Kuhn's augmenting-path algorithm: the size of a maximum matching between `a` and `b`.
    private static func maximumMatching(_ a: [Annotation], _ b: [Annotation]) -> Int {
        let edges = overlapGraph(a, b)
        var partner = [Int?](repeating: nil, count: b.count)
        var matched = 0
        for i in a.indices where !edges[i].isEmpty {
            var visited = [Bool](repeating: false, count: b.count)
            if augment(i, edges, &partner, &visited) { matched += 1 }
        }
        return matched
    }

    private static func augment(_ i: Int, _ edges: [[Int]], _ partner: inout [Int?], _ visited: inout [Bool]) -> Bool {
        for j in edges[i] where !visited[j] {
            visited[j] = true
            if partner[j] == nil || augment(partner[j]!, edges, &partner, &visited) {
                partner[j] = i
                return true
            }
        }
        return false
    }

    private static func lowerBound(_ sorted: [Int], _ value: Int) -> Int {
        var low = 0
        var high = sorted.count
        while low < high {
            let mid = (low + high) / 2
            if sorted[mid] < value { low = mid + 1 } else { high = mid }
        }
        return low
    }
}

/// What makes two spans the same for agreement: label and ranges (not id, owner or attributes).
struct SpanKey: Hashable {
    var label: String
    var ranges: [TextRange]

    init(_ span: Annotation) {
        label = span.label
        ranges = span.ranges
    }
}
