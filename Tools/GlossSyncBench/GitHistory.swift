import Foundation
import GlossBenchCorpus
import GlossFormats
import GlossModel

// The benchmark's history as brat files in git: every changeset's changed documents exported
// with the project's brat exporter, written as one commit per changeset through one
// `git fast-import` stream. Per document only what the next export needs is kept: its text,
// its spans in a compact form, and the `.ann` of the last export (whose lines and ids the next
// export keeps, as brat itself keeps them when someone edits a file).

/// Interned strings (labels, owners, attribute values): a byte per use instead of a String.
struct Interner {
    private(set) var values: [String] = []
    private var index: [String: UInt8] = [:]

    mutating func id(_ value: String) throws -> UInt8 {
        if let i = index[value] { return i }
        guard values.count < 255 else { throw BenchError("more than 255 distinct values to intern (\(value))") }
        let i = UInt8(values.count)
        values.append(value)
        index[value] = i
        return i
    }

    subscript(_ i: UInt8) -> String { values[Int(i)] }
}

/// One span as the git side keeps it (about 24 bytes, not an `Annotation`): the generator only
/// makes spans with a label, an owner and at most the one attribute.
struct CompactSpan {
    var start: Int32
    var end: Int32
    /// Ranges after the first (discontinuous spans, about 1 %).
    var more: [TextRange]?
    var label: UInt8
    var owner: UInt8
    /// 0: no attribute; else the interned value + 1.
    var attribute: UInt8
    /// Its `T` number in the last export (0: never exported).
    var t: UInt32
}

/// A document of the brat repository: text, spans, and the last exported `.ann`.
struct BratFile {
    var text: String
    var spans: [AnnotationID: CompactSpan] = [:]
    var ann = ""
    var live: Bool = true
}

/// The corpus as brat files, kept up to date changeset by changeset.
struct BratHistory {
    private(set) var files: [DocumentID: BratFile] = [:]
    private var labels = Interner()
    private var owners = Interner()
    private var values = Interner()
    /// Time spent in `BratImporter` (reading the last export back) and `BratExporter`.
    private(set) var exportTime = Duration.zero
    private(set) var exports = 0
    private let clock = ContinuousClock()

    var liveAnnotations: Int { files.values.reduce(0) { $0 + ($1.live ? $1.spans.count : 0) } }

    /// Live documents with their lengths in scalars, by id: what the small changesets pick from.
    var documentList: [(id: DocumentID, length: Int)] {
        files.filter(\.value.live).sorted { $0.key.rawValue < $1.key.rawValue }
            .map { (id: $0.key, length: $0.value.text.unicodeScalars.count) }
    }

    /// Applies a changeset's ops and returns the documents it touched, in the order first touched.
    mutating func apply(_ changeset: Changeset) throws -> [DocumentID] {
        var touched: [DocumentID] = []
        for op in changeset.ops {
            guard let document = op.document else { continue }  // the schema has no brat file here
            if !touched.contains(document) { touched.append(document) }
            switch op {
            case .addDocument(let d):
                guard let text = changeset.texts[d.digest] else { throw BenchError("\(d.id): a changeset adds it without its text") }
                files[d.id] = BratFile(text: text)
            case .removeDocument(let d):
                files[d]?.live = false
                files[d]?.spans = [:]
            case .reviseText(let d, _):
                // The generator never revises texts; a history that does has no git twin here.
                throw BenchError("\(d): the git side does not model text revisions")
            case .create(let a):
                guard a.kind == .span, let first = a.ranges.first,
                    a.attributes.keys.allSatisfy({ $0 == Labels.attributeKey })
                else { throw BenchError("the git side keeps only the generator's spans, not \(a)") }
                let span = CompactSpan(
                    start: Int32(first.start), end: Int32(first.end), more: a.ranges.count > 1 ? Array(a.ranges.dropFirst()) : nil,
                    label: try labels.id(a.label), owner: try owners.id(a.owner),
                    attribute: try a.attributes[Labels.attributeKey].map { try values.id($0) + 1 } ?? 0, t: 0)
                try update(document) { $0.spans[a.id] = span }
            case .set(_, let id, let field, let value):
                let (label, attribute): (UInt8?, UInt8?) =
                    switch (field, value) {
                    case (.label, .string(let s)): (try labels.id(s), nil)
                    case (.attribute(Labels.attributeKey), .string(let s)): (nil, try values.id(s) + 1)
                    case (.attribute(Labels.attributeKey), .none): (nil, 0)
                    case (.ranges, .ranges): (nil, nil)
                    default: throw BenchError("the git side cannot apply set \(field) = \(value)")
                    }
                try update(document) {
                    guard var span = $0.spans[id] else { throw BenchError("\(document): set on a missing annotation \(id)") }
                    if let label { span.label = label }
                    if let attribute { span.attribute = attribute }
                    if case .ranges(let r) = value, let first = r.first {
                        span.start = Int32(first.start)
                        span.end = Int32(first.end)
                        span.more = r.count > 1 ? Array(r.dropFirst()) : nil
                    }
                    $0.spans[id] = span
                }
            case .delete(_, let id):
                try update(document) {
                    guard $0.spans.removeValue(forKey: id) != nil else {
                        throw BenchError("\(document): delete of a missing annotation \(id)")
                    }
                }
            case .setSchema: break
            }
        }
        return touched
    }

