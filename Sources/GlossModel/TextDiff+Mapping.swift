extension TextDiff {
    /// Where a range of the old text is in the new one.
    public enum RangeMapping: Hashable, Sendable {
        /// The covered text is untouched: it lies inside one equal hunk, so nothing was inserted
        /// or deleted strictly inside it, and `new[range] == old[original]` exactly. Insertions
        /// right at either end do not count: the covered text is still the same.
        case moved(TextRange)
        /// Something inside the covered text changed or vanished. `proposed` is a best guess in
        /// the new text (never empty, always within it) for a person to confirm: from where the
        /// start went to where the end went, where an end in replaced text widens to the whole
        /// replacement. Nil when the covered text vanished entirely (wholly inside a deletion).
        case changed(proposed: TextRange?)
    }

    /// Where the ranges of a discontinuous span are in the new text.
    public enum SpanMapping: Hashable, Sendable {
        /// Every range moved, in the same order.
        case moved([TextRange])
        /// At least one range changed. `proposed` gathers the moved ranges and the proposals,
        /// sorted, with overlapping ones merged; nil if nothing of the span is left.
        case changed(proposed: [TextRange]?)
    }

    /// Which side an offset sticks to when text was inserted exactly there.
    public enum Bias: Hashable, Sendable {
        /// Stay before the inserted text (an offset ending a range).
        case before
        /// Go after the inserted text (an offset starting a range, an insertion point).
        case after
    }

    /// Maps a range of the old text. O(log hunks).
    ///
    /// An empty range is an insertion point: moved to ``mapOffset(_:bias:)`` with `.after`, or
    /// changed with no proposal when that offset was inside replaced text.
    ///
    /// - Precondition: `0 <= range.start <= range.end <= oldScalarCount`.
    public func map(_ range: TextRange) -> RangeMapping {
        precondition(
            range.start >= 0 && range.start <= range.end && range.end <= oldScalarCount,
            "range \(range) is not within the old text of \(oldScalarCount) scalars")
        if range.start == range.end {
            return mapOffset(range.start, bias: .after).map { .moved(TextRange($0, $0)) } ?? .changed(proposed: nil)
        }
        let first = hunkIndex(containingOld: range.start)
        let last = hunkIndex(containingOld: range.end - 1)
        let head = hunks[first]
        let tail = hunks[last]
        if first == last, head.kind == .equal {
            let start = head.new.start + (range.start - head.old.start)
            return .moved(TextRange(start, start + range.length))
        }
        let start = head.kind == .equal ? head.new.start + (range.start - head.old.start) : head.new.start
        let end = tail.kind == .equal ? tail.new.start + (range.end - tail.old.start) : tail.new.end
        return .changed(proposed: start < end ? TextRange(start, end) : nil)
    }

    /// Maps the ranges of one span: moved only if every range moved.
    ///
    /// - Precondition: every range is within the old text.
    public func map(_ ranges: [TextRange]) -> SpanMapping {
        var moved: [TextRange] = []
        moved.reserveCapacity(ranges.count)
        var proposals: [TextRange] = []
        var changed = false
        for range in ranges {
            switch map(range) {
            case .moved(let r):
                moved.append(r)
                proposals.append(r)
            case .changed(let proposal):
                changed = true
                if let proposal { proposals.append(proposal) }
            }
        }
        guard changed else { return .moved(moved) }
        guard !proposals.isEmpty else { return .changed(proposed: nil) }
        proposals.sort()
        var merged: [TextRange] = [proposals[0]]
        for r in proposals.dropFirst() {
            if r.start < merged[merged.count - 1].end {
                merged[merged.count - 1].end = max(merged[merged.count - 1].end, r.end)
            } else {
                merged.append(r)
            }
        }
        return .changed(proposed: merged)
    }

    /// Maps an offset of the old text (a boundary between scalars, `0...oldScalarCount`), for
    /// rebasing an insertion point. O(log hunks).
    ///
    /// Nil when the offset lay strictly inside replaced or deleted text, whose positions have no
    /// counterpart. At the edge of an insertion, `bias` picks the side.
    ///
    /// - Precondition: `0 <= offset <= oldScalarCount`.
    public func mapOffset(_ offset: Int, bias: Bias = .after) -> Int? {
        precondition(
            offset >= 0 && offset <= oldScalarCount,
            "offset \(offset) is not within the old text of \(oldScalarCount) scalars")
        guard let lastHunk = hunks.last else { return 0 }
        if offset == oldScalarCount {
            return lastHunk.isInsertion && bias == .before ? lastHunk.new.start : newScalarCount
        }
        let index = hunkIndex(containingOld: offset)
        let hunk = hunks[index]
        if offset > hunk.old.start {
            return hunk.kind == .equal ? hunk.new.start + (offset - hunk.old.start) : nil
        }
        if bias == .before, index > 0, hunks[index - 1].isInsertion { return hunks[index - 1].new.start }
        return hunk.new.start
    }
}
