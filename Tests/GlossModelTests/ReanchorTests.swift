import Testing
@testable import GlossModel
import GlossTestSupport

/// Re-anchoring annotations through a ``TextDiff``: annotations in untouched text keep their
/// covered text exactly; each one in changed text is flagged, never moved to different words.
@Suite struct ReanchorTests {
    /// One edit of a scalar array: `old[range]` becomes `replacement`.
    struct Edit {
        var range: Range<Int>
        var replacement: [Unicode.Scalar]
    }

    /// Applies edits (sorted, not overlapping) and returns the new scalars.
    static func apply(_ edits: [Edit], to old: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var new: [Unicode.Scalar] = []
        var x = 0
        for edit in edits {
            new += old[x..<edit.range.lowerBound]
            new += edit.replacement
            x = edit.range.upperBound
        }
        new += old[x...]
        return new
    }

    /// Where an old offset outside every edit ends up: shifted by the edits before it.
    static func shifted(_ offset: Int, by edits: [Edit]) -> Int {
        edits.reduce(offset) { $1.range.upperBound <= offset ? $0 + $1.replacement.count - $1.range.count : $0 }
    }

    static func string(_ scalars: [Unicode.Scalar]) -> String {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars)
        return String(view)
    }

    /// Maximal runs of scalars that are not spaces or line breaks.
    static func words(_ scalars: [Unicode.Scalar]) -> [TextRange] {
        var words: [TextRange] = []
        var start: Int?
        for (i, s) in scalars.enumerated() {
            let blank = s == " " || s == "\n" || s == "\r"
            if blank, let begin = start {
                words.append(TextRange(begin, i))
                start = nil
            } else if !blank, start == nil {
                start = i
            }
        }
        if let begin = start { words.append(TextRange(begin, scalars.count)) }
        return words
    }

    static func find(_ needle: String, in scalars: [Unicode.Scalar]) -> Range<Int> {
        let target = Array(needle.unicodeScalars)
        let start = (0...(scalars.count - target.count)).first { Array(scalars[$0..<($0 + target.count)]) == target }
        return start.map { $0..<($0 + target.count) } ?? 0..<0
    }

    // MARK: - The sample document

    /// The sample document revised: a paragraph inserted before the fourth paragraph, one
    /// deleted, one sentence rewritten, and typo fixes in every 13th long word away from those
    /// (a letter replaced, added or removed in turn).
    struct SampleRevision {
        var old: [Unicode.Scalar]
        var edits: [Edit]
        var typoWords: [TextRange]
        var deletedParagraph: Range<Int>
    }

    static func sampleRevision() throws -> SampleRevision {
        let old = Array(try SharedData.federation().unicodeScalars)
        let inserted = find("The alliance of the independent", in: old).lowerBound
        let paragraphStart = find("The combination of all these factors", in: old).lowerBound
        let deletedParagraph = paragraphStart..<(old[paragraphStart...].firstIndex(of: "\n")! + 2)
        let sentence = find(
            "At Genoa [April 10-May 19, 1922] and at The Hague [June 15-July 19, 1922] the *diplomatic united front* of the Soviet republics acted as a counterforce to the diplomatic pressure of capitalism.",
            in: old)
        #expect(inserted > 0 && paragraphStart > 0 && !sentence.isEmpty)
        var edits = [
            Edit(
                range: inserted..<inserted,
                replacement: Array("An inserted paragraph, written for the second revision of the text.\n\n".unicodeScalars)),
            Edit(range: deletedParagraph, replacement: []),
            Edit(
                range: sentence,
                replacement: Array(
                    "Later conferences saw the same republics speak with one voice against pressure from abroad."
                        .unicodeScalars)),
        ]
        let avoid = [
            (inserted - 2)..<(inserted + 2), (deletedParagraph.lowerBound - 2)..<(deletedParagraph.upperBound + 2),
            (sentence.lowerBound - 2)..<(sentence.upperBound + 2),
        ]
        var typoWords: [TextRange] = []
        for (index, word) in words(old).enumerated() where index % 13 == 5 && word.length >= 5 {
            let letters = old[word.start..<word.end]
            guard letters.allSatisfy({ $0.properties.isAlphabetic }),
                !avoid.contains(where: { $0.overlaps(word.start..<word.end) })
            else { continue }
            let at = word.start + 2
            let replacement: Unicode.Scalar = old[at] == "x" ? "y" : "x"
            switch typoWords.count % 3 {
            case 0: edits.append(Edit(range: at..<(at + 1), replacement: [replacement]))
            case 1: edits.append(Edit(range: at..<at, replacement: [replacement]))
            default: edits.append(Edit(range: at..<(at + 1), replacement: []))
            }
            typoWords.append(word)
        }
        edits.sort { $0.range.lowerBound < $1.range.lowerBound }
        return SampleRevision(old: old, edits: edits, typoWords: typoWords, deletedParagraph: deletedParagraph)
    }

    @Test func everyWordOfTheSampleDocument() throws {
        let revision = try Self.sampleRevision()
        let old = revision.old
        let edits = revision.edits
        let typoWords = revision.typoWords
        let deletedParagraph = revision.deletedParagraph
        let oldText = Self.string(old)
        let words = Self.words(old)
        #expect(words.count > 1000)
        #expect(typoWords.count >= 20)
        let new = Self.apply(edits, to: old)
        let newText = Self.string(new)
        let diff = TextDiffCheck.diff(oldText, newText)
        let newWords = Self.words(new)

        var moved = 0
        var flagged = 0
        for word in words {
            let touched = edits.contains { edit in
                edit.range.isEmpty
                    ? word.start < edit.range.lowerBound && edit.range.lowerBound < word.end
                    : edit.range.overlaps(word.start..<word.end)
            }
            let mapping = diff.map(word)
            #expect(TextDiffCheck.isSound(mapping, of: word, oldText, newText))
            if touched {
                flagged += 1
                guard case .changed(let proposal) = mapping else {
                    Issue.record("\(TextDiffCheck.slice(oldText, word)) at \(word) was touched by an edit but moved")
                    continue
                }
                if deletedParagraph.lowerBound <= word.start, word.end <= deletedParagraph.upperBound {
                    #expect(proposal == nil)
                } else if typoWords.contains(word) {
                    // The proposal is the corrected word.
                    let start = Self.shifted(word.start, by: edits)
                    #expect(proposal == newWords.first { $0.start == start }, "\(TextDiffCheck.slice(oldText, word))")
                }
            } else {
                moved += 1
                let start = Self.shifted(word.start, by: edits)
                #expect(
                    mapping == .moved(TextRange(start, start + word.length)),
                    "\(TextDiffCheck.slice(oldText, word)) at \(word)")
            }
        }
        #expect(moved > 900 && flagged > 50)

        // Two-word annotations: moved exactly when neither word nor the space between was touched.
        for (first, second) in zip(words, words.dropFirst()) {
            let span = TextRange(first.start, second.end)
            let mapping = diff.map(span)
            #expect(TextDiffCheck.isSound(mapping, of: span, oldText, newText))
            let touched = edits.contains { edit in
                edit.range.isEmpty
                    ? span.start < edit.range.lowerBound && edit.range.lowerBound < span.end
                    : edit.range.overlaps(span.start..<span.end)
            }
            if touched {
                if case .moved = mapping { Issue.record("the words at \(span) were touched but moved") }
            } else {
                let start = Self.shifted(span.start, by: edits)
                #expect(mapping == .moved(TextRange(start, start + span.length)))
            }
        }
    }

    // MARK: - Seeded properties

    /// Scalars of every width, combining marks, CR and LF among letters.
    static let alphabet: [Unicode.Scalar] = Array(
        "abcdefghiklmnoprstuvwy  \n\r\u{E9}\u{301}\u{4E2D}\u{6587}🧪🇫\u{0416}".unicodeScalars)

    static func randomScalars(_ count: Int, using rng: inout SplitMix64) -> [Unicode.Scalar] {
        (0..<count).map { _ in rng.pick(alphabet) }
    }

    /// What is guaranteed, and why the numbers:
    ///
    /// - Always: the hunks tile both texts and equal hunks cover equal text; a moved range
    ///   covers exactly the text it covered; a proposal is a non-empty range within the new text.
    /// - Each generator edit deletes and inserts at most `maxEdit` scalars, so its weight in
    ///   the cleanup is at most `maxEdit`; edits are at least `minGap` apart and `minGap >
    ///   maxEdit + 2 × margin`, so the unchanged text between two edits stays longer than the
    ///   edits around it and the cleanup never folds it. The generator also makes sure that an
    ///   edit cannot slide (its text neither starts like what follows it nor ends like what
    ///   precedes it), so the only freedom left to Myers is a coincidental match of a few
    ///   scalars at an edit's edge. Hence: a range at least `margin` scalars away from every
    ///   edit is moved, to exactly where the generator put it.
    /// - A range with an edit strictly inside it is flagged.
    @Test(arguments: 0..<8)
    func randomTextsAndEdits(seed: UInt64) {
        let maxEdit = 6
        let margin = 4
        let minGap = 20
        var rng = SplitMix64(seed: 0x7E47_D1FF + seed)
        for _ in 0..<60 {
            let old = Self.randomScalars(20 + rng.int(below: 1500), using: &rng)
            var edits: [Edit] = []
            var position = rng.int(below: minGap)
            while position < old.count {
                let deleted = min(rng.int(below: maxEdit + 1), old.count - position)
                var replacement = Self.randomScalars(rng.int(below: maxEdit + 1), using: &rng)
                if deleted == 0, replacement.isEmpty { replacement = [rng.pick(Self.alphabet)] }
                let range = position..<(position + deleted)
                let removed = Array(old[range])
                // No slide: the changed text must differ from its neighbours at both edges.
                let before = position > 0 ? old[position - 1] : nil
                let after = range.upperBound < old.count ? old[range.upperBound] : nil
                let slides =
                    (replacement.first != nil && replacement.first == after)
                    || (replacement.last != nil && replacement.last == before)
                    || (removed.first != nil && removed.first == after)
                    || (removed.last != nil && removed.last == before)
                    || removed == replacement
                if !slides { edits.append(Edit(range: range, replacement: replacement)) }
                position = range.upperBound + minGap + rng.int(below: 60)
            }
            let new = Self.apply(edits, to: old)
            let oldText = Self.string(old)
            let newText = Self.string(new)
            let diff = TextDiffCheck.diff(oldText, newText)

            for _ in 0..<150 {
                let start = rng.int(below: old.count)
                let end = min(old.count, start + 1 + rng.int(below: 14))
                let range = TextRange(start, end)
                let mapping = diff.map(range)
                #expect(TextDiffCheck.isSound(mapping, of: range, oldText, newText))
                let far = edits.allSatisfy { edit in
                    range.end + margin <= edit.range.lowerBound || edit.range.upperBound + margin <= range.start
                }
                let cut = edits.contains { edit in
                    range.start < edit.range.lowerBound && edit.range.upperBound < range.end
                }
                if far {
                    let moved = Self.shifted(start, by: edits)
                    #expect(mapping == .moved(TextRange(moved, moved + range.length)), "seed \(seed): \(range)")
                } else if cut, case .moved = mapping {
                    Issue.record("seed \(seed): \(range) has an edit inside it but moved")
                }
            }
        }
    }

    /// Anything at all may happen to the text: only soundness is promised.
    @Test func arbitraryRewritesStaySound() {
        var rng = SplitMix64(seed: 99)
        for round in 0..<150 {
            let old = Self.randomScalars(rng.int(below: 400), using: &rng)
            var new = old
            for _ in 0..<rng.int(below: 12) {
                let at = rng.int(below: new.count + 1)
                let cut = min(new.count - at, rng.int(below: 30))
                new.replaceSubrange(at..<(at + cut), with: Self.randomScalars(rng.int(below: 30), using: &rng))
            }
            if round % 10 == 0 { new = Self.randomScalars(rng.int(below: 400), using: &rng) }
            let oldText = Self.string(old)
            let newText = Self.string(new)
            var limits = TextDiffLimits.standard
            if round % 3 == 0 {
                limits.charMaxD = 1 + rng.int(below: 20)
                limits.directBlock = rng.int(below: 64)
            }
            let diff = TextDiffCheck.diff(oldText, newText, limits: limits)
            var lastMoved = -1
            for start in stride(from: 0, to: old.count, by: 3) {
                let range = TextRange(start, min(old.count, start + 1 + rng.int(below: 8)))
                let mapping = diff.map(range)
                #expect(TextDiffCheck.isSound(mapping, of: range, oldText, newText))
                if case .moved(let r) = mapping {
                    // Order is kept: moved ranges never cross.
                    #expect(r.start >= lastMoved)
                    lastMoved = r.start
                }
            }
            for offset in 0...old.count {
                if let mapped = diff.mapOffset(offset) { #expect(mapped >= 0 && mapped <= new.count) }
            }
        }
    }
}
