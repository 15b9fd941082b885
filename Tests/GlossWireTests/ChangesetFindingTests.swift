import Foundation
import GlossModel
import GlossTestSupport
import GlossWire
import Testing

/// A fuzzer finding (`Tools/Fuzz/findings/FuzzWireMessage/fixed/zero-op-run-with-trailing-bytes`: a
/// selector byte, then a PushRequest): a run that declares no ops but carries bytes after its
/// op count. Read a part at a time (a large push), no part held the run and its bytes went
/// unread, while a whole decode refused them: the same push was accepted or refused by its
/// size. Its header now refuses it, so both ways agree.
@Test func aRunOfNoOpsWithBytesAfterItsCountIsRefusedBothWays() throws {
    let url = GlossProcesses.repositoryRoot.appendingPathComponent(
        "Tools/Fuzz/findings/FuzzWireMessage/fixed/zero-op-run-with-trailing-bytes")
    let push = try Gloss_V1_PushRequest(serializedBytes: Array(try Data(contentsOf: url).dropFirst()))
    let headers = #expect(throws: WireError.self) { _ = try push.changeset.encodedChangeset() }
    #expect(headers?.message.contains("after its op count") == true)
    #expect(throws: (any Error).self) { _ = try push.changeset.changeset() }
}
