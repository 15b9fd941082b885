import Foundation
import GlossTestSupport
import Testing

/// Texts that change, on real text through the binaries (issue 14): `gloss doc update`, anchor
/// problems in `gloss conflicts` and `gloss resolve`, offline work carried over on sync, history,
/// and `gloss import --update-text`.
@Suite(.serialized, .hangGuard, .timeLimit(.minutes(10)))
struct TextRevisionCommandTests {
    /// Whitespace-separated tokens of `text` with their scalar ranges.
    static func tokens(_ text: String) -> [(range: Range<Int>, token: String)] {
        let scalars = Array(text.unicodeScalars)
        var out: [(Range<Int>, String)] = []
        var start: Int?
        for i in 0...scalars.count {
            let space = i == scalars.count || scalars[i].properties.isWhitespace
            if space, let s = start {
                out.append((s..<i, String(String.UnicodeScalarView(scalars[s..<i]))))
                start = nil
            } else if !space && start == nil {
                start = i
            }
        }
        return out
    }

    /// A brat collection of one document: its text and a `W` span over every token.
    static func bratEveryToken(_ text: String, id: String, in dir: URL) throws -> Int {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try Data(text.utf8).write(to: dir.appendingPathComponent("\(id).txt"))
        let words = tokens(text)
        let ann = words.enumerated().map { i, w in "T\(i + 1)\tW \(w.range.lowerBound) \(w.range.upperBound)\t\(w.token)" }
        try Data((ann.joined(separator: "\n") + "\n").utf8).write(to: dir.appendingPathComponent("\(id).ann"))
        return words.count
    }

    static func annotations(_ f: CLIFixture, _ doc: String, in dir: URL? = nil) async throws -> [String: [String: Any]] {
        let rows = try await f.ok(["annotations", doc, "--json", "--no-pager"], in: dir).jsonLines()
        return Dictionary(uniqueKeysWithValues: rows.map { ($0["id"] as! String, $0) })
    }

    static func ranges(_ row: [String: Any]) -> [[Int]] { row["ranges"] as? [[Int]] ?? [] }

    /// The sample with three typos (as an OCR pass leaves them): the text annotators start from.
    static let typos = [("following opinions", "folowing opinions"), ("independent", "independant"), ("Federative Congress", "Federativ Congress")]

