import GlossFormats
import GlossModel
import GlossTestSupport
import Testing

/// Every kind of problem in edited markup, with its code and 1-based line and column.
@Suite(.hangGuard, .timeLimit(.minutes(10)))
struct InlineMarkupProblemTests {
    static let text = "Ada Lovelace met\nCharles Babbage."
    static let schema = Schema(
        spanLabels: ["PER", "LOC"], documentLabels: ["HISTORY"],
        attributes: [.init(name: "negated", values: ["true", "false"]), .init(name: "note")])

    /// The problems parsing `markup` against the text and schema gives.
    static func problems(_ markup: String, schema: Schema = schema, original: [Annotation] = []) -> [FormatProblem] {
        do {
            _ = try InlineMarkupParser(schema: schema, file: "doc.txt").parse(
                markup, originalText: text, original: original)
            return []
        } catch {
            return error.problems
        }
    }

    @Test(arguments: [
        // (a) the text changed: first difference, with what was expected and found.
        ("[Ada](PER) Lovelace met\nCharlie Babbage.", FormatProblem.Code.markupTextChanged, 2, 6),
        ("[Ada](PER) Lovelace met\nCharles", .markupTextChanged, 2, 8),
        ("Ada Lovelace met\nCharles Babbage. More", .markupTextChanged, 2, 17),
        // (b) labels the schema does not know.
        ("[Ada](PERSON) Lovelace met\nCharles Babbage.", .labelNotInSchema, 1, 7),
        ("Ada Lovelace met\nCharles Babbage.\n%%% gloss\nlabel NOPE", .labelNotInSchema, 4, 7),
        // (c) malformed markup.
        ("[Ada Lovelace met\nCharles Babbage.", .unclosedBracket, 1, 1),
        ("Ada] Lovelace met\nCharles Babbage.", .unmatchedBracket, 1, 4),
        ("[Ada] Lovelace met\nCharles Babbage.", .missingLabel, 1, 5),
        ("[Ada]() Lovelace met\nCharles Babbage.", .missingLabel, 1, 7),
        ("[Ada](PER Lovelace met\nCharles Babbage.", .missingLabel, 1, 6),
        ("[Ada](PER negated) Lovelace met\nCharles Babbage.", .malformedAttribute, 1, 18),
        ("[Ada](PER negated=) Lovelace met\nCharles Babbage.", .malformedAttribute, 1, 19),
        ("[Ada](PER note=\"open) Lovelace met\nCharles Babbage.", .malformedAttribute, 1, 16),
        ("[Ada](PER note=\"a\\qb\") Lovelace met\nCharles Babbage.", .invalidEscape, 1, 18),
        ("[Ada](PER note=a note=b) Lovelace met\nCharles Babbage.", .duplicateAttribute, 1, 18),
        ("Ada Lovelace met\nCharles Babbage.\n%%% gloss\n# fine\nfoo PER 0-3", .malformedTrailerLine, 5, 1),
        ("Ada Lovelace met\nCharles Babbage.\n%%% gloss\nspan PER 0-500", .offsetsOutOfBounds, 4, 10),
        ("Ada Lovelace met\nCharles Babbage.\n%%% gloss\nspan PER 5-2", .invalidOffsets, 4, 10),
        ("Ada Lovelace met\nCharles Babbage.\n%%% gloss\nspan PER 0-x", .invalidOffsets, 4, 10),
        ("Ada Lovelace met\nCharles Babbage.\n%%% gloss\n  span PER 0-5,3-8", .overlappingFragments, 4, 12),
        ("Ada Lovelace met\nCharles Babbage.\n%%% gloss\nspan PER", .invalidOffsets, 4, 9),
        // (d) attributes the schema does not allow.
        ("[Ada](PER color=red) Lovelace met\nCharles Babbage.", .attributeNotInSchema, 1, 11),
        ("[Ada](PER negated=maybe) Lovelace met\nCharles Babbage.", .attributeValueNotInSchema, 1, 19),
    ])
    func problemIsReported(_ markup: String, _ code: FormatProblem.Code, _ line: Int, _ column: Int) throws {
        let problems = Self.problems(markup)
        #expect(problems.count == 1, "\(markup): \(problems)")
        let problem = try #require(problems.first)
        #expect(problem.code == code, "\(markup): \(problem)")
        #expect(problem.line == line && problem.column == column, "\(markup): \(problem)")
        #expect(problem.description.hasPrefix("doc.txt:\(line):\(column): \(code.rawValue): "))
    }

