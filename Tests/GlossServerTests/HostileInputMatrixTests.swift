import Foundation
import GlossClient
import GlossModel
import GlossServer
import GlossStore
import GlossTestSupport
import GlossWire
import NIOCore
import Synchronization
import Testing

/// At least thirty malformed or hostile inputs across frames, messages, auth and ops. Each gets
/// its typed error (on the connection, on the request, or as a push's `invalid` outcome); a
/// well-behaved client keeps pushing on the same server throughout; and afterwards the store
/// passes the integrity check with every acknowledged push present.
@Suite(.serialized, .hangGuard, .timeLimit(.minutes(10)))
struct HostileInputMatrixTests {
    /// What the server must answer.
    enum Expect {
        /// An ERROR frame with this code (on the connection or on a request).
        case error(WireError.Code)
        /// A push answered `invalid` with this validation code.
        case invalid(String)
    }

    struct Case {
        var name: String
        /// Sent first; when it ends with an auth request, the rest waits for its answer.
        var opening: [UInt8] = []
        var bytes: [UInt8]
        var expect: Expect

        init(name: String, bytes: [UInt8], expect: Expect) {
            self.name = name
            self.bytes = bytes
            self.expect = expect
        }

        init(name: String, after opening: [UInt8], bytes: [UInt8], expect: Expect) {
            self.name = name
            self.opening = opening
            self.bytes = bytes
            self.expect = expect
        }
    }

    static let corpus = "matrix"
    static let document: DocumentID = "d"

    static func frame(_ message: WireMessage) -> [UInt8] { RawClient.frameBytes(message) }

    static func rawFrame(type: UInt8, flags: UInt8, id: UInt32, payload: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        withUnsafeBytes(of: UInt32(payload.count).bigEndian) { out += $0 }
        out += [type, flags, 0, 0]
        withUnsafeBytes(of: id.bigEndian) { out += $0 }
        return out + payload
    }

    static func auth(_ token: String, id: UInt32 = 1) -> [UInt8] {
        frame(.request(id, .with { $0.auth = .with { $0.token = token } }))
    }

    static func push(_ changeset: Gloss_V1_Changeset, id: UInt32 = 3, corpus: String = Self.corpus) -> [UInt8] {
        frame(
            .request(
                id,
                .with {
                    $0.push = .with {
                        $0.corpus = corpus
                        $0.changeset = changeset
                    }
                }))
    }

    static func changeset(_ ops: [Op], base: Int = 1, texts: [TextDigest: String] = [:], message: String = "")
        -> Gloss_V1_Changeset
    {
        var m = Minter("admin", replica: 77)
        var changeset = m.changeset(base: base, ops, texts: texts)
        changeset.message = message
        return Gloss_V1_Changeset(changeset)
    }

