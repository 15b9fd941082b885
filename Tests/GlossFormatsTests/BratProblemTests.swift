import GlossFormats
import GlossModel
import GlossTestSupport
import Testing

/// Malformed and inconsistent lines: each is reported with its line (and column where known),
/// the other lines still import, and the bad lines are written back verbatim.
@Suite(.hangGuard, .timeLimit(.minutes(10)))
struct BratProblemTests {
    static let text = "Alice founded Acme in Paris. Bob joined Acme."

    /// One bad line between two good spans: the bad line's problem, and both spans imported.
    func problems(for bad: String, extra: String = "") throws -> [FormatProblem] {
        let ann = "T1\tPerson 0 5\tAlice\n" + extra + bad + "\nT9\tPerson 29 32\tBob\n"
        let result = try BratFixtures.importing(ann, text: Self.text)
        let spans = result.annotations.filter { $0.kind == .span }.map(\.ranges)
        #expect(spans.contains([TextRange(0, 5)]) && spans.contains([TextRange(29, 32)]), "\(bad)")
        // The file still exports to the same bytes: the bad line is kept as it was.
        let export = BratExporter().export(
            result.annotations, text: Self.text, bratIDs: result.bratIDs, original: result.document)
        #expect(export.ann == ann)
        return result.problems
    }

    @Test(arguments: [
        ("T2 Person 0 5 Alice", FormatProblem.Code.malformedLine, 2, nil as Int?),
        ("T2\tPerson 0 x\tAlice", .invalidOffsets, 2, 13),
        ("T2\tPerson 5 0\tAlice", .invalidOffsets, 2, 11),
        ("T2\tPerson 0 5;7\tAlice", .invalidOffsets, 2, 15),
        ("T2\tPerson 0 500\tAlice", .offsetsOutOfBounds, 2, 4),
        ("X1\tPerson 0 5\tAlice", .unknownLineKind, 2, 1),
        ("R1\tFounder Arg1:T1", .malformedLine, 2, 4),
        ("R1\tFounder Arg1:T1 Arg2", .malformedLine, 2, 20),
        ("R1\tFounder Arg1:T1 Arg2:T7", .unknownReference, 2, 20),
        ("E1\tStart:T7 Agent:T1", .unknownReference, 2, 4),
        ("E1\tStart", .malformedLine, 2, 4),
        ("A1\tNegation T7", .unknownReference, 2, 13),
        ("A1\tNegation", .malformedLine, 2, 4),
        ("A1\tNegation T1 a b", .malformedLine, 2, 4),
        ("#1\tAnnotatorNotes T7\ttext", .unknownReference, 2, 19),
        ("N1\tReference T7 Wikipedia:1", .unknownReference, 2, 14),
        ("*\tEquiv T1 T7", .unknownReference, 2, 12),
        ("*\tEquiv T1", .malformedLine, 2, 3),
        ("T1\tPerson 6 13\tfounded", .duplicateID, 2, 1),
        ("T2\tPerson 0 5\tAlicia", .textMismatch, 2, 4),
    ])
    func badLineIsReported(_ bad: String, _ code: FormatProblem.Code, _ line: Int, _ column: Int?) throws {
        let problems = try problems(for: bad)
        #expect(problems.count == 1, "\(bad): \(problems)")
        let problem = try #require(problems.first)
        #expect(problem.code == code, "\(bad): \(problem)")
        #expect(problem.line == line, "\(bad): \(problem)")
        #expect(problem.column == column, "\(bad): \(problem)")
        #expect(problem.file == "test.ann")
        #expect(problem.description.hasPrefix("test.ann:\(line)"))
    }

    @Test func duplicateAttributeAndRole() throws {
        let attribute = try problems(for: "A2\tMention T1 Nominal", extra: "A1\tMention T1 Name\n")
        #expect(attribute.map(\.code) == [.duplicateAttribute])
        #expect(attribute.first?.line == 3)
        let role = try problems(for: "E1\tStart:T2 Agent:T1 Agent:T9", extra: "T2\tStart 6 13\tfounded\n")
        #expect(role.map(\.code) == [.duplicateRole])
        #expect(role.first?.column == 22)
    }

