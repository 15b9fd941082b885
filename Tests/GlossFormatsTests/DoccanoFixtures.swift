import Foundation
import GlossFormats
import GlossModel
import GlossTestSupport

/// Helpers the doccano, Label Studio, CoNLL and W3C tests share: reading the shared data in
/// place, and describing imported annotations without their Gloss ids (to compare two imports).
enum FormatFixtures {
    /// A file under `shared/data/`, read in place.
    static func data(_ path: String) throws -> [UInt8] {
        [UInt8](try SharedData.file("data/" + path))
    }

    /// The files of a folder under `shared/data/` with an extension, sorted.
    static func files(in folder: String, ext: String) throws -> [String] {
        let url = SharedData.root.appendingPathComponent("data/" + folder)
        return try FileManager.default.contentsOfDirectory(atPath: url.path)
            .filter { $0.hasSuffix("." + ext) }.sorted().map { folder + "/" + $0 }
    }

    /// Every annotation described by what it is, where, and (for spans) the text it covers:
    /// `span user-1 PER 3-6 "she"`, relations by their ends, notes by their target. Sorted.
    static func describe(_ annotations: [Annotation], text: String, layers: Bool = true) -> [String] {
        let index = TextIndex(text)
        let byID = Dictionary(annotations.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        func name(_ id: AnnotationID?) -> String {
            guard let id, let a = byID[id] else { return "?" }
            switch a.kind {
            case .span: return "\(a.label)@\(a.ranges.map(\.description).joined(separator: ","))"
            case .relation: return "rel \(a.label)(\(name(a.from))->\(name(a.to)))"
            case .documentLabel: return "label \(a.label)"
            case .note: return "note"
            }
        }
        return annotations.map { a in
            let layer = layers ? " [\(a.layer)]" : ""
            let attributes = a.attributes.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
            let suffix = attributes.isEmpty ? "" : " {" + attributes.joined(separator: ";") + "}"
            switch a.kind {
            case .span:
                let covered = a.ranges.map { (try? index.text(in: $0)) ?? "<out of bounds>" }.joined(separator: "|")
                return "span\(layer) \(name(a.id)) \"\(covered)\"\(suffix)"
            case .relation: return "relation\(layer) \(name(a.id))\(suffix)"
            case .documentLabel: return "document-label\(layer) \(a.label)\(suffix)"
            case .note: return "note\(layer) [\(a.text)] on \(a.target == nil ? "document" : name(a.target))"
            }
        }.sorted()
    }

    static func describe(_ document: ImportedDocument, layers: Bool = true) -> [String] {
        describe(document.annotations, text: document.text, layers: layers)
    }

    /// Export documents from imported ones.
    static func exportDocuments(_ imported: [ImportedDocument]) -> [ExportDocument] {
        imported.map { ExportDocument(id: $0.id, text: $0.text, annotations: $0.annotations) }
    }

    /// The contents of an exported file as text.
    static func text(_ file: FormatExport.File) -> String { String(decoding: file.contents, as: UTF8.self) }
}
