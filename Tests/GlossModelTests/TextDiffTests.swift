import Testing
@testable import GlossModel
import GlossTestSupport

import Foundation

/// Checks shared by the diff and re-anchoring tests.
enum TextDiffCheck {
    /// The text of a scalar range.
    static func slice(_ text: String, _ range: TextRange) -> String {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: Array(text.unicodeScalars)[range.start..<range.end])
        return String(view)
    }

    /// The diff from `old` to `new`, after checking its shape: the hunks tile both texts, kinds
    /// alternate, equal hunks cover identical text, and nothing is empty on both sides.
    static func diff(_ old: String, _ new: String, limits: TextDiffLimits = .standard) -> TextDiff {
        let diff = TextDiff(from: old, to: new, limits: limits)
        #expect(problems(diff, old, new).isEmpty, "\(problems(diff, old, new).prefix(3))")
        return diff
    }

    static func problems(_ diff: TextDiff, _ old: String, _ new: String) -> [String] {
        let a = Array(old.unicodeScalars)
        let b = Array(new.unicodeScalars)
        var problems: [String] = []
        if diff.oldScalarCount != a.count || diff.newScalarCount != b.count { problems.append("wrong counts") }
        var x = 0
        var y = 0
        var previous: TextDiffHunk.Kind?
        for hunk in diff.hunks {
            if hunk.old.start != x || hunk.new.start != y { problems.append("\(hunk) does not follow on") }
            if hunk.kind == previous { problems.append("\(hunk) has the kind of the hunk before") }
            if hunk.old.length == 0, hunk.new.length == 0 { problems.append("\(hunk) is empty") }
            if hunk.kind == .equal {
                if hunk.old.length != hunk.new.length || a[hunk.old.start..<hunk.old.end] != b[hunk.new.start..<hunk.new.end] {
                    problems.append("\(hunk) is not equal text")
                }
            }
            previous = hunk.kind
            x = hunk.old.end
            y = hunk.new.end
        }
        if x != a.count || y != b.count { problems.append("hunks end at \(x), \(y)") }
        return problems
    }

    /// Whether a mapping is sound: a moved range covers the same text, a proposal is a
    /// non-empty range within the new text.
    static func isSound(_ mapping: TextDiff.RangeMapping, of range: TextRange, _ old: String, _ new: String) -> Bool {
        let newCount = new.unicodeScalars.count
        switch mapping {
        case .moved(let r):
            return r.start >= 0 && r.end <= newCount && slice(new, r) == slice(old, range)
        case .changed(let proposal?):
            return proposal.start >= 0 && proposal.start < proposal.end && proposal.end <= newCount
        case .changed(nil):
            return true
        }
    }

    /// The number of single-scalar insertions and deletions of a shortest edit script, by the
    /// textbook dynamic programme over the longest common subsequence.
    static func shortestEditLength(_ a: [UInt32], _ b: [UInt32]) -> Int {
        var row = [Int](repeating: 0, count: b.count + 1)
        for i in 0..<a.count {
            var diagonal = 0
            for j in 0..<b.count {
                let above = row[j + 1]
                row[j + 1] = a[i] == b[j] ? diagonal + 1 : max(row[j], above)
                diagonal = above
            }
        }
        return a.count + b.count - 2 * row[b.count]
    }
}

@Suite struct TextDiffTests {
    // MARK: - Unit cases

    @Test func identicalTextsAreOneEqualHunk() {
        let text = "The Federation of Soviet Republics"
        let diff = TextDiffCheck.diff(text, text)
        #expect(diff.hunks == [TextDiffHunk(.equal, old: TextRange(0, 34), new: TextRange(0, 34))])
        #expect(diff.isIdentity)
        #expect(diff.map(TextRange(4, 14)) == .moved(TextRange(4, 14)))
    }

    @Test func emptyTexts() {
        let none = TextDiffCheck.diff("", "")
        #expect(none.hunks.isEmpty && none.isIdentity)
        #expect(none.mapOffset(0) == 0)
        #expect(none.map(TextRange(0, 0)) == .moved(TextRange(0, 0)))

        let created = TextDiffCheck.diff("", "abc")
        #expect(created.hunks == [TextDiffHunk(.replace, old: TextRange(0, 0), new: TextRange(0, 3))])
        #expect(created.hunks[0].isInsertion)
        #expect(created.mapOffset(0, bias: .before) == 0)
        #expect(created.mapOffset(0, bias: .after) == 3)

        let emptied = TextDiffCheck.diff("abc", "")
        #expect(emptied.hunks == [TextDiffHunk(.replace, old: TextRange(0, 3), new: TextRange(0, 0))])
        #expect(emptied.hunks[0].isDeletion)
        #expect(emptied.map(TextRange(0, 3)) == .changed(proposed: nil))
        #expect(emptied.map(TextRange(1, 2)) == .changed(proposed: nil))
        #expect(emptied.mapOffset(1) == nil)
        #expect(emptied.mapOffset(0) == 0 && emptied.mapOffset(3) == 0)
    }

