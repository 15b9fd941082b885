import Foundation
import GlossModel

/// A brat collection (a directory of `.txt`/`.ann` pairs with `annotation.conf` files, or one
/// `.ann` file) as Gloss documents, and back.
///
/// Round trip: each imported document carries its original `.ann` text, the offset unit and
/// the brat id of every annotation in its metadata (``MetadataKey``), so an export of the same
/// document, on any machine that synced it, writes unchanged lines byte for byte and keeps ids
/// stable. Documents without that record get fresh ids.
public enum BratCollection {
    /// Metadata keys of the round-trip record.
    public enum MetadataKey {
        /// The `.ann` file as imported.
        public static let ann = "brat.ann"
        /// `bratID<TAB>glossID` lines.
        public static let ids = "brat.ids"
        /// The unit the file's offsets were in: `scalar`, `utf16` or `utf8`.
        public static let offsets = "brat.offsets"
    }

    /// Reads a collection directory, or one `.ann`/`.txt` file with its partner.
    ///
    /// Document ids are the paths relative to the collection without the extension
    /// (`corpora/TDT/b105`). The schema is the union of the `annotation.conf` files found.
    public static func importCollection(
        at url: URL, options: ImportOptions, mintID: () -> AnnotationID
    ) throws(FormatProblem) -> FormatImport {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw FormatProblem(.fileUnreadable, "no such file or directory", file: url.path)
        }
        let directory: BratDirectory
        let names: [String]
        if isDirectory.boolValue {
            directory = BratDirectory(url)
            names = try directory.documents()
        } else {
            guard url.pathExtension == "ann" || url.pathExtension == "txt" else {
                throw FormatProblem(.fileUnreadable, "a brat import takes a directory, an .ann or a .txt file", file: url.path)
            }
            directory = BratDirectory(url.deletingLastPathComponent())
            names = [url.deletingPathExtension().lastPathComponent]
        }
        var result = FormatImport()
        var schemas: [String: Schema] = [:]
        let importer = BratImporter(options: options)
        for name in names {
            let id: DocumentID
            do throws(ValidationError) {
                id = try DocumentID(validating: name)
            } catch {
                let problem = FormatProblem(.invalidDocumentName, error.message, file: name + ".ann")
                if options.strict { throw problem }
                result.problems.append(problem)
                continue
            }
            if let conf = directory.configuration(for: name), schemas[conf] == nil {
                let configuration = BratConfiguration.parse(
                    String(decoding: try directory.read(conf), as: UTF8.self), file: conf)
                if options.strict, let first = configuration.problems.first { throw first }
                result.problems += configuration.problems
                schemas[conf] = configuration.schema
            }
            let imported = try importer.importDocument(
                annUTF8: try directory.read(name + ".ann"), textUTF8: try directory.read(name + ".txt"), document: id,
                file: name + ".ann", textFile: name + ".txt", mintID: mintID)
            result.problems += imported.problems
            let text = try BratImporter.decode(try directory.read(name + ".txt"), file: name + ".txt")
            let ids = imported.bratIDs.sorted { $0.value < $1.value }.map { "\($0.value)\t\($0.key)" }
            result.documents.append(
                ImportedDocument(
                    id: id, text: text, annotations: imported.annotations, offsetUnit: imported.offsetUnit,
                    source: name + ".ann",
                    metadata: [
                        MetadataKey.ann: imported.document.verbatim, MetadataKey.ids: ids.joined(separator: "\n"),
                        MetadataKey.offsets: imported.offsetUnit.rawValue,
                    ]))
        }
        if !schemas.isEmpty {
            result.schema = schemas.sorted { $0.key < $1.key }.map(\.value).dropFirst()
                .reduce(schemas.sorted { $0.key < $1.key }[0].value) { $0.merged(with: $1) }
        }
        return result
    }

    /// The Gloss id each annotation of a re-imported file had at the last import, by the id the
    /// new import minted: both round-trip records name the same brat ids.
    public static func recordedIDs(imported: [String: String], existing: [String: String]) -> [AnnotationID: AnnotationID] {
        let before = recordedIDs(existing[MetadataKey.ids])
        guard !before.isEmpty else { return [:] }
        var claims: [AnnotationID: AnnotationID] = [:]
        for (brat, minted) in recordedIDs(imported[MetadataKey.ids]) {
            if let old = before[brat] { claims[minted] = old }
        }
        return claims
    }

    /// `bratID<TAB>glossID` lines as a dictionary by brat id.
    private static func recordedIDs(_ record: String?) -> [String: AnnotationID] {
        var ids: [String: AnnotationID] = [:]
        for line in (record ?? "").split(separator: "\n") {
            let parts = line.split(separator: "\t", maxSplits: 1)
            if parts.count == 2, let id = AnnotationID(String(parts[1])) { ids[String(parts[0])] = id }
        }
        return ids
    }

    /// Writes documents as `ID.txt` and `ID.ann` files, keeping each imported document's
    /// original lines and ids (see the type's discussion).
    public static func export(_ documents: [ExportDocument]) -> FormatExport {
        var out = FormatExport()
        for document in documents {
            let file = document.id.rawValue + ".ann"
            var original: BratDocument?
            var ids: [AnnotationID: String] = [:]
            if let ann = document.metadata[MetadataKey.ann] {
                // Reading the file again marks which lines were imported (the rest are written
                // back verbatim); the ids come from the record, not from this reading.
                let unit = OffsetError.Unit(rawValue: document.metadata[MetadataKey.offsets] ?? "") ?? .scalar
                var counter: UInt64 = 0
                original = try? BratImporter(owner: "", offsetUnit: unit).importDocument(
                    ann: ann, text: document.text, document: document.id, file: file,
                    mintID: {
                        counter += 1
                        return AnnotationID(replica: ReplicaID(0), counter: counter)
                    }
                ).document
                for (brat, id) in recordedIDs(document.metadata[MetadataKey.ids]) { ids[id] = brat }
            }
            let export = BratExporter().export(
                document.annotations, text: document.text, bratIDs: ids, original: original, file: file)
            out.files.append(FormatExport.File(path: document.id.rawValue + ".txt", contents: Array(document.text.utf8)))
            out.files.append(FormatExport.File(path: file, contents: export.annUTF8))
            out.problems += export.problems
        }
        return out
    }
}

