import Foundation
import GlossTestSupport
import Testing

/// `gloss docs`, `show`, `log`, `diff`, `blame` and `revert`, driven through the built binaries.
@Suite(.serialized)
struct HistoryCommandTests {
    /// r1 adds `fed`; r2 adds TITLE over 1-35 ("The Federation of Soviet Republics"); r3 adds
    /// PER over 40-49; r4 relabels the title ORG.
    static func history() throws -> (CLIFixture, title: String, person: String) {
        let f = try CLIFixture("history")
        try f.addSample()
        let title = try f.ok(["span", "add", "fed", "1", "35", "TITLE"]).line
        try f.ok(["sync"])
        let person = try f.ok(["span", "add", "fed", "40", "49", "PER"]).line
        try f.ok(["sync"])
        try f.ok(["span", "set", title, "--label", "ORG"])
        try f.ok(["sync"])
        return (f, title, person)
    }

    @Test func logListsRevisionsNewestFirstWithPendingWorkOnTop() throws {
        let (f, _, person) = try Self.history()
        try f.ok(["span", "rm", person])
        let rows = try f.ok(["log", "--json"]).jsonLines()
        #expect(rows.map { $0["revision"] as? Int } == [nil, 4, 3, 2, 1])
        #expect(rows[0]["pending"] as? Bool == true)
        #expect(rows[1]["documents"] as? [String] == ["fed"])
        #expect(rows.allSatisfy { $0["author"] as? String == "admin" })
        // Filters: -n, --author and a document.
        #expect(try f.ok(["log", "-n", "2", "--json"]).jsonLines().count == 2)
        #expect(try f.ok(["log", "--author", "nobody"]).line.isEmpty)
        #expect(try f.ok(["log", "other-doc", "--json"]).jsonLines().isEmpty)
        #expect(try f.ok(["log"]).out.contains("add 1 document(s)"))
    }

    @Test func showReconstructsAnyRevisionAndFiltersByAuthor() throws {
        let (f, _, _) = try Self.history()
        func labels(_ args: [String]) throws -> [String] {
            let data = Data(try f.ok(["show", "fed", "--json"] + args).out.utf8)
            let object = try JSONSerialization.jsonObject(with: data) as! [String: Any]
            return (object["annotations"] as! [[String: Any]]).map { $0["label"] as! String }
        }
        #expect(try labels([]) == ["ORG", "PER"])
        #expect(try labels(["--at", "2"]) == ["TITLE"])
        #expect(try labels(["--at", "1"]) == [])
        #expect(try labels(["--author", "someone-else"]) == [])
        let missing = try f.gloss(["show", "fed", "--at", "99"])
        #expect(missing.status == 6)
        #expect(missing.err.contains("revision 99 is not in this workspace"))
        // Piped: inline markup. Forced colours: ANSI codes and a legend.
        let piped = try f.ok(["show", "fed"]).out
        #expect(piped.contains("[The Federation of Soviet Republics](ORG)"))
        let colored = try f.ok(["show", "fed"], env: ["NO_COLOR": "", "GLOSS_COLOR": "always"]).out
        #expect(colored.contains("\u{1B}[") && colored.contains("■ ORG\u{1B}[0m 1") && colored.contains("■ PER\u{1B}[0m 1"))
        #expect(!colored.contains("](ORG)"))
        let docs = try f.ok(["docs", "--json"]).jsonLines()
        #expect(docs.count == 1 && docs[0]["id"] as? String == "fed" && docs[0]["annotations"] as? Int == 2)
    }

    @Test func diffShowsARevisionARangeAndPendingWork() throws {
        let (f, title, person) = try Self.history()
        let r4 = try f.ok(["diff", "4", "--json"]).jsonLines()
        let change = (r4[0]["changes"] as! [[String: Any]])[0]
        #expect(change["change"] as? String == "changed")
        #expect(change["fields"] as? [String] == ["label"])
        #expect((change["before"] as! [String: Any])["label"] as? String == "TITLE")
        #expect((change["annotation"] as! [String: Any])["label"] as? String == "ORG")

        let range = try f.ok(["diff", "1..3"]).out
        #expect(range.contains("+ span") && range.contains("\"The Federation of Soviet Republics\""))
        #expect(!range.contains("ORG"))

        try f.ok(["span", "rm", person])
        let pending = try f.ok(["diff"]).out
        #expect(pending.contains("- span \(person.prefix(7))"))
        #expect(try f.ok(["diff", "fed"]).out == pending)
        #expect(try f.ok(["diff", "4..", "other"]).out.isEmpty)
        _ = title
        #expect(try f.gloss(["diff", "x..y"]).status == 2)
    }

    @Test func blameNamesTheLastRevisionAndAuthorOfEachAnnotation() throws {
        let (f, title, person) = try Self.history()
        let bob = try f.annotator("bob")
        try f.ok(["span", "set", person, "--attr", "certain=yes"], in: bob)
        try f.ok(["sync"], in: bob)
        try f.ok(["pull"])
        let rows = try f.ok(["blame", "fed", "--json"]).jsonLines()
        let byID = Dictionary(uniqueKeysWithValues: rows.map { (($0["annotation"] as! [String: Any])["id"] as! String, $0) })
        #expect(byID[title]?["revision"] as? Int == 4)
        #expect(byID[title]?["author"] as? String == "admin")
        #expect(byID[title]?["fields"] as? [String] == ["label"])
        #expect(byID[person]?["revision"] as? Int == 5)
        #expect(byID[person]?["author"] as? String == "bob")
        #expect(byID[person]?["fields"] as? [String] == ["attribute certain"])
        // Pending local work shows as such.
        try f.ok(["span", "set", title, "--label", "EVENT"])
        let pending = try f.ok(["blame", "fed"]).out
        #expect(pending.contains("pending\tadmin"))
    }

    @Test func revertUndoesARevisionAndReportsConflictsWithLaterOnes() throws {
        let (f, title, person) = try Self.history()
        // Undoing r3 removes the person span; nothing later touched it.
        try f.ok(["revert", "3"])
        try f.ok(["sync"])
        var labels = try f.ok(["annotations", "--json"]).jsonLines().map { $0["label"] as! String }
        #expect(labels == ["ORG"])
        #expect(try f.ok(["log", "-n", "1", "--json"]).jsonLines()[0]["message"] as? String == "Revert r3")

        // Undoing r2 (which created the title) after r4 relabelled it is an edit/delete conflict.
        let conflicted = try f.gloss(["revert", "2"])
        #expect(conflicted.status == 1)
        #expect(conflicted.err.contains("conflict"))
        let conflicts = try f.gloss(["conflicts", "--json"]).jsonLines()
        #expect(conflicts.count == 1)
        #expect(conflicts.first?["annotation"] as? String == title)
        try f.ok(["resolve", String((conflicts[0]["id"] as! String).prefix(8)), "--mine"])
        try f.ok(["sync"])
        labels = try f.ok(["annotations", "--json"]).jsonLines().map { $0["label"] as! String }
        #expect(labels.isEmpty)

        // Reverting the revert brings the person back.
        try f.ok(["revert", "5"])
        try f.ok(["sync"])
        #expect(try f.ok(["annotations", "--json"]).jsonLines().map { $0["id"] as! String } == [person])
        #expect(try f.gloss(["revert", "42"]).status == 6)
    }
}
