import Foundation
import GlossFormats
import GlossModel
import GlossTestSupport

/// Shared helpers: importing with a fresh minter, the example data folder, and a description
/// of annotations that does not depend on Gloss ids (for comparing two imports).
enum BratFixtures {
    static let doc: DocumentID = "doc"

    /// `shared/data/brat-example-data`, read in place.
    static let examples = BratDirectory(SharedData.root.appendingPathComponent("data/brat-example-data"))

    static func importing(
        _ ann: String, text: String, strict: Bool = false, unit: OffsetError.Unit? = nil, file: String? = "test.ann"
    ) throws(FormatProblem) -> BratImport {
        var minter = Minter("brat", replica: 1)
        return try BratImporter(owner: "brat", strict: strict, offsetUnit: unit)
            .importDocument(ann: ann, text: text, document: doc, file: file, mintID: { minter.nextID() })
    }

    /// An example document's `.ann` and `.txt`, as text.
    static func example(_ path: String) throws -> (ann: String, text: String) {
        let ann = String(decoding: try examples.read(path + ".ann"), as: UTF8.self)
        let text = String(decoding: try examples.read(path + ".txt"), as: UTF8.self)
        return (ann, text)
    }

    /// Every annotation described without ids (spans by label and ranges, relations and notes by
    /// what they point at), sorted: two imports of equivalent files describe the same.
    static func describe(_ annotations: [Annotation]) -> [String] {
        let byID = Dictionary(annotations.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        func name(_ id: AnnotationID?, depth: Int = 0) -> String {
            guard let id, let a = byID[id] else { return "?" }
            switch a.kind {
            case .span: return "\(a.label)@\(a.ranges.map(\.description).joined(separator: ","))"
            case .relation where depth < 2:
                return "\(a.label)(\(name(a.from, depth: depth + 1))->\(name(a.to, depth: depth + 1)))"
            default: return "\(a.kind)"
            }
        }
        return annotations.map { a in
            let attributes = a.attributes.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(
                separator: ";")
            switch a.kind {
            case .note: return "note[\(a.text)] on \(name(a.target))"
            default: return "\(a.kind) \(name(a.id)) {\(attributes)}"
            }
        }.sorted()
    }
}
