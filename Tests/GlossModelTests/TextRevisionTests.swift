import GlossModel
import GlossTestSupport
import Testing

/// Text revisions in the pure core: the op, re-anchoring on apply and in the merge check, and
/// work made on the old text carried over to the new one (issue 14, points 2 and 3).
@Suite(.hangGuard, .timeLimit(.minutes(10)))
struct TextRevisionTests {
    static let doc: DocumentID = "news/1"
    static let old = "Teh cat sat on the mat. Alice met Bob in Zurich."
    //                0123456789012345678901234567890123456789012345678
    /// A sentence added before, a typo fixed, an accent, words added after: every offset moves.
    static let new = "A note. The cat sat on the mat. Alice met Bob in Zürich today."

    static func revision(from: String = old, to: String = new) -> TextRevision { TextRevision(from: from, to: to) }

    static func text(_ s: String, _ r: TextRange) -> String {
        String(String.UnicodeScalarView(Array(s.unicodeScalars)[r.start..<r.end]))
    }

    /// alice's spans on the old text: "Teh" (changed), "cat", "Alice", "Bob", "Zurich" (changed),
    /// "mat" and a relation.
    struct Fixture {
        var head = HeadState()
        var alice = Minter("alice", replica: 1)
        var bob = Minter("bob", replica: 2)
        var spans: [String: Annotation] = [:]
    }

    static func fixture() throws -> Fixture {
        var f = Fixture()
        try #require(try f.head.apply(f.alice.documents(base: 0, [(doc, old)]), as: 1).conflicts.isEmpty)
        var ops: [Op] = []
        for (word, start, end) in [("Teh", 0, 3), ("cat", 4, 7), ("mat", 19, 22), ("Alice", 24, 29), ("Bob", 34, 37), ("Zurich", 41, 47)] {
            let span = f.alice.span(doc, start, end, "X")
            #expect(text(old, span.ranges[0]) == word)
            f.spans[word] = span
            ops.append(.create(span))
        }
        ops.append(.create(f.alice.relation(doc, f.spans["Alice"]!.id, f.spans["Bob"]!.id, "meets")))
        try #require(try f.head.apply(f.alice.changeset(base: 1, ops), as: 2).conflicts.isEmpty)
        return f
    }

    static func revise(_ f: inout Fixture, base: Int = 2, as revision: Int = 3) throws -> CheckOutcome {
        let change = Self.revision()
        let cs = f.alice.changeset(base: base, [.reviseText(doc, change)], texts: [change.to: new])
        return try f.head.apply(cs, as: revision)
    }

    @Test func spansInUnchangedTextMoveAndOthersAreFlagged() throws {
        var f = try Self.fixture()
        let outcome = try Self.revise(&f)
        #expect(outcome.conflicts.isEmpty)
        let head = f.head
        func now(_ word: String) -> Annotation { head.entry(AnnotationKey(Self.doc, f.spans[word]!.id))!.annotation }
        for word in ["cat", "mat", "Alice", "Bob"] {
            #expect(now(word).anchor == nil, "\(word)")
            #expect(Self.text(Self.new, now(word).ranges[0]) == word, "\(word) keeps its covered text")
        }
        // "Teh" and "Zurich" covered changed text: a proposal, and where they were.
        for word in ["Teh", "Zurich"] {
            let a = now(word)
            #expect(a.anchor == TextAnchor(text: TextDigest(of: Self.old), ranges: f.spans[word]!.ranges), "\(word)")
        }
        // The typo is next to the added sentence: one replacement, proposed whole.
        #expect(Self.text(Self.new, now("Teh").ranges[0]) == "A note. The")
        // Edits are widened to whole words, so the accent and the word added after it are one.
        #expect(Self.text(Self.new, now("Zurich").ranges[0]) == "Zürich today")
        // A move is not an edit of the span; a flag is.
        let moved = head.entry(AnnotationKey(Self.doc, f.spans["Bob"]!.id))!
        #expect(moved.fieldRevisions[.ranges] == nil)
        #expect(head.entry(AnnotationKey(Self.doc, f.spans["Teh"]!.id))!.fieldRevisions[.anchor] == 3)
        #expect(head.document(Self.doc)?.document.digest == TextDigest(of: Self.new))
        #expect(head.document(Self.doc)?.textRevisedAt == 3)
    }

