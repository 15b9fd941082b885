extension TextDiffScript {
    /// Moves each pure insertion and deletion, among the places it could equally be, to the one
    /// whose edges fall best on word, sentence, line and paragraph boundaries (diff-match-patch's
    /// cleanupSemanticLossless).
    ///
    /// Deleting "The one.\n\n" in front of "The two." is the same script as deleting "one.\n\nThe "
    /// one word later; Myers and the common-prefix trim both take the later one, which would move
    /// the first "The" onto the second and flag the second. Edges on boundaries keep every word
    /// either wholly inside the edit or wholly outside it. The text stays the same: only the
    /// split between the edit and the equal stretches around it changes.
    mutating func slideToBoundaries(old: UnsafeBufferPointer<UInt32>, new: UnsafeBufferPointer<UInt32>) {
        var oldPosition = equal[0]
        var newPosition = equal[0]
        for t in edits.indices {
            let edit = edits[t]
            if (edit.deleted == 0) != (edit.inserted == 0) {
                let isDeletion = edit.inserted == 0
                let text = isDeletion ? old : new
                let start = isDeletion ? oldPosition : newPosition
                let length = isDeletion ? edit.deleted : edit.inserted
                // Inner equal stretches keep at least one scalar, so edits never touch.
                let leftRoom = t == 0 ? equal[t] : equal[t] - 1
                let rightRoom = t + 1 == edits.count ? equal[t + 1] : equal[t + 1] - 1
                var leftmost = start
                while start - leftmost < leftRoom, text[leftmost - 1] == text[leftmost + length - 1] { leftmost -= 1 }
                var best = start
                var bestScore = -1
                var candidate = leftmost
                while true {
                    let score = Self.boundaryScore(text, candidate) + Self.boundaryScore(text, candidate + length)
                    // Ties go to the later place, as diff-match-patch does.
                    if score >= bestScore {
                        best = candidate
                        bestScore = score
                    }
                    guard candidate - start < rightRoom, text[candidate] == text[candidate + length] else { break }
                    candidate += 1
                }
                let shift = best - start
                equal[t] += shift
                equal[t + 1] -= shift
                oldPosition += shift
                newPosition += shift
            }
            oldPosition += edit.deleted + equal[t + 1]
            newPosition += edit.inserted + equal[t + 1]
        }
    }

    /// Gives back to the equal stretches around each replacement the scalars its two sides
    /// share at their start and at their end (diff-match-patch's cleanupMerge).
    ///
    /// The fold can leave a replacement such as "combination … soil.\n\nThe init" → "init"
    /// after a deleted paragraph that Myers matched letter by letter into the next one; its
    /// common end turns it back into a pure deletion, which ``slideToBoundaries(old:new:)`` can
    /// then put on the paragraph's edges. Equal stretches only grow and edits only shrink, so no
    /// equality becomes foldable.
    mutating func factorCommonAffixes(old: UnsafeBufferPointer<UInt32>, new: UnsafeBufferPointer<UInt32>) {
        var keptEqual: [Int] = [equal[0]]
        var keptEdits: [Edit] = []
        var oldPosition = equal[0]
        var newPosition = equal[0]
        for t in edits.indices {
            var edit = edits[t]
            var prefix = 0
            while prefix < edit.deleted, prefix < edit.inserted, old[oldPosition + prefix] == new[newPosition + prefix] {
                prefix += 1
            }
            var suffix = 0
            while suffix < edit.deleted - prefix, suffix < edit.inserted - prefix,
                old[oldPosition + edit.deleted - 1 - suffix] == new[newPosition + edit.inserted - 1 - suffix]
            {
                suffix += 1
            }
            oldPosition += edit.deleted + equal[t + 1]
            newPosition += edit.inserted + equal[t + 1]
            edit.deleted -= prefix + suffix
            edit.inserted -= prefix + suffix
            keptEqual[keptEqual.count - 1] += prefix
            if edit.deleted == 0, edit.inserted == 0 {
                // Nothing left of it: its two equal neighbours become one.
                keptEqual[keptEqual.count - 1] += suffix + equal[t + 1]
            } else {
                keptEdits.append(edit)
                keptEqual.append(suffix + equal[t + 1])
            }
        }
        equal = keptEqual
        edits = keptEdits
    }

    /// How good a place for an edit's edge the offset `i` of `text` is, from 6 (the text's edge)
    /// through blank line, line break, end of sentence, whitespace and punctuation down to 0
    /// (inside a word). diff-match-patch's scores, on a fixed classification of scalars.
    static func boundaryScore(_ text: UnsafeBufferPointer<UInt32>, _ i: Int) -> Int {
        guard i > 0, i < text.count else { return 6 }
        let before = text[i - 1]
        let after = text[i]
        let punctuationBefore = !isWordScalar(before)
        let punctuationAfter = !isWordScalar(after)
        let spaceBefore = punctuationBefore && isSpace(before)
        let spaceAfter = punctuationAfter && isSpace(after)
        let breakBefore = before == 0x0A || before == 0x0D
        let breakAfter = after == 0x0A || after == 0x0D
        if breakBefore, before == 0x0A, i >= 2,
            text[i - 2] == 0x0A || (text[i - 2] == 0x0D && i >= 3 && text[i - 3] == 0x0A)
        {
            return 5
        }
        if breakAfter, startsBlankLine(text, i) { return 5 }
        if breakBefore || breakAfter { return 4 }
        if punctuationBefore, !spaceBefore, spaceAfter { return 3 }
        if spaceBefore || spaceAfter { return 2 }
        if punctuationBefore || punctuationAfter { return 1 }
        return 0
    }

    private static func startsBlankLine(_ text: UnsafeBufferPointer<UInt32>, _ i: Int) -> Bool {
        // \r?\n\r?\n from i.
        var j = i
        for _ in 0..<2 {
            if j < text.count, text[j] == 0x0D { j += 1 }
            guard j < text.count, text[j] == 0x0A else { return false }
            j += 1
        }
        return true
    }

    private static func isSpace(_ scalar: UInt32) -> Bool {
        switch scalar {
        case 0x09...0x0D, 0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000: true
        default: false
        }
    }

    /// Letters, digits and marks, by a fixed rule rather than the runtime's Unicode tables (the
    /// diff must not depend on the toolchain): ASCII letters and digits, and everything from
    /// U+00C0 up except spaces and the general, CJK and fullwidth punctuation blocks.
    private static func isWordScalar(_ scalar: UInt32) -> Bool {
        switch scalar {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: true
        case 0..<0xC0, 0x2000...0x206F, 0x2E00...0x2E7F, 0x3000...0x303F, 0xFE30...0xFE4F, 0xFF00...0xFF0F,
            0xFF1A...0xFF20:
            false
        default: !isSpace(scalar)
        }
    }
}
