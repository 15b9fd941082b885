import Foundation
import Testing
@testable import GlossModel

/// The byte-level vectors in `Protocol/vectors/` decode to the ops they document and
/// re-encode to the same bytes, so the spec and the code cannot drift apart.
struct DeltaVector {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Protocol/vectors")

    static func bytes(_ name: String) throws -> [UInt8] {
        let text = try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
        let hex = text.split(separator: "\n").filter { !$0.hasPrefix("#") }.joined().filter { !$0.isWhitespace }
        var out: [UInt8] = []
        var i = hex.startIndex
        while i < hex.endIndex {
            let j = hex.index(i, offsetBy: 2)
            out.append(UInt8(hex[i..<j], radix: 16)!)
            i = j
        }
        return out
    }

    /// The ops of `delta-v1.hex`, as documented in `Protocol/storage-encoding.md`.
    static let ops: [Op] = {
        let doc: DocumentID = "news/1"
        let replica = ReplicaID(0x0102_0304_0506_0708)
        let a = AnnotationID(replica: replica, counter: 1)
        let b = AnnotationID(replica: replica, counter: 2)
        return [
            .addDocument(Document(id: doc, text: "Alice met Bob.")),
            .create(Annotation.span(a, in: doc, [TextRange(0, 5)], label: "PER", owner: "ann")),
            .create(Annotation.span(b, in: doc, [TextRange(10, 13)], label: "PER", owner: "ann", attributes: ["negated": "no"])),
            .set(doc, a, .label, .string("ORG")),
            .delete(doc, b),
        ]
    }()
}

@Test func deltaVectorDecodesAndReencodes() throws {
    let bytes = try DeltaVector.bytes("delta-v1.hex")
    let decoded = try DeltaCodec.decode(bytes)
    #expect(decoded.document == "news/1")
    #expect(decoded.ops == DeltaVector.ops)
    #expect(DeltaCodec.encode(decoded.ops, document: decoded.document) == bytes)
}