    @Test func applyingTheOpGivesTheStateTheCheckGives() throws {
        var f = try Self.fixture()
        var state = DocumentState(document: f.head.document(Self.doc)!.document)
        for a in f.head.liveAnnotations(in: Self.doc) { state.annotations[a.id] = a }
        _ = try Self.revise(&f)
        try state.apply(.reviseText(Self.doc, Self.revision()))
        #expect(state.document == f.head.document(Self.doc)?.document)
        #expect(state.sortedAnnotations == f.head.liveAnnotations(in: Self.doc))
        // Revising a text that is not the document's is refused.
        #expect(throws: ValidationError.self) { try state.apply(.reviseText(Self.doc, Self.revision())) }
    }

    @Test func textThatVanishedLeavesAFlaggedSpanWithoutRanges() throws {
        var f = try Self.fixture()
        let shorter = "Teh cat sat on the mat."
        let change = Self.revision(to: shorter)
        let cs = f.alice.changeset(base: 2, [.reviseText(Self.doc, change)], texts: [change.to: shorter])
        #expect(try f.head.apply(cs, as: 3).conflicts.isEmpty)
        let bob = f.head.entry(AnnotationKey(Self.doc, f.spans["Bob"]!.id))!.annotation
        #expect(bob.ranges.isEmpty)
        #expect(bob.anchor?.ranges == [TextRange(34, 37)])
        // The relation between two vanished spans stays: its arguments are there, flagged.
        #expect(f.head.liveAnnotations(in: Self.doc).contains { $0.kind == .relation })
    }

    @Test func workOnTheOldTextIsCarriedOver() throws {
        var f = try Self.fixture()
        _ = try Self.revise(&f)
        // bob annotated the old text (base 2) and never saw revision 3.
        let sat = f.bob.span(Self.doc, 8, 11, "VERB")  // "sat": unchanged, moves to 8-11
        let zur = f.bob.span(Self.doc, 41, 44, "LOC")  // "Zur": changed
        let cs = f.bob.changeset(
            base: 2,
            [
                .create(sat), .create(zur), .set(Self.doc, f.spans["Alice"]!.id, .ranges, .ranges([TextRange(24, 33)])),
                .set(Self.doc, f.spans["cat"]!.id, .label, .string("ANIMAL")),
            ])
        let outcome = try AcceptanceCheck.check(cs, against: f.head, as: 4)
        #expect(outcome.conflicts.isEmpty)
        guard case .create(let carried) = outcome.accepted[0], case .create(let flagged) = outcome.accepted[1] else {
            Issue.record("creates first: \(outcome.accepted)")
            return
        }
        #expect(Self.text(Self.new, carried.ranges[0]) == "sat")
        #expect(carried.anchor == nil)
        #expect(flagged.anchor == TextAnchor(text: TextDigest(of: Self.old), ranges: [TextRange(41, 44)]))
        // "Alice met" lies in unchanged text: the set moves with it, unflagged.
        #expect(outcome.accepted[2] == .set(Self.doc, f.spans["Alice"]!.id, .ranges, .ranges([TextRange(32, 41)])))
        #expect(Self.text(Self.new, TextRange(32, 41)) == "Alice met")
        #expect(outcome.accepted[3] == .set(Self.doc, f.spans["cat"]!.id, .label, .string("ANIMAL")))
        // The carried ops, checked again at the new base, pass unchanged: a rebase is stable.
        var rebased = cs
        rebased.base = 3
        rebased.ops = outcome.accepted
        #expect(try AcceptanceCheck.check(rebased, against: f.head, as: 4).accepted == outcome.accepted)
    }

    @Test func aSetOfRangesIntoChangedTextFlagsTheSpanFirst() throws {
        var f = try Self.fixture()
        _ = try Self.revise(&f)
        let bobID = f.spans["Bob"]!.id
        let cs = f.bob.changeset(base: 2, [.set(Self.doc, bobID, .ranges, .ranges([TextRange(41, 47)]))])
        let outcome = try AcceptanceCheck.check(cs, against: f.head, as: 4)
        #expect(outcome.conflicts.isEmpty)
        #expect(outcome.accepted.count == 2)
        guard case .set(_, _, .anchor, .anchor(let anchor)) = outcome.accepted[0] else {
            Issue.record("the anchor comes first: \(outcome.accepted)")
            return
        }
        #expect(anchor.ranges == [TextRange(41, 47)])
        // Each op on its own leaves a valid span: applying them one by one passes.
        var rebased = cs
        rebased.base = 3
        rebased.ops = outcome.accepted
        #expect(try f.head.apply(rebased, as: 4).conflicts.isEmpty)
    }

