import Foundation
import GlossTestSupport
import Testing

/// `gloss docs`, `show`, `log`, `diff`, `blame` and `revert`, driven through the built binaries.
@Suite(.serialized, .hangGuard, .timeLimit(.minutes(10)))
struct HistoryCommandTests {
    /// r1 adds `fed`; r2 adds TITLE over 1-35 ("The Federation of Soviet Republics"); r3 adds
    /// PER over 40-49; r4 relabels the title ORG.
    static func history() async throws -> (CLIFixture, title: String, person: String) {
        let f = try await CLIFixture("history")
        try await f.addSample()
        let title = try await f.ok(["span", "add", "fed", "1", "35", "TITLE"]).line
        try await f.ok(["sync"])
        let person = try await f.ok(["span", "add", "fed", "40", "49", "PER"]).line
        try await f.ok(["sync"])
        try await f.ok(["span", "set", title, "--label", "ORG"])
        try await f.ok(["sync"])
        return (f, title, person)
    }

    @Test func logListsRevisionsNewestFirstWithPendingWorkOnTop() async throws {
        let (f, _, person) = try await Self.history()
        try await f.ok(["span", "rm", person])
        let rows = try await f.ok(["log", "--json"]).jsonLines()
        #expect(rows.map { $0["revision"] as? Int } == [nil, 4, 3, 2, 1])
        #expect(rows[0]["pending"] as? Bool == true)
        #expect(rows[1]["documents"] as? [String] == ["fed"])
        #expect(rows.allSatisfy { $0["author"] as? String == "admin" })
        // Filters: -n, --author and a document.
        #expect(try await f.ok(["log", "-n", "2", "--json"]).jsonLines().count == 2)
        #expect(try await f.ok(["log", "--author", "nobody"]).line.isEmpty)
        // An unknown document is an error, not an empty history.
        #expect(try await f.gloss(["log", "other-doc", "--json"]).status == 6)
        #expect(try await f.ok(["log"]).out.contains("add 1 document(s)"))
    }

    @Test func showReconstructsAnyRevisionAndFiltersByAuthor() async throws {
        let (f, _, _) = try await Self.history()
        func labels(_ args: [String]) async throws -> [String] {
            let data = Data(try await f.ok(["show", "fed", "--json"] + args).out.utf8)
            let object = try JSONSerialization.jsonObject(with: data) as! [String: Any]
            return (object["annotations"] as! [[String: Any]]).map { $0["label"] as! String }
        }
        await #expect(try labels([]) == ["ORG", "PER"])
        await #expect(try labels(["--at", "2"]) == ["TITLE"])
        await #expect(try labels(["--at", "1"]) == [])
        await #expect(try labels(["--layer", "admin"]) == ["ORG", "PER"])
        await #expect(try labels(["--label", "PER"]) == ["PER"])
        // A layer nothing carries is an error, not an empty document; --author still means --layer here.
        #expect(try await f.gloss(["show", "fed", "--layer", "someone-else"]).status == 6)
        let legacy = try await f.gloss(["show", "fed", "--json", "--author", "admin"])
        #expect(legacy.status == 0 && legacy.err.contains("--author is now --layer"))
        let missing = try await f.gloss(["show", "fed", "--at", "99"])
        #expect(missing.status == 6)
        #expect(missing.err.contains("revision 99 is not in this workspace"))
        // Piped: inline markup. Forced colours: ANSI codes and a legend.
        let piped = try await f.ok(["show", "fed"]).out
        #expect(piped.contains("[The Federation of Soviet Republics](ORG)"))
        let colored = try await f.ok(["show", "fed"], env: ["NO_COLOR": "", "GLOSS_COLOR": "always"]).out
        #expect(colored.contains("\u{1B}[") && colored.contains("■ ORG\u{1B}[0m 1") && colored.contains("■ PER\u{1B}[0m 1"))
        #expect(!colored.contains("](ORG)"))
        let docs = try await f.ok(["docs", "--json"]).jsonLines()
        #expect(docs.count == 1 && docs[0]["id"] as? String == "fed" && docs[0]["annotations"] as? Int == 2)
    }

