import Foundation
import GlossWire
import NIOCore
import Testing

// Helpers shared by the GlossWire tests: raw frame bytes built by hand (independently of
// FrameEncoder), the decode pipeline of a receiver, and sample messages of every kind.

/// A frame header written byte by byte, big-endian, without using FrameEncoder, so that tests
/// of the encoder and decoder compare against the spec layout rather than against each other.
func rawHeader(length: UInt32, type: UInt8, flags: UInt8 = 0x01, reserved: UInt16 = 0, requestID: UInt32 = 0) -> [UInt8] {
    [
        UInt8(length >> 24), UInt8((length >> 16) & 0xFF), UInt8((length >> 8) & 0xFF), UInt8(length & 0xFF),
        type, flags,
        UInt8(reserved >> 8), UInt8(reserved & 0xFF),
        UInt8(requestID >> 24), UInt8((requestID >> 16) & 0xFF), UInt8((requestID >> 8) & 0xFF), UInt8(requestID & 0xFF),
    ]
}

/// A whole frame, header and payload, built by hand.
func rawFrame(type: UInt8, flags: UInt8 = 0x01, requestID: UInt32 = 0, payload: [UInt8]) -> [UInt8] {
    rawHeader(length: UInt32(payload.count), type: type, flags: flags, requestID: requestID) + payload
}

func buffer(_ bytes: [UInt8]) -> ByteBuffer { ByteBuffer(bytes: bytes) }

func buffer(_ string: String) -> ByteBuffer { ByteBuffer(string: string) }

/// Deterministic pseudo-random bytes (SplitMix64), for payloads that deflate cannot shrink.
func noise(count: Int, seed: UInt64) -> [UInt8] {
    var state = seed
    var out: [UInt8] = []
    out.reserveCapacity(count)
    while out.count < count {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        withUnsafeBytes(of: z) { out.append(contentsOf: $0.prefix(count - out.count)) }
    }
    return out
}

/// Text that deflate shrinks well but not trivially.
func compressibleText(lines: Int) -> String {
    (0..<lines).map { "line \($0): Alice met Bob at the station; annotation PER/ORG number \($0 % 7)." }
        .joined(separator: "\n")
}

/// Encodes frames (and optionally the preface) with FrameEncoder.write.
func encode(_ frames: [Frame], preface: Bool = false) -> ByteBuffer {
    var out = ByteBuffer()
    if preface { out.writeBytes(Preface.bytes) }
    for frame in frames { FrameEncoder.write(frame, to: &out) }
    return out
}

/// Decodes a complete byte stream with FrameDecoder, as a receiver would, and requires that
/// nothing is left over at the end.
func decodeFrames(_ bytes: ByteBuffer, expectPreface: Bool, limits: WireLimits = .default) throws -> [Frame] {
    var decoder = FrameDecoder(expectPreface: expectPreface, limits: limits)
    var input = bytes
    var frames: [Frame] = []
    while let frame = try decoder.decode(buffer: &input) { frames.append(frame) }
    while let frame = try decoder.decodeLast(buffer: &input, seenEOF: true) { frames.append(frame) }
    return frames
}

/// Frames → MessageAssembler → WireMessage, in the order messages complete.
func assemble(_ frames: [Frame], limits: WireLimits = .default) throws -> [WireMessage] {
    var assembler = MessageAssembler(limits: limits)
    var messages: [WireMessage] = []
    for frame in frames {
        if let message = try assembler.append(frame) { messages.append(try WireMessage(message)) }
    }
    return messages
}

// MARK: - Sample messages

enum Sample {
    static let hello = Gloss_V1_Hello.with {
        $0.minVersion = 1
        $0.maxVersion = 1
        $0.capabilities = ["deflate"]
        $0.clientName = "gloss/0.1"
    }

    static let limits = Gloss_V1_Limits.with {
        $0.maxFramePayload = 1_048_576
        $0.maxMessageBytes = 67_108_864
        $0.maxRequestsInFlight = 32
        $0.idleTimeoutSeconds = 300
    }

    static let welcome = Gloss_V1_Welcome.with {
        $0.version = 1
        $0.capabilities = ["deflate"]
        $0.serverName = "glossd/0.1"
        $0.limits = limits
    }

    static func request(_ body: Gloss_V1_Request.OneOf_Body) -> Gloss_V1_Request {
        Gloss_V1_Request.with { $0.body = body }
    }

    static func response(_ body: Gloss_V1_Response.OneOf_Body) -> Gloss_V1_Response {
        Gloss_V1_Response.with { $0.body = body }
    }

    static let authRequest = request(.auth(.with { $0.token = "example-token" }))

    /// The 32-byte SHA-256 of "Alice met Bob.", the text of the document in delta-v1.hex.
    static let aliceDigest: [UInt8] = [
        0x89, 0x55, 0xB6, 0x89, 0x2A, 0xF2, 0xC2, 0x22, 0xFD, 0x29, 0xBA, 0xE8, 0x66, 0x1D, 0xA2, 0xCE,
        0x1D, 0x0D, 0xC5, 0xF2, 0x7C, 0x34, 0x08, 0x9C, 0x47, 0x0F, 0x19, 0x42, 0x25, 0xF1, 0x4A, 0x59,
    ]

