import Testing
@testable import GlossModel
import GlossTestSupport

/// Two annotators on one document: `alice` is the server side ("theirs"), `bob` makes
/// changesets against an older base ("mine").
struct MergeFixture {
    var head = HeadState()
    var alice = Minter("alice", replica: 10)
    var bob = Minter("bob", replica: 20)
    let doc: DocumentID = "d"
    var per: Annotation
    var org: Annotation

    init() throws {
        try head.apply(alice.documents(base: 0, [(doc, SampleTexts.short)]), as: 1)
        per = alice.span(doc, 0, 5, "PER")
        org = alice.span(doc, 14, 18, "ORG")
        try head.apply(alice.changeset(base: 1, [.create(per), .create(org)]), as: 2)
    }

    /// Alice commits ops as the next revision.
    mutating func theirs(_ ops: [Op]) throws {
        let outcome = try head.apply(alice.changeset(base: head.revision, ops), as: head.revision + 1)
        precondition(outcome.conflicts.isEmpty)
    }

    /// Bob's ops, made at revision 2, checked against the current head.
    func mine(_ ops: [Op], base: Int = 2) throws -> CheckOutcome {
        try AcceptanceCheck.check(bob.changeset(base: base, ops), against: head, as: head.revision + 1)
    }
}

@Test func differentFieldsOfOneAnnotationDoNotConflict() throws {
    var f = try MergeFixture()
    try f.theirs([.set(f.doc, f.per.id, .label, .string("ORG"))])
    let outcome = try f.mine([.set(f.doc, f.per.id, .ranges, .ranges([TextRange(0, 4)]))])
    #expect(outcome.conflicts.isEmpty)
    #expect(outcome.accepted.count == 1)
    #expect(outcome.entries[AnnotationKey(f.doc, f.per.id)]?.annotation.label == "ORG")
}

@Test func differentAnnotationsDoNotConflict() throws {
    var f = try MergeFixture()
    try f.theirs([.set(f.doc, f.per.id, .label, .string("LOC"))])
    #expect(try f.mine([.set(f.doc, f.org.id, .label, .string("LOC"))]).conflicts.isEmpty)
}

@Test func sameFieldDifferentValuesIsAFieldConflict() throws {
    var f = try MergeFixture()
    try f.theirs([.set(f.doc, f.per.id, .label, .string("LOC"))])
    let outcome = try f.mine([.set(f.doc, f.per.id, .label, .string("ORG"))])
    let conflict = try #require(outcome.conflicts.first)
    #expect(outcome.conflicts.count == 1)
    #expect(conflict.kind == .field(.label))
    #expect(conflict.mine == .string("ORG"))
    #expect(conflict.theirs == .string("LOC"))
    #expect(conflict.theirRevision == 3)
    #expect(conflict.annotation == f.per.id)
    #expect(outcome.accepted.isEmpty)
}

@Test func sameChangeOnBothSidesConverges() throws {
    var f = try MergeFixture()
    try f.theirs([.set(f.doc, f.per.id, .label, .string("LOC")), .delete(f.doc, f.org.id)])
    let outcome = try f.mine([.set(f.doc, f.per.id, .label, .string("LOC")), .delete(f.doc, f.org.id)])
    #expect(outcome.conflicts.isEmpty)
    #expect(outcome.accepted.isEmpty)  // nothing left to do
}

@Test func attributeEditsMergePerKey() throws {
    var f = try MergeFixture()
    try f.theirs([.set(f.doc, f.per.id, .attribute("a"), .string("1"))])
    #expect(try f.mine([.set(f.doc, f.per.id, .attribute("b"), .string("2"))]).conflicts.isEmpty)
    let clash = try f.mine([.set(f.doc, f.per.id, .attribute("a"), .none)])
    #expect(clash.conflicts.first?.kind == .field(.attribute("a")))
}

@Test func editAgainstDeleteAndDeleteAgainstEdit() throws {
    var f = try MergeFixture()
    try f.theirs([.delete(f.doc, f.per.id), .set(f.doc, f.org.id, .label, .string("LOC"))])
    let edit = try f.mine([.set(f.doc, f.per.id, .label, .string("ORG"))])
    #expect(edit.conflicts.map(\.kind) == [.editDelete])
    #expect(edit.conflicts.first?.theirState == f.per)
    let delete = try f.mine([.delete(f.doc, f.org.id)])
    #expect(delete.conflicts.map(\.kind) == [.deleteEdit])
}

