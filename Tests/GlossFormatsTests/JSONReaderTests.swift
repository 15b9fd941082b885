import GlossTestSupport
import Testing

@testable import GlossFormats

/// The JSON reader and writer the JSON-based formats share (doccano, Label Studio, W3C).
@Suite(.hangGuard, .timeLimit(.minutes(10)))
struct DoccanoJSONReaderTests {
    func parse(_ text: String) throws(JSONSyntaxError) -> JSONValue { try JSONReader.parse(Array(text.utf8)) }

    @Test func stringsWithEscapesAndSurrogatePairs() throws {
        let value = try parse(#"{"a": "tab\tquote\" \u00e9 \ud83d\ude00 \/", "lone": "\ud800x", "raw": "Zürich 🚓"}"#)
        #expect(value["a"]?.string == "tab\tquote\" é 😀 /")
        #expect(value["lone"]?.string == "\u{FFFD}x")
        #expect(value["raw"]?.string == "Zürich 🚓")
    }

    @Test func numbersKeepTheirTextAndReadAsIntegersWhenIntegral() throws {
        let value = try parse(#"[0, -12, 3.0, 1e2, 2.5, 12345678901234]"#)
        let numbers = try #require(value.array)
        #expect(numbers.map(\.int) == [0, -12, 3, 100, nil, 12_345_678_901_234])
        #expect(numbers[4].double == 2.5)
        #expect(numbers.map { $0.rendered() } == ["0", "-12", "3.0", "1e2", "2.5", "12345678901234"])
    }

    @Test func valuesKnowTheirLineAndColumnInScalars() throws {
        let value = try parse("{\n  \"é😀\": [1,\n    {\"k\": true}]}")
        let array = try #require(value["é😀"])
        #expect((array.line, array.column) == (2, 9))
        let inner = try #require(array.array?[1])
        #expect((inner.line, inner.column) == (3, 5))
    }

    @Test func syntaxErrorsSayWhere() {
        for (text, line, column) in [
            ("{\"a\" 1}", 1, 6), ("[1,\n 2,,]", 2, 4), ("\"abc", 1, 5), ("[01]", 1, 3), ("tru", 1, 4),
        ] {
            do {
                _ = try parse(text)
                Issue.record("\(text) parsed")
            } catch {
                #expect((error.line, error.column) == (line, column), "\(text): \(error.message)")
            }
        }
        let deep =
            String(repeating: "[", count: JSONReader.maximumDepth + 1)
            + String(repeating: "]", count: JSONReader.maximumDepth + 1)
        #expect(throws: JSONSyntaxError.self) { _ = try parse(deep) }
    }

    @Test func aSequenceResumesAfterABrokenLine() {
        let text = "{\"n\": 1}\n{\"n\": 2,\n{\"n\": 3}\n[4] [5]\n{\"n\": 6}"
        let (values, errors) = JSONReader.parseSequence(Array(text.utf8))
        #expect(values.map { $0["n"]?.int ?? $0.array?.first?.int } == [1, 3, 4, 6])
        #expect(errors.map(\.line) == [2, 4])
    }

    @Test func renderingEscapesAndParsesBack() throws {
        let value: JSONValue = [
            "text": "line\nbreak \u{1} \"q\" \\ é", "n": 3, "list": [true, .null, ["a"]], "empty": [:],
        ]
        let compact = value.rendered()
        #expect(compact == #"{"text":"line\nbreak \u0001 \"q\" \\ é","n":3,"list":[true,null,["a"]],"empty":{}}"#)
        for text in [compact, value.rendered(pretty: true)] {
            let back = try parse(text)
            #expect(back.rendered() == compact)
        }
    }
}
