import FuzzSupport
import GlossFormats
import GlossModel

/// Input: one mode byte, then the document's text, a NUL byte and its `.ann` file (mode bit 0
/// clear), or an `annotation.conf` (bit 0 set). Mode bit 1: strict; bits 2–3: the offset unit
/// (detected, scalars, UTF-16, bytes).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzBrat(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let mode = input.byte()
    if mode & 1 != 0 {
        if let text = utf8String(input.rest) { _ = BratConfiguration.parse(text, file: "annotation.conf") }
        return 0
    }
    let (text, ann) = input.restSplitAtNUL
    let units: [OffsetError.Unit?] = [nil, .scalar, .utf16, .utf8]
    let importer = BratImporter(owner: "fuzz", strict: mode & 2 != 0, offsetUnit: units[Int(mode >> 2) & 3])
    let minter = IDMinter()
    do {
        let result = try importer.importDocument(
            annUTF8: ann, textUTF8: text, document: fuzzDocument, file: "doc.ann", mintID: minter.next)
        if let text = utf8String(text) { checkImported(text: text, annotations: result.annotations, format: "brat") }
    } catch {
        // A typed FormatProblem (invalid UTF-8, or strict mode's first problem).
    }
    return 0
}