    @Test func textChangeSaysWhatWasExpectedAndFound() throws {
        let problem = try #require(Self.problems("[Ada](PER) Lovelace met\nCharlie Babbage.").first)
        #expect(problem.message.contains("expected \"es Babbage.\", found \"ie Babbage.\""), "\(problem)")
        let short = try #require(Self.problems("Ada Lovelace met\nCharles").first)
        #expect(short.message.contains("found the end of the text"), "\(short)")
        let long = try #require(Self.problems("X" + Self.text).first)
        #expect(long.message.contains("expected \"Ada Lovelace met\\nCharles…\""), "\(long)")
    }

    @Test func aBackslashBeforeAnOrdinaryCharacterIsReported() throws {
        // The original text has a backslash, so the markup must double it.
        let text = #"a\b"#
        let parser = InlineMarkupParser(file: "x")
        #expect(try parser.parse(#"a\\b"#, originalText: text).text == text)
        do {
            _ = try parser.parse(#"a\b"#, originalText: text)
            Issue.record("a lone backslash was accepted")
        } catch {
            #expect(error.problems.map(\.code) == [.invalidEscape])
            #expect(error.problems.map(\.column) == [2])
        }
    }

    @Test func allProblemsAreReportedInFileOrder() throws {
        let markup = "[Ada](PERSON) Lovelace] met\nCharles [Babbage.\n%%% gloss\nbogus\nspan LOC 0-99"
        let problems = Self.problems(markup)
        #expect(
            problems.map(\.code) == [
                .labelNotInSchema, .unmatchedBracket, .unclosedBracket, .malformedTrailerLine, .offsetsOutOfBounds,
            ])
        #expect(problems.map { "\($0.line!):\($0.column!)" } == ["1:7", "1:23", "2:9", "4:1", "5:10"])
    }

    @Test func openSchemaAllowsAnyLabelAndAttribute() {
        #expect(Self.problems("[Ada](ANY color=red) Lovelace met\nCharles Babbage.", schema: .open).isEmpty)
    }

    @Test func unchangedAnnotationsAreNotCheckedAgainstTheSchema() {
        // An OLD span made under an earlier schema may stay; a new OLD span may not.
        let old = Annotation.span(
            AnnotationID(replica: ReplicaID(1), counter: 1), in: "d", [TextRange(0, 3)], label: "OLD", owner: "a",
            attributes: ["color": "red"])
        #expect(Self.problems("[Ada](OLD color=red) Lovelace met\nCharles Babbage.", original: [old]).isEmpty)
        #expect(
            Self.problems("[Ada](OLD color=red) [Lovelace](OLD) met\nCharles Babbage.", original: [old]).map(\.code)
                == [.labelNotInSchema])
    }

    @Test func anEditorsFinalLineFeedIsNotAChange() throws {
        let parser = InlineMarkupParser(schema: Self.schema)
        #expect(
            try parser.parse("[Ada](PER) Lovelace met\nCharles Babbage.\n", originalText: Self.text).text == Self.text)
        // Two are a change.
        #expect(Self.problems("Ada Lovelace met\nCharles Babbage.\n\n").map(\.code) == [.markupTextChanged])
    }

    @Test func trailerCommentsBlankLinesAndReminders() throws {
        let markup = """
            Ada Lovelace met
            Charles Babbage.
            %%% gloss
            # a comment

              label HISTORY   # why: "(\\[ignored"
            span PER 0-3,4-12 negated=false  # "Ada" … "Lovelace"

            """
        let content = try InlineMarkupParser(schema: Self.schema).parse(markup, originalText: Self.text)
        #expect(content.documentLabels == [InlineMarkupLabel(label: "HISTORY")])
        #expect(
            content.spans == [
                InlineMarkupSpan(
                    label: "PER", ranges: [TextRange(0, 3), TextRange(4, 12)], attributes: ["negated": "false"])
            ])
    }
}