    @Test func eventWithABadArgumentDropsTheEventsThatNeedIt() throws {
        let ann = """
            T1\tStart 6 13\tfounded
            T2\tReport 33 39\tjoined
            E1\tStart:T1 Agent:T7
            E2\tReport:T2 Event-Arg:E1
            A1\tNegation E2
            T3\tPerson 0 5\tAlice

            """
        let result = try BratFixtures.importing(ann, text: Self.text)
        // E1 has a missing argument, E2 needs E1, and A1 is on E2.
        #expect(result.problems.map(\.code) == [.unknownReference, .unknownReference, .unknownReference])
        #expect(result.problems.map(\.line) == [3, 4, 5])
        // The triggers and the unrelated span still import.
        #expect(result.annotations.filter { $0.kind == .span }.count == 3)
        #expect(result.annotations.filter { $0.kind == .relation }.isEmpty)
        #expect(result.annotations.allSatisfy { $0.attributes.isEmpty })
        let export = BratExporter().export(
            result.annotations, text: Self.text, bratIDs: result.bratIDs, original: result.document)
        #expect(export.ann == ann)
    }

    @Test func textMismatchStillImportsTheSpan() throws {
        let result = try BratFixtures.importing("T1\tPerson 0 5\tAlicia\nT2\tPerson 29 32\tBob\n", text: Self.text)
        #expect(result.problems.map(\.code) == [.textMismatch])
        #expect(result.problems.first?.message.contains("Alicia") == true)
        #expect(result.annotations.count == 2)
        #expect(result.offsetUnit == .scalar)
    }

    @Test func eventTypeDifferentFromTriggerIsReported() throws {
        let result = try BratFixtures.importing("T1\tStart 6 13\tfounded\nE1\tFound:T1\n", text: Self.text)
        #expect(result.problems.map(\.code) == [.eventTypeMismatch])
        #expect(result.annotations.first?.label == "Start")
    }

    @Test func overlappingFragmentsAreReported() throws {
        let result = try BratFixtures.importing("T1\tPerson 0 5;3 8\tAlice ce fo\n", text: Self.text)
        #expect(result.problems.map(\.code) == [.overlappingFragments])
    }

    @Test func strictModeThrowsTheFirstProblem() throws {
        let ann = "T1\tPerson 0 5\tAlice\nR1\tFounder Arg1:T1 Arg2:T7\nX1\tbad\n"
        #expect(throws: FormatProblem.self) { try BratFixtures.importing(ann, text: Self.text, strict: true) }
        do {
            _ = try BratFixtures.importing(ann, text: Self.text, strict: true)
        } catch {
            #expect(error.code == .unknownReference)
            #expect(error.line == 2)
        }
        // The same file without strict mode imports what it can.
        let lenient = try BratFixtures.importing(ann, text: Self.text)
        #expect(lenient.problems.map(\.line) == [2, 3])
        #expect(lenient.annotations.count == 1)
        // A clean file passes strict mode.
        #expect(try BratFixtures.importing("T1\tPerson 0 5\tAlice\n", text: Self.text, strict: true).problems.isEmpty)
    }

    @Test func invalidUTF8IsFatal() {
        var minter = IDSource()
        #expect(throws: FormatProblem.self) {
            try BratImporter(owner: "a").importDocument(
                annUTF8: [0x54, 0x31, 0xFF], textUTF8: Array("x".utf8), document: BratFixtures.doc, file: "bad.ann",
                mintID: { minter.next() })
        }
        do {
            _ = try BratImporter(owner: "a").importDocument(
                annUTF8: Array("T1\tX 0 1\tx\n".utf8), textUTF8: [0xC3], document: BratFixtures.doc,
                textFile: "bad.txt",
                mintID: { minter.next() })
            Issue.record("accepted invalid UTF-8")
        } catch {
            #expect(error.code == .invalidUTF8 && error.file == "bad.txt")
        }
    }
}