    @Test func federationTypoFixesAndAnInsertedParagraph() async throws {
        let f = try await CLIFixture("text-fed")
        let original = try String(contentsOf: GlossProcesses.sampleDocument, encoding: .utf8)
        var old = original
        for (right, wrong) in Self.typos {
            let r = try #require(old.range(of: right))
            old.replaceSubrange(r, with: wrong)
        }
        let oldFile = f.directory.url.appendingPathComponent("fed.txt")
        try Data(old.utf8).write(to: oldFile)
        try await f.ok(["doc", "add", oldFile.path, "--id", "fed"])
        let brat = f.directory.url.appendingPathComponent("brat")
        let count = try Self.bratEveryToken(old, id: "fed", in: brat)
        #expect(try await f.ok(["import", "brat", brat.path]).out.contains("imported: \(count) created"))
        try await f.ok(["sync"])
        let before = try await Self.annotations(f, "fed")
        #expect(before.count == count)

        // bob annotates the old text offline: "Moscow" (untouched) and "independant" (fixed later).
        let bob = try await f.annotator("bob")
        let words = Self.tokens(old)
        let moscow = try #require(words.first { $0.token == "Moscow," })
        let independant = try #require(words.first { $0.token == "independant" })
        try await f.ok(["span", "add", "fed", "\(moscow.range.lowerBound)", "\(moscow.range.upperBound - 1)", "LOC"], in: bob)
        try await f.ok(
            ["span", "add", "fed", "\(independant.range.lowerBound)", "\(independant.range.upperBound)", "ADJ"], in: bob)

        // The owner fixes the typos and inserts a paragraph after the first one.
        var new = original
        let firstBreak = try #require(new.range(of: "\n\n"))
        new.insert(contentsOf: "\n\n[Editor's note: scanned in 2026; OCR errors corrected by hand.]", at: firstBreak.lowerBound)
        let newFile = f.directory.url.appendingPathComponent("fed-fixed.txt")
        try Data(new.utf8).write(to: newFile)
        let update = try await f.ok(["doc", "update", "fed", newFile.path])
        #expect(update.out.contains("\(count - 3) span(s) kept their text, 3 flagged"), "\(update.out)")

        // Every annotation keeps its id. Untouched words cover exactly their old text; each
        // typo'd word is flagged, with a proposal on its corrected form, never another word.
        let after = try await Self.annotations(f, "fed")
        #expect(Set(after.keys) == Set(before.keys))
        let fixed = Set(Self.typos.map { $0.1.split(separator: " ")[0] }.map(String.init))
        let problems = try await f.gloss(["conflicts", "--json"]).jsonLines()
        #expect(problems.count == 3)
        let flagged = Set(problems.compactMap { $0["annotation"] as? String })
        for (id, row) in before {
            let oldText = row["text"] as! String
            if fixed.contains(oldText) {
                #expect(flagged.contains(id), "\(oldText) was not flagged")
                let proposal = after[id]!["text"] as! String
                #expect(Self.typos.contains { $0.0.hasPrefix(proposal) }, "\(oldText) proposed as \(proposal)")
            } else {
                #expect(!flagged.contains(id), "\(oldText) was flagged")
                #expect(after[id]!["text"] as? String == oldText, "\(oldText) moved to \(after[id]!["text"] ?? "")")
            }
        }

        // Each anchor problem settled a different way; then none is left.
        let ids = problems.map { $0["id"] as! String }
        let placed = try #require(Self.tokens(new).first { $0.token == "independent" })
        for (id, row) in zip(ids, problems) where (row["description"] as? String)?.contains("\"independant\"") == true {
            try await f.ok(["resolve", String(id.prefix(8)), "--value", "\(placed.range.lowerBound)-\(placed.range.upperBound)"])
        }
        let left = try await f.gloss(["conflicts", "--json"]).jsonLines()
        #expect(left.count == 2)
        try await f.ok(["resolve", String((left[0]["id"] as! String).prefix(8)), "--mine"])
        try await f.ok(["resolve", String((left[1]["id"] as! String).prefix(8)), "--delete"])
        #expect(try await f.gloss(["conflicts"]).status == 0)
        try await f.ok(["sync"])

        // bob syncs: his offline spans are carried to the new text; the one on a fixed word is
        // flagged for him, the other covers "Moscow" still.
        let bobSync = try await f.ok(["sync"], in: bob)
        #expect(bobSync.err.contains("texts changed: 1 span(s) whose words changed wait in `gloss conflicts`"), "\(bobSync.err)")
        let bobs = try await Self.annotations(f, "fed", in: bob)
        #expect(bobs.count == count + 1)  // one deleted, two of bob's added
        #expect(bobs.values.contains { $0["label"] as? String == "LOC" && $0["text"] as? String == "Moscow" })
        let bobProblems = try await f.gloss(["conflicts", "--json"], in: bob).jsonLines()
        #expect(bobProblems.count == 1)
        #expect((bobProblems.first?["description"] as? String)?.contains("independant") == true)

        // History: the old text at its revision, the revision in log and diff.
        let log = try await f.ok(["log", "--json"]).jsonLines()
        let revision = try #require(log.first { ($0["message"] as? String)?.hasPrefix("revise the text") == true }?["revision"] as? Int)
        #expect(log.filter { ($0["textRevised"] as? [String]) == ["fed"] }.map { $0["revision"] as? Int } == [revision])
        #expect(try await f.ok(["log", "--no-pager"]).out.contains("text revised: fed"))
        let then = try await f.ok(["show", "fed", "--at", "\(revision - 1)", "--json"]).jsonLines()
        #expect((then.first?["text"] as? String) == old)
        let now = try await f.ok(["show", "fed", "--json"]).jsonLines()
        #expect((now.first?["text"] as? String) == new)
        let diff = try await f.ok(["diff", "\(revision)", "fed", "--no-pager"]).out
        #expect(diff.contains("[document text revised]"))
        #expect(diff.contains("~ text") && diff.contains("\"independant\"") && diff.contains("\"independent\""), "\(diff)")
        let blame = try await f.ok(["blame", "fed", "--no-pager"]).out
        #expect(blame.hasPrefix("r\(revision)\tadmin\t"), "\(blame.prefix(200))")
        #expect(blame.split(separator: "\n").first?.contains("text revised") == true)

        // A fresh clone carries every text: it shows the old one too.
        let carol = try await f.annotator("carol", role: "viewer")
        let cloned = try await f.ok(["show", "fed", "--at", "\(revision - 1)", "--json"], in: carol).jsonLines()
        #expect((cloned.first?["text"] as? String) == old)
    }

