import FuzzSupport
import GlossFormats
import GlossModel

/// Input: one mode byte, then a doccano export (JSONL, or one JSON array). Mode bit 0: strict;
/// bit 1: read labels from a `label` field named explicitly.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDoccano(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let mode = input.byte()
    let importer = DoccanoImporter(
        options: ImportOptions(owner: "fuzz", strict: mode & 1 != 0), labelField: mode & 2 != 0 ? "label" : nil)
    let minter = IDMinter()
    guard let result = try? importer.importFile(input.rest, file: "fuzz.jsonl", mintID: minter.next) else { return 0 }
    for document in result.documents {
        checkImported(text: document.text, annotations: document.annotations, format: "doccano")
    }
    return 0
}
