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

    /// The revision from `old` to `new`: the edits of their ``TextDiff``, widened to whole words.
    ///
    /// Annotations cover words, so an edit that touches a word changes that word: a letter
    /// added at the end of `Federativ` makes `Federative`, and a span over `Federativ` must be
    /// flagged, not left covering the first nine letters of another word. An edit whose side
    /// next to unchanged text is a letter or digit, beside a letter or digit there, takes in
    /// the rest of that word; edits that then touch are one.
    public init(from old: String, to new: String) {
        let diff = TextDiff(from: old, to: new)
        var change = TextRevision(from: TextDigest(of: old), to: TextDigest(of: new), diff: diff)
        change.edits = Self.wordAligned(diff, old: Array(old.unicodeScalars), new: Array(new.unicodeScalars))
        self = change
    }

    /// The diff's replaced hunks, each widened to the words it touches.
    static func wordAligned(_ diff: TextDiff, old: [Unicode.Scalar], new: [Unicode.Scalar]) -> [TextEdit] {
        func isWord(_ s: Unicode.Scalar) -> Bool {
            s.properties.isAlphabetic || s.properties.numericType != nil || s.properties.generalCategory == .nonspacingMark
                || s.properties.generalCategory == .spacingMark
        }
        var edits: [(old: TextRange, new: TextRange)] = []
        for hunk in diff.hunks where hunk.kind == .replace {
            var (o, n) = (hunk.old, hunk.new)
            // Leftwards: the unchanged scalar before the edit is the same on both sides.
            let firstChanged = [o.length > 0 ? old[o.start] : nil, n.length > 0 ? new[n.start] : nil].compactMap { $0 }
            if o.start > 0, isWord(old[o.start - 1]), firstChanged.contains(where: isWord) {
                while o.start > 0, n.start > 0, isWord(old[o.start - 1]) {
                    o.start -= 1
                    n.start -= 1
                }
            }
            let lastChanged = [o.length > 0 ? old[o.end - 1] : nil, n.length > 0 ? new[n.end - 1] : nil].compactMap { $0 }
            if o.end < old.count, isWord(old[o.end]), lastChanged.contains(where: isWord) {
                while o.end < old.count, n.end < new.count, isWord(old[o.end]) {
                    o.end += 1
                    n.end += 1
                }
            }
            if let last = edits.last, o.start <= last.old.end {
                // Widened into the previous edit: one edit from its start to this one's end.
                edits[edits.count - 1] = (
                    TextRange(last.old.start, max(last.old.end, o.end)), TextRange(last.new.start, max(last.new.end, n.end))
                )
            } else {
                edits.append((o, n))
            }
        }
        return edits.map { TextEdit(old: $0.old, newLength: $0.new.length) }
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

    /// Checks the edits against the texts themselves: every stretch they leave unchanged is the
    /// same in both. O(length).
    public func verify(old: String, new: String) throws(ValidationError) {
        let (a, b) = (Array(old.unicodeScalars), Array(new.unicodeScalars))
        guard a.count == fromLength, b.count == toLength else {
            throw ValidationError(.invalidField, "the texts are not \(fromLength) and \(toLength) scalars long, as the revision says")
        }
        for hunk in diff().hunks where hunk.kind == .equal {
            guard a[hunk.old.start..<hunk.old.end] == b[hunk.new.start..<hunk.new.end] else {
                throw ValidationError(
                    .invalidField,
                    "the revision says the text at \(hunk.old) is unchanged (at \(hunk.new) in the new text), but it differs")
            }
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
        // Ranges outside the old text (a damaged store; the check never accepts them) have no
        // place to map from: flagged, with nothing proposed.
        guard annotation.ranges.allSatisfy({ $0.start >= 0 && $0.start <= $0.end && $0.end <= fromLength }) else {
            a.ranges = []
            if a.anchor == nil { a.anchor = TextAnchor(text: from, ranges: annotation.ranges) }
            return (a, true)
        }
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