extension Schema {
    /// Both schemas' labels, relation rules and attribute values; open if either is.
    public func merged(with other: Schema) -> Schema {
        func union(_ a: [String], _ b: [String]) -> [String] { a + b.filter { !a.contains($0) } }
        var merged = self
        merged.isOpen = isOpen || other.isOpen
        merged.spanLabels = union(spanLabels, other.spanLabels)
        merged.documentLabels = union(documentLabels, other.documentLabels)
        for rule in other.relations {
            if let i = merged.relations.firstIndex(where: { $0.label == rule.label }) {
                let mine = merged.relations[i]
                // An empty list allows any label: the union of "any" and a list is "any".
                merged.relations[i].fromLabels =
                    mine.fromLabels.isEmpty || rule.fromLabels.isEmpty ? [] : union(mine.fromLabels, rule.fromLabels)
                merged.relations[i].toLabels =
                    mine.toLabels.isEmpty || rule.toLabels.isEmpty ? [] : union(mine.toLabels, rule.toLabels)
            } else {
                merged.relations.append(rule)
            }
        }
        for rule in other.attributes {
            if let i = merged.attributes.firstIndex(where: { $0.name == rule.name }) {
                let mine = merged.attributes[i]
                merged.attributes[i].values = mine.values.isEmpty || rule.values.isEmpty ? [] : union(mine.values, rule.values)
            } else {
                merged.attributes.append(rule)
            }
        }
        return merged
    }
}