    static func changeset(ops: [[UInt8]], text: String = "Alice met Bob.") -> Gloss_V1_Changeset {
        Gloss_V1_Changeset.with {
            $0.id = Data((0..<16).map { UInt8($0) })
            $0.author = "ann"
            $0.replica = 0x0102_0304_0506_0708
            $0.base = 0
            $0.message = "first annotations"
            $0.timestamp = 1_700_000_000
            $0.ops = ops.map { bytes in Gloss_V1_EncodedOps.with { $0.encoded = Data(bytes) } }
            $0.texts = [.with { $0.digest = Data(aliceDigest); $0.text = text }]
        }
    }

    /// One request of every oneof case of `Request.body`.
    static let requests: [Gloss_V1_Request] = [
        authRequest,
        request(.listCorpora(.init())),
        request(.listDocuments(.with { $0.corpus = "news" })),
        request(.clone(.with { $0.corpus = "news" })),
        request(.pull(.with { $0.corpus = "news"; $0.sinceRevision = 41 })),
        request(.push(.with { $0.corpus = "news"; $0.changeset = changeset(ops: [[1, 2, 3], [4, 5]]) })),
        request(.subscribe(.with { $0.corpus = "news" })),
        request(.createCorpus(.with { $0.name = "news"; $0.schemaJson = "{}"; $0.policy = .own })),
        request(.grant(.with { $0.corpus = "news"; $0.user = "bob"; $0.role = .curator })),
    ]

    /// One response of every oneof case of `Response.body`, and every push outcome.
    static let responses: [Gloss_V1_Response] = [
        response(.auth(.with { $0.user = "alice" })),
        response(.listCorpora(.with {
            $0.corpora = [
                .with { $0.name = "news"; $0.role = .owner; $0.headRevision = 12; $0.documents = 3; $0.policy = .own },
                .with { $0.name = "wiki"; $0.role = .viewer },
            ]
        })),
        response(.listDocuments(.with {
            $0.headRevision = 12
            $0.documents = [
                .with {
                    $0.id = "news/1"
                    $0.digest = Data(aliceDigest)
                    $0.length = 14
                    $0.metadata = ["source": "wire", "lang": "en"]
                    $0.addedRevision = 1
                }
            ]
        })),
        response(.streamEnd(.with { $0.headRevision = 99 })),
        response(.push(.with { $0.outcome = .acceptedRevision(13) })),
        response(.push(.with { $0.outcome = .duplicateRevision(7) })),
        response(.push(.with {
            $0.outcome = .conflicts(.with {
                $0.headRevision = 14
                $0.conflicts = [
                    .with {
                        $0.id = "c1"; $0.kind = "field"; $0.document = "news/1"
                        $0.annotation = "01HZX3K4N5P6Q7R8S9T0V1W2X3"; $0.field = "label"; $0.theirRevision = 14
                        $0.description_p = "both sides changed the label"
                    }
                ]
            })
        })),
        response(.push(.with {
            $0.outcome = .invalid(.with {
                $0.code = "unknown-label"; $0.message = "no label LOC"; $0.document = "news/1"; $0.opIndex = -1
            })
        })),
        response(.subscribe(.with { $0.headRevision = 12 })),
        response(.createCorpus(.with { $0.name = "news" })),
        response(.grant(.init())),
    ]

    static func streamItemBytes() throws -> [UInt8] {
        try Gloss_V1_StreamItem.with {
            $0.body = .progress(.with { $0.done = 3; $0.total = 10; $0.unit = "documents" })
        }.serializedBytes()
    }

    /// Every case of WireMessage, with request ids that do not collide.
    static func everyMessage() throws -> [WireMessage] {
        var messages: [WireMessage] = [.hello(hello), .welcome(welcome)]
        messages += requests.enumerated().map { .request(UInt32($0.offset + 1), $0.element) }
        messages += responses.enumerated().map { .response(UInt32($0.offset + 101), $0.element) }
        messages += [
            .stream(201, ByteBuffer(bytes: try streamItemBytes())),
            .stream(202, ByteBuffer()),
            .error(0, WireError(.badPreface, "not the preface").errorBody),
            .error(203, WireError(.rateLimited, "slow down", retryAfterMilliseconds: 1500).errorBody),
            .ping(opaque: 0x0123_4567_89AB_CDEF),
            .ping(opaque: 0),
            .pong(opaque: 42),
            // Payloads that are not a `Ping` travel as they are.
            .ping(ByteBuffer(bytes: [0xFF, 0x00, 0x13])),
            .goaway(.with { $0.lastRequestID = 9; $0.reason = "restarting" }),
            .cancel(204),
        ]
        return messages
    }

    /// A message big enough to be split at small frame limits and to be worth compressing.
    static let bigPush = WireMessage.request(
        300,
        request(.push(.with {
            $0.corpus = "news"
            $0.changeset = changeset(ops: [Array(repeating: 0x05, count: 700), noise(count: 300, seed: 1)], text: compressibleText(lines: 60))
        })))
}

/// Short names for parameterized test cases (the default shows whole protobuf text dumps).
extension WireMessage: CustomTestStringConvertible {
    public var testDescription: String { "\(frameType) \(requestID)" }
}
