import Foundation
import GlossTestSupport
import Testing

/// Output that used to mislead: sync counting your own revision as pulled, r1 dated 1970, a
/// covered text's newline breaking a diff line, and export warnings naming a file not written.
@Suite(.serialized, .hangGuard, .timeLimit(.minutes(10)))
struct OutputTests {
    @Test func outputSaysWhatHappened() async throws {
        let f = try await CLIFixture("output", schema: #"{"spanLabels": ["TITLE", "PER"]}"#)
        try await f.addSample()
        // Your own revision coming back is not "pulled".
        try await f.ok(["span", "add", "fed", "1", "35", "TITLE"])
        #expect(try await f.ok(["sync"]).out.contains("pulled 0, pushed 1"))
        // Every revision has a real date, the schema's r1 too.
        let log = try await f.ok(["log", "--json"]).jsonLines()
        #expect(log.count >= 3 && log.allSatisfy { ($0["timestamp"] as? Int ?? 0) > 1_700_000_000 }, "\(log)")
        // A span over a line break: its text stays on one line, the newline escaped.
        try await f.ok(["span", "add", "fed", "30", "50", "PER"])
        let diff = try await f.ok(["diff"]).out
        let line = try #require(diff.split(separator: "\n").first { $0.contains("PER") })
        #expect(line.contains("\\n"), "\(diff)")
        #expect(try await f.ok(["annotations"]).out.split(separator: "\n").count == 2)
        // CoNLL cannot hold a span that cuts a token; the warning names the file written.
        try await f.ok(["span", "add", "fed", "2", "6", "PER"])
        let out = f.directory.url.appendingPathComponent("mine.conll")
        let export = try await f.ok(["export", "conll", out.path])
        #expect(export.err.contains("mine.conll") && !export.err.contains("export.conll"), "\(export.err)")
    }
}
