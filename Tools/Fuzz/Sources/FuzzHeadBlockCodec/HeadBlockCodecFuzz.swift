import FuzzSupport
import GlossModel

/// Input: one mode byte, then a document's head block (before deflate). The block is decoded
/// whole, and then only for a few of its ids (the push path), which must give the same entries;
/// what decodes must encode and decode again to the same entries.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHeadBlockCodec(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let mode = input.byte()
    let block = Array(input.rest)
    let entries: [AnnotationID: HeadEntry]
    do {
        entries = try HeadBlockCodec.decode(block, document: fuzzDocument)
    } catch is CodecError {
        // The partial decode may stop early, before the damage, but must not trap either.
        _ = try? HeadBlockCodec.decode(block, document: fuzzDocument, only: [AnnotationID(replica: ReplicaID(0), counter: 1)])
        return 0
    } catch {
        fatalError("HeadBlockCodec threw \(type(of: error)), not a CodecError: \(error)")
    }
    // Ids of the block chosen by the mode bits, plus one it may not hold.
    let ids = entries.keys.sorted()
    var wanted: Set<AnnotationID> = [AnnotationID(replica: ReplicaID(UInt64(mode)), counter: UInt64(mode))]
    for (i, id) in ids.enumerated() where mode & (1 << (i % 8)) != 0 { wanted.insert(id) }
    do {
        let some = try HeadBlockCodec.decode(block, document: fuzzDocument, only: wanted)
        fuzzCheck(
            some == entries.filter { wanted.contains($0.key) },
            "decoding only some ids gives other entries than the whole block")
        let again = try HeadBlockCodec.decode(HeadBlockCodec.encode(Array(entries.values)), document: fuzzDocument)
        fuzzCheck(again == entries, "head entries changed in a round trip")
    } catch {
        fatalError("a head block that decodes whole fails a partial decode or a round trip: \(error)")
    }
    return 0
}
