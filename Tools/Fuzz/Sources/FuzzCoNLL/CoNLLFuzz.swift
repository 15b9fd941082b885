import FuzzSupport
import GlossFormats
import GlossModel

/// Input: one mode byte, then a CoNLL file; with mode bit 1 set, the file is followed by a NUL
/// byte and the text of its first document (the import that keeps the original text).
/// Mode bit 0: strict.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCoNLL(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let mode = input.byte()
    let importer = CoNLLImporter(options: ImportOptions(owner: "fuzz", strict: mode & 1 != 0))
    let minter = IDMinter()
    var file = input.rest
    var texts: [String]?
    if mode & 2 != 0 {
        let (conll, text) = input.restSplitAtNUL
        file = conll
        texts = [utf8String(text) ?? ""]
    }
    _ = CoNLLImporter.detectScheme(file)
    guard let result = try? importer.importFile(file, file: "fuzz.conll", texts: texts, mintID: minter.next) else {
        return 0
    }
    for document in result.documents {
        checkImported(text: document.text, annotations: document.annotations, format: "CoNLL")
    }
    return 0
}