    /// A Chia-like brat document (clinical trial criteria, CRLF line ends, a discontinuous span)
    /// converted to LF: spans within a line keep their text; one across a line end is flagged.
    @Test func crlfToLFOfABratDocument() async throws {
        let f = try await CLIFixture("text-crlf")
        let lines = [
            "Inclusion Criteria:", "- Age 18 to 75 years", "- Diagnosis of type 2 diabetes mellitus",
            "- HbA1c between 7.0% and 10.0%", "Exclusion Criteria:", "- Pregnancy or breast feeding",
            "- History of severe hypoglycemia",
        ]
        let crlf = lines.joined(separator: "\r\n") + "\r\n"
        let lf = lines.joined(separator: "\n") + "\n"
        func at(_ s: String, in text: String) throws -> Range<Int> {
            let r = try #require(text.range(of: s))
            let start = text.unicodeScalars.distance(from: text.unicodeScalars.startIndex, to: r.lowerBound)
            return start..<(start + s.unicodeScalars.count)
        }
        let spans: [(label: String, text: String)] = [
            ("Condition", "type 2 diabetes mellitus"), ("Measurement", "HbA1c"), ("Value", "7.0% and 10.0%"),
            ("Condition", "Pregnancy"), ("Condition", "breast feeding"), ("Condition", "severe hypoglycemia"),
            ("Scope", "10.0%\r\nExclusion"),
        ]
        var ann = spans.enumerated().map { i, s in
            let r = try! at(s.text, in: crlf)
            return "T\(i + 1)\t\(s.label) \(r.lowerBound) \(r.upperBound)\t\(s.text.replacingOccurrences(of: "\r\n", with: " "))"
        }
        // The discontinuous span: "Age … years".
        let age = try at("Age", in: crlf), years = try at("years", in: crlf)
        ann.append("T8\tDemographic \(age.lowerBound) \(age.upperBound);\(years.lowerBound) \(years.upperBound)\tAge years")
        let dir = f.directory.url.appendingPathComponent("chia")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try Data(crlf.utf8).write(to: dir.appendingPathComponent("NCT0001.txt"))
        try Data((ann.joined(separator: "\n") + "\n").utf8).write(to: dir.appendingPathComponent("NCT0001.ann"))
        try await f.ok(["import", "brat", dir.path])
        let before = try await Self.annotations(f, "NCT0001")
        #expect(before.count == 8)

        let file = f.directory.url.appendingPathComponent("lf.txt")
        try Data(lf.utf8).write(to: file)
        let update = try await f.ok(["doc", "update", "NCT0001", file.path])
        #expect(update.out.contains("7 span(s) kept their text, 1 flagged"), "\(update.out)")
        let after = try await Self.annotations(f, "NCT0001")
        let problems = try await f.gloss(["conflicts", "--json"]).jsonLines()
        #expect(problems.map { $0["annotation"] as? String } == [before.first { $0.value["label"] as? String == "Scope" }?.key])
        for (id, row) in before where row["label"] as? String != "Scope" {
            #expect(after[id]?["text"] as? String == row["text"] as? String, "\(row["text"] ?? "") moved")
            // Every span is past the first line end, so each moved back by the `\r`s before it.
            #expect(Self.ranges(after[id]!) != Self.ranges(row), "\(row["text"] ?? "") did not move")
        }
    }

    /// A CoNLL document re-tokenised (no space before punctuation): entities keep their text;
    /// only one whose own spaces changed is flagged. Then `import --update-text` records a
    /// file's new text and updates the annotations in one go.
    @Test func whitespaceRetokenisationOfACoNLLDocument() async throws {
        let f = try await CLIFixture("text-conll")
        let all = try String(contentsOf: SharedData.root.appendingPathComponent("data/wikigold-conll/wikigold.conll.txt"), encoding: .utf8)
        let documents = all.components(separatedBy: "-DOCSTART- O")
        let first = "-DOCSTART- O" + documents[1]
        let file = f.directory.url.appendingPathComponent("one.conll")
        try Data(first.utf8).write(to: file)
        try await f.ok(["import", "conll", file.path, "--document", "wiki"])
        let doc = try #require(try await f.ok(["docs", "--json"]).jsonLines().first?["id"] as? String)
        let shown = try await f.ok(["show", doc, "--json"]).jsonLines()
        let text = try #require(shown.first?["text"] as? String)
        let before = try await Self.annotations(f, doc)
        #expect(before.count > 5)

        var retokenised = text
        for p in [",", ".", ")", ";", ":"] { retokenised = retokenised.replacingOccurrences(of: " " + p, with: p) }
        retokenised = retokenised.replacingOccurrences(of: "( ", with: "(")
        #expect(retokenised != text)
        let newFile = f.directory.url.appendingPathComponent("retokenised.txt")
        try Data(retokenised.utf8).write(to: newFile)
        try await f.ok(["doc", "update", doc, newFile.path])
        let after = try await Self.annotations(f, doc)
        let flagged = Set(try await f.gloss(["conflicts", "--json"]).jsonLines().compactMap { $0["annotation"] as? String })
        for (id, row) in before {
            let old = row["text"] as! String
            let changed = [",", ".", ")", ";", ":"].contains { old.contains(" " + $0) } || old.contains("( ")
            if changed {
                #expect(flagged.contains(id), "\(old) was not flagged")
            } else {
                #expect(!flagged.contains(id), "\(old) was flagged")
                #expect(after[id]?["text"] as? String == old, "\(old) moved to \(after[id]?["text"] ?? "")")
            }
        }

        // --update-text: a CoNLL file of the same tokens, joined another way, updates the text
        // and matches the entities (exact ranges) instead of refusing the file.
        let refused = try await f.ok(["import", "conll", file.path, "--document", "wiki"])
        #expect(refused.err.contains("exists with another text"))
        let updated = try await f.ok(["import", "conll", file.path, "--document", "wiki", "--update-text"])
        #expect(updated.out.contains("gave 1 document(s) the files' text"), "\(updated.out) \(updated.err)")
        let shownAgain = try await f.ok(["show", doc, "--json"]).jsonLines()
        #expect(shownAgain.first?["text"] as? String == text)
        #expect(try await Self.annotations(f, doc).count == before.count)
    }
}
