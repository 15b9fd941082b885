import Foundation
import GlossClient
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

/// A conflict as `gloss conflicts --json` and `gloss status --json` write it. Values are JSON
/// values (a label is a string, ranges are [[start, end]], no value is null), never the quoted
/// text the table shows.
struct ConflictJSON: Encodable {
    var type = "conflict"
    var id: String
    var kind: String
    var document: String
    var annotation: String
    var field: String?
    var mine: FieldValueJSON?
    var theirs: FieldValueJSON?
    var theirRevision: Int
    var description: String

    /// An anchor problem, as `gloss conflicts --json` lists it beside merge conflicts: kind
    /// `anchor`, mine the anchor (where the span was), theirs the proposed ranges.
    init(_ p: AnchorProblem) {
        id = p.id
        kind = "anchor"
        document = p.annotation.document.rawValue
        annotation = p.annotation.id.description
        field = "ranges"
        mine = FieldValueJSON(.anchor(p.anchor))
        theirs = FieldValueJSON(.ranges(p.annotation.ranges))
        theirRevision = 0
        description = p.description
    }

    init(_ c: Conflict) {
        id = c.id
        kind = c.kindName
        document = c.document?.rawValue ?? ""
        annotation = c.annotation?.description ?? ""
        if case .field(let f) = c.kind { field = f.description }
        mine = c.mine.map(FieldValueJSON.init)
        theirs = c.theirs.map(FieldValueJSON.init)
        theirRevision = c.theirRevision
        description = c.description
    }
}

/// A field's value as plain JSON.
struct FieldValueJSON: Encodable {
    var value: FieldValue
    init(_ value: FieldValue) { self.value = value }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch value {
        case .string(let s): try c.encode(s)
        case .ranges(let r): try c.encode(r.map { [$0.start, $0.end] })
        case .reference(let id): try c.encode(id.description)
        case .anchor(let a): try c.encode(AnchorJSON(a))
        case .none: try c.encodeNil()
        }
    }
}

/// Where a span was before a text revision: the text's digest and the ranges in it.
struct AnchorJSON: Encodable {
    var text: String
    var ranges: [[Int]]
    init(_ a: TextAnchor) {
        text = a.text.description
        ranges = a.ranges.map { [$0.start, $0.end] }
    }
}