    @Test func insertionAtStartMiddleAndEnd() {
        let old = "alpha beta gamma"
        let alpha = TextRange(0, 5)
        let beta = TextRange(6, 10)
        let gamma = TextRange(11, 16)

        let atStart = TextDiffCheck.diff(old, ">> " + old)
        #expect(atStart.map(alpha) == .moved(TextRange(3, 8)))
        #expect(atStart.map(gamma) == .moved(TextRange(14, 19)))

        let inMiddle = TextDiffCheck.diff(old, "alpha beta delta gamma")
        #expect(inMiddle.map(alpha) == .moved(alpha))
        #expect(inMiddle.map(beta) == .moved(beta))
        #expect(inMiddle.map(gamma) == .moved(TextRange(17, 22)))
        // The phrase "beta gamma" now has a word inside it.
        #expect(inMiddle.map(TextRange(6, 16)) == .changed(proposed: TextRange(6, 22)))

        let atEnd = TextDiffCheck.diff(old, old + " <<")
        #expect(atEnd.map(gamma) == .moved(gamma))
        #expect(atEnd.map(TextRange(0, 16)) == .moved(TextRange(0, 16)))
    }

    @Test func insertionsExactlyAtARangesEdgesKeepItsText() {
        // "beta" gains text right before and right after it: what it covers is unchanged.
        let diff = TextDiffCheck.diff("alpha beta gamma", "alpha [beta] gamma")
        #expect(diff.map(TextRange(6, 10)) == .moved(TextRange(7, 11)))
        // A range that ends where the first insertion is, and one that starts at the second.
        #expect(diff.map(TextRange(0, 6)) == .moved(TextRange(0, 6)))
        #expect(diff.map(TextRange(10, 16)) == .moved(TextRange(12, 18)))
        // An insertion point on the edge goes after the inserted text unless told otherwise.
        #expect(diff.mapOffset(6) == 7)
        #expect(diff.mapOffset(6, bias: .before) == 6)
        #expect(diff.mapOffset(10, bias: .before) == 11)
        #expect(diff.mapOffset(10) == 12)
    }

    @Test func deletion() {
        let diff = TextDiffCheck.diff("alpha beta gamma", "alpha gamma")
        #expect(diff.hunks.map(\.kind) == [.equal, .replace, .equal])
        #expect(diff.map(TextRange(0, 5)) == .moved(TextRange(0, 5)))
        #expect(diff.map(TextRange(11, 16)) == .moved(TextRange(6, 11)))
        // "beta" vanished: nothing to propose.
        #expect(diff.map(TextRange(6, 10)) == .changed(proposed: nil))
        // Spanning the deletion: from where the start went to where the end went.
        #expect(diff.map(TextRange(0, 16)) == .changed(proposed: TextRange(0, 11)))
        #expect(diff.mapOffset(8) == nil)
    }

    @Test func replacement() {
        let diff = TextDiffCheck.diff("the river Moskva flows", "the river Volga flows")
        #expect(diff.map(TextRange(0, 9)) == .moved(TextRange(0, 9)))
        #expect(diff.map(TextRange(17, 22)) == .moved(TextRange(16, 21)))
        // The replaced word proposes its replacement.
        #expect(diff.map(TextRange(10, 16)) == .changed(proposed: TextRange(10, 15)))
        // A range ending inside the replacement widens to its end ("river Volg": the "a" is shared).
        #expect(diff.map(TextRange(4, 12)) == .changed(proposed: TextRange(4, 14)))
    }

    @Test func aTypoFixFlagsItsWordOnly() {
        let old = "the recieved letter"
        let new = "the received letter"
        let diff = TextDiffCheck.diff(old, new)
        #expect(diff.map(TextRange(0, 3)) == .moved(TextRange(0, 3)))
        #expect(diff.map(TextRange(13, 19)) == .moved(TextRange(13, 19)))
        // "ie" → "ei" is one replacement, and the word proposes itself, corrected.
        #expect(diff.map(TextRange(4, 12)) == .changed(proposed: TextRange(4, 12)))
        #expect(diff.hunks.filter { $0.kind == .replace }.count == 1)
    }

