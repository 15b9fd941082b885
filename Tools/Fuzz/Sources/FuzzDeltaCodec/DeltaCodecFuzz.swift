import FuzzSupport
import GlossModel

/// Input: a delta in the storage encoding (`Protocol/storage-encoding.md`), as stored, pulled
/// or pushed. What decodes must encode and decode again to the same ops.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDeltaCodec(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = FuzzInput(data, size)
    let decoded: (document: DocumentID?, ops: [Op])
    do {
        decoded = try DeltaCodec.decode(input.bytes)
    } catch {
        fuzzCheck(error.offset >= 0 && error.offset <= input.bytes.count, "an error offset outside the input")
        return 0
    }
    let encoded = DeltaCodec.encode(decoded.ops, document: decoded.document)
    do {
        let again = try DeltaCodec.decode(encoded)
        fuzzCheck(again.document == decoded.document, "the document changed in a round trip")
        fuzzCheck(again.ops == decoded.ops, "ops changed in a round trip: \(decoded.ops) became \(again.ops)")
    } catch {
        fatalError("a decoded delta, encoded again, does not decode: \(error)")
    }
    return 0
}
