import Foundation
import GlossTestSupport
import Testing

/// The README's exit-code table, checked command by command:
/// 0 done; 1 conflicts; 2 usage; 3 cannot reach or trust the server; 4 authentication or
/// permission refused; 5 the server or the data model refused a change; 6 workspace problem.
@Suite(.serialized, .hangGuard, .timeLimit(.minutes(10)))
struct ExitCodeTests {
    struct Row: CustomStringConvertible {
        var args: [String]
        var code: Int32
        /// Where to run: the admin's workspace (`a`), bob's (`bob`), or outside any (`plain`).
        var place = "a"
        var env: [String: String] = [:]
        var description: String { "gloss \(args.joined(separator: " ")) in \(place)" }
    }

    /// The client checks the data model's limits before it records a change (issue 13, point 3).
    @Test func aLabelPastItsLimitIsRefusedBeforeItIsRecorded() async throws {
        let f = try await CLIFixture("field-limits")
        try await f.addSample()
        let before = try await f.ok(["status"]).out
        let result = try await f.gloss(["span", "add", "fed", "1", "35", String(repeating: "L", count: 300)])
        #expect(result.status == 5, "\(result.err)")
        #expect(result.err.contains("label is 300 bytes; the limit is 256 bytes"), "\(result.err)")
        #expect(try await f.ok(["status"]).out == before, "something was recorded")
    }

    @Test func everyCommandExitsAsTheREADMESays() async throws {
        let f = try await CLIFixture("exit-codes", schema: #"{"spanLabels": ["TITLE", "ORG", "PER"]}"#)
        try await f.addSample()
        let title = try await f.ok(["span", "add", "fed", "1", "35", "TITLE"]).line
        try await f.ok(["sync"])
        let bob = try await f.annotator("bob")
        let bobToken = try String(contentsOf: bob.appendingPathComponent(".gloss/token"), encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        // A real conflict in bob's workspace: both relabel the title.
        try await f.ok(["span", "set", title, "--label", "ORG"])
        try await f.ok(["sync"])
        try await f.ok(["span", "set", title, "--label", "PER"], in: bob)
        #expect(try await f.gloss(["sync"], in: bob).status == 1)
        let plain = f.directory.url.appendingPathComponent("plain")
        try FileManager.default.createDirectory(at: plain, withIntermediateDirectories: true)
        let url = f.daemon.url, pin = f.daemon.pin
        let wrongPin = "sha256:" + String(repeating: "0", count: 64)
        let closed = "gloss://127.0.0.1:1"
        let text = f.directory.url.appendingPathComponent("extra.txt")
        try Data("More text.".utf8).write(to: text)

        let rows: [Row] = [
            Row(args: ["status"], code: 0),
            Row(args: ["docs"], code: 0),
            Row(args: ["show", "fed", "--no-pager"], code: 0),
            Row(args: ["status"], code: 1, place: "bob"),
            Row(args: ["conflicts"], code: 1, place: "bob"),
            Row(args: ["sync"], code: 1, place: "bob"),
            Row(args: ["nosuch"], code: 2),
            Row(args: ["help", "nosuch"], code: 2),
            Row(args: ["span", "add", "fed", "x", "5", "PER"], code: 2),
            Row(args: ["span", "add", "fed", "-1", "5", "PER"], code: 2),
            Row(args: ["resolve", "abc"], code: 2, place: "bob"),
            Row(args: ["drop"], code: 2),
            Row(args: ["clone", "\(closed)/news", "--pin", pin], code: 3, place: "plain", env: f.admin),
            Row(args: ["clone", "\(closed)/news", "--pin", pin], code: 2, place: "plain"),
            Row(args: ["corpus", "list", closed, "--pin", pin], code: 3, place: "plain", env: f.admin),
            Row(args: ["clone", "\(url)/news", "wp", "--pin", wrongPin], code: 3, place: "plain", env: f.admin),
            Row(args: ["clone", "\(url)/news", "bt", "--pin", pin, "--token", "gls_not-a-token"], code: 4, place: "plain"),
            Row(args: ["pull", "--token", bobToken], code: 4),
            Row(args: ["doc", "add", text.path], code: 4, place: "bob"),
            Row(args: ["corpus", "grant", url, "news", "bob", "owner", "--pin", pin, "--token", bobToken], code: 4, place: "plain"),
            Row(args: ["span", "add", "fed", "40", "49", "BOOK"], code: 5),
            Row(args: ["span", "add", "fed", "40", "99999", "PER"], code: 5),
            Row(args: ["status"], code: 6, place: "plain"),
            Row(args: ["show", "nosuch"], code: 6),
            Row(args: ["span", "add", "nosuch", "1", "5", "PER"], code: 6),
            Row(args: ["diff", "nosuch"], code: 6),
            Row(args: ["log", "nosuch"], code: 6),
            Row(args: ["blame", "nosuch"], code: 6),
            Row(args: ["annotations", "nosuch"], code: 6),
            Row(args: ["annotations", "--layer", "nobody"], code: 6),
            Row(args: ["span", "rm", "zzzzzz"], code: 6),
            Row(args: ["resolve", "ffffffff", "--mine"], code: 6, place: "bob"),
            Row(args: ["drop", "9"], code: 6),
            Row(args: ["export", "jsonl", "out.jsonl", "--doc", "nosuch"], code: 6),
        ]
        for row in rows {
            let dir = row.place == "bob" ? bob : row.place == "plain" ? plain : f.a
            let result = try await f.gloss(row.args, in: dir, env: row.env)
            #expect(result.status == row.code, "\(row) exited \(result.status), not \(row.code): \(result.err)")
            // Every failure says something, and nothing internal leaks out.
            if row.code != 0 && row.code != 1 { #expect(!result.err.isEmpty, "\(row) said nothing") }
            for leak in ["NSCocoaErrorDomain", "BoringSSL", "SingleConnectionFailure", "Swift/", ".swift:"] {
                #expect(!result.err.contains(leak), "\(row) leaked \(leak): \(result.err)")
            }
        }
    }
}
