import GlossBenchCorpus
import Foundation
import GlossModel

/// The baseline a team would otherwise keep: one JSON object per op, ids in their 26-character
/// textual form. Two files are written side by side: the full history (document texts inlined
/// once, in the addDocument line) and the same history without the texts, for the
/// annotation-only comparison.
final class JSONLSink: CorpusObserver {
    let fullURL: URL
    let annotationsURL: URL
    private let full: FileHandle
    private let annotations: FileHandle
    private var fullBuffer: [UInt8] = []
    private var annotationBuffer: [UInt8] = []
    private var line: [UInt8] = []
    private(set) var lines = 0
    private(set) var fullBytes = 0
    private(set) var annotationBytes = 0

    init(directory: URL) throws {
        fullURL = directory.appendingPathComponent("history.jsonl")
        annotationsURL = directory.appendingPathComponent("history-annotations.jsonl")
        for url in [fullURL, annotationsURL] {
            guard FileManager.default.createFile(atPath: url.path, contents: nil) else {
                throw BenchError("cannot create \(url.path)")
            }
        }
        full = try FileHandle(forWritingTo: fullURL)
        annotations = try FileHandle(forWritingTo: annotationsURL)
        fullBuffer.reserveCapacity(1 << 20)
        annotationBuffer.reserveCapacity(1 << 20)
    }

    // MARK: Ops

    func addDocument(revision: Int, author: String, document: DocumentID, text: String, length: Int) {
        begin(revision, author, document, "addDocument")
        key("length")
        number(length)
        line.append(0x7D)  // }
        line.append(0x0A)
        annotationBuffer.append(contentsOf: line)
        annotationBytes += line.count
        // The full file carries the text as well.
        line.removeLast(2)
        key("text")
        string(text)
        end(annotationsToo: false)
    }

    func create(revision: Int, author: String, annotation a: Annotation) {
        begin(revision, author, a.document, "create")
        key("id")
        string(a.id.description)
        key("label")
        string(a.label)
        rangesFields(a.ranges)
        if !a.attributes.isEmpty {
            key("attributes")
            line.append(0x7B)
            for (i, (k, v)) in a.attributes.sorted(by: { $0.key < $1.key }).enumerated() {
                if i > 0 { line.append(0x2C) }
                string(k)
                line.append(0x3A)
                string(v)
            }
            line.append(0x7D)
        }
        end()
    }

    func setLabel(revision: Int, author: String, document: DocumentID, id: AnnotationID, label: String) {
        begin(revision, author, document, "set")
        key("id")
        string(id.description)
        key("field")
        string("label")
        key("label")
        string(label)
        end()
    }

    func setRanges(revision: Int, author: String, document: DocumentID, id: AnnotationID, ranges: [TextRange]) {
        begin(revision, author, document, "set")
        key("id")
        string(id.description)
        key("field")
        string("ranges")
        rangesFields(ranges)
        end()
    }

    /// A nil value removes the attribute.
    func setAttribute(revision: Int, author: String, document: DocumentID, id: AnnotationID, key k: String, value: String?)
    {
        begin(revision, author, document, "set")
        key("id")
        string(id.description)
        key("field")
        string("attribute")
        key("key")
        string(k)
        key("value")
        if let value { string(value) } else { line.append(contentsOf: Array("null".utf8)) }
        end()
    }

    func delete(revision: Int, author: String, document: DocumentID, id: AnnotationID) {
        begin(revision, author, document, "delete")
        key("id")
        string(id.description)
        end()
    }

    func close() throws {
        try flush(force: true)
        try full.close()
        try annotations.close()
    }

    // MARK: Encoding

    private func begin(_ revision: Int, _ author: String, _ document: DocumentID, _ op: String) {
        line.removeAll(keepingCapacity: true)
        line.append(contentsOf: Array("{\"rev\":".utf8))
        number(revision)
        key("author")
        string(author)
        key("doc")
        string(document.rawValue)
        key("op")
        string(op)
    }

    private func end(annotationsToo: Bool = true) {
        line.append(0x7D)
        line.append(0x0A)
        fullBuffer.append(contentsOf: line)
        fullBytes += line.count
        if annotationsToo {
            annotationBuffer.append(contentsOf: line)
            annotationBytes += line.count
        }
        lines += 1
        try? flush(force: false)
    }

    private func flush(force: Bool) throws {
        if force || fullBuffer.count >= 1 << 20 {
            try full.write(contentsOf: fullBuffer)
            fullBuffer.removeAll(keepingCapacity: true)
        }
        if force || annotationBuffer.count >= 1 << 20 {
            try annotations.write(contentsOf: annotationBuffer)
            annotationBuffer.removeAll(keepingCapacity: true)
        }
    }

    private func rangesFields(_ ranges: [TextRange]) {
        if ranges.count == 1 {
            key("start")
            number(ranges[0].start)
            key("end")
            number(ranges[0].end)
        } else {
            key("ranges")
            line.append(0x5B)
            for (i, r) in ranges.enumerated() {
                if i > 0 { line.append(0x2C) }
                line.append(0x5B)
                number(r.start)
                line.append(0x2C)
                number(r.end)
                line.append(0x5D)
            }
            line.append(0x5D)
        }
    }

    private func key(_ k: String) {
        line.append(0x2C)
        line.append(0x22)
        line.append(contentsOf: k.utf8)
        line.append(0x22)
        line.append(0x3A)
    }

    private func number(_ n: Int) {
        line.append(contentsOf: String(n).utf8)
    }

    private static let hex = Array("0123456789abcdef".utf8)

    private func string(_ s: String) {
        line.append(0x22)
        for b in s.utf8 {
            switch b {
            case 0x22: line.append(contentsOf: [0x5C, 0x22])
            case 0x5C: line.append(contentsOf: [0x5C, 0x5C])
            case 0x0A: line.append(contentsOf: [0x5C, 0x6E])
            case 0x0D: line.append(contentsOf: [0x5C, 0x72])
            case 0x09: line.append(contentsOf: [0x5C, 0x74])
            case ..<0x20:
                line.append(contentsOf: Array("\\u00".utf8))
                line.append(Self.hex[Int(b >> 4)])
                line.append(Self.hex[Int(b & 15)])
            default: line.append(b)
            }
        }
        line.append(0x22)
    }
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ message: String) { description = message }
}
