import GlossFormats
import GlossModel
import GlossTestSupport
import Testing

/// Label Studio JSON: results, layers, offsets and problems, on small fixtures.
@Suite(.hangGuard, .timeLimit(.minutes(10)))
struct LabelStudioImporterTests {
    func importing(
        _ json: String, options: ImportOptions = ImportOptions(owner: "ann"), includePredictions: Bool = false
    ) throws(FormatProblem) -> FormatImport {
        var minter = Minter("ann", replica: 21)
        return try LabelStudioImporter(options: options, includePredictions: includePredictions)
            .importFile(Array(json.utf8), file: "project.json", mintID: { minter.nextID() })
    }

    /// One task, two annotators (one of them twice), every result type Gloss reads, a
    /// cancelled annotation, a prediction and an image region.
    static let task = """
        [{"id": 42, "data": {"text": "Officer Smith, 28, was shot."},
          "annotations": [
            {"id": 1, "completed_by": {"id": 7, "email": "a@example.invalid"}, "was_cancelled": false, "result": [
              {"id": "r1", "type": "labels", "from_name": "label", "to_name": "text",
               "value": {"start": 8, "end": 13, "text": "Smith", "labels": ["Person"]}},
              {"id": "r2", "type": "labels", "value": {"start": 15, "end": 17, "text": "28", "labels": ["Age", "Number"]}},
              {"id": "r1", "type": "choices", "from_name": "role", "value": {"start": 8, "end": 13, "choices": ["victim", "officer"]}},
              {"id": "r1", "type": "textarea", "from_name": "notes", "value": {"start": 8, "end": 13, "text": ["check name"]}},
              {"type": "relation", "from_id": "r2", "to_id": "r1", "direction": "left", "labels": ["age_of"]},
              {"id": "c", "type": "taxonomy", "from_name": "Category", "value": {"taxonomy": [["Killed", "Feloniously"], ["Assaulted"]]}},
              {"id": "d", "type": "choices", "from_name": "kind", "value": {"choices": ["report"]}},
              {"id": "n", "type": "textarea", "value": {"text": ["long one"]}},
              {"id": "img", "type": "rectanglelabels", "value": {"x": 1, "y": 2}}
            ]},
            {"id": 2, "completed_by": 9, "result": [
              {"id": "s", "type": "labels", "value": {"start": 0, "end": 13, "text": "Officer Smith", "labels": ["Person"]}}]},
            {"id": 3, "completed_by": 9, "result": [
              {"id": "s", "type": "labels", "value": {"start": 0, "end": 7, "text": "Officer", "labels": ["Rank"]}}]},
            {"id": 4, "completed_by": 5, "was_cancelled": true, "result": [
              {"id": "x", "type": "labels", "value": {"start": 0, "end": 7, "text": "Officer", "labels": ["Rank"]}}]}
          ],
          "drafts": [{"result": [{"id": "q", "type": "labels", "value": {"start": 0, "end": 1, "labels": ["X"]}}]}],
          "predictions": [{"id": 77, "model_version": "ner v2", "result": [
            {"id": "p", "type": "labels", "value": {"start": 8, "end": 13, "text": "Smith", "labels": ["Person"]}}]}]
        }]
        """