    /// Offsets past the old text, pushed from before a revision, are refused with a typed
    /// error naming the range: they are never mapped (the mapping would trap on them).
    @Test func offsetsOutsideTheOldTextAreRefused() throws {
        var f = try Self.fixture()
        _ = try Self.revise(&f)
        for ranges in [[TextRange(40, 60)], [TextRange(9, 3)], [TextRange(-2, 3)]] {
            var span = f.bob.span(Self.doc, 0, 1, "X")
            span.ranges = ranges
            let cs = f.bob.changeset(base: 2, [.create(span)])
            #expect(throws: ValidationError.self) { try AcceptanceCheck.check(cs, against: f.head, as: 4) }
            let set = f.bob.changeset(base: 2, [.set(Self.doc, f.spans["cat"]!.id, .ranges, .ranges(ranges))])
            #expect(throws: ValidationError.self) { try AcceptanceCheck.check(set, against: f.head, as: 4) }
        }
    }

    @Test func twoRevisionsOfOneTextConflict() throws {
        var f = try Self.fixture()
        _ = try Self.revise(&f)
        let other = Self.revision(to: "Teh dog sat on the mat. Alice met Bob in Zurich.")
        let cs = f.bob.changeset(base: 2, [.reviseText(Self.doc, other)], texts: [other.to: "Teh dog sat on the mat. Alice met Bob in Zurich."])
        let outcome = try AcceptanceCheck.check(cs, against: f.head, as: 4)
        #expect(outcome.conflicts.map(\.kind) == [.textRevised])
        #expect(outcome.conflicts.first?.theirRevision == 3)
        // Not concurrent (bob's base is after the revision): stale, refused.
        var late = cs
        late.base = 3
        #expect(throws: ValidationError.self) { try AcceptanceCheck.check(late, against: f.head, as: 4) }
    }

    @Test func aHeadWithoutTheRevisionsHoldsOldOffsetsBack() throws {
        var f = try Self.fixture()
        _ = try Self.revise(&f)
        let forgetful = ForgetfulHead(inner: f.head)
        let cs = f.bob.changeset(
            base: 2,
            [.create(f.bob.span(Self.doc, 8, 11, "VERB")), .set(Self.doc, f.spans["cat"]!.id, .label, .string("ANIMAL"))])
        let outcome = try AcceptanceCheck.check(cs, against: forgetful, as: 4)
        #expect(outcome.conflicts.map(\.kind) == [.textRevised])
        // What has no offsets goes through.
        #expect(outcome.accepted == [.set(Self.doc, f.spans["cat"]!.id, .label, .string("ANIMAL"))])
        // Two placements of one span are one conflict: the second joins the first.
        let twice = f.bob.changeset(
            base: 2,
            [
                .set(Self.doc, f.spans["cat"]!.id, .ranges, .ranges([TextRange(4, 6)])),
                .set(Self.doc, f.spans["cat"]!.id, .ranges, .ranges([TextRange(4, 7)])),
            ])
        let held = try AcceptanceCheck.check(twice, against: forgetful, as: 4)
        #expect(held.conflicts.count == 1)
        #expect(held.conflicts.first?.ops.count == 2)
    }

    @Test func theRevisionNeedsItsTextAndConsistentEdits() throws {
        var f = try Self.fixture()
        let change = Self.revision()
        let noText = f.alice.changeset(base: 2, [.reviseText(Self.doc, change)])
        #expect(throws: ValidationError.self) { try AcceptanceCheck.check(noText, against: f.head, as: 3) }
        var lying = change
        lying.toLength += 1
        let bad = f.alice.changeset(base: 2, [.reviseText(Self.doc, lying)], texts: [change.to: Self.new])
        #expect(throws: ValidationError.self) { try AcceptanceCheck.check(bad, against: f.head, as: 3) }
        // Only corpus owners revise texts.
        let rights = WriteRights(user: "bob", role: "annotator", ownLayersOnly: false)!
        let bobs = f.bob.changeset(base: 2, [.reviseText(Self.doc, change)], texts: [change.to: Self.new])
        #expect(try rights.check(bobs, head: { _ in nil }) != nil)
        _ = try Self.revise(&f)
    }

    @Test(arguments: [
        [TextEdit(old: TextRange(5, 3), newLength: 1)],  // inverted
        [TextEdit(old: TextRange(0, 60), newLength: 1)],  // past the text
        [TextEdit(old: TextRange(2, 2), newLength: 0)],  // changes nothing
        [TextEdit(old: TextRange(0, 2), newLength: 1), TextEdit(old: TextRange(2, 3), newLength: 1)],  // touching
        [TextEdit(old: TextRange(4, 6), newLength: 1), TextEdit(old: TextRange(0, 2), newLength: 1)],  // descending
    ])
    func badEditsAreRefused(_ edits: [TextEdit]) {
        let oldLength = Self.old.unicodeScalars.count
        let newLength = oldLength + edits.reduce(0) { $0 + $1.newLength - $1.old.length }
        let change = TextRevision(
            from: TextDigest(of: Self.old), fromLength: oldLength, to: TextDigest(of: "x"), toLength: newLength, edits: edits)
        #expect(throws: ValidationError.self) { try change.check() }
    }

