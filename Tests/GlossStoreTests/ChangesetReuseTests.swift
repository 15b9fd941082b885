import GlossModel
import GlossStore
import GlossTestSupport
import Testing

/// A changeset id names one changeset for ever (issue 13, point 4): pushed again with the same
/// content it is an honest retry, answered `duplicate`; with other content (other ops, another
/// author) it is refused `changeset-id-reused`, and nothing is stored. On every backend, and
/// through both ways in (a decoded changeset, and the encoded one a push carries).
@Suite(.hangGuard, .timeLimit(.minutes(10)))
struct ChangesetReuseTests {
    @Test(arguments: StoreBackendKind.allCases)
    func aRetryIsADuplicateAndAReuseWithOtherContentIsRefused(kind: StoreBackendKind) async throws {
        let dir = try TemporaryDirectory("reuse")
        defer { dir.remove() }
        let store = try await kind.makeStore(in: dir)
        var alice = Minter("alice", replica: 3)
        #expect(try store.append(alice.documents(base: 0, [("d", SampleTexts.news)])) == .accepted(revision: 1))
        let first = alice.changeset(base: 1, [.create(alice.span("d", 0, 4, "PER"))])
        #expect(try store.append(first) == .accepted(revision: 2))

        // The same bytes again, both ways in: a retry.
        #expect(try store.append(first) == .duplicate(revision: 2))
        #expect(try store.append(encoded: [EncodedChangeset(first)]).map { try $0.get() } == [.duplicate(revision: 2)])

        // Other ops under the same id.
        var other = alice.changeset(base: 1, [.create(alice.span("d", 5, 9, "ORG"))])
        other.id = first.id
        // Another user's changeset under the same id, ops and all.
        var stolen = first
        stolen.author = "mallory"
        // The same ops with another message.
        var relabelled = first
        relabelled.message = "something else"
        for reuse in [other, stolen, relabelled] {
            for outcome in [try store.append(reuse), try store.append(encoded: [EncodedChangeset(reuse)])[0].get()] {
                guard case .invalid(let error) = outcome else {
                    Issue.record("a reuse was answered \(outcome)")
                    continue
                }
                #expect(error.code == .changesetIDReused)
                #expect(error.message.contains("revision 2"))
            }
        }
        // Nothing was stored, and the first changeset is still what revision 2 says.
        #expect(try store.headRevision() == 2)
        let annotations = try store.headAnnotations(of: "d")
        #expect(annotations.map(\.label) == ["PER"])

        // In one batch: a changeset and a reuse of its id right after it.
        let third = alice.changeset(base: 2, [.create(alice.span("d", 10, 14, "LOC"))])
        var thirdReused = alice.changeset(base: 2, [.create(alice.span("d", 15, 19, "LOC"))])
        thirdReused.id = third.id
        let outcomes = try store.append(encoded: [EncodedChangeset(third), EncodedChangeset(thirdReused), EncodedChangeset(third)])
            .map { try $0.get() }
        #expect(outcomes[0] == .accepted(revision: 3))
        guard case .invalid(let error) = outcomes[1] else {
            Issue.record("a reuse inside the batch was answered \(outcomes[1])")
            return
        }
        #expect(error.code == .changesetIDReused)
        #expect(outcomes[2] == .duplicate(revision: 3))
    }
}
