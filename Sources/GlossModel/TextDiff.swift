/// What changed between two versions of a document's text, as a code-point diff: the basis for
/// re-anchoring annotations when the text is revised.
///
/// The diff runs over Unicode scalars (Gloss's offset unit: a CRLF is two, an emoji one, `e` and
/// a combining accent two), never over grapheme clusters or UTF-16. It is deterministic: the
/// hunks depend only on the two texts, so replicas that compute it independently agree.
///
/// How it is computed (see ``TextDiffEngine``): common prefix and suffix; lines aligned by
/// patience diff; each changed block of lines diffed scalar by scalar with a bounded Myers
/// (lines differing only in whitespace are paired first in large blocks); where a bound is hit
/// the block counts as replaced. Each pure insertion or deletion that could equally sit a few
/// scalars earlier or later is slid to where its edges fall on word, line or paragraph
/// boundaries. Then a semantic cleanup folds every short equality into the
/// edits around it: an equality is kept only if it is longer than the edit before it or longer
/// than the edit after it (an edit's length being the longer of its deleted and inserted
/// sides), to a fixed point. So a word that a rewrite happens to share with the old sentence is
/// part of the replacement, not an unchanged stretch.
///
/// Every bound and every doubt errs towards "replaced": an annotation is flagged rather than
/// moved, never moved to different words.
public struct TextDiff: Hashable, Sendable {
    /// The hunks in order. They tile both texts: each starts where the previous one ended, on
    /// both sides. Two neighbours never have the same kind; no hunk is empty on both sides.
    public let hunks: [TextDiffHunk]
    /// The length of the old text, in Unicode scalars.
    public let oldScalarCount: Int
    /// The length of the new text, in Unicode scalars.
    public let newScalarCount: Int

    /// The diff from `old` to `new`. On a 10 MB document it takes about a tenth of a second for
    /// a few edits and about a second when every line changes (BENCHMARKS.md, `gloss-text-bench`).
    public init(from old: String, to new: String) {
        self.init(from: old, to: new, limits: .standard)
    }

    /// A diff rebuilt from its hunks, for instance from the edits a text revision records: the
    /// mapping needs only where the hunks are, not the texts.
    ///
    /// - Precondition: the hunks tile `0..<oldScalarCount` and `0..<newScalarCount` in order,
    ///   neighbours differ in kind, none is empty on both sides, and equal hunks have the same
    ///   length on both sides (what ``hunks`` promises).
    public init(hunks: [TextDiffHunk], oldScalarCount: Int, newScalarCount: Int) {
        var old = 0
        var new = 0
        var previous: TextDiffHunk.Kind?
        for hunk in hunks {
            precondition(
                hunk.old.start == old && hunk.new.start == new && hunk.old.end >= old && hunk.new.end >= new
                    && hunk.kind != previous && (hunk.old.length > 0 || hunk.new.length > 0)
                    && (hunk.kind == .replace || hunk.old.length == hunk.new.length),
                "hunk \(hunk) does not follow on from \(old), \(new) as a diff's hunks must")
            old = hunk.old.end
            new = hunk.new.end
            previous = hunk.kind
        }
        precondition(old == oldScalarCount && new == newScalarCount, "the hunks end at \(old), \(new), not at the texts' ends")
        self.hunks = hunks
        self.oldScalarCount = oldScalarCount
        self.newScalarCount = newScalarCount
    }

    init(from old: String, to new: String, limits: TextDiffLimits) {
        self.init(old: Self.scalarValues(old), new: Self.scalarValues(new), limits: limits)
    }

    init(old: [UInt32], new: [UInt32], limits: TextDiffLimits) {
        var script = TextDiffEngine.script(old: old, new: new, limits: limits)
        old.withUnsafeBufferPointer { old in
            new.withUnsafeBufferPointer { new in
                script.slideToBoundaries(old: old, new: new)
                script.cleanUpSemantically()
                // The fold can leave replacements whose two sides share their ends; given back,
                // they may leave pure edits to slide, and the slid equal stretches are folded
                // once more by the same rule.
                script.factorCommonAffixes(old: old, new: new)
                script.slideToBoundaries(old: old, new: new)
                script.cleanUpSemantically()
            }
        }
        hunks = script.hunks()
        oldScalarCount = old.count
        newScalarCount = new.count
    }

    /// Whether the texts are identical.
    public var isIdentity: Bool { hunks.allSatisfy { $0.kind == .equal } }

    /// The scalar values of a string, decoded straight from its UTF-8.
    static func scalarValues(_ text: String) -> [UInt32] {
        var text = text
        return text.withUTF8 { bytes in
            // A text has at most as many scalars as bytes: fill a buffer of that size, then say
            // how much was used. Swift strings are valid UTF-8, so each lead byte gives the
            // length of its sequence.
            [UInt32](unsafeUninitializedCapacity: bytes.count) { values, count in
                var i = 0
                var n = 0
                while i < bytes.count {
                    let lead = UInt32(bytes[i])
                    if lead < 0x80 {
                        values[n] = lead
                        i += 1
                    } else if lead < 0xE0 {
                        values[n] = (lead & 0x1F) << 6 | UInt32(bytes[i + 1] & 0x3F)
                        i += 2
                    } else if lead < 0xF0 {
                        values[n] = (lead & 0x0F) << 12 | UInt32(bytes[i + 1] & 0x3F) << 6 | UInt32(bytes[i + 2] & 0x3F)
                        i += 3
                    } else {
                        values[n] =
                            (lead & 0x07) << 18 | UInt32(bytes[i + 1] & 0x3F) << 12 | UInt32(bytes[i + 2] & 0x3F) << 6
                            | UInt32(bytes[i + 3] & 0x3F)
                        i += 4
                    }
                    n += 1
                }
                count = n
            }
        }
    }

    /// The index of the hunk whose old side holds the scalar at `offset` (`0..<oldScalarCount`),
    /// by binary search.
    func hunkIndex(containingOld offset: Int) -> Int {
        // The last hunk starting at or before `offset`: an insertion starting there is followed
        // by the hunk that holds the scalar, which starts there too.
        var low = 0
        var high = hunks.count
        while low < high {
            let middle = (low + high) >> 1
            if hunks[middle].old.start <= offset { low = middle + 1 } else { high = middle }
        }
        return low - 1
    }
}
