import GlossFormats
import GlossModel
import GlossTestSupport
import Testing

/// The LEOKA Label Studio exports under shared/data, read in place.
@Suite(.hangGuard, .timeLimit(.minutes(10)))
struct LabelStudioLeokaTests {
    static let team2 = "labelstudio-leoka/LEOKA_team_2.pseudonymised.json"
    static let team6 = "labelstudio-leoka/LEOKA_team_6.pseudonymised.json"

    static func importing(_ path: String, includeCancelled: Bool = false) throws -> FormatImport {
        var minter = Minter("importer", replica: 13)
        return try LabelStudioImporter(options: ImportOptions(owner: "importer"), includeCancelled: includeCancelled)
            .importFile(try FormatFixtures.data(path), file: path, mintID: { minter.nextID() })
    }

    static func count(_ result: FormatImport, _ kind: AnnotationKind) -> Int {
        result.documents.reduce(0) { $0 + $1.annotations.filter { $0.kind == kind }.count }
    }

    @Test func teamTwoImportsEveryTaskAndReportsTheCancelledAnnotations() throws {
        let result = try Self.importing(Self.team2)
        #expect(result.documents.count == 130)
        #expect(result.documents.allSatisfy { $0.id.rawValue.hasPrefix("LEOKA_team_2.pseudonymised/") })
        let layers = Set(result.documents.flatMap { $0.annotations.map(\.layer) })
        #expect(layers == ["annotator-19149", "annotator-19160", "annotator-19164"])
        // Two annotations were cancelled: skipped, each reported with its task.
        #expect(result.problems.map(\.code) == [.cancelledAnnotation, .cancelledAnnotation])
        #expect(result.problems.allSatisfy { $0.message.hasPrefix("task 970565") && $0.line == 1 && $0.column != nil })
        // Imported with them, every span of the file is there (SOURCE.md: 3,273).
        let all = try Self.importing(Self.team2, includeCancelled: true)
        #expect(all.problems.isEmpty)
        #expect(Self.count(all, .span) == 3273)
        #expect(Self.count(result, .span) < 3273)
        // All 3 annotators on every task.
        #expect(all.documents.allSatisfy { Set($0.annotations.map(\.layer)).count == 3 })
    }

    @Test func teamSixReportsDuplicateAnnotatorsAndTheTenMismatchedTexts() throws {
        let result = try Self.importing(Self.team6)
        #expect(result.documents.count == 130)
        // One annotation holds the same Firearm span three times: the copies are reported, the rest
        // of the 2,626 spans (SOURCE.md) imported.
        let copies = result.problems.filter { $0.code == .duplicateAnnotation }
        #expect(copies.count == 2 && copies.allSatisfy { $0.message.hasPrefix("task 97057055") })
        #expect(Self.count(result, .span) + copies.count == 2626)
        let layers = Set(result.documents.flatMap { $0.annotations.map(\.layer) })
        #expect(
            layers == [
                "annotator-19157", "annotator-19159", "annotator-19173", "annotator-19157-2", "annotator-19173-2",
            ])
        let duplicates = result.problems.filter { $0.code == .duplicateAnnotator }
        #expect(duplicates.count == 2)
        #expect(
            duplicates.contains { $0.message.contains("task 97057030") && $0.message.contains("annotator-19157-2") })
        #expect(
            duplicates.contains { $0.message.contains("task 97057050") && $0.message.contains("annotator-19173-2") })
        #expect(
            result.documents.first { $0.id.rawValue.hasSuffix("/97057030") }.map {
                Set($0.annotations.map(\.layer)).count
            } == 4)

        // SOURCE.md: 10 spans whose stored text has a trailing space the offsets exclude.
        let mismatches = result.problems.filter { $0.code == .textMismatch }
        #expect(mismatches.count == 10)
        #expect(
            mismatches.allSatisfy { $0.message.hasPrefix("task 97057") && $0.message.contains("only in whitespace") })
        #expect(mismatches.allSatisfy { $0.line == 1 && $0.column != nil && $0.file == Self.team6 })
        #expect(result.problems.count == duplicates.count + mismatches.count + copies.count)
        // No astral scalars in these texts: UTF-16 units and scalars agree, and read as scalars.
        #expect(result.documents.allSatisfy { $0.offsetUnit == .scalar })
    }

    /// SOURCE.md: 501 stored span texts have whitespace at an end. Where the offsets include it,
    /// it is no mismatch; only the 10 whose offsets exclude it are reported.
    @Test func strayWhitespaceThatTheOffsetsCoverIsNotAMismatch() throws {
        var withWhitespace = 0
        var mismatches = 0
        for path in [Self.team2, Self.team6] {
            let result = try Self.importing(path, includeCancelled: true)
            mismatches += result.problems.filter { $0.code == .textMismatch }.count
            for doc in result.documents {
                let index = TextIndex(doc.text)
                for span in doc.annotations where span.kind == .span {
                    let text = try index.text(in: span.ranges[0])
                    if text.first?.isWhitespace == true || text.last?.isWhitespace == true { withWhitespace += 1 }
                }
            }
        }
        #expect(mismatches == 10)
        #expect(withWhitespace + mismatches == 501)
    }

    @Test func taxonomyPathsBecomeDocumentLabels() throws {
        let result = try Self.importing(Self.team6)
        let doc = try #require(result.documents.first { $0.id.rawValue.hasSuffix("/97057001") })
        let labels = doc.annotations.filter { $0.kind == .documentLabel && $0.layer == "annotator-19173" }.map(\.label)
        #expect(labels.contains("Killed/Feloniously Killed"))
        #expect(labels.contains("Suspect/Arrested"))
        let spans = FormatFixtures.describe(doc)
        #expect(spans.contains(#"span [annotator-19173] Date@3-15 "September 17""#))
    }

    @Test func leokaSurvivesExportAndImport() throws {
        for path in [Self.team2, Self.team6] {
            let first = try Self.importing(path)
            let export = LabelStudioExporter(taxonomy: true).export(FormatFixtures.exportDocuments(first.documents))
            #expect(export.problems.isEmpty)
            var minter = Minter("importer", replica: 14)
            let second = try LabelStudioImporter(options: ImportOptions(owner: "importer"))
                .importFile(export.files[0].contents, file: "again.json", mintID: { minter.nextID() })
            #expect(second.problems.isEmpty)
            #expect(second.documents.map(\.id) == first.documents.map(\.id))
            #expect(
                second.documents.map { FormatFixtures.describe($0) }
                    == first.documents.map { FormatFixtures.describe($0) })
        }
    }
}
