import FuzzSupport
import GlossFormats
import GlossModel

/// Input: one mode byte, then W3C Web Annotation JSON-LD, a NUL byte and a document text, which
/// the import finds under the sources `doc`, `fuzz/doc` and `urn:gloss:document:fuzz/doc`.
/// Mode bit 0: strict.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzW3C(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let mode = input.byte()
    let (json, textBytes) = input.restSplitAtNUL
    let text = utf8String(textBytes) ?? ""
    let texts = ["doc": text, "fuzz/doc": text, "urn:gloss:document:fuzz/doc": text]
    let importer = W3CAnnotationImporter(options: ImportOptions(owner: "fuzz", strict: mode & 1 != 0))
    let minter = IDMinter()
    guard let result = try? importer.importFile(json, file: "fuzz.jsonld", texts: texts, mintID: minter.next) else {
        return 0
    }
    for document in result.documents {
        checkImported(text: document.text, annotations: document.annotations, format: "W3C")
    }
    return 0
}