    @Test func diffShowsARevisionARangeAndPendingWork() async throws {
        let (f, title, person) = try await Self.history()
        let r4 = try await f.ok(["diff", "4", "--json"]).jsonLines()
        let change = (r4[0]["changes"] as! [[String: Any]])[0]
        #expect(change["change"] as? String == "changed")
        #expect(change["fields"] as? [String] == ["label"])
        #expect((change["before"] as! [String: Any])["label"] as? String == "TITLE")
        #expect((change["annotation"] as! [String: Any])["label"] as? String == "ORG")

        let range = try await f.ok(["diff", "1..3"]).out
        #expect(range.contains("+ span") && range.contains("\"The Federation of Soviet Republics\""))
        #expect(!range.contains("ORG"))

        try await f.ok(["span", "rm", person])
        let pending = try await f.ok(["diff"]).out
        #expect(pending.contains("- span \(person.prefix(7))"))
        #expect(try await f.ok(["diff", "fed"]).out == pending)
        #expect(try await f.gloss(["diff", "4..", "other"]).status == 6)
        _ = title
        #expect(try await f.gloss(["diff", "x..y"]).status == 2)
    }

    @Test func blameNamesTheLastRevisionAndAuthorOfEachAnnotation() async throws {
        let (f, title, person) = try await Self.history()
        let bob = try await f.annotator("bob")
        try await f.ok(["span", "set", person, "--attr", "certain=yes"], in: bob)
        try await f.ok(["sync"], in: bob)
        try await f.ok(["pull"])
        let rows = try await f.ok(["blame", "fed", "--json"]).jsonLines()
        let byID = Dictionary(uniqueKeysWithValues: rows.map { (($0["annotation"] as! [String: Any])["id"] as! String, $0) })
        #expect(byID[title]?["revision"] as? Int == 4)
        #expect(byID[title]?["author"] as? String == "admin")
        #expect(byID[title]?["fields"] as? [String] == ["label"])
        #expect(byID[person]?["revision"] as? Int == 5)
        #expect(byID[person]?["author"] as? String == "bob")
        #expect(byID[person]?["fields"] as? [String] == ["attribute certain"])
        // Pending local work shows as such.
        try await f.ok(["span", "set", title, "--label", "EVENT"])
        let pending = try await f.ok(["blame", "fed"]).out
        #expect(pending.contains("pending\tadmin"))
    }

    @Test func revertUndoesARevisionAndReportsConflictsWithLaterOnes() async throws {
        let (f, title, person) = try await Self.history()
        // Undoing r3 removes the person span; nothing later touched it.
        try await f.ok(["revert", "3"])
        try await f.ok(["sync"])
        var labels = try await f.ok(["annotations", "--json"]).jsonLines().map { $0["label"] as! String }
        #expect(labels == ["ORG"])
        #expect(try await f.ok(["log", "-n", "1", "--json"]).jsonLines()[0]["message"] as? String == "Revert r3")

        // Undoing r2 (which created the title) after r4 relabelled it is an edit/delete conflict.
        let conflicted = try await f.gloss(["revert", "2"])
        #expect(conflicted.status == 1)
        #expect(conflicted.err.contains("conflict"))
        let conflicts = try await f.gloss(["conflicts", "--json"]).jsonLines()
        #expect(conflicts.count == 1)
        #expect(conflicts.first?["annotation"] as? String == title)
        try await f.ok(["resolve", String((conflicts[0]["id"] as! String).prefix(8)), "--mine"])
        try await f.ok(["sync"])
        labels = try await f.ok(["annotations", "--json"]).jsonLines().map { $0["label"] as! String }
        #expect(labels.isEmpty)

        // Reverting the revert brings the person back.
        try await f.ok(["revert", "5"])
        try await f.ok(["sync"])
        #expect(try await f.ok(["annotations", "--json"]).jsonLines().map { $0["id"] as! String } == [person])
        #expect(try await f.gloss(["revert", "42"]).status == 6)
    }
}
