import GlossModel
import GlossStore
import GlossTestSupport
import Testing

/// A text revision in a real store, on every backend: the new text stored once, the row and the
/// head re-anchored, every version reconstructible, the texts a pull needs, offline work on the
/// old text carried over by the store's own check, and a clean integrity check.
@Suite(.hangGuard, .timeLimit(.minutes(10)))
struct TextRevisionStoreTests {
    static let doc: DocumentID = "news/1"
    static let old = "Teh cat sat on the mat. Alice met Bob in Zurich."
    static let new = "A note. The cat sat on the mat. Alice met Bob in Zürich today."

    static func covered(_ text: String, _ a: Annotation) -> String {
        let scalars = Array(text.unicodeScalars)
        return a.ranges.map { String(String.UnicodeScalarView(scalars[$0.start..<$0.end])) }.joined(separator: " ")
    }

    @Test(arguments: StoreBackendKind.allCases)
    func aRevisedTextIsStoredReanchoredAndPulled(kind: StoreBackendKind) async throws {
        let dir = try TemporaryDirectory("text-revision")
        defer { dir.remove() }
        let store = try await kind.makeStore(in: dir, policy: SnapshotPolicy(maxChainLength: 2))
        var alice = Minter("alice", replica: 10)
        var bob = Minter("bob", replica: 20)
        #expect(try store.append(alice.documents(base: 0, [(Self.doc, Self.old)])) == .accepted(revision: 1))
        let cat = alice.span(Self.doc, 4, 7, "ANIMAL")
        let zurich = alice.span(Self.doc, 41, 47, "LOC")
        #expect(try store.append(alice.changeset(base: 1, [.create(cat), .create(zurich)])) == .accepted(revision: 2))

        let change = TextRevision(from: Self.old, to: Self.new)
        // Edits that lengthen the text at its start and call the rest unchanged add up, but lie:
        // the store, which has the old text, refuses them before anything moves.
        let growth = change.toLength - change.fromLength
        var lie = change
        lie.edits = [TextEdit(old: TextRange(0, 0), newLength: growth)]
        guard case .invalid(let refusal) = try store.append(alice.changeset(base: 2, [.reviseText(Self.doc, lie)], texts: [change.to: Self.new]))
        else {
            Issue.record("a revision whose edits do not match the texts was accepted")
            return
        }
        #expect(refusal.message.contains("unchanged"), "\(refusal)")
        let revise = alice.changeset(base: 2, [.reviseText(Self.doc, change)], texts: [change.to: Self.new])
        #expect(try store.append(revise) == .accepted(revision: 3))

        let entry = try #require(try store.document(Self.doc))
        #expect(entry.document.digest == TextDigest(of: Self.new))
        #expect(entry.document.length == Self.new.unicodeScalars.count)
        #expect(entry.textRevisedAt == 3)
        #expect(try store.text(change.to) == Self.new)
        #expect(try store.text(change.from) == Self.old)  // every version is kept

        let head = Dictionary(uniqueKeysWithValues: try store.headAnnotations(of: Self.doc).map { ($0.id, $0) })
        #expect(Self.covered(Self.new, head[cat.id]!) == "cat")
        #expect(head[cat.id]?.anchor == nil)
        #expect(head[zurich.id]?.anchor == TextAnchor(text: change.from, ranges: zurich.ranges))
        // The accent and the words added after it touch: one edit, proposed whole.
        #expect(Self.covered(Self.new, head[zurich.id]!) == "Zürich today")

        // History: the text and the annotations as they were, and as they are.
        let before = try store.reconstruct(Self.doc, at: 2)
        #expect(before.document?.digest == change.from)
        #expect(before.annotations[cat.id]?.ranges == cat.ranges)
        let after = try store.reconstruct(Self.doc, at: 3)
        #expect(after.sortedAnnotations == head.values.sorted { $0.id < $1.id })

        // A pull from before the revision gets the new text; a pull from the start gets both.
        #expect(try store.textsAdded(after: 2, through: 3) == [change.to])
        #expect(Set(try store.textsAdded(after: 0, through: 3)) == [change.from, change.to])

        // bob annotated the old text offline (base 2): the store carries his offsets over.
        let sat = bob.span(Self.doc, 8, 11, "VERB")
        let moved = bob.changeset(base: 2, [.create(sat), .set(Self.doc, cat.id, .label, .string("PET"))])
        #expect(try store.append(moved) == .accepted(revision: 4))
        let carried = try #require(try store.headAnnotations(of: Self.doc).first { $0.id == sat.id })
        #expect(Self.covered(Self.new, carried) == "sat")
        #expect(carried.anchor == nil)

        // A second revision of the old text, concurrent with the first, conflicts.
        let rival = TextRevision(from: Self.old, to: "Teh dog sat on the mat. Alice met Bob in Zurich.")
        let second = bob.changeset(
            base: 2, [.reviseText(Self.doc, rival)], texts: [rival.to: "Teh dog sat on the mat. Alice met Bob in Zurich."])
        guard case .conflicts(let conflicts) = try store.append(second) else {
            Issue.record("a concurrent revision of the same text was not a conflict")
            return
        }
        #expect(conflicts.map(\.kind) == [.textRevised])

        guard kind != .memory else { return }  // the in-memory backend has no audit reads
        let report = try store.checkIntegrity(corpus: "text")
        #expect(report.problems.isEmpty, "\(report.problems.prefix(3))")
    }
}
