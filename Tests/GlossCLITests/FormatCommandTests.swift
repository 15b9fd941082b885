import Foundation
import GlossTestSupport
import Testing

/// `gloss import` and `gloss export` on the real exports in ../shared/data, through the binaries.
@Suite(.serialized, .hangGuard, .timeLimit(.minutes(10)))
struct FormatCommandTests {
    static let data = SharedData.root.appendingPathComponent("data")

    /// Every file under `dir` with its bytes, by relative path.
    static func files(_ dir: URL, suffixes: [String]) throws -> [String: Data] {
        var out: [String: Data] = [:]
        let base = dir.resolvingSymlinksInPath().path
        for case let file as URL in FileManager.default.enumerator(at: dir, includingPropertiesForKeys: nil)!
        where suffixes.contains(where: { file.path.hasSuffix($0) }) {
            out[String(file.resolvingSymlinksInPath().path.dropFirst(base.count + 1))] = try Data(contentsOf: file)
        }
        return out
    }

    @Test func bratImportThenExportIsByteIdenticalAfterASync() async throws {
        let f = try await CLIFixture("brat")
        let source = Self.data.appendingPathComponent("brat-example-data")
        let imported = try await f.ok(["import", "brat", source.path])
        #expect(imported.out.contains("imported: 4069 created, 0 changed, 0 deleted, 0 unchanged on 52 document(s) (52 new)"))
        #expect(imported.out.contains("offsets counted in code points in 52 document(s)"))
        // The configurations' lines Gloss cannot hold are reported with file and line.
        #expect(imported.err.contains("tutorials/news/annotation.conf:37: ignored-configuration"))
        try await f.ok(["sync"])

        // A second annotator's fresh clone exports the same bytes: the round trip lives in the corpus.
        let bob = try await f.annotator("bob", role: "viewer")
        let out = f.directory.url.appendingPathComponent("out")
        try await f.ok(["export", "brat", out.path], in: bob)
        let original = try Self.files(source, suffixes: [".ann", ".txt"])
        let exported = try Self.files(out, suffixes: [".ann", ".txt"])
        #expect(original.count == 104)
        #expect(Set(exported.keys) == Set(original.keys))
        for (path, bytes) in original { #expect(exported[path] == bytes, "\(path) differs after the round trip") }

        // The schema came from annotation.conf: a label it does not know is refused.
        let refused = try await f.gloss(["span", "add", "tutorials/news/000-introduction", "0", "4", "NotALabel"])
        #expect(refused.status == 5)
        #expect(refused.err.contains("NotALabel"))

        #expect(try await f.gloss(["export", "brat", out.path, "--doc", "no-such-doc"]).status == 6)
        // Without a terminal, progress comes as plain lines on standard error.
        let progress = try await f.ok(["export", "brat", f.directory.url.appendingPathComponent("again").path])
        #expect(progress.err.contains("export: 52/52 (100%)"))
        #expect(try await f.ok(["export", "brat", f.directory.url.appendingPathComponent("q").path, "-q"]).err.isEmpty)
    }

    @Test func doccanoImportKeepsEveryAnnotatorAsALayer() async throws {
        let f = try await CLIFixture("doccano")
        let novels = Self.data.appendingPathComponent("doccano-english-novels/original_data")
        let result = try await f.ok(["import", "jsonl", novels.path])
        #expect(result.out.contains("on 124 document(s) (124 new)"))
        #expect(result.out.contains("imported: 8123 created"))
        #expect(result.out.contains("in layer(s) user-1, user-2, user-3"))
        try await f.ok(["sync"])
        let docs = try await f.ok(["docs", "--json"]).jsonLines()
        #expect(docs.count == 124)
        #expect(docs.allSatisfy { ($0["layers"] as? [String]) == ["user-1", "user-2", "user-3"] })

        // Agreement between the three users runs on the imported layers.
        let agree = try await f.ok(["agree", "user-1", "user-2", "user-3", "--json"]).out
        let report = try JSONSerialization.jsonObject(with: Data(agree.utf8)) as! [String: Any]
        #expect(report["documents"] as? Int == 124)

        // Export and import again into another corpus: same spans.
        let out = f.directory.url.appendingPathComponent("novels.jsonl")
        try await f.ok(["export", "jsonl", out.path, "--layer", "user-2"])
        let again = try await CLIFixture("doccano2")
        let reimported = try await again.ok(["import", "jsonl", out.path])
        #expect(reimported.out.contains("on 124 document(s)"))
        let before = try await f.ok(["annotations", "--json"]).jsonLines().filter { $0["layer"] as? String == "user-2" }
        let after = try await again.ok(["annotations", "--json"]).jsonLines()
        func spans(_ rows: [[String: Any]]) -> Set<String> {
            Set(rows.map { "\($0["document"]!) \($0["ranges"]!) \($0["label"]!)" })
        }
        #expect(!before.isEmpty)
        #expect(spans(before).count == spans(after).count)
    }

    @Test func labelStudioImportReportsStoredTextMismatches() async throws {
        let f = try await CLIFixture("labelstudio")
        let file = Self.data.appendingPathComponent("labelstudio-leoka/LEOKA_team_6.pseudonymised.json")
        let result = try await f.ok(["import", "labelstudio", file.path])
        #expect(result.out.contains("on 130 document(s) (130 new)"))
        let mismatches = result.err.split(separator: "\n").filter { $0.contains("text-mismatch") }
        #expect(mismatches.count == 10, "\(result.err)")
        #expect(mismatches.allSatisfy { $0.contains("LEOKA_team_6.pseudonymised.json:") })
        let layers = Set(try await f.ok(["docs", "--json"]).jsonLines().flatMap { $0["layers"] as! [String] })
        #expect(layers.isSuperset(of: ["annotator-19157", "annotator-19159", "annotator-19173"]))
        // --strict: the first problem is fatal and nothing is imported.
        let again = try await CLIFixture("labelstudio-strict")
        let strict = try await again.gloss(["import", "labelstudio", file.path, "--strict"])
        #expect(strict.status == 5)
        #expect(try await again.ok(["docs"]).out.isEmpty)
    }

    @Test func conllImportsIOB1AndRoundTripsThroughExport() async throws {
        let f = try await CLIFixture("conll")
        let file = Self.data.appendingPathComponent("wikigold-conll/wikigold.conll.txt")
        let result = try await f.ok(["import", "conll", file.path, "--layer", "gold"])
        #expect(result.out.contains("imported: 3558 created, 0 changed, 0 deleted, 0 unchanged on 145 document(s)"), "\(result.out)\(result.err)")
        #expect(result.out.contains("in layer(s) gold"))
        try await f.ok(["sync"])
        let out = f.directory.url.appendingPathComponent("export.conll")
        try await f.ok(["export", "conll", out.path])
        let again = try await CLIFixture("conll2")
        #expect(try await again.ok(["import", "conll", out.path]).out.contains("imported: 3558 created, 0 changed, 0 deleted, 0 unchanged on 145 document(s)"))
    }

    @Test func importIntoAnotherLayerNeedsTheCuratorRole() async throws {
        let f = try await CLIFixture("layers")
        try await f.addSample()
        try await f.ok(["span", "add", "fed", "1", "35", "TITLE"])
        try await f.ok(["sync"])
        let inline = f.directory.url.appendingPathComponent("inline")
        try await f.ok(["export", "inline", inline.path])
        // An annotator may import into their own layer, not into someone else's.
        let bob = try await f.annotator("bob")
        // Refused before it is recorded: the workspace knows bob's role.
        let refused = try await f.gloss(["import", "inline", inline.path, "--layer", "carol"], in: bob)
        #expect(refused.status == 4)
        #expect(refused.err.contains("writing to the layer of carol needs the curator role"), "\(refused.err)")
        #expect(try await f.ok(["status"], in: bob).out.contains("nothing to push"))
        let carol = try await f.annotator("carol", role: "curator")
        try await f.ok(["import", "inline", inline.path, "--layer", "dave"], in: carol)
        try await f.ok(["sync"], in: carol)
        // --at exports the corpus as it was: before carol's import, one span.
        let old = f.directory.url.appendingPathComponent("old.jsonl")
        try await f.ok(["pull"])
        try await f.ok(["export", "jsonl", old.path, "--at", "2"])
        let now = f.directory.url.appendingPathComponent("now.jsonl")
        try await f.ok(["export", "jsonl", now.path])
        let count = { (url: URL) in try String(contentsOf: url, encoding: .utf8).components(separatedBy: "TITLE").count - 1 }
        #expect(try count(old) == 1)
        #expect(try count(now) == 2)
    }

    @Test func w3cAndInlineRoundTrip() async throws {
        let f = try await CLIFixture("w3c")
        let w3c = try await f.sampleExportedAsW3C()
        let json = try Self.files(w3c, suffixes: [".json", ".jsonld"])
        let text = String(decoding: try #require(json.values.first), as: UTF8.self)
        #expect(text.contains("TextPositionSelector") && text.contains("TextQuoteSelector"))
        #expect(text.contains("The Federation of Soviet Republics"))

        let inline = f.directory.url.appendingPathComponent("inline")
        try await f.ok(["export", "inline", inline.path])
        let markup = String(decoding: try Data(contentsOf: inline.appendingPathComponent("fed.inline.txt")), as: UTF8.self)
        #expect(markup.contains("[The Federation of Soviet Republics](TITLE)"))
        #expect(markup.contains("(PER role=author)"))

        // Both import back into a corpus that has the document, as another layer.
        for (format, path) in [("w3c", w3c), ("inline", inline)] {
            let g = try await CLIFixture("w3c-\(format)")
            try await g.addSample()
            let result = try await g.ok(["import", format, path.path, "--layer", "admin"])
            #expect(result.out.contains("imported: 2 created, 0 changed, 0 deleted, 0 unchanged on 1 document(s)"), "\(format): \(result.out) \(result.err)")
            let labels = try await g.ok(["annotations", "--json"]).jsonLines().map { $0["label"] as! String }.sorted()
            #expect(labels == ["PER", "TITLE"])
        }
    }
}