@Test func relationToAnAnnotationTheyDeletedDangles() throws {
    var f = try MergeFixture()
    try f.theirs([.delete(f.doc, f.org.id)])
    let rel = f.bob.relation(f.doc, f.per.id, f.org.id, "works_for")
    let outcome = try f.mine([.create(rel), .set(f.doc, rel.id, .label, .string("employed_by"))])
    let conflict = try #require(outcome.conflicts.first)
    #expect(conflict.kind == .danglingReference)
    #expect(conflict.annotation == rel.id)
    #expect(conflict.reference == f.org.id)
    #expect(conflict.ops.count == 2)  // the later edit of the blocked relation joins the conflict
    #expect(outcome.accepted.isEmpty)
}

@Test func deletingWhatTheirNewRelationUsesDangles() throws {
    var f = try MergeFixture()
    let rel = f.alice.relation(f.doc, f.per.id, f.org.id, "works_for")
    try f.theirs([.create(rel)])
    let outcome = try f.mine([.delete(f.doc, f.org.id)])
    let conflict = try #require(outcome.conflicts.first)
    #expect(conflict.kind == .danglingReference)
    #expect(conflict.annotation == f.org.id)
    #expect(conflict.reference == rel.id)
    #expect(outcome.accepted.isEmpty)
    #expect(outcome.entries[AnnotationKey(f.doc, f.org.id)]?.isLive == true)
}

@Test func ownEarlierChangesAreNotConflicts() throws {
    var f = try MergeFixture()
    // Bob's first changeset lands as revision 3; his second, also made at base 2, edits the same field.
    let first = f.bob.changeset(base: 2, [.set(f.doc, f.per.id, .label, .string("LOC"))])
    try f.head.apply(first, as: 3)
    #expect(try f.mine([.set(f.doc, f.per.id, .label, .string("ORG"))]).conflicts.isEmpty)
}

@Test func resolvingFieldConflicts() throws {
    var f = try MergeFixture()
    try f.theirs([.set(f.doc, f.per.id, .label, .string("LOC"))])
    let conflict = try #require(try f.mine([.set(f.doc, f.per.id, .label, .string("ORG"))]).conflicts.first)
    #expect(try conflict.ops(resolving: .theirs) == [])
    #expect(try conflict.ops(resolving: .mine) == [.set(f.doc, f.per.id, .label, .string("ORG"))])
    #expect(try conflict.ops(resolving: .value(.string("PER"))) == [.set(f.doc, f.per.id, .label, .string("PER"))])

    // Resolved ops are rebased on the head and now pass.
    let resolved = try conflict.ops(resolving: .mine)
    let retry = try f.mine(resolved, base: f.head.revision)
    #expect(retry.conflicts.isEmpty)
    #expect(retry.entries[AnnotationKey(f.doc, f.per.id)]?.annotation.label == "ORG")
}

@Test func resolvingEditDeleteByMineRevivesTheAnnotation() throws {
    var f = try MergeFixture()
    try f.theirs([.delete(f.doc, f.per.id)])
    let conflict = try #require(try f.mine([.set(f.doc, f.per.id, .label, .string("ORG"))]).conflicts.first)
    let ops = try conflict.ops(resolving: .mine)
    var revived = f.per
    revived.label = "ORG"
    #expect(ops == [.create(revived)])
    #expect(try f.mine(ops, base: f.head.revision).conflicts.isEmpty)
    #expect(throws: ValidationError.self) { try conflict.ops(resolving: .value(.string("x"))) }
}

@Test func resolvingDanglingReferences() throws {
    var f = try MergeFixture()
    try f.theirs([.delete(f.doc, f.org.id)])
    let rel = f.bob.relation(f.doc, f.per.id, f.org.id, "works_for")
    let conflict = try #require(try f.mine([.create(rel)]).conflicts.first)
    // Mine: bring the endpoint back, then the relation.
    let mine = try conflict.ops(resolving: .mine)
    #expect(mine == [.create(f.org), .create(rel)])
    #expect(try f.mine(mine, base: f.head.revision).conflicts.isEmpty)
    // A value: point the relation elsewhere.
    let other = f.bob.span(f.doc, 22, 27, "ORG")
    try f.theirs([.create(other)])
    let moved = try conflict.ops(resolving: .value(.reference(other.id)))
    guard case .create(let movedRel) = moved.first else { Issue.record("expected a create"); return }
    #expect(movedRel.to == other.id)
}

