import Foundation
import GlossTestSupport
import Testing

/// Every workspace state has a way out, and bad input never enters it: resolutions are checked
/// before they are recorded, a change the server refuses is shown and can be dropped, and a
/// change the user's role cannot make is refused before it is recorded.
@Suite(.serialized, .hangGuard, .timeLimit(.minutes(10)))
struct WorkspaceRecoveryTests {
    static let schema = #"{"spanLabels": ["TITLE", "ORG", "PER"], "attributes": [{"name": "negated", "values": ["yes", "no"]}]}"#

    /// The admin and bob relabel the same span differently; bob's side holds the conflict.
    static func conflicted() async throws -> (CLIFixture, bob: URL, span: String) {
        let f = try await CLIFixture("recovery", schema: schema)
        try await f.addSample()
        let span = try await f.ok(["span", "add", "fed", "1", "35", "TITLE"]).line
        try await f.ok(["sync"])
        let bob = try await f.annotator("bob")
        try await f.ok(["span", "set", span, "--label", "ORG"])
        try await f.ok(["sync"])
        try await f.ok(["span", "set", span, "--label", "PER"], in: bob)
        #expect(try await f.gloss(["sync"], in: bob).status == 1)
        return (f, bob, span)
    }

    @Test func aResolutionTheSchemaRefusesIsNotRecorded() async throws {
        let (f, bob, _) = try await Self.conflicted()
        let conflicts = try await f.gloss(["conflicts", "--json"], in: bob).jsonLines()
        let id = try #require(conflicts.first?["id"] as? String)
        // Values are JSON values, not quoted text.
        #expect(conflicts.first?["mine"] as? String == "PER")
        #expect(conflicts.first?["theirs"] as? String == "ORG")

        let bad = try await f.gloss(["resolve", String(id.prefix(6)), "--value", "BOOK"], in: bob)
        #expect(bad.status == 5, "\(bad.out)\(bad.err)")
        #expect(bad.err.contains("BOOK") && bad.err.contains("nothing was recorded"), "\(bad.err)")
        // Nothing was recorded: every command still works and the conflict is still open.
        for command in [["status"], ["diff"], ["docs"], ["show", "fed"], ["annotations"], ["conflicts"]] {
            let r = try await f.gloss(command, in: bob)
            #expect(r.status == 0 || r.status == 1, "\(command) exited \(r.status): \(r.err)")
        }
        #expect(try await f.gloss(["conflicts"], in: bob).status == 1)
        try await f.ok(["resolve", String(id.prefix(6)), "--value", "ORG"], in: bob)
        try await f.ok(["sync"], in: bob)
        #expect(try await f.ok(["status", "--short"], in: bob).out.isEmpty)
    }

    @Test func aChangeTheServerRefusesIsShownAndCanBeDropped() async throws {
        let f = try await CLIFixture("refused", schema: Self.schema)
        try await f.addSample()
        let bob = try await f.annotator("bob")
        try await f.ok(["pull"], in: bob)
        // Recorded while bob could annotate; then the owner makes him a viewer.
        try await f.ok(["span", "add", "fed", "1", "35", "TITLE"], in: bob)
        try await f.ok(["corpus", "grant", f.daemon.url, "news", "bob", "viewer", "--pin", f.daemon.pin], env: f.admin)
        let refused = try await f.gloss(["sync"], in: bob)
        #expect(refused.status == 4, "\(refused.out)\(refused.err)")
        #expect(refused.err.contains("gloss drop 1"), "\(refused.err)")

        let status = try await f.ok(["status"], in: bob)
        #expect(status.out.contains("#1") && status.out.contains("refused by the server"), "\(status.out)")
        let short = try await f.ok(["status", "--short"], in: bob)
        #expect(short.out.hasPrefix("R #1 "), "\(short.out)")
        let json = try await f.ok(["status", "--json"], in: bob).jsonLines()
        #expect(json.first?["type"] as? String == "workspace" && json.first?["role"] as? String == "viewer")
        #expect(json.contains { $0["type"] as? String == "pending" && $0["refusedCode"] as? String == "permission-denied" })

        // As a viewer now, bob's next edit is refused before it is recorded.
        let local = try await f.gloss(["span", "add", "fed", "40", "49", "PER"], in: bob)
        #expect(local.status == 4, "\(local.out)\(local.err)")
        #expect(local.err.contains("nothing was recorded"), "\(local.err)")
        #expect(try await f.ok(["status", "--json"], in: bob).jsonLines().filter { $0["type"] as? String == "pending" }.count == 1)

        // Annotator again: a new change queues behind the refused one until that is dropped.
        try await f.ok(["corpus", "grant", f.daemon.url, "news", "bob", "annotator", "--pin", f.daemon.pin], env: f.admin)
        try await f.ok(["pull"], in: bob)
        try await f.ok(["span", "add", "fed", "40", "49", "PER"], in: bob)
        let dropped = try await f.ok(["drop", "1"], in: bob)
        #expect(dropped.out.contains("dropped #1") && dropped.out.contains("1 create"), "\(dropped.out)")
        #expect(dropped.out.contains(".gloss/dropped/"), "\(dropped.out)")
        try await f.ok(["sync"], in: bob)
        try await f.ok(["pull"])
        let rows = try await f.ok(["annotations", "--json"]).jsonLines()
        #expect(rows.count == 1 && rows.first?["label"] as? String == "PER", "\(rows)")
        #expect(try await f.ok(["status"], in: bob).out.contains("nothing to push"))
    }

    @Test func anAnnotatorsDocumentAddIsRefusedBeforeItIsRecorded() async throws {
        let f = try await CLIFixture("doc-add-role")
        try await f.addSample()
        let bob = try await f.annotator("bob")
        let text = f.directory.url.appendingPathComponent("extra.txt")
        try Data("Another text.".utf8).write(to: text)
        let r = try await f.gloss(["doc", "add", text.path], in: bob)
        #expect(r.status == 4, "\(r.out)\(r.err)")
        #expect(r.err.contains("only corpus owners") && r.err.contains("nothing was recorded"), "\(r.err)")
        #expect(try await f.ok(["status"], in: bob).out.contains("nothing to push"))
    }

    @Test func resetDiscardsEveryPendingChangeAndSaysWhat() async throws {
        let f = try await CLIFixture("reset")
        try await f.addSample()
        try await f.ok(["span", "add", "fed", "1", "35", "TITLE"])
        try await f.ok(["span", "add", "fed", "40", "49", "PER"])
        let reset = try await f.ok(["reset"])
        #expect(reset.out.split(separator: "\n").filter { $0.hasPrefix("dropped #") }.count == 2, "\(reset.out)")
        #expect(try await f.ok(["annotations", "--json"]).out.isEmpty)
        #expect(try await f.ok(["reset"]).out.contains("nothing to discard"))
        #expect(try await f.gloss(["drop", "7"]).status == 6)
    }
}
