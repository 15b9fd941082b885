import GlossModel
import Testing

/// Inputs the fuzz targets of `Tools/Fuzz` found (FUZZING.md), each kept as the smallest bytes
/// that showed the problem, with what the decoder must do with them now.
@Suite struct FuzzRegressionTests {
    let document = DocumentID(storedRawValue: "fuzz/doc")

    /// The tables of a small head block: strings ["a"], replicas [1].
    static let blockTables: [UInt8] = [0x01, 0x01, 0x61, 0x01, 0x01, 0, 0, 0, 0, 0, 0, 0]

    /// A head block whose second entry's id (counter 3) is below the first's (counter 5).
    /// FuzzHeadBlockCodec: the whole block decoded, but a partial decode stopped at counter 5,
    /// past the largest wanted id, and so did not find entry 3, which the block holds: a push
    /// checked against such a block would miss what it conflicts with.
    static let unsortedBlock: [UInt8] =
        [0x01] + blockTables + [0x02]
        + [0x00, 0x0A, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00]  // id (replica 0, +5), document label, …
        + [0x00, 0x03, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00]  // id (replica 0, −2)

    @Test func aHeadBlockWhoseIdsDoNotAscendIsMalformed() {
        // Wanting an id past both entries makes the partial decode read them all. (One that
        // stops early, past its largest wanted id, cannot see disorder after that point.)
        let wanted = AnnotationID(replica: ReplicaID(1), counter: 9)
        for only in [nil, Set([wanted])] {
            let error = #expect(throws: CodecError.self) {
                _ = try HeadBlockCodec.decode(Self.unsortedBlock, document: document, only: only)
            }
            #expect(error?.code == .malformed)
            #expect(error?.message.contains("must ascend by id") == true)
        }
    }

    @Test func aHeadBlockWithAscendingIdsStillDecodesWholeAndInPart() throws {
        var sorted = Self.unsortedBlock
        sorted[sorted.count - 7] = 0x04  // the second id +2 instead of −2: counter 7
        let whole = try HeadBlockCodec.decode(sorted, document: document)
        #expect(whole.keys.map(\.counter).sorted() == [5, 7])
        let part = try HeadBlockCodec.decode(sorted, document: document, only: [AnnotationID(replica: ReplicaID(1), counter: 7)])
        #expect(part.keys.map(\.counter) == [7])
    }
}