    /// A letter added at the end of a word changes that word: the span over it is flagged, not
    /// left covering the first letters of the longer word. Words beside an edit stay untouched.
    @Test func editsAreWidenedToWholeWords() throws {
        let old = "the Federativ Congress met in Moskow today"
        let new = "the Federative Congress met in Moscow today"
        let change = TextRevision(from: old, to: new)
        #expect(change.edits == [TextEdit(old: TextRange(4, 13), newLength: 10), TextEdit(old: TextRange(30, 36), newLength: 6)])
        let diff = change.diff()
        let federativ = Annotation.span(AnnotationID(replica: ReplicaID(1), counter: 1), in: Self.doc, [TextRange(4, 13)], label: "X", owner: "a")
        let congress = Annotation.span(AnnotationID(replica: ReplicaID(1), counter: 2), in: Self.doc, [TextRange(14, 22)], label: "X", owner: "a")
        #expect(change.reanchor(federativ, through: diff).lost)
        let moved = change.reanchor(congress, through: diff)
        #expect(!moved.lost)
        #expect(Self.text(new, moved.annotation.ranges[0]) == "Congress")
        // A word inserted between words is not part of either.
        let inserted = TextRevision(from: "the Congress met", to: "the grand Congress met")
        #expect(inserted.edits == [TextEdit(old: TextRange(4, 4), newLength: 6)])
        var shortCongress = congress
        shortCongress.ranges = [TextRange(4, 12)]
        let carried = inserted.reanchor(shortCongress, through: inserted.diff())
        #expect(!carried.lost)
        #expect(carried.annotation.ranges == [TextRange(10, 18)])
        // Ranges past the old text (only a damaged store has them) are flagged, never trapped on.
        #expect(inserted.reanchor(congress, through: inserted.diff()).lost)
    }

    @Test func editsAreVerifiedAgainstTheTexts() throws {
        let change = Self.revision()
        try change.verify(old: Self.old, new: Self.new)
        var lie = change
        lie.edits = [TextEdit(old: TextRange(0, 0), newLength: change.toLength - change.fromLength)]
        try lie.check()  // the lengths add up …
        #expect(throws: ValidationError.self) { try lie.verify(old: Self.old, new: Self.new) }  // … the texts do not
    }

    @Test func theOpAndAnchorsSurviveTheCodec() throws {
        let change = Self.revision()
        var flagged = Annotation.span(
            AnnotationID(replica: ReplicaID(7), counter: 3), in: Self.doc, [], label: "X", owner: "alice")
        flagged.anchor = TextAnchor(text: change.from, ranges: [TextRange(41, 47)])
        let ops: [Op] = [
            .reviseText(Self.doc, change), .create(flagged),
            .set(Self.doc, flagged.id, .anchor, .anchor(TextAnchor(text: change.to, ranges: [TextRange(1, 2), TextRange(5, 9)]))),
            .set(Self.doc, flagged.id, .anchor, .none),
        ]
        let decoded = try DeltaCodec.decode(DeltaCodec.encode(ops, document: Self.doc))
        #expect(decoded.ops == ops)
        // A reader that does not know an op says to upgrade, not just "malformed".
        var bytes = DeltaCodec.encode([.removeDocument(Self.doc)], document: Self.doc)
        bytes[bytes.count - 1] = 9
        do {
            _ = try DeltaCodec.decode(bytes)
            Issue.record("an unknown op tag decoded")
        } catch {
            #expect(error.description.contains("upgrade gloss"), "\(error)")
        }
    }
}

/// A head that keeps no text revisions, as glossd's did before it could carry offsets over.
struct ForgetfulHead: HeadView {
    var inner: HeadState
    var schema: Schema { inner.schema }
    var schemaRevision: Int { inner.schemaRevision }
    func document(_ id: DocumentID) -> DocumentEntry? { inner.document(id) }
    func entry(_ key: AnnotationKey) -> HeadEntry? { inner.entry(key) }
    func referrers(of key: AnnotationKey) -> [AnnotationID] { inner.referrers(of: key) }
    func replica(ofRevision revision: Int) -> ReplicaID? { inner.replica(ofRevision: revision) }
}