    static func cases(admin: String, viewer: String) -> [Case] {
        let preface = Preface.bytes
        let hello = RawClient.hello
        let session = preface + hello + auth(admin)
        var m = Minter("admin", replica: 78)
        let span = { (s: Int, e: Int, label: String) in m.span(document, s, e, label) }
        var bomb = FrameCompression.compress(ByteBuffer(repeating: 0, count: 1 << 20))!
        bomb.setInteger(UInt32(100), at: bomb.readerIndex)
        var liar = FrameCompression.compress(ByteBuffer(repeating: 7, count: 4000))!
        liar.setInteger(UInt32(5000), at: liar.readerIndex)
        let list = Gloss_V1_Request.with { $0.listCorpora = .init() }
        var badID = changeset([.create(span(0, 3, "PER"))])
        badID.id = Data([1, 2, 3])
        var badOps = changeset([])
        badOps.ops = [.with { $0.encoded = Data([0xFF, 0xFE, 0xFD]) }]
        let text = "a new text"
        let lying = Document(id: "e", digest: TextDigest(of: "another text"), length: 10)
        var textsWrong = changeset([.addDocument(lying)])
        textsWrong.texts = [.with {
            $0.digest = Data(lying.digest.bytes)
            $0.text = text
        }]
        let dangling = Annotation.relation(
            m.nextID(), in: document, from: AnnotationID(replica: ReplicaID(1), counter: 1), to: AnnotationID(replica: ReplicaID(1), counter: 2),
            label: "rel", owner: "admin")
        let manyRequests = (0..<40).flatMap { i in
            frame(.request(UInt32(3 + 2 * i), .with { $0.subscribe = .with { $0.corpus = corpus } }))
        }
        let hugeMessage = (0..<70).flatMap { _ in
            rawFrame(type: FrameType.request.rawValue, flags: 0, id: 3, payload: [UInt8](repeating: 0x41, count: 1 << 20))
        }

        return [
            // Frames and the preface.
            Case(name: "garbage instead of the preface", bytes: Array("\u{1}\u{2}garbage".utf8), expect: .error(.badPreface)),
            Case(name: "an HTTP request", bytes: Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8), expect: .error(.badPreface)),
            Case(name: "a TLS-looking record inside TLS", bytes: [0x16, 0x03, 0x01, 0x00, 0x10] + [UInt8](repeating: 0, count: 16), expect: .error(.badPreface)),
            Case(name: "a frame length over the limit", bytes: preface + [0x7F, 0xFF, 0xFF, 0xFF, 0x01, 0x01, 0, 0, 0, 0, 0, 0], expect: .error(.frameTooLarge)),
            Case(name: "an unknown frame type", bytes: preface + rawFrame(type: 0x7E, flags: 1, id: 0, payload: []), expect: .error(.protocolError)),
            Case(name: "unknown flag bits", bytes: preface + rawFrame(type: FrameType.hello.rawValue, flags: 0x80, id: 0, payload: []), expect: .error(.protocolError)),
            Case(name: "a request before HELLO", bytes: preface + frame(.request(1, list)), expect: .error(.protocolError)),
            Case(name: "HELLO again once authenticated", after: session, bytes: hello, expect: .error(.protocolError)),
            Case(name: "HELLO instead of auth", bytes: preface + hello + hello, expect: .error(.unauthenticated)),
            Case(name: "an unsupported version", bytes: preface + frame(.hello(.with { $0.minVersion = 7; $0.maxVersion = 9 })), expect: .error(.unsupportedVersion)),
            Case(name: "a server-only frame from the client", after: session, bytes: frame(.welcome(.init())), expect: .error(.protocolError)),
            Case(name: "a decompression bomb", bytes: preface + hello + frameWith(.ping, bomb), expect: .error(.decompressionFailed)),
            Case(name: "a lying uncompressed length", bytes: preface + hello + frameWith(.ping, liar), expect: .error(.decompressionFailed)),
            Case(name: "compressed bytes that are not deflate", bytes: preface + hello + frameWith(.ping, ByteBuffer(bytes: [0, 0, 0, 9] + [UInt8](repeating: 0xAB, count: 9))), expect: .error(.decompressionFailed)),
            Case(name: "a message over the size limit", after: session, bytes: hugeMessage, expect: .error(.messageTooLarge)),
            Case(name: "request id 0", after: session, bytes: frame(.request(0, list)), expect: .error(.protocolError)),
            Case(name: "too many requests in flight", after: session, bytes: manyRequests, expect: .error(.tooManyRequests)),
            // Message bodies.
            Case(name: "HELLO that is not protobuf", bytes: preface + rawFrame(type: FrameType.hello.rawValue, flags: 1, id: 0, payload: [0xFF, 0xFF, 0xFF]), expect: .error(.badMessage)),
            Case(name: "a request that is not protobuf", after: preface + hello + auth(admin), bytes: rawFrame(type: FrameType.request.rawValue, flags: 1, id: 3, payload: [0x0A, 0xFF]), expect: .error(.badMessage)),
            Case(name: "a request with no body", after: session, bytes: frame(.request(3, .init())), expect: .error(.badMessage)),
            // Authentication.
            Case(name: "a request before auth", bytes: preface + hello + frame(.request(1, list)), expect: .error(.unauthenticated)),
            Case(name: "a wrong token", bytes: preface + hello + auth("gls_not-a-real-token"), expect: .error(.authFailed)),
            Case(name: "an empty token", bytes: preface + hello + auth(""), expect: .error(.authFailed)),
            Case(name: "a token of 60 kB", bytes: preface + hello + auth(String(repeating: "x", count: 60_000)), expect: .error(.authFailed)),
            Case(name: "a token of 100 kB, past the auth message limit", bytes: preface + hello + auth(String(repeating: "x", count: 100_000)), expect: .error(.frameTooLarge)),
            Case(name: "an unauthenticated 1 MiB frame", bytes: preface + hello + rawFrame(type: FrameType.request.rawValue, flags: 0, id: 1, payload: [UInt8](repeating: 0x41, count: 1 << 20)), expect: .error(.frameTooLarge)),
            Case(name: "unauthenticated frames adding up past the auth message limit", bytes: preface + hello + (0..<3).flatMap { _ in rawFrame(type: FrameType.request.rawValue, flags: 0, id: 1, payload: [UInt8](repeating: 0x41, count: 30_000)) }, expect: .error(.messageTooLarge)),
            Case(name: "33 unfinished requests before authentication", bytes: preface + hello + (0..<33).flatMap { i in rawFrame(type: FrameType.request.rawValue, flags: 0, id: UInt32(1 + 2 * i), payload: [0x41]) }, expect: .error(.protocolError)),
            Case(name: "33 unfinished requests once authenticated", after: session, bytes: (0..<33).flatMap { i in rawFrame(type: FrameType.request.rawValue, flags: 0, id: UInt32(3 + 2 * i), payload: [0x41]) }, expect: .error(.protocolError)),
            Case(name: "a viewer's push", after: preface + hello + auth(viewer), bytes: push(changeset([.create(span(0, 3, "PER"))])), expect: .error(.permissionDenied)),
            Case(name: "a corpus created by a non-admin", after: preface + hello + auth(viewer), bytes: frame(.request(3, .with { $0.createCorpus = .with { $0.name = "x" } })), expect: .error(.permissionDenied)),
            // Ops and changesets.
            Case(name: "a push to an unknown corpus", after: session, bytes: push(changeset([.create(span(0, 3, "PER"))]), corpus: "nope"), expect: .error(.notFound)),
            Case(name: "a clone of an unknown corpus", after: session, bytes: frame(.request(3, .with { $0.clone = .with { $0.corpus = "nope" } })), expect: .error(.notFound)),
            Case(name: "a changeset id of 3 bytes", after: session, bytes: push(badID), expect: .error(.badMessage)),
            Case(name: "ops that do not decode", after: session, bytes: push(badOps), expect: .error(.badMessage)),
            Case(name: "a text that does not match its digest", after: session, bytes: push(textsWrong), expect: .invalid("invalid-field")),
            Case(name: "offsets past the end of the text", after: session, bytes: push(changeset([.create(span(5, 9_999, "PER"))])), expect: .invalid("range-out-of-bounds")),
            Case(name: "a reversed range", after: session, bytes: push(changeset([.create(span(9, 5, "PER"))])), expect: .invalid("inverted-range")),
            Case(name: "a span on a document that does not exist", after: session, bytes: push(changeset([.create(m.span("ghost", 0, 3, "PER"))])), expect: .invalid("unknown-document")),
            Case(name: "a label the schema does not know", after: session, bytes: push(changeset([.create(span(0, 3, "WEAPON"))])), expect: .invalid("unknown-label")),
            Case(name: "a relation between annotations that do not exist", after: session, bytes: push(changeset([.create(dangling)])), expect: .invalid("missing-reference")),
            // Field limits (data-model.md, "Limits").
            Case(name: "a label of 10 MiB", after: session, bytes: push(changeset([.create(span(0, 3, String(repeating: "L", count: 10 << 20)))])), expect: .invalid("field-too-large")),
            Case(name: "an attribute value of 1 MiB", after: session, bytes: push(changeset([.create(m.span(document, 0, 3, "PER", attributes: ["k": String(repeating: "v", count: 1 << 20)]))])), expect: .invalid("field-too-large")),
            Case(name: "a note of 1 MiB", after: session, bytes: push(changeset([.create(Annotation(id: m.nextID(), document: document, kind: .note, layer: "admin", owner: "admin", text: String(repeating: "n", count: 1 << 20)))])), expect: .invalid("field-too-large")),
            Case(name: "a commit message of 1 MiB", after: session, bytes: push(changeset([.create(span(0, 3, "PER"))], message: String(repeating: "m", count: 1 << 20))), expect: .invalid("field-too-large")),
            Case(name: "a span of 2,000 ranges", after: session, bytes: push(changeset([.create(Annotation.span(m.nextID(), in: document, (0..<2000).map { TextRange($0 % 50, $0 % 50) }, label: "PER", owner: "admin"))])), expect: .invalid("field-too-large")),
            Case(name: "a set on an annotation that does not exist", after: session, bytes: push(changeset([.set(document, AnnotationID(replica: ReplicaID(9), counter: 9), .label, .string("PER"))])), expect: .invalid("unknown-annotation")),
        ]
    }

    static func frameWith(_ type: FrameType, _ payload: ByteBuffer) -> [UInt8] {
        var out = ByteBuffer()
        FrameEncoder.write(Frame(type: type, flags: [.end, .compressed], payload: payload), to: &out)
        return Array(out.readableBytesView)
    }

    @Test func everyHostileInputGetsItsTypedErrorWhileOthersKeepWorking() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let admin = try await server.connect()
        let schema = #"{"spanLabels": ["PER", "ORG"], "relations": [{"label": "rel"}]}"#
        _ = try await admin.request(.with { $0.createCorpus = .with { $0.name = Self.corpus; $0.schemaJson = schema } })
        var minter = Minter("admin", replica: 5)
        let setup = try await ClientSyncTests.push(admin, corpus: Self.corpus, minter.documents(base: 0, [(Self.document, SampleTexts.news)]))
        #expect(setup.acceptedRevision > 0)
        let viewer = try server.user("vera", role: .viewer, in: Self.corpus)

        // A well-behaved client pushes all along.
        let good = try await server.connect()
        let acknowledged = Mutex<[ChangesetID]>([])
        let pusher = Task {
            var m = Minter("admin", replica: 6)
            var base = Int(setup.acceptedRevision)
            while !Task.isCancelled {
                let cs = m.changeset(base: base, [.create(m.span(Self.document, 0, 6, "PER"))])
                let answer = try await ClientSyncTests.push(good, corpus: Self.corpus, cs)
                guard answer.acceptedRevision > 0 else { break }
                acknowledged.withLock { $0.append(cs.id) }
                base = Int(answer.acceptedRevision)
                try await Task.sleep(for: .milliseconds(20))
            }
        }

        let cases = Self.cases(admin: server.adminToken, viewer: viewer)
        #expect(cases.count >= 30)
        for c in cases {
            let reply =
                c.opening.isEmpty
                ? try await RawClient.exchange(port: server.port, c.bytes, timeout: .seconds(20))
                : try await RawClient.exchange(port: server.port, opening: c.opening, then: c.bytes, timeout: .seconds(20))
            let messages = try RawClient.messages(reply)
            let errors = messages.compactMap { if case .error(_, let e) = $0 { WireError(e).code.rawValue } else { nil } }
            let invalid = messages.compactMap { message -> String? in
                guard case .response(_, let r) = message, case .push(let p)? = r.body, case .invalid(let i)? = p.outcome
                else { return nil }
                return i.code
            }
            switch c.expect {
            case .error(let code): #expect(errors.contains(code.rawValue), "\(c.name): got errors \(errors), invalid \(invalid)")
            case .invalid(let code): #expect(invalid == [code], "\(c.name): got errors \(errors), invalid \(invalid)")
            }
        }
        pusher.cancel()
        _ = try? await pusher.value
        let pushed = acknowledged.withLock { $0 }
        #expect(pushed.count > 3, "the well-behaved client was starved")

        // Nothing acknowledged is lost, and the store is sound.
        let store = try ClientSyncTests.store(server, Self.corpus)
        for id in pushed { #expect(try store.revisionNumber(of: id) != nil) }
        let report = try store.checkIntegrity(corpus: Self.corpus)
        #expect(report.problems.isEmpty, "\(report.problems)")
    }

    /// A changeset id reused with other content is refused, from its author or from anyone
    /// else; an honest retry of the same bytes is still `duplicate` (issue 13, point 4).
    @Test func aChangesetIDReusedWithOtherContentIsRefusedAndARetryIsADuplicate() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let admin = try await server.connect()
        _ = try await admin.request(.with { $0.createCorpus = .with { $0.name = Self.corpus } })
        var owner = Minter("admin", replica: 5)
        let setup = try await ClientSyncTests.push(admin, corpus: Self.corpus, owner.documents(base: 0, [(Self.document, SampleTexts.news)]))
        let base = Int(setup.acceptedRevision)
        let annotator = try await server.connect(token: try server.user("ann", role: .annotator, in: Self.corpus))

        let first = owner.changeset(base: base, [.create(owner.span(Self.document, 0, 3, "PER"))])
        let accepted = try await ClientSyncTests.push(admin, corpus: Self.corpus, first)
        #expect(accepted.acceptedRevision > 0)
        // The same bytes again: a retry.
        let retry = try await ClientSyncTests.push(admin, corpus: Self.corpus, first)
        #expect(retry.duplicateRevision == accepted.acceptedRevision)

        // The same id, other ops, same user.
        var changed = owner.changeset(base: base, [.create(owner.span(Self.document, 4, 8, "ORG"))])
        changed.id = first.id
        // The same id from another user, with that user's own ops.
        var ann = Minter("ann", replica: 9)
        var stolen = ann.changeset(base: base, [.create(ann.span(Self.document, 4, 8, "ORG"))])
        stolen.id = first.id
        for (connection, reuse) in [(admin, changed), (annotator, stolen)] {
            let answer = try await ClientSyncTests.push(connection, corpus: Self.corpus, reuse)
            guard case .invalid(let invalid)? = answer.outcome else {
                Issue.record("a reused id was answered \(answer)")
                continue
            }
            #expect(invalid.code == "changeset-id-reused")
            #expect(invalid.message.contains("revision \(accepted.acceptedRevision)"))
        }
        let store = try ClientSyncTests.store(server, Self.corpus)
        #expect(try store.headRevision() == Int(accepted.acceptedRevision))
        #expect(try store.headAnnotations(of: Self.document).map(\.label) == ["PER"])
    }
}