@Test func rebaserKeepsPendingChangesetsInOrder() throws {
    var f = try MergeFixture()
    let span = f.bob.span(f.doc, 22, 27, "LOC")
    let first = f.bob.changeset(base: 2, [.create(span)])
    let second = f.bob.changeset(base: 2, [.set(f.doc, span.id, .label, .string("ORG")), .set(f.doc, f.per.id, .label, .string("X"))])
    try f.theirs([.set(f.doc, f.per.id, .label, .string("LOC"))])
    let result = try Rebaser.rebase([first, second], onto: f.head, at: f.head.revision)
    #expect(result.changesets.map(\.base) == [3, 3])
    #expect(result.changesets[0].ops == first.ops)
    // The second sees the first's span as its own past; the PER label clashes with alice's.
    #expect(result.changesets[1].ops == [.set(f.doc, span.id, .label, .string("ORG"))])
    #expect(result.conflicts[second.id]?.map(\.kind) == [.field(.label)])
    #expect(result.conflicts[first.id] == nil)
}

@Test func conflictIDsAreStable() throws {
    var f = try MergeFixture()
    try f.theirs([.set(f.doc, f.per.id, .label, .string("LOC"))])
    let a = try #require(try f.mine([.set(f.doc, f.per.id, .label, .string("ORG"))]).conflicts.first)
    let b = try #require(try f.mine([.set(f.doc, f.per.id, .label, .string("PER"))]).conflicts.first)
    #expect(a.id == b.id)
    #expect(a.id.count == 20)
}

@Test func diffOpsReachTheTargetState() throws {
    var m = Minter("m", replica: 3)
    let doc: DocumentID = "d"
    let base = Document(id: doc, text: SampleTexts.news)
    let a = m.span(doc, 0, 5, "PER"), b = m.span(doc, 6, 9, "ORG"), c = m.span(doc, 10, 12, "LOC")
    let rel = m.relation(doc, a.id, b.id, "r")
    var before = DocumentState(document: base, annotations: [a.id: a, b.id: b, rel.id: rel])
    var changedA = a
    changedA.label = "LOC"
    changedA.attributes = ["x": "1"]
    let rel2 = m.relation(doc, c.id, changedA.id, "s")
    let after = DocumentState(document: base, annotations: [changedA.id: changedA, c.id: c, rel2.id: rel2])
    let ops = before.ops(toReach: after)
    // b is deleted only after the relation pointing at it; rel2 is created after c.
    let deleteRel = ops.firstIndex(of: .delete(doc, rel.id))!, deleteB = ops.firstIndex(of: .delete(doc, b.id))!
    #expect(deleteRel < deleteB)
    #expect(ops.firstIndex(of: .create(c))! < ops.firstIndex(of: .create(rel2))!)
    for op in ops { try before.apply(op) }
    #expect(before == after)
    // And the acceptance check takes them as one changeset.
    var head = HeadState()
    try head.apply(m.documents(base: 0, [(doc, SampleTexts.news)]), as: 1)
    try head.apply(m.changeset(base: 1, [.create(a), .create(b), .create(rel)]), as: 2)
    #expect(try head.apply(m.changeset(base: 2, DocumentState(document: base, annotations: [a.id: a, b.id: b, rel.id: rel]).ops(toReach: after)), as: 3).conflicts.isEmpty)
    #expect(head.liveAnnotations(in: doc) == after.sortedAnnotations)
}

@Test func diffOpsCreateAReferrerOfAReferrerAfterIt() throws {
    // A note on a relation, minted by a replica whose ids sort before the relation's: a
    // one-level "referrers last" order would create the note first, and the check refuses it.
    var early = Minter("m", replica: 1), late = Minter("m", replica: 9)
    let doc: DocumentID = "d"
    let base = Document(id: doc, text: SampleTexts.news)
    let a = late.span(doc, 0, 5, "PER"), b = late.span(doc, 6, 9, "ORG")
    let rel = late.relation(doc, a.id, b.id, "r")
    let note = Annotation(
        id: early.nextID(), document: doc, kind: .note, layer: "m", owner: "m", target: rel.id, text: "why?")
    #expect(note.id < rel.id)
    let after = DocumentState(document: base, annotations: [a.id: a, b.id: b, rel.id: rel, note.id: note])
    let ops = DocumentState(document: base).ops(toReach: after)
    #expect(ops.firstIndex(of: .create(rel))! < ops.firstIndex(of: .create(note))!)
    var head = HeadState()
    try head.apply(late.documents(base: 0, [(doc, SampleTexts.news)]), as: 1)
    #expect(try head.apply(late.changeset(base: 1, ops), as: 2).conflicts.isEmpty)
    #expect(head.liveAnnotations(in: doc) == after.sortedAnnotations)
}