    @Test func everyResultTypeMapsAndAnnotatorsBecomeLayers() throws {
        let result = try importing(Self.task)
        let doc = try #require(result.documents.first)
        #expect(result.documents.count == 1)
        #expect(doc.id == "project/42")
        #expect(
            FormatFixtures.describe(doc) == [
                "document-label [annotator-7] Assaulted",
                "document-label [annotator-7] Killed/Feloniously",
                "document-label [annotator-7] report",
                "note [annotator-7] [check name] on Person@8-13",
                "note [annotator-7] [long one] on document",
                "relation [annotator-7] rel age_of(Person@8-13->Age@15-17)",
                #"span [annotator-7] Age@15-17 "28""#,
                #"span [annotator-7] Number@15-17 "28""#,
                #"span [annotator-7] Person@8-13 "Smith" {role=victim,officer}"#,
                #"span [annotator-9-2] Rank@0-7 "Officer""#,
                #"span [annotator-9] Person@0-13 "Officer Smith""#,
            ])
        #expect(doc.annotations.allSatisfy { $0.owner == "ann" })
        // Problems, in file order: the image region, the second annotation of user 9, the cancelled one.
        #expect(result.problems.map(\.code) == [.unsupportedContent, .duplicateAnnotator, .cancelledAnnotation])
        #expect(result.problems.allSatisfy { $0.message.hasPrefix("task 42") && $0.file == "project.json" })
        #expect(result.problems.map(\.line) == [13, 17, 19])
    }

    @Test func predictionsOnlyWhenAskedAndTheLayerOptionMergesAnnotators() throws {
        let with = try importing(Self.task, includePredictions: true)
        #expect(FormatFixtures.describe(with.documents[0]).contains(#"span [prediction-ner-v2] Person@8-13 "Smith""#))
        let merged = try importing(Self.task, options: ImportOptions(owner: "ann", layer: "gold"))
        #expect(Set(merged.documents[0].annotations.map(\.layer)) == ["gold"])
        // User 9's second annotation is still reported, though it shares the layer.
        #expect(merged.problems.contains { $0.code == .duplicateAnnotator && $0.message.contains("layer gold") })
    }

    @Test func utf16OffsetsAreDetectedFromTheRecordedTexts() throws {
        // "🚓 " is 2 scalars, 3 UTF-16 units: Label Studio's front end writes "Smith" at 11-16.
        let json = #"""
            [{"id": 1, "data": {"text": "🚓 Officer Smith"}, "annotations": [{"completed_by": 1, "result": [
              {"id": "a", "type": "labels", "value": {"start": 11, "end": 16, "text": "Smith", "labels": ["P"]}},
              {"id": "b", "type": "labels", "value": {"start": 3, "end": 10, "text": "Officer", "labels": ["R"]}}]}]}]
            """#
        let result = try importing(json)
        #expect(result.problems.isEmpty)
        #expect(result.documents[0].offsetUnit == .utf16)
        #expect(
            FormatFixtures.describe(result.documents[0]) == [
                #"span [annotator-1] P@10-15 "Smith""#, #"span [annotator-1] R@2-9 "Officer""#,
            ])
    }

    @Test func mismatchedRecordedTextsAreReportedAndImportedAtTheirOffsets() throws {
        let json = #"""
            [{"id": 5, "data": {"text": "a 53-year-old man"}, "annotations": [{"completed_by": 1, "result": [
              {"id": "a", "type": "labels", "value": {"start": 2, "end": 13, "text": "53-year-old ", "labels": ["Age"]}},
              {"id": "b", "type": "labels", "value": {"start": 1, "end": 13, "text": " 53-year-old", "labels": ["Age"]}},
              {"id": "c", "type": "labels", "value": {"start": 14, "end": 17, "text": "boy", "labels": ["P"]}}]}]}]
            """#
        let result = try importing(json)
        // "b" records leading whitespace that its offsets include: no mismatch.
        #expect(result.problems.map(\.code) == [.textMismatch, .textMismatch])
        #expect(result.problems[0].message.contains("only in whitespace"))
        #expect(!result.problems[1].message.contains("only in whitespace"))
        #expect(result.problems.allSatisfy { $0.message.hasPrefix("task 5, annotation #1, region") })
        #expect(result.problems.map(\.line) == [2, 4])
        #expect(
            FormatFixtures.describe(result.documents[0], layers: false) == [
                #"span Age@1-13 " 53-year-old""#, #"span Age@2-13 "53-year-old""#, #"span P@14-17 "man""#,
            ])
    }

    @Test func badTasksAreSkippedAndReported() throws {
        let json = #"""
            [{"id": 1, "data": {"html": "<b>x</b>", "title": "t"}},
             {"id": 2},
             "not a task",
             {"id": 3, "data": {"text": "ok"}, "annotations": [{"completed_by": 1, "result": [
               {"id": "a", "type": "labels", "value": {"start": 0, "end": 9, "labels": ["X"]}},
               {"id": "b", "type": "labels", "value": {"start": 0, "end": 2}},
               {"type": "relation", "from_id": "a", "to_id": "zz"}]}]}]
            """#
        let result = try importing(json)
        #expect(result.documents.map(\.id) == ["project/3"])
        #expect(
            result.problems.map(\.code) == [
                .missingField, .missingField, .invalidRecord, .offsetsOutOfBounds, .missingField, .unknownReference,
            ])
        #expect(result.problems.map(\.line) == [1, 2, 3, 5, 6, 7])
        #expect(throws: FormatProblem.self) {
            _ = try importing(json, options: ImportOptions(owner: "ann", strict: true))
        }
    }

    @Test func aCopiedRegionIsSkippedButResultsOnItReachTheOriginal() throws {
        let json = #"""
            [{"id": 8, "data": {"text": "Bob and Ann"}, "annotations": [{"completed_by": 1, "result": [
              {"id": "a", "type": "labels", "value": {"start": 0, "end": 3, "text": "Bob", "labels": ["P"]}},
              {"id": "b", "type": "labels", "value": {"start": 0, "end": 3, "text": "Bob", "labels": ["P"]}},
              {"id": "c", "type": "labels", "value": {"start": 8, "end": 11, "text": "Ann", "labels": ["P"]}},
              {"type": "relation", "from_id": "b", "to_id": "c", "labels": ["knows"]}]}]}]
            """#
        let result = try importing(json)
        #expect(result.problems.map(\.code) == [.duplicateAnnotation])
        #expect(result.problems.map(\.line) == [3])
        #expect(FormatFixtures.describe(result.documents[0], layers: false) == [
            "relation rel knows(P@0-3->P@8-11)", #"span P@0-3 "Bob""#, #"span P@8-11 "Ann""#,
        ])
    }

    @Test func theOnlyStringInDataIsTheTextWhenThereIsNoTextField() throws {
        let json = #"[{"id": 1, "data": {"dialogue": "hello there", "n": 4}, "annotations": []}]"#
        let result = try importing(json)
        #expect(result.documents.map(\.text) == ["hello there"])
        #expect(result.documents[0].offsetUnit == nil)
    }
}
