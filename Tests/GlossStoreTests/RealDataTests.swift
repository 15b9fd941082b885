import Foundation
import Testing
import GlossModel
import GlossStore
@testable import GlossStoreSQLite
import GlossTestSupport

/// Every text-bound (`T`) annotation of the real brat example corpora (English tutorials,
/// Finnish TDT, NCBI-disease) goes into a store as a span; brat's code-point offsets must pick
/// out exactly the text brat recorded, and the store must give every span back.
@Test func bratExampleSpansRoundTripThroughTheStore() throws {
    let root = SharedData.root.appendingPathComponent("data/brat-example-data")
    let files = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil)!
        .compactMap { $0 as? URL }.filter { $0.pathExtension == "ann" }.sorted { $0.path < $1.path }
    try #require(files.count > 20, "brat example data not found under \(root.path)")

    let dir = try TemporaryDirectory("brat")
    defer { dir.remove() }
    let store = try CorpusStore.sqlite(path: dir.path("corpus.sqlite"))
    var minter = Minter("brat", replica: 7)
    var spans = 0
    var nonASCII = 0
    for file in files {
        let textURL = file.deletingPathExtension().appendingPathExtension("txt")
        guard let bytes = try? Data(contentsOf: textURL) else { continue }
        let text = try Document.text(fromUTF8: bytes)
        let index = TextIndex(text)
        let slug = file.path.dropFirst(root.path.count + 1).replacingOccurrences(of: ".ann", with: "")
        let doc = try DocumentID(validating: slug)
        var cs = minter.documents(base: try store.headRevision(), [(doc, text)])
        for line in try String(contentsOf: file, encoding: .utf8).split(separator: "\n") where line.hasPrefix("T") {
            let columns = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard columns.count >= 3 else { continue }
            let typeAndRanges = columns[1].split(separator: " ", maxSplits: 1)
            let ranges = typeAndRanges[1].split(separator: ";").map { part -> TextRange in
                let bounds = part.split(separator: " ").map { Int($0)! }
                return TextRange(bounds[0], bounds[1])
            }
            // brat writes the covered text of discontinuous fragments joined by a space.
            let covered = try ranges.map { try index.text(in: $0) }.joined(separator: " ")
            #expect(covered == String(columns[2]), "\(slug): \(line)")
            if covered.unicodeScalars.contains(where: { !$0.isASCII }) { nonASCII += 1 }
            cs.ops.append(.create(Annotation.span(minter.nextID(), in: doc, ranges, label: String(typeAndRanges[0]), owner: "brat")))
            spans += 1
        }
        let outcome = try store.append(cs)
        #expect(outcome.revision != nil, "\(slug): \(outcome)")
        let stored = try store.headAnnotations(of: doc)
        #expect(stored.count == cs.ops.count - 1)
        #expect(try store.reconstruct(doc, at: try store.headRevision()).sortedAnnotations == stored)
    }
    #expect(spans > 1000)
    #expect(nonASCII > 10)  // the Finnish corpus exercises multi-byte offsets
}
