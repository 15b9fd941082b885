import FuzzSupport
import GlossModel

/// Input: the body of one head-table row. What decodes must encode and decode again to the
/// same entry.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHeadEntryCodec(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = FuzzInput(data, size)
    let id = AnnotationID(replica: ReplicaID(7), counter: 42)
    guard let entry = try? HeadEntryCodec.decode(input.bytes, id: id, document: fuzzDocument) else { return 0 }
    do {
        let again = try HeadEntryCodec.decode(HeadEntryCodec.encode(entry), id: id, document: fuzzDocument)
        fuzzCheck(again == entry, "a head entry changed in a round trip: \(entry) became \(again)")
    } catch {
        fatalError("a decoded head entry, encoded again, does not decode: \(error)")
    }
    return 0
}
