import FuzzSupport
import GlossFormats
import GlossModel

/// Input: one mode byte, then a Label Studio JSON export. Mode bit 0: strict; bit 1: include
/// cancelled annotations; bit 2: include predictions.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzLabelStudio(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let mode = input.byte()
    let importer = LabelStudioImporter(
        options: ImportOptions(owner: "fuzz", strict: mode & 1 != 0), includeCancelled: mode & 2 != 0,
        includePredictions: mode & 4 != 0)
    let minter = IDMinter()
    guard let result = try? importer.importFile(input.rest, file: "fuzz.json", mintID: minter.next) else { return 0 }
    for document in result.documents {
        checkImported(text: document.text, annotations: document.annotations, format: "Label Studio")
    }
    return 0
}
