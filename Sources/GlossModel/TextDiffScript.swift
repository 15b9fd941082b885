/// An edit script under construction: equal stretches alternating with edits, lengths only.
///
/// `equal[0]` comes before `edits[0]`, `equal[i]` sits between `edits[i - 1]` and `edits[i]`, and
/// `equal.last` closes the script, so `equal.count == edits.count + 1` always. Inner equal
/// stretches are never empty (adjacent edits merge as they are appended); the first and last may be.
struct TextDiffScript {
    /// Scalars removed from the old text and added to the new one at one place.
    struct Edit: Hashable {
        var deleted: Int
        var inserted: Int

        /// What the semantic cleanup weighs an edit by: the longer of its two sides, as
        /// diff-match-patch's cleanupSemantic does.
        var weight: Int { max(deleted, inserted) }
    }

    var equal: [Int] = [0]
    var edits: [Edit] = []

    mutating func appendEqual(_ count: Int) {
        guard count > 0 else { return }
        equal[equal.count - 1] += count
    }

    mutating func appendEdit(deleted: Int, inserted: Int) {
        guard deleted > 0 || inserted > 0 else { return }
        if !edits.isEmpty, equal[equal.count - 1] == 0 {
            edits[edits.count - 1].deleted += deleted
            edits[edits.count - 1].inserted += inserted
        } else {
            edits.append(Edit(deleted: deleted, inserted: inserted))
            equal.append(0)
        }
    }

    /// Folds every spurious equality into the edits around it, to a fixed point.
    ///
    /// The rule (diff-match-patch's cleanupSemantic): an equal stretch with edits on both sides
    /// becomes part of one edit when its length is at most the weight of the edit before it and
    /// at most the weight of the edit after it. Character-level Myers inside a rewritten
    /// sentence matches scattered letters and spaces; without this, an annotation on a "the"
    /// that happens to survive a rewrite would move as if it were untouched.
    ///
    /// Folding only makes edits heavier, so an equality once foldable stays foldable and the
    /// fixed point is unique, whatever the order. One left-to-right pass with a stack reaches it
    /// in linear time: when an edit arrives, only the equality just before it can have become
    /// foldable, and each fold makes the merged edit heavier, which is checked against the
    /// equality before that, and so on down the stack.
    mutating func cleanUpSemantically() {
        guard edits.count > 1 else { return }
        var keptEqual: [Int] = [equal[0]]
        var keptEdits: [Edit] = []
        keptEqual.reserveCapacity(equal.count)
        keptEdits.reserveCapacity(edits.count)
        for index in edits.indices {
            var edit = edits[index]
            // keptEqual.last lies between keptEdits.last and `edit`.
            while let previous = keptEdits.last, let between = keptEqual.last,
                between <= previous.weight, between <= edit.weight
            {
                edit = Edit(
                    deleted: previous.deleted + between + edit.deleted,
                    inserted: previous.inserted + between + edit.inserted)
                keptEdits.removeLast()
                keptEqual.removeLast()
            }
            keptEdits.append(edit)
            keptEqual.append(equal[index + 1])
        }
        equal = keptEqual
        edits = keptEdits
    }

    /// The script as hunks with absolute scalar offsets, empty stretches left out.
    func hunks() -> [TextDiffHunk] {
        var hunks: [TextDiffHunk] = []
        hunks.reserveCapacity(equal.count + edits.count)
        var old = 0
        var new = 0
        for index in 0..<equal.count {
            if equal[index] > 0 {
                let n = equal[index]
                hunks.append(TextDiffHunk(.equal, old: TextRange(old, old + n), new: TextRange(new, new + n)))
                old += n
                new += n
            }
            if index < edits.count {
                let e = edits[index]
                hunks.append(
                    TextDiffHunk(
                        .replace, old: TextRange(old, old + e.deleted), new: TextRange(new, new + e.inserted)))
                old += e.deleted
                new += e.inserted
            }
        }
        return hunks
    }
}