    @Test func nonBMPScalarsAndCombiningMarksCountAsScalars() {
        // 🧪 is one scalar (two UTF-16 units); "e\u{301}" is two scalars and one Character;
        // the flag is two scalars.
        let old = "🧪 café e\u{301}t\u{E9} 中文 🇫🇷 end"
        let new = "🧪🧪 café e\u{301}t\u{E9} 中国 🇫🇷 end"
        let diff = TextDiffCheck.diff(old, new)
        let oldScalars = Array(old.unicodeScalars)
        func range(of word: String, in text: String) -> TextRange {
            let scalars = Array(text.unicodeScalars)
            let target = Array(word.unicodeScalars)
            let start = (0...(scalars.count - target.count)).first { Array(scalars[$0..<($0 + target.count)]) == target }!
            return TextRange(start, start + target.count)
        }
        #expect(oldScalars.count == 21)
        let cafe = range(of: "café", in: old)
        let accented = range(of: "e\u{301}t\u{E9}", in: old)
        let flag = range(of: "🇫🇷", in: old)
        #expect(accented.length == 4 && flag.length == 2)
        #expect(diff.map(cafe) == .moved(range(of: "café", in: new)))
        #expect(diff.map(accented) == .moved(range(of: "e\u{301}t\u{E9}", in: new)))
        #expect(diff.map(flag) == .moved(range(of: "🇫🇷", in: new)))
        #expect(diff.map(range(of: "中文", in: old)) == .changed(proposed: range(of: "中国", in: new)))
        for hunk in diff.hunks where hunk.kind == .equal {
            #expect(TextDiffCheck.slice(old, hunk.old) == TextDiffCheck.slice(new, hunk.new))
        }

        // Removing only the combining accent changes the word it belongs to.
        let stripped = TextDiffCheck.diff("x e\u{301}t y", "x et y")
        #expect(stripped.map(TextRange(2, 5)) == .changed(proposed: TextRange(2, 4)))
        #expect(stripped.map(TextRange(6, 7)) == .moved(TextRange(5, 6)))
    }

