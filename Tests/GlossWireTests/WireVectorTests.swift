import Foundation
import GlossWire
import NIOCore
import Testing

// The frame vectors in Protocol/vectors/ (wire.md section 8) decode to the messages built here
// and re-encode to the same bytes, so the spec's examples and the code cannot drift apart.

struct WireVector: Sendable, CustomTestStringConvertible {
    var file: String
    /// Whether the bytes start with the preface.
    var preface: Bool
    /// The limits the sender split the message with.
    var limits: WireLimits = .default
    var messages: [WireMessage]
    /// False for compressed frames: deflate output may differ between zlib versions, so those
    /// are re-encoded frame by frame rather than recompressed.
    var reencodeFromMessages = true

    var testDescription: String { file }

    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Protocol/vectors")

    /// Hex with `#` comment lines; whitespace ignored (the format of delta-v1.hex).
    static func bytes(_ name: String) throws -> [UInt8] {
        let text = try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
        let hex = text.split(separator: "\n").filter { !$0.hasPrefix("#") }.joined().filter { !$0.isWhitespace }
        #expect(hex.count % 2 == 0, "\(name): odd number of hex digits")
        var out: [UInt8] = []
        var i = hex.startIndex
        while i < hex.endIndex, let j = hex.index(i, offsetBy: 2, limitedBy: hex.endIndex) {
            out.append(try #require(UInt8(hex[i..<j], radix: 16), "\(name): bad hex \(hex[i..<j])"))
            i = j
        }
        return out
    }

    static func all() throws -> [WireVector] {
        let delta = try bytes("delta-v1.hex")
        return [
            WireVector(file: "client-hello.hex", preface: true, messages: [.hello(Sample.hello)]),
            WireVector(file: "server-welcome.hex", preface: true, messages: [.welcome(Sample.welcome)]),
            WireVector(file: "auth-request.hex", preface: false, messages: [.request(1, Sample.authRequest)]),
            WireVector(
                file: "push-request.hex", preface: false,
                messages: [.request(2, Sample.request(.push(.with { $0.corpus = "news"; $0.changeset = Sample.changeset(ops: [delta]) })))]),
            WireVector(
                file: "error-frame.hex", preface: false,
                messages: [.error(0, WireError(.badPreface, "the connection did not start with the Gloss preface 89 47 4C 53 0D 0A 1A 0A").errorBody)]),
            WireVector(
                file: "split-message.hex", preface: false, limits: WireLimits(maxFramePayload: 12),
                messages: [.response(3, Sample.responses[1])]),
            WireVector(
                file: "compressed-frame.hex", preface: false, messages: [.response(4, compressedResponse)],
                reencodeFromMessages: false),
        ]
    }

    /// A list_documents response of 10 similar documents: 600-odd bytes that deflate well.
    static let compressedResponse = Sample.response(.listDocuments(.with {
        $0.headRevision = 10
        $0.documents = (1...10).map { n in
            .with {
                $0.id = "news/\(n)"
                $0.digest = Data(Sample.aliceDigest)
                $0.length = 14
                $0.metadata = ["source": "wire"]  // one entry: map order cannot vary
                $0.addedRevision = UInt64(n)
            }
        }
    }))
}

@Test(arguments: try WireVector.all())
func wireVectorDecodesAndReencodes(vector: WireVector) throws {
    let bytes = try WireVector.bytes(vector.file)
    // A receiver with the default limits reads every vector.
    let frames = try decodeFrames(buffer(bytes), expectPreface: vector.preface)
    #expect(try assemble(frames) == vector.messages)

    // Frame by frame, the encoder writes the same bytes.
    #expect(Array(encode(frames, preface: vector.preface).readableBytesView) == bytes)

    if vector.reencodeFromMessages {
        // And from the message, the sender produces the same frames.
        let again = vector.messages.flatMap { $0.frames(limits: vector.limits, compress: false) }
        #expect(Array(encode(again, preface: vector.preface).readableBytesView) == bytes)
    }
}

@Test func splitAndCompressedVectorsAreWhatTheirNamesSay() throws {
    let split = try decodeFrames(buffer(try WireVector.bytes("split-message.hex")), expectPreface: false)
    #expect(split.map(\.flags) == [[], [], .end])

    let compressed = try decodeFrames(buffer(try WireVector.bytes("compressed-frame.hex")), expectPreface: false)
    #expect(compressed.map(\.flags) == [[.end, .compressed]])
    let plain = WireMessage.response(4, WireVector.compressedResponse).payload()
    #expect(compressed[0].payload.getInteger(at: compressed[0].payload.readerIndex, as: UInt32.self) == UInt32(plain.readableBytes))
    #expect(compressed[0].payload.readableBytes < plain.readableBytes)
}

@Test func everyFrameVectorFileIsTested() throws {
    let files = try FileManager.default.contentsOfDirectory(atPath: WireVector.directory.path)
        .filter { $0.hasSuffix(".hex") && !$0.hasPrefix("delta-") && !$0.hasPrefix("snapshot") }  // DeltaVectorTests
    #expect(Set(files) == Set(try WireVector.all().map(\.file)))
}
