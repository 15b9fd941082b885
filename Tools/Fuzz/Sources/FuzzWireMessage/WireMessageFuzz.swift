import FuzzSupport
import GlossModel
import GlossWire
import NIOCore
import SwiftProtobuf

/// Input: one byte choosing the body's message type, then the protobuf bytes of a body.
/// Every body a peer can send is decoded as the receiving side does (`WireMessage` for frame
/// bodies; STREAM items and notifications as the client reads them; a push's changeset as the
/// server reads it), and what decodes must survive a round trip through the encoder.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWireMessage(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let selector = input.byte()
    let body = Array(input.rest)
    switch selector % 9 {
    case 0: frameBody(.hello, body)
    case 1: frameBody(.welcome, body)
    case 2: frameBody(.request, body)
    case 3: frameBody(.response, body)
    case 4: frameBody(.error, body)
    case 5: frameBody(.goaway, body)
    case 6: roundTrip(Gloss_V1_StreamItem.self, body)
    case 7: roundTrip(Gloss_V1_Notification.self, body)
    default:
        if let push = roundTrip(Gloss_V1_PushRequest.self, body) { changeset(push.changeset) }
    }
    return 0
}

/// A frame body through `WireMessage`, as a connection decodes it.
private func frameBody(_ type: FrameType, _ body: [UInt8]) {
    let requestID: UInt32 = type == .request || type == .response || type == .error ? 1 : 0
    let message = assembled(type, requestID, ByteBuffer(bytes: body))
    let decoded: WireMessage
    do throws(WireError) {
        decoded = try WireMessage(message)
    } catch {
        fuzzCheck(error.code == .badMessage, "a body that does not decode is not bad-message: \(error)")
        return
    }
    let again = try? WireMessage(assembled(type, requestID, decoded.payload()))
    fuzzCheck(again == decoded, "a \(type) body does not survive encode and decode")
    if case .request(_, let request) = decoded, case .push(let push)? = request.body { changeset(push.changeset) }
}

/// A one-frame message, assembled as a connection assembles it.
private func assembled(_ type: FrameType, _ requestID: UInt32, _ payload: ByteBuffer) -> AssembledMessage {
    var assembler = MessageAssembler()
    guard let message = try? assembler.append(Frame(type: type, flags: .end, requestID: requestID, payload: payload))
    else { fatalError("a one-frame \(type) message within the limits does not assemble") }
    return message
}

/// Decodes `body` as `M`; what decodes must decode again to the same message once encoded.
@discardableResult
private func roundTrip<M: SwiftProtobuf.Message & Equatable>(_: M.Type, _ body: [UInt8]) -> M? {
    guard let message = try? M(serializedBytes: body) else { return nil }
    let encoded: [UInt8]
    do {
        encoded = try message.serializedBytes()
    } catch {
        fatalError("a decoded \(M.self) does not encode: \(error)")
    }
    fuzzCheck((try? M(serializedBytes: encoded)) == message, "a \(M.self) does not survive encode and decode")
    return message
}

/// A pushed changeset as the server takes it: the header of each run at once, then each part's
/// ops; and as a whole, which must agree.
private func changeset(_ message: Gloss_V1_Changeset) {
    let whole = try? message.changeset()
    guard let encoded = try? message.encodedChangeset() else {
        fuzzCheck(whole == nil, "a changeset decodes whole but its runs' headers do not")
        return
    }
    var ops: [Op] = []
    for part in encoded.parts {
        guard let decoded = try? encoded.decode(part) else {
            fuzzCheck(whole == nil, "a changeset decodes whole but one of its parts does not")
            return
        }
        ops += decoded.ops
    }
    fuzzCheck(whole != nil, "every part of a changeset decodes but the whole does not")
    fuzzCheck(ops.count == whole?.ops.count, "a changeset's parts hold \(ops.count) ops, the whole \(whole?.ops.count ?? 0)")
}
