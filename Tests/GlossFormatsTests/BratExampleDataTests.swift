import Foundation
import GlossFormats
import GlossModel
import GlossTestSupport
import Testing

/// The real brat example collections (tutorials, NCBI-disease, Finnish TDT), read in place.
@Suite(.hangGuard, .timeLimit(.minutes(10)))
struct BratExampleDataTests {
    let documents: [String]

    init() throws {
        documents = try BratFixtures.examples.documents()
    }

    @Test func everyFileExportsToItsOriginalBytes() throws {
        try #require(
            documents.count > 40, "found only \(documents.count) .ann files under \(BratFixtures.examples.root.path)")
        var identical = 0
        var lines = 0
        for path in documents {
            let annBytes = try BratFixtures.examples.read(path + ".ann")
            let textBytes = try BratFixtures.examples.read(path + ".txt")
            var minter = Minter("brat", replica: 3)
            let result = try BratImporter(owner: "brat").importDocument(
                annUTF8: annBytes, textUTF8: textBytes, document: "doc", file: path + ".ann",
                mintID: { minter.nextID() })
            #expect(result.problems.isEmpty, "\(path): \(result.problems)")
            #expect(Data(result.document.verbatim.utf8) == annBytes, "\(path): the parsed lines are not the file")
            let text = String(decoding: textBytes, as: UTF8.self)
            let export = BratExporter().export(
                result.annotations, text: text, bratIDs: result.bratIDs, original: result.document, file: path + ".ann")
            #expect(export.problems.isEmpty, "\(path): \(export.problems)")
            #expect(Data(export.annUTF8) == annBytes, "\(path) does not export to its original bytes")
            // The exporter hands back the same brat ids it was given.
            #expect(export.bratIDs == result.bratIDs, "\(path)")
            if Data(export.annUTF8) == annBytes { identical += 1 }
            lines += result.document.lines.count
        }
        #expect(identical == documents.count)
        #expect(documents.count == 52 && lines == 7777, "\(documents.count) files, \(lines) lines")
    }

    /// Without the original document (only the brat ids), the export is a different file whose
    /// import gives the same annotations: events are rebuilt from the argument ids.
    @Test func exportWithoutTheOriginalReimportsToTheSameAnnotations() throws {
        var events = 0
        for path in documents {
            let (ann, text) = try BratFixtures.example(path)
            let first = try BratFixtures.importing(ann, text: text, file: path)
            let export = BratExporter().export(first.annotations, text: text, bratIDs: first.bratIDs)
            #expect(export.problems.isEmpty, "\(path): \(export.problems)")
            let second = try BratFixtures.importing(export.ann, text: text, file: path)
            #expect(second.problems.isEmpty, "\(path): \(second.problems)")
            #expect(BratFixtures.describe(second.annotations) == BratFixtures.describe(first.annotations), "\(path)")
            // Normalizations and equivalences need the original document; everything else survives.
            let extras = first.document.lines.filter {
                switch $0.entry {
                case .normalization, .equivalence: true
                default: false
                }
            }
            let kept = second.document.lines.count + extras.count
            #expect(kept == first.document.lines.count, "\(path)")
            events += second.document.lines.filter { if case .event = $0.entry { true } else { false } }.count
        }
        #expect(events == 47)
    }

    @Test func finnishTreebankImportsWithoutProblems() throws {
        let tdt = documents.filter { $0.hasPrefix("corpora/TDT/") }
        try #require(tdt.count == 6)
        var counts = (spans: 0, relations: 0, attributes: 0, notes: 0)
        for path in tdt {
            let (ann, text) = try BratFixtures.example(path)
            #expect(text.unicodeScalars.contains { !$0.isASCII }, "\(path) should be non-ASCII")
            let result = try BratFixtures.importing(ann, text: text, strict: true, file: path)
            #expect(result.problems.isEmpty)
            #expect(result.offsetUnit == .scalar)
            for a in result.annotations {
                switch a.kind {
                case .span: counts.spans += 1
                case .relation: counts.relations += 1
                case .note: counts.notes += 1
                case .documentLabel: Issue.record("no document labels in brat")
                }
                counts.attributes += a.attributes.count
            }
            // Spot check: a span over non-ASCII text picks out the recorded word.
            let index = TextIndex(text)
            for line in result.document.lines {
                guard case .textBound(let t) = line.entry,
                    t.text?.unicodeScalars.contains(where: { !$0.isASCII }) == true
                else { continue }
                let id = result.bratIDs.first { $0.value == t.id }!.key
                let span = result.annotations.first { $0.id == id }!
                #expect(try index.text(in: span.ranges[0]) == t.text)
            }
        }
        // The counts SOURCE.md gives for TDT.
        #expect(counts.spans == 1165 && counts.relations == 1169 && counts.attributes == 3506 && counts.notes == 1165)
    }

    @Test func tutorialCountsMatchTheSource() throws {
        // bio + news: 226 T, 14 R, 47 E, 20 A, 1 N, 8 notes, 4 equivalences (SOURCE.md).
        var spans = 0
        var relations = 0
        var notes = 0
        var attributes = 0
        var kinds: [String: Int] = [:]
        for path in documents where path.hasPrefix("tutorials/") {
            let (ann, text) = try BratFixtures.example(path)
            let result = try BratFixtures.importing(ann, text: text, file: path)
            for line in result.document.lines {
                let kind: String
                switch line.entry {
                case .textBound: kind = "T"
                case .relation: kind = "R"
                case .event: kind = "E"
                case .attribute: kind = "A"
                case .normalization: kind = "N"
                case .note: kind = "#"
                case .equivalence: kind = "*"
                case .blank, .unparsed: kind = "?"
                }
                kinds[kind, default: 0] += 1
            }
            spans += result.annotations.filter { $0.kind == .span }.count
            relations += result.annotations.filter { $0.kind == .relation }.count
            notes += result.annotations.filter { $0.kind == .note }.count
            attributes += result.annotations.reduce(0) { $0 + $1.attributes.count }
        }
        #expect(kinds == ["T": 226, "R": 14, "E": 47, "A": 20, "N": 1, "#": 8, "*": 4])
        // No two events share a trigger here, so spans = T lines; relations = R lines + event arguments.
        #expect(spans == 226 && notes == 8 && attributes == 20)
        #expect(relations == 14 + 96)
    }
}
