import FuzzSupport
import GlossModel
import GlossStore

/// Input: one mode byte, then a snapshot of a document (`Protocol/storage-encoding.md`,
/// "Snapshots"): with mode bit 0 clear, its ``DeltaCodec`` bytes; with it set, a varint raw
/// length and the raw deflate of those bytes, as a pull's `StoredBlob` carries it.
/// The snapshot is applied as a client applies one it pulled: ops into a ``DocumentState``,
/// then the ops that take an empty document to that state.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSnapshot(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let mode = input.byte()
    let ops: [Op]
    if mode & 1 == 0 {
        guard let decoded = try? DeltaCodec.decode(Array(input.rest), what: "snapshot") else { return 0 }
        ops = decoded.ops
    } else {
        var reader = BinaryReader(Array(input.rest), what: "stored snapshot")
        guard let rawLength = try? reader.int(max: 1 << 24, "raw length"), let deflated = try? reader.raw(reader.remaining)
        else { return 0 }
        let blob = StoredBlob(kind: .snapshot, revision: 1, document: fuzzDocument, rawLength: rawLength, data: Array(deflated))
        guard let decoded = try? blob.ops() else { return 0 }
        ops = decoded
    }
    var state = DocumentState()
    do {
        for op in ops { try state.apply(op) }
    } catch {
        return 0  // a typed ValidationError: refused, as the client refuses it
    }
    // Without an addDocument the state has no document, and a client applies nothing.
    guard state.document != nil else { return 0 }
    let path = DocumentState().ops(toReach: state)
    var rebuilt = DocumentState()
    do {
        for op in path { try rebuilt.apply(op) }
    } catch {
        fatalError("the ops that reach a snapshot's state do not apply: \(error)")
    }
    fuzzCheck(rebuilt == state, "the ops that reach a snapshot's state reach another one")
    let reencoded = DeltaCodec.encode(state.asOps, document: state.document?.id)
    fuzzCheck((try? DeltaCodec.decode(reencoded).ops) == state.asOps, "a snapshot's state does not survive encoding")
    return 0
}