    private mutating func update(_ document: DocumentID, _ body: (inout BratFile) throws -> Void) throws {
        guard var file = files.removeValue(forKey: document), file.live else {
            throw BenchError("\(document): an op on a document the git side does not have")
        }
        defer { files[document] = file }
        try body(&file)
    }

    /// The document's `.ann` now, through the project's brat exporter: given the last export and
    /// its ids (as `BratCollection.export` gives them for a document imported from brat), the
    /// unchanged lines stay byte for byte and new spans get the next free `T` ids.
    mutating func export(_ id: DocumentID) throws -> [UInt8] {
        guard var file = files.removeValue(forKey: id) else { throw BenchError("export of an unknown document \(id)") }
        defer { files[id] = file }
        let t0 = clock.now
        defer {
            exportTime += clock.now - t0
            exports += 1
        }
        let name = id.rawValue + ".ann"
        var annotations: [Annotation] = []
        annotations.reserveCapacity(file.spans.count)
        var bratIDs: [AnnotationID: String] = [:]
        for (aid, s) in file.spans.sorted(by: { $0.key < $1.key }) {
            let owner = owners[s.owner]
            annotations.append(
                Annotation.span(
                    aid, in: id, [TextRange(Int(s.start), Int(s.end))] + (s.more ?? []), label: labels[s.label], owner: owner,
                    attributes: s.attribute == 0 ? [:] : [Labels.attributeKey: values[s.attribute - 1]]))
            if s.t > 0 { bratIDs[aid] = "T\(s.t)" }
        }
        var original: BratDocument?
        if !file.ann.isEmpty {
            // Read the last export back, as `BratCollection.export` does, so that the exporter
            // knows which lines it wrote; the ids come from the spans.
            var counter: UInt64 = 0
            original = try BratImporter(owner: "", offsetUnit: .scalar).importDocument(
                ann: file.ann, text: file.text, document: id, file: name,
                mintID: {
                    counter += 1
                    return AnnotationID(replica: ReplicaID(0), counter: counter)
                }
            ).document
        }
        let exported = BratExporter().export(annotations, text: file.text, bratIDs: bratIDs, original: original, file: name)
        if let problem = exported.problems.first { throw BenchError("brat export of \(id): \(problem)") }
        for (aid, bratID) in exported.bratIDs {
            guard bratID.first == "T", let t = UInt32(bratID.dropFirst()) else {
                throw BenchError("brat export of \(id): \(aid) became \(bratID), not a T line")
            }
            file.spans[aid]?.t = t
        }
        file.ann = exported.ann
        return exported.annUTF8
    }

    func text(_ id: DocumentID) -> String? { files[id]?.text }

    /// `T` lines in every live document's last export: each live span must have one.
    var exportedSpanLines: Int {
        files.values.reduce(0) { total, file in
            total + (file.live ? file.ann.split(separator: "\n").filter { $0.first == "T" }.count : 0)
        }
    }
}

/// Writes a `git fast-import` stream: one commit per changeset on `refs/heads/main`, each
/// changed document's files inline.
struct FastImportStream {
    private(set) var data = Data()
    private(set) var commits = 0
    private(set) var bytes = 0
    /// The first commit continues the branch as the repository has it (an incremental import).
    var continuing: Bool

    init(continuing: Bool) { self.continuing = continuing }

    mutating func commit(_ changeset: Changeset, files: [(path: String, contents: [UInt8]?)]) {
        let who = "\(changeset.author) <\(changeset.author)@gloss.bench> \(changeset.timestamp) +0000"
        append("commit refs/heads/main\nauthor \(who)\ncommitter \(who)\n")
        blob(Array(changeset.message.utf8))
        if continuing && commits == 0 { append("from refs/heads/main^0\n") }
        for file in files {
            if let contents = file.contents {
                append("M 100644 inline \(file.path)\n")
                blob(contents)
            } else {
                append("D \(file.path)\n")
            }
        }
        append("\n")
        commits += 1
    }

    /// Hands out what is buffered (to write to fast-import's standard input).
    mutating func take() -> Data {
        defer { data = Data() }
        return data
    }

    private mutating func blob(_ bytes: [UInt8]) {
        append("data \(bytes.count)\n")
        data.append(contentsOf: bytes)
        data.append(0x0A)
        self.bytes += bytes.count + 1
    }

    private mutating func append(_ s: String) {
        data.append(contentsOf: Array(s.utf8))
        bytes += s.utf8.count
    }
}

extension BratHistory {
    /// Applies a changeset and adds its commit: each touched document's `.txt` when the
    /// changeset adds it, and its `.ann` as exported now.
    mutating func commit(_ changeset: Changeset, to stream: inout FastImportStream) throws {
        var out: [(path: String, contents: [UInt8]?)] = []
        for id in try apply(changeset) {
            let base = id.rawValue
            guard let file = files[id], file.live else {
                out += [(base + ".txt", nil), (base + ".ann", nil)]
                continue
            }
            if changeset.ops.contains(where: { if case .addDocument(let d) = $0 { d.id == id } else { false } }) {
                out.append((base + ".txt", Array(file.text.utf8)))
            }
            out.append((base + ".ann", try export(id)))
        }
        stream.commit(changeset, files: out)
    }
}
