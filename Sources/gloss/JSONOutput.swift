import Foundation
import GlossModel

/// Prints one value as a line of JSON (keys sorted, so output is stable for scripts and tests).
func printJSON(_ value: some Encodable) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

/// An annotation as every `--json` listing writes it.
struct AnnotationJSON: Encodable {
    var id: String
    var document: String
    var kind: String
    var label: String
    var layer: String
    var author: String
    var ranges: [[Int]]
    var text: String
    var attributes: [String: String]
    var from: String?
    var to: String?
    var target: String?
    var note: String?

    /// `covered`: the text of the ranges (joined by " … " for a discontinuous span).
    init(_ a: Annotation, covered: String) {
        id = a.id.description
        document = a.document.rawValue
        kind = a.kind.description
        label = a.label
        layer = a.layer
        author = a.owner
        ranges = a.ranges.map { [$0.start, $0.end] }
        text = covered
        attributes = a.attributes
        from = a.from?.description
        to = a.to?.description
        target = a.target?.description
        note = a.kind == .note ? a.text : nil
    }

    /// The covered text of an annotation's ranges.
    static func covered(_ a: Annotation, in index: TextIndex) -> String {
        a.ranges.compactMap { try? index.text(in: $0) }.joined(separator: " … ")
    }
}
