/// A new text for a document, as the op `reviseText` records it: which text it replaces, the new
/// text's digest and length, and the stretches of the old text that were replaced. Everything
/// between two edits is unchanged, so the edits alone say where every offset of the old text
/// went: every replica, and the server, re-anchor annotations from the op without diffing texts.
///
/// Edits come from a ``TextDiff`` of the two texts (``init(from:to:diff:)``); the new text
/// itself travels in ``Changeset/texts``, like an added document's.
public struct TextRevision: Hashable, Sendable {
    /// The text it revises (the document's current text).
    public var from: TextDigest
    /// That text's length in Unicode scalars.
    public var fromLength: Int
    /// The new text.
    public var to: TextDigest
    /// The new text's length in Unicode scalars.
    public var toLength: Int
    /// The replaced stretches of the old text, ascending, with unchanged text between any two.
    public var edits: [TextEdit]

    /// A revision.
    public init(from: TextDigest, fromLength: Int, to: TextDigest, toLength: Int, edits: [TextEdit]) {
        self.from = from
        self.fromLength = fromLength
        self.to = to
        self.toLength = toLength
        self.edits = edits
    }

    /// The revision that `diff` describes, between texts with these digests.
    public init(from: TextDigest, to: TextDigest, diff: TextDiff) {
        self.init(
            from: from, fromLength: diff.oldScalarCount, to: to, toLength: diff.newScalarCount,
            edits: diff.hunks.filter { $0.kind == .replace }.map { TextEdit(old: $0.old, newLength: $0.new.length) })
    }

    /// The revision from `old` to `new`, with the edits of their ``TextDiff``.
    public init(from old: String, to new: String) {
        self.init(from: TextDigest(of: old), to: TextDigest(of: new), diff: TextDiff(from: old, to: new))
    }

    /// Checks that the edits fit the old text and make one of ``toLength`` scalars: ascending,
    /// inside the old text, separated by unchanged text, none empty on both sides.
    public func check() throws(ValidationError) {
        let oldLength = fromLength
        guard fromLength >= 0, toLength >= 0 else {
            throw ValidationError(.invalidField, "a text length is negative (\(fromLength) → \(toLength))")
        }
        var previousEnd = -1
        var newLength = oldLength
        for (i, edit) in edits.enumerated() {
            let r = edit.old
            guard r.start >= 0, r.start <= r.end, r.end <= oldLength, edit.newLength >= 0 else {
                throw ValidationError(
                    .invalidField, "text edit \(i) (\(r), \(edit.newLength) new scalars) is outside the old text of \(oldLength)")
            }
            guard r.length > 0 || edit.newLength > 0 else {
                throw ValidationError(.invalidField, "text edit \(i) at \(r.start) changes nothing")
            }
            // Touching edits would leave an empty unchanged stretch: they are one edit.
            guard r.start > previousEnd else {
                throw ValidationError(
                    .invalidField, "text edit \(i) at \(r.start) does not come after the previous one, with unchanged text between")
            }
            previousEnd = r.end
            newLength += edit.newLength - r.length
        }
        guard newLength == toLength else {
            throw ValidationError(
                .invalidField, "the text edits make a text of \(newLength) scalars, but the new text has \(toLength)")
        }
    }

    /// The diff the edits describe.
    ///
    /// - Precondition: ``check()`` passes.
    public func diff() -> TextDiff {
        let oldLength = fromLength
        var hunks: [TextDiffHunk] = []
        hunks.reserveCapacity(edits.count * 2 + 1)
        var old = 0
        var new = 0
        for edit in edits {
            if edit.old.start > old {
                let n = edit.old.start - old
                hunks.append(TextDiffHunk(.equal, old: TextRange(old, old + n), new: TextRange(new, new + n)))
                old += n
                new += n
            }
            hunks.append(
                TextDiffHunk(.replace, old: edit.old, new: TextRange(new, new + edit.newLength)))
            old = edit.old.end
            new += edit.newLength
        }
        if oldLength > old {
            let n = oldLength - old
            hunks.append(TextDiffHunk(.equal, old: TextRange(old, oldLength), new: TextRange(new, new + n)))
        }
        return TextDiff(hunks: hunks, oldScalarCount: oldLength, newScalarCount: toLength)
    }

    /// `annotation` in the new text: a span whose every range lies in unchanged text moves with
    /// it; any other span gets the diff's proposal (or no ranges, when its text vanished) and an
    /// anchor saying where it was, unless it has one already (the first loss is what a person
    /// must see). Other kinds have no offsets and stay as they are. `lost` says whether its
    /// text changed.
    public func reanchor(_ annotation: Annotation, through diff: TextDiff) -> (annotation: Annotation, lost: Bool) {
        guard annotation.kind == .span, !annotation.ranges.isEmpty else { return (annotation, false) }
        var a = annotation
        switch diff.map(annotation.ranges) {
        case .moved(let ranges):
            a.ranges = ranges
            return (a, false)
        case .changed(let proposed):
            a.ranges = proposed ?? []
            if a.anchor == nil { a.anchor = TextAnchor(text: from, ranges: annotation.ranges) }
            return (a, true)
        }
    }
}

/// One replaced stretch of a text: the old scalars `old` became `newLength` new ones.
public struct TextEdit: Hashable, Sendable, CustomStringConvertible {
    /// The stretch of the old text (empty for a pure insertion).
    public var old: TextRange
    /// How many scalars replace it (0 for a pure deletion).
    public var newLength: Int

    /// An edit.
    public init(old: TextRange, newLength: Int) {
        self.old = old
        self.newLength = newLength
    }

    /// `3-7→2`.
    public var description: String { "\(old)→\(newLength)" }
}