    @Test func crlfToLFMovesEveryLinesWords() {
        let lines = (0..<300).map { "line \($0) of the document, with some words" }
        let old = lines.joined(separator: "\r\n") + "\r\n"
        let new = lines.joined(separator: "\n") + "\n"
        let diff = TextDiffCheck.diff(old, new)
        #expect(diff.hunks.filter { $0.kind == .replace }.count == 300)
        #expect(diff.hunks.allSatisfy { $0.kind == .equal || ($0.isDeletion && $0.old.length == 1) })
        var start = 0
        for (index, line) in lines.enumerated() {
            let length = line.unicodeScalars.count
            let newStart = start - index
            #expect(diff.map(TextRange(start, start + length)) == .moved(TextRange(newStart, newStart + length)))
            if index + 1 < lines.count {
                // A range over the line break (CR LF → LF) covers changed text.
                #expect(
                    diff.map(TextRange(start, start + length + 2))
                        == .changed(proposed: TextRange(newStart, newStart + length + 1)))
            }
            start += length + 2
        }
    }

    @Test func crlfToLFAcrossALargeTextPairsLinesByTheirVisibleText() {
        // Larger than a direct scalar diff: the engine pairs lines that differ in whitespace.
        var rng = SplitMix64(seed: 7)
        let words = ["alpha", "beta", "gamma", "delta", "\u{4E2D}\u{6587}", "caf\u{E9}", "🧪", "e\u{301}"]
        let lines = (0..<4000).map { n in (0..<(1 + rng.int(below: 9))).map { _ in rng.pick(words) }.joined(separator: " ") + " \(n)" }
        let old = lines.joined(separator: "\r\n")
        let new = lines.joined(separator: "\n")
        let diff = TextDiffCheck.diff(old, new)
        #expect(diff.hunks.filter { $0.kind == .replace }.count == lines.count - 1)
        #expect(diff.hunks.filter { $0.kind == .replace }.allSatisfy { $0.isDeletion && $0.old.length == 1 })
    }

    @Test func aDeletedParagraphIsCutAtItsEdgesNotOneWordLater() {
        // Deleting "The one.\n\n" before "The two." is the same script as deleting
        // "one.\n\nThe "; the first would be wrong for both "The"s.
        let old = "First.\n\nThe one.\n\nThe two.\n"
        let new = "First.\n\nThe two.\n"
        let diff = TextDiffCheck.diff(old, new)
        #expect(diff.hunks.filter { $0.kind == .replace } == [TextDiffHunk(.replace, old: TextRange(8, 18), new: TextRange(8, 8))])
        #expect(diff.map(TextRange(8, 11)) == .changed(proposed: nil))
        #expect(diff.map(TextRange(18, 21)) == .moved(TextRange(8, 11)))
        // And the other way round: the inserted paragraph is the inserted text, whole.
        let back = TextDiffCheck.diff(new, old)
        #expect(back.hunks.filter { $0.kind == .replace } == [TextDiffHunk(.replace, old: TextRange(8, 8), new: TextRange(8, 18))])
        #expect(back.map(TextRange(8, 11)) == .moved(TextRange(18, 21)))
    }

    @Test func aRewrittenSentenceIsOneReplacementNotScatteredLetters() {
        let old = "Before. The quick brown fox jumps over the lazy dog. After."
        let new = "Before. A slow red hen walks under the busy cat. After."
        let diff = TextDiffCheck.diff(old, new)
        #expect(diff.hunks.map(\.kind) == [.equal, .replace, .equal])
        // "the" survives the rewrite as letters, but is part of the replacement.
        let the = TextRange(39, 42)
        #expect(TextDiffCheck.slice(old, the) == "the")
        guard case .changed = diff.map(the) else {
            Issue.record("\"the\" inside a rewritten sentence moved")
            return
        }
        #expect(diff.map(TextRange(0, 7)) == .moved(TextRange(0, 7)))
        #expect(diff.map(TextRange(53, 59)) == .moved(TextRange(49, 55)))
    }

    @Test func theCleanupRule() {
        // Equal 2 between edits of weight 3 and 2: folded; equal 3 between weights 3 and 2: kept.
        var script = TextDiffScript()
        script.appendEqual(10)
        script.appendEdit(deleted: 3, inserted: 1)
        script.appendEqual(2)
        script.appendEdit(deleted: 0, inserted: 2)
        script.appendEqual(3)
        script.appendEdit(deleted: 1, inserted: 1)
        script.appendEqual(10)
        script.cleanUpSemantically()
        #expect(script.equal == [10, 3, 10])
        #expect(script.edits == [.init(deleted: 5, inserted: 5), .init(deleted: 1, inserted: 1)])

        // The fold cascades: merging two edits makes one heavy enough to fold the equality
        // before it, which the first pass had kept.
        var cascade = TextDiffScript()
        cascade.appendEdit(deleted: 3, inserted: 3)
        cascade.appendEqual(3)
        cascade.appendEdit(deleted: 1, inserted: 1)
        cascade.appendEqual(1)
        cascade.appendEdit(deleted: 1, inserted: 1)
        cascade.appendEqual(50)
        cascade.cleanUpSemantically()
        #expect(cascade.equal == [0, 50])
        #expect(cascade.edits == [.init(deleted: 9, inserted: 9)])

        // The leading and trailing equalities are never folded, however short.
        var ends = TextDiffScript()
        ends.appendEqual(1)
        ends.appendEdit(deleted: 9, inserted: 9)
        ends.appendEqual(1)
        ends.cleanUpSemantically()
        #expect(ends.equal == [1, 1])
    }

    @Test func multiRangeSpans() {
        let diff = TextDiffCheck.diff("alpha beta gamma delta", "alpha beta GAMMA delta!")
        #expect(diff.map([TextRange(0, 5), TextRange(17, 22)]) == .moved([TextRange(0, 5), TextRange(17, 22)]))
        #expect(
            diff.map([TextRange(0, 5), TextRange(11, 16)])
                == .changed(proposed: [TextRange(0, 5), TextRange(11, 16)]))
        let deleted = TextDiffCheck.diff("alpha beta gamma", "alpha gamma")
        #expect(deleted.map([TextRange(6, 10)]) == .changed(proposed: nil))
        #expect(deleted.map([TextRange(0, 5), TextRange(6, 10)]) == .changed(proposed: [TextRange(0, 5)]))
    }

    @Test func aDiffRebuiltFromItsHunksMapsTheSame() {
        let diff = TextDiffCheck.diff("alpha beta gamma delta", "alpha GAMMA gamma delta!")
        let rebuilt = TextDiff(hunks: diff.hunks, oldScalarCount: diff.oldScalarCount, newScalarCount: diff.newScalarCount)
        #expect(rebuilt == diff)
        for start in 0..<22 {
            for end in start...22 { #expect(rebuilt.map(TextRange(start, end)) == diff.map(TextRange(start, end))) }
        }
        #expect(TextDiff(hunks: [], oldScalarCount: 0, newScalarCount: 0).isIdentity)
    }

    // MARK: - The engine

    @Test func myersFindsAShortestScript() {
        var rng = SplitMix64(seed: 42)
        let alphabet: [UInt32] = [0x61, 0x62, 0x63, 0x20, 0x1F9EA]
        for _ in 0..<300 {
            let a = (0..<rng.int(below: 40)).map { _ in rng.pick(alphabet) }
            let b = (0..<rng.int(below: 40)).map { _ in rng.pick(alphabet) }
            var budget = Int.max / 2
            let blocks = a.withUnsafeBufferPointer { a in
                b.withUnsafeBufferPointer { b in TextDiffMyers.editBlocks(a, b, maxD: 1000, budget: &budget) }
            }
            guard let blocks else {
                Issue.record("Myers gave up on \(a) → \(b)")
                continue
            }
            let d = blocks.reduce(0) { $0 + $1.a.count + $1.b.count }
            #expect(d == TextDiffCheck.shortestEditLength(a, b))
            // Between and around the blocks, the elements are equal.
            var x = 0
            var y = 0
            for block in blocks {
                #expect(block.a.lowerBound - x == block.b.lowerBound - y)
                #expect(a[x..<block.a.lowerBound] == b[y..<block.b.lowerBound])
                x = block.a.upperBound
                y = block.b.upperBound
            }
            #expect(a[x...] == b[y...])
        }
    }

    @Test func hittingALimitReplacesTheBlockWhole() {
        let old = "one two three four five six seven"
        let new = "one TWO three FOUR five SIX seven"
        var tiny = TextDiffLimits.standard
        tiny.charMaxD = 1
        let diff = TextDiffCheck.diff(old, new, limits: tiny)
        // Prefix "one " and suffix " seven" are still found; everything between is replaced.
        #expect(diff.hunks.map(\.kind) == [.equal, .replace, .equal])
        #expect(diff.map(TextRange(8, 13)) == .changed(proposed: TextRange(4, 27)))
        #expect(diff.map(TextRange(0, 3)) == .moved(TextRange(0, 3)))

        var broke = TextDiffLimits.standard
        broke.totalBase = 0
        broke.totalPerElement = 0
        let starved = TextDiffCheck.diff(old, new, limits: broke)
        #expect(starved.hunks.map(\.kind) == [.equal, .replace, .equal])
        #expect(TextDiffCheck.diff(old, new).hunks.count == 7)
    }

    @Test func linesDifferingInWhitespaceArePairedThenDiffedExactly() {
        // They share a pairing key, but only their common scalars become equal hunks.
        let old = (0..<50).map { "word\($0) and\tmore" }.joined(separator: "\n")
        let new = (0..<50).map { "word\($0) and more" }.joined(separator: "\n")
        var small = TextDiffLimits.standard
        small.directBlock = 16
        let diff = TextDiffCheck.diff(old, new, limits: small)
        #expect(diff.hunks.filter { $0.kind == .replace }.count == 50)
    }

    // MARK: - Determinism

    @Test func theSameTextsGiveTheSameDiff() async throws {
        let old = try SharedData.federation()
        var new = old.replacingOccurrences(of: "republics", with: "Republics")
        new.insert(contentsOf: "A new paragraph.\n\n", at: new.index(new.startIndex, offsetBy: 200))
        let first = TextDiff(from: old, to: new)
        // Other diffs in between, and two more computed concurrently: nothing carries over.
        _ = TextDiff(from: new, to: old)
        _ = TextDiff(from: "abc", to: "abd")
        async let second = TextDiff(from: old, to: new)
        async let third = TextDiff(from: String(old), to: String(new))
        let (a, b) = await (second, third)
        #expect(first == a && first == b)
    }

    @Test func theAlgorithmIsPinned() {
        // Replicas on different builds must agree: this fixes the hunks of one small case, so
        // that a change to the algorithm is a deliberate one.
        let diff = TextDiff(from: "The cat sat on the mat.\nA dog.\n", to: "The cat sat on a hat.\nA big dog.\n")
        #expect(
            diff.hunks.map(\.description)
                == ["=0-15→0-15", "~15-20→15-18", "=20-26→18-24", "+26-26→24-28", "=26-31→28-33"])
    }
}
