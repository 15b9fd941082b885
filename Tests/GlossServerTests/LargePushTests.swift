import Foundation
import GlossModel
import GlossStore
import GlossTestSupport
import GlossWire
import NIOCore
import Testing

@testable import GlossServer

/// A push larger than the store's streaming threshold goes through the router a document at a
/// time (authorisation, check, write, broadcast summary): these tests hold it to what a small
/// push gets.
@Suite(.serialized, .hangGuard, .timeLimit(.minutes(10)))
struct LargePushTests {
    /// A router over a fresh data directory with a corpus `c` owned by admin, where ann annotates.
    static func router(_ directory: TemporaryDirectory, policy: CorpusPolicy = .shared) throws -> RequestRouter {
        let accounts = try AccountStore(path: directory.path("server.sqlite"))
        _ = try accounts.addUser("admin", isAdmin: true)
        _ = try accounts.addUser("ann")
        try accounts.createCorpus(name: "c", owner: "admin", policy: policy)
        try accounts.grant(corpus: "c", user: "ann", role: .annotator)
        return RequestRouter(
            accounts: accounts, corpora: try CorpusRegistry(directory: directory.url))
    }

    static func push(_ router: RequestRouter, _ changeset: Gloss_V1_Changeset, as user: String) async throws
        -> Gloss_V1_PushResponse
    {
        try await router.handle(
            .with { $0.push = .with { $0.corpus = "c"; $0.changeset = changeset } }, user: user, sink: Quiet()
        ).push
    }

    /// Documents with `spans` spans each, made by `minter`: more ops than the streaming threshold.
    static func importing(_ documents: Int, spans: Int, _ minter: inout Minter, base: Int = 0) -> Changeset {
        var cs = minter.changeset(base: base, [])
        let docs = (0..<documents).map { DocumentID(storedRawValue: "doc/\($0)") }
        for d in docs { cs.addDocument(d, text: String(repeating: "Alice met Bob. ", count: 20)) }
        for d in docs { cs.ops += (0..<spans).map { i in .create(minter.span(d, i % 280, i % 280 + 4, "PER")) } }
        return cs
    }

    @Test func aLargePushIsAcceptedAndSummarisedFromItsRuns() async throws {
        let directory = try TemporaryDirectory("large-push")
        defer { directory.remove() }
        let router = try Self.router(directory)
        var admin = Minter("admin", replica: 1)
        let cs = Self.importing(12, spans: 400, &admin)
        #expect(cs.ops.count > CorpusStore.defaultStreamingThreshold)
        let encoded = EncodedChangeset(cs)
        #expect(RevisionBroadcaster.Event(corpus: "c", revision: 1, changeset: encoded).summary == "4812 ops on 12 documents")
        #expect(encoded.documents.count == 12)
        #expect(try await Self.push(router, Gloss_V1_Changeset(cs), as: "admin").acceptedRevision == 1)
        let store = try router.corpora.handle(for: "c").store
        #expect(try store.revisions().map(\.opCount) == [4812])
        #expect(try store.headAnnotations(of: "doc/11").count == 400)
        // The same changeset again: one revision.
        #expect(try await Self.push(router, Gloss_V1_Changeset(cs), as: "admin").duplicateRevision == 1)
    }

    /// A run whose ops do not decode, late in a large push, makes it a bad message (nothing
    /// written), and the corpus takes the next push.
    @Test func aLargePushWithARunThatDoesNotDecodeIsABadMessage() async throws {
        let directory = try TemporaryDirectory("large-push-bad")
        defer { directory.remove() }
        let router = try Self.router(directory)
        var admin = Minter("admin", replica: 1)
        var message = Gloss_V1_Changeset(Self.importing(12, spans: 400, &admin))
        // Cut the last run short: its header still reads, its ops do not.
        let last = message.ops.count - 1
        message.ops[last].encoded = message.ops[last].encoded.prefix(message.ops[last].encoded.count - 3)
        await #expect {
            _ = try await Self.push(router, message, as: "admin")
        } throws: { error in
            (error as? WireError)?.code == .badMessage
        }
        let store = try router.corpora.handle(for: "c").store
        #expect(try store.headRevision() == 0)
        #expect(try store.documents().isEmpty)
        #expect(try await Self.push(router, Gloss_V1_Changeset(Self.importing(2, spans: 3, &admin)), as: "admin")
            .acceptedRevision == 1)
    }

    /// Authorisation a document at a time refuses the op a whole check refuses: the lowest
    /// index, here in a document checked after another with a refused op.
    @Test func aLargePushIsAuthorisedADocumentAtATime() async throws {
        let directory = try TemporaryDirectory("large-push-rights")
        defer { directory.remove() }
        let router = try Self.router(directory, policy: .own)
        var admin = Minter("admin", replica: 1)
        let setup = Self.importing(3, spans: 2, &admin)
        #expect(try await Self.push(router, Gloss_V1_Changeset(setup), as: "admin").acceptedRevision == 1)
        let adminSpans = setup.ops.compactMap { if case .create(let a) = $0 { a } else { nil } }
        var ann = Minter("ann", replica: 2)
        var ops: [Op] = []
        for d in ["doc/0", "doc/1", "doc/2"] as [DocumentID] { ops += (0..<1_500).map { i in .create(ann.span(d, i % 200, i % 200 + 2, "PER")) } }
        // Under policy `own` ann may not relabel admin's spans: in doc/2 at index 4500, in doc/0 at 4501.
        let inDoc2 = adminSpans.first { $0.document == "doc/2" }!
        let inDoc0 = adminSpans.first { $0.document == "doc/0" }!
        ops.append(.set("doc/2", inDoc2.id, .label, .string("ORG")))
        ops.append(.set("doc/0", inDoc0.id, .label, .string("ORG")))
        let cs = ann.changeset(base: 1, ops)
        let store = try router.corpora.handle(for: "c").store
        let authorizer = PushAuthorizer(user: "ann", access: CorpusAccess(role: .annotator, policy: .own), store: store)
        let whole = #expect(throws: WireError.self) { try authorizer.check(cs) }
        let parts = #expect(throws: WireError.self) { try authorizer.check(EncodedChangeset(cs)) }
        #expect(whole?.code == .permissionDenied)
        #expect(parts == whole)
        #expect(parts?.message.hasPrefix("op 4500:") == true, "\(parts?.message ?? "")")
        await #expect {
            _ = try await Self.push(router, Gloss_V1_Changeset(cs), as: "ann")
        } throws: { error in
            (error as? WireError)?.code == .permissionDenied
        }
    }
}

/// A sink for requests that stream nothing (push).
private struct Quiet: ResponseSink {
    func stream(_ item: ByteBuffer) async throws {}
    func interim(_ response: Gloss_V1_Response) async throws {}
}
