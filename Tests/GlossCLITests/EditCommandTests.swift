import Foundation
import GlossTestSupport
import Testing

/// `gloss edit` with a scripted editor: the saved markup becomes ops, and bad edits are refused
/// with their line and column while the file is kept.
@Suite(.serialized, .hangGuard, .timeLimit(.minutes(10)))
struct EditCommandTests {
    /// An "editor" that runs a sed script on the file it is given.
    static func editor(_ dir: URL, sed: String) throws -> [String: String] {
        let script = dir.appendingPathComponent("editor-\(UUID().uuidString.prefix(6)).sh")
        try Data("#!/bin/sh\nsed -i '\(sed)' \"$1\"\n".utf8).write(to: script)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: script.path)
        return ["EDITOR": script.path, "VISUAL": ""]
    }

    @Test func savedMarkupBecomesOpsThatKeepIDs() async throws {
        let f = try await CLIFixture(
            "edit", schema: #"{"spanLabels": ["TITLE", "ORG", "PER", "LOC"], "isOpen": false}"#)
        try await f.addSample()
        let title = try await f.ok(["span", "add", "fed", "1", "35", "TITLE"]).line
        // Relabel the title, mark "Moscow" as a place.
        let env = try Self.editor(
            f.directory.url, sed: "s/(TITLE)/(ORG)/; s/\\*Inprecorr\\*, Moscow/*Inprecorr*, [Moscow](LOC)/")
        let result = try await f.ok(["edit", "fed"], env: env)
        #expect(result.out.contains("recorded 1 new, 1 changed and 0 removed"), "\(result.out)\(result.err)")
        let rows = try await f.ok(["annotations", "--json"]).jsonLines()
        #expect(rows.count == 2)
        #expect(rows.first { $0["id"] as? String == title }?["label"] as? String == "ORG")
        #expect(rows.contains { $0["label"] as? String == "LOC" && $0["text"] as? String == "Moscow" })
        // Nothing to change: no changeset.
        let unchanged = try await f.ok(["edit", "fed"], env: Self.editor(f.directory.url, sed: "s/^$//"))
        #expect(unchanged.out.contains("no changes"))
    }

    @Test func aChangedTextOrUnknownLabelIsRefusedAndTheFileKept() async throws {
        let f = try await CLIFixture("edit-bad", schema: #"{"spanLabels": ["TITLE"], "isOpen": false}"#)
        try await f.addSample()
        try await f.ok(["span", "add", "fed", "1", "35", "TITLE"])
        let before = try await f.ok(["log", "--json"]).jsonLines().count

        // Line 4 of the markup is "Interview with *Inprecorr*, …": change a word of the text.
        let changed = try await f.gloss(["edit", "fed"], env: Self.editor(f.directory.url, sed: "4s/Interview/Interwiew/"))
        #expect(changed.status == 5)
        #expect(changed.err.contains(":4:"), "\(changed.err)")
        #expect(changed.err.contains("markup-text-changed") || changed.err.contains("text"))
        #expect(changed.err.contains("your edit is kept"))
        let kept = f.a.appendingPathComponent(".gloss/edit/fed.inline.txt")
        #expect(FileManager.default.fileExists(atPath: kept.path))
        #expect(try await f.ok(["log", "--json"]).jsonLines().count == before)

        // The next edit reopens the kept file: fixing the word makes it go through.
        let fixed = try await f.ok(["edit", "fed"], env: Self.editor(f.directory.url, sed: "4s/Interwiew/Interview/"))
        #expect(fixed.err.contains("reopening"))
        #expect(fixed.out.contains("no changes"))
        #expect(!FileManager.default.fileExists(atPath: kept.path))

        // A label the schema does not know names its line and column.
        let unknown = try await f.gloss(["edit", "fed"], env: Self.editor(f.directory.url, sed: "s/(TITLE)/(BOOK)/"))
        #expect(unknown.status == 5)
        #expect(unknown.err.contains("BOOK"))
        #expect(unknown.err.contains(":2:"), "\(unknown.err)")
        #expect(try await f.gloss(["edit", "fed", "--fresh"], env: Self.editor(f.directory.url, sed: "s/^$//")).status == 0)
    }
}
