import Foundation
import GlossStore
import GlossTestSupport
import GlossWire
import Testing

@testable import GlossClient

/// A server (or anything pretending to be one) sends lengths and numbers the client turns into
/// Ints: past Int.max they are refused as a protocol violation, never trapped on. The inputs
/// are the fuzzer's findings (`Tools/Fuzz/findings/FuzzWireMessage`): a selector byte, then a
/// STREAM item.
struct ServerLengthsTests {
    static func streamItem(_ finding: String) throws -> Gloss_V1_StreamItem {
        let url = GlossProcesses.repositoryRoot.appendingPathComponent("Tools/Fuzz/findings/FuzzWireMessage/\(finding)")
        return try Gloss_V1_StreamItem(serializedBytes: Array(try Data(contentsOf: url).dropFirst()))
    }

    @Test(arguments: ["stream-item-snapshot-raw-length-2e64", "stream-item-snapshot-raw-length-int-max"])
    func aSnapshotWithAnImpossibleRawLengthIsAProtocolViolation(finding: String) throws {
        guard case .snapshot(let blob)? = try Self.streamItem(finding).body else {
            Issue.record("\(finding) is not a snapshot item")
            return
        }
        let error = #expect(throws: ClientError.self) { _ = try SyncEngine.storedSnapshot(blob) }
        #expect(error?.code == .protocolViolation)
    }

    @Test func aTextWithAnImpossibleRawLengthIsAProtocolViolation() throws {
        guard case .text(let text)? = try Self.streamItem("stream-item-text-raw-length-2e63").body else {
            Issue.record("the finding is not a text item")
            return
        }
        let error = #expect(throws: ClientError.self) { _ = try SyncEngine.text(text) }
        #expect(error?.code == .protocolViolation)
    }

    @Test func aRevisionNumberPastIntMaxIsAProtocolViolation() {
        var revision = Gloss_V1_RevisionData()
        revision.changesetID = Data(repeating: 1, count: 16)
        revision.number = UInt64.max
        let error = #expect(throws: ClientError.self) { _ = try SyncEngine.revision(revision) }
        #expect(error?.code == .protocolViolation)
    }

    @Test func inflatingToAnImpossibleLengthIsCorruptNotATrap() {
        let error = #expect(throws: StoreError.self) {
            _ = try BlobCompression.decompress([3, 0], expectedLength: Int.max, what: "a blob")
        }
        #expect(error?.code == .corrupt)
    }
}
