import Crypto
import Foundation
import GlossTestSupport
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS
import SwiftASN1
import Testing
import X509

@testable import GlossServer
@testable import GlossWire

// MARK: - Fingerprints

@Suite struct CertificateFingerprintTests {
    /// SHA-256 of no bytes, a published vector.
    static let emptyDigest = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    @Test func digestsTheDERBytes() {
        let fingerprint = CertificateFingerprint(derBytes: [])
        #expect(fingerprint.description == "sha256:" + Self.emptyDigest)
        #expect(fingerprint.bytes.count == 32)
        #expect(CertificateFingerprint(derBytes: [1, 2, 3]).bytes == Array(SHA256.hash(data: [1, 2, 3] as [UInt8])))
    }

    @Test func parsesItsOwnDescription() throws {
        let fingerprint = CertificateFingerprint(derBytes: Array("certificate".utf8))
        #expect(CertificateFingerprint(parsing: fingerprint.description) == fingerprint)
    }

    @Test func parsesTheOpenSSLForm() throws {
        let expected = CertificateFingerprint(derBytes: [])
        // Upper case, pairs joined by colons, as `openssl x509 -fingerprint -sha256` prints.
        var pairs: [String] = []
        var hex = Self.emptyDigest.uppercased()[...]
        while !hex.isEmpty {
            pairs.append(String(hex.prefix(2)))
            hex = hex.dropFirst(2)
        }
        #expect(CertificateFingerprint(parsing: "sha256:" + pairs.joined(separator: ":")) == expected)
        #expect(CertificateFingerprint(parsing: "SHA256:" + pairs.joined(separator: ":")) == expected)
        #expect(CertificateFingerprint(parsing: "Sha256:" + Self.emptyDigest.uppercased()) == expected)
        #expect(CertificateFingerprint(parsing: "sha256:" + pairs.joined(separator: ":").lowercased()) == expected)
    }

    static let malformed: [String] = {
        let digest: String = emptyDigest
        let pairs: String = String(repeating: "e3-", count: 31) + "e3"
        var texts: [String] = ["", "sha256:", digest]  // the last without a prefix
        texts.append("sha1:" + digest)
        texts.append("sha256 " + digest)
        texts.append("sha256:" + String(digest.dropLast()))  // 63 digits
        texts.append("sha256:" + digest + "00")  // 33 bytes
        texts.append("sha256:" + String(digest.dropLast()) + "g")  // not hex
        texts.append("sha256:" + digest + " ")
        texts.append(" sha256:" + digest)
        texts.append("sha256:e3:b0" + String(digest.dropFirst(4)))  // separators on some pairs only
        texts.append("sha256:" + String(digest.prefix(94)) + ":")  // 95 characters, colons misplaced
        texts.append("sha256:" + pairs)  // another separator
        return texts
    }()

    @Test(arguments: malformed)
    func rejects(_ text: String) {
        #expect(CertificateFingerprint(parsing: text) == nil)
    }
}

// MARK: - Identity files

@Suite struct ServerIdentityTests {
    @Test func createsThenLoadsTheSameIdentity() throws {
        let directory = try TemporaryDirectory("identity")
        defer { directory.remove() }

        let (first, created) = try ServerIdentity.loadOrCreate(directory: directory.url)
        #expect(created)
        let tls = directory.url.appendingPathComponent("tls")
        let certificatePath = tls.appendingPathComponent("cert.pem").path
        let keyPath = tls.appendingPathComponent("key.pem").path
        #expect(FileManager.default.fileExists(atPath: certificatePath))
        #expect(FileManager.default.fileExists(atPath: keyPath))
        #expect(try permissions(keyPath) == 0o600)
        #expect(try permissions(tls.path) == 0o700)

        let (second, createdAgain) = try ServerIdentity.loadOrCreate(directory: directory.url)
        #expect(!createdAgain)
        #expect(second.fingerprint == first.fingerprint)
        #expect(second.certificate == first.certificate)

        // Independently: SHA-256 over the DER that NIOSSL reads from the file.
        let fromFile = try NIOSSLCertificate.fromPEMFile(certificatePath)
        #expect(fromFile.count == 1)
        let digest = Array(SHA256.hash(data: try fromFile[0].toDERBytes()))
        #expect(first.fingerprint.bytes == digest)
        #expect(try first.certificateChain.map { try $0.toDERBytes() } == [try fromFile[0].toDERBytes()])
    }

    @Test func generatedCertificateIsAServerCertificateForLoopback() throws {
        let directory = try TemporaryDirectory("identity")
        defer { directory.remove() }
        _ = try ServerIdentity.loadOrCreate(directory: directory.url)
        let pem = try String(contentsOf: directory.url.appendingPathComponent("tls/cert.pem"), encoding: .utf8)
        let certificate = try Certificate(pemEncoded: pem)

        #expect(certificate.subject == (try DistinguishedName { CommonName("glossd") }))
        #expect(certificate.issuer == certificate.subject)
        let names = try #require(try certificate.extensions.subjectAlternativeNames)
        #expect(names.contains(.dnsName("localhost")))
        #expect(names.contains(.ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1]))))
        #expect(names.contains(.ipAddress(ASN1OctetString(contentBytes: (Array(repeating: 0, count: 15) + [1])[...]))))
        #expect(try certificate.extensions.basicConstraints == .notCertificateAuthority)
        let keyUsage = try #require(try certificate.extensions.keyUsage)
        #expect(keyUsage.digitalSignature)
        #expect(!keyUsage.keyCertSign)
        #expect(try certificate.extensions.extendedKeyUsage?.contains(.serverAuth) == true)

        let now = Date()
        #expect(certificate.notValidBefore <= now.addingTimeInterval(-3500))
        #expect(certificate.notValidBefore >= now.addingTimeInterval(-3700))
        let years = certificate.notValidAfter.timeIntervalSince(now) / (365.25 * 86_400)
        #expect(years > 9.9 && years < 10.1)

        // A P-256 key, and the certificate signs itself.
        #expect(P256.Signing.PublicKey(certificate.publicKey) != nil)
        #expect(certificate.publicKey.isValidSignature(certificate.signature, for: certificate))
    }

    @Test func twoIdentitiesDiffer() throws {
        let a = try TemporaryDirectory("identity"), b = try TemporaryDirectory("identity")
        defer { a.remove(); b.remove() }
        #expect(
            try ServerIdentity.loadOrCreate(directory: a.url).identity.fingerprint
                != ServerIdentity.loadOrCreate(directory: b.url).identity.fingerprint)
    }

    @Test func refusesAKeyOfAnotherCertificate() throws {
        let a = try TemporaryDirectory("identity"), b = try TemporaryDirectory("identity")
        defer { a.remove(); b.remove() }
        _ = try ServerIdentity.loadOrCreate(directory: a.url)
        _ = try ServerIdentity.loadOrCreate(directory: b.url)
        let keyPath = b.path("tls/key.pem")
        let error = #expect(throws: ServerIdentityError.self) {
            try ServerIdentity.load(certificatePath: a.path("tls/cert.pem"), keyPath: keyPath)
        }
        #expect(error?.code == .keyMismatch)
        #expect(error?.context == keyPath)
    }

    @Test func refusesGarbageNamingTheFile() throws {
        let directory = try TemporaryDirectory("identity")
        defer { directory.remove() }
        _ = try ServerIdentity.loadOrCreate(directory: directory.url)
        let certificatePath = directory.path("tls/cert.pem"), keyPath = directory.path("tls/key.pem")
        let garbage = directory.path("garbage.pem")
        try Data("not a certificate\n".utf8).write(to: URL(fileURLWithPath: garbage))
        let badBase64 = directory.path("bad-base64.pem")
        try Data("-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n".utf8)
            .write(to: URL(fileURLWithPath: badBase64))
        let notDER = directory.path("not-der.pem")
        try Data("-----BEGIN CERTIFICATE-----\nAAECAw==\n-----END CERTIFICATE-----\n".utf8)
            .write(to: URL(fileURLWithPath: notDER))

        for (certificate, key, code, context) in [
            (garbage, keyPath, ServerIdentityError.Code.invalidCertificate, garbage),
            (badBase64, keyPath, .invalidCertificate, badBase64),
            (notDER, keyPath, .invalidCertificate, notDER),
            (certificatePath, garbage, .invalidKey, garbage),
            // A certificate is no key.
            (certificatePath, certificatePath, .invalidKey, certificatePath),
            (directory.path("missing.pem"), keyPath, .unreadable, directory.path("missing.pem")),
            (certificatePath, directory.path("missing.pem"), .unreadable, directory.path("missing.pem")),
        ] {
            let error = #expect(throws: ServerIdentityError.self) {
                try ServerIdentity.load(certificatePath: certificate, keyPath: key)
            }
            #expect(error?.code == code, "\(certificate) + \(key)")
            #expect(error?.context == context)
            #expect(error?.description.contains(context) == true)
        }
    }

    @Test func refusesAHalfIdentityAndOverwritesNothing() throws {
        let directory = try TemporaryDirectory("identity")
        defer { directory.remove() }
        _ = try ServerIdentity.loadOrCreate(directory: directory.url)
        let keyBefore = try Data(contentsOf: directory.url.appendingPathComponent("tls/key.pem"))
        try FileManager.default.removeItem(atPath: directory.path("tls/cert.pem"))

        let error = #expect(throws: ServerIdentityError.self) {
            try ServerIdentity.loadOrCreate(directory: directory.url)
        }
        #expect(error?.code == .incomplete)
        #expect(error?.context == directory.path("tls/cert.pem"))
        #expect(try Data(contentsOf: directory.url.appendingPathComponent("tls/key.pem")) == keyBefore)
    }

    @Test func loadsAChainLeafFirst() throws {
        let leafDirectory = try TemporaryDirectory("identity"), other = try TemporaryDirectory("identity")
        defer { leafDirectory.remove(); other.remove() }
        let leaf = try ServerIdentity.loadOrCreate(directory: leafDirectory.url).identity
        _ = try ServerIdentity.loadOrCreate(directory: other.url)
        // Stands in for an intermediate: only the order and the leaf's key matter here.
        let chainPath = leafDirectory.path("chain.pem")
        let chain =
            try String(contentsOfFile: leafDirectory.path("tls/cert.pem"), encoding: .utf8)
            + String(contentsOfFile: other.path("tls/cert.pem"), encoding: .utf8)
        try Data(chain.utf8).write(to: URL(fileURLWithPath: chainPath))

        let loaded = try ServerIdentity.load(certificatePath: chainPath, keyPath: leafDirectory.path("tls/key.pem"))
        #expect(loaded.certificateChain.count == 2)
        #expect(loaded.fingerprint == leaf.fingerprint)
    }

    /// OpenSSL as an independent peer: a SEC1 key with an EC PARAMETERS block (what
    /// `openssl ecparam -genkey` writes) loads, and the fingerprint OpenSSL prints parses to ours.
    @Test(.enabled(if: openSSL != nil)) func agreesWithOpenSSL() throws {
        let directory = try TemporaryDirectory("identity")
        defer { directory.remove() }
        let key = directory.path("admin.key"), certificate = directory.path("admin.crt")
        try run(["ecparam", "-name", "prime256v1", "-genkey", "-out", key])
        try run(["req", "-x509", "-key", key, "-out", certificate, "-subj", "/CN=gloss.example", "-days", "2"])
        #expect(try String(contentsOfFile: key, encoding: .utf8).contains("BEGIN EC PARAMETERS"))

        let identity = try ServerIdentity.load(certificatePath: certificate, keyPath: key)
        let printed = try run(["x509", "-in", certificate, "-noout", "-fingerprint", "-sha256"])
        // "sha256 Fingerprint=AB:CD:…"
        let hex = try #require(printed.split(separator: "=").last).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(CertificateFingerprint(parsing: "sha256:" + hex) == identity.fingerprint)
    }

    @Test func tlsConfigurationIsTLS12To13WithALPN() throws {
        let directory = try TemporaryDirectory("identity")
        defer { directory.remove() }
        let configuration = try ServerIdentity.loadOrCreate(directory: directory.url).identity.serverTLSConfiguration()
        #expect(configuration.minimumTLSVersion == .tlsv12)
        #expect(configuration.maximumTLSVersion == .tlsv13)
        #expect(configuration.applicationProtocols == ["gloss/1"])
        #expect(configuration.certificateChain.count == 1)
    }
}

private func permissions(_ path: String) throws -> Int {
    try #require(FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber).intValue & 0o777
}

private let openSSL: String? = ["/usr/bin/openssl", "/usr/local/bin/openssl", "/opt/homebrew/bin/openssl"]
    .first { FileManager.default.isExecutableFile(atPath: $0) }

@discardableResult
private func run(_ arguments: [String]) throws -> String {
    let result = try GlossProcesses.runBlocking(URL(fileURLWithPath: try #require(openSSL)), arguments)
    try #require(result.status == 0, "openssl \(arguments.joined(separator: " "))")
    return result.out
}

// MARK: - Real handshakes on loopback

@Suite struct TLSHandshakeTests {
    @Test func pinnedClientConnectsAndNegotiatesGloss() async throws {
        try await withServer { identity, port, group in
            let negotiated = try await handshake(port: port, group: group, pin: identity.fingerprint)
            #expect(negotiated == "gloss/1")
        }
    }

    @Test func wrongPinFailsTheHandshake() async throws {
        try await withServer { _, port, group in
            let wrongPin = CertificateFingerprint(derBytes: Array("another certificate".utf8))
            await #expect(throws: (any Error).self) {
                try await handshake(port: port, group: group, pin: wrongPin)
            }
        }
    }

    @Test func tls11ClientIsRefused() async throws {
        try await withServer { identity, port, group in
            // The same correct pin: only the version can make this fail.
            await #expect(throws: (any Error).self) {
                try await handshake(port: port, group: group, pin: identity.fingerprint, maximumVersion: .tlsv11)
            }
            // And the server still serves a good client afterwards.
            let negotiated = try await handshake(port: port, group: group, pin: identity.fingerprint)
            #expect(negotiated == "gloss/1")
        }
    }

    /// Runs `body` against a TLS server with a fresh identity on 127.0.0.1, any port.
    private func withServer(
        _ body: (ServerIdentity, Int, MultiThreadedEventLoopGroup) async throws -> Void
    ) async throws {
        let directory = try TemporaryDirectory("identity")
        defer { directory.remove() }
        let identity = try ServerIdentity.loadOrCreate(directory: directory.url).identity
        let serverContext = try NIOSSLContext(configuration: identity.serverTLSConfiguration())
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        do {
            let server = try await ServerBootstrap(group: group)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: serverContext))
                    }
                }
                .bind(host: "127.0.0.1", port: 0).get()
            let port = try #require(server.localAddress?.port)
            do {
                try await body(identity, port, group)
            } catch {
                try? await server.close()
                throw error
            }
            try await server.close()
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
        try await group.shutdownGracefully()
    }

    /// Connects, completes a TLS handshake accepting only a leaf with fingerprint `pin`, and
    /// returns the negotiated ALPN protocol.
    @discardableResult
    private func handshake(
        port: Int, group: MultiThreadedEventLoopGroup, pin: CertificateFingerprint,
        maximumVersion: TLSVersion = .tlsv13
    ) async throws -> String? {
        var configuration = TLSConfiguration.makeClientConfiguration()
        // Not `.none`: with it NIOSSL never calls the verification callback.
        configuration.certificateVerification = .noHostnameVerification
        configuration.minimumTLSVersion = .tlsv1
        configuration.maximumTLSVersion = maximumVersion
        configuration.applicationProtocols = [ServerIdentity.applicationProtocol]
        let context = try NIOSSLContext(configuration: configuration)
        let done = group.next().makePromise(of: String?.self)
        let channel = try await ClientBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    // serverHostname nil: an IP literal is not allowed in SNI.
                    let tls = try NIOSSLClientHandler(context: context, serverHostname: nil) { chain, promise in
                        let leaf = chain.first.flatMap { try? $0.toDERBytes() }
                        let matches = leaf.map { CertificateFingerprint(derBytes: $0) == pin } ?? false
                        promise.succeed(matches ? .certificateVerified : .failed)
                    }
                    try channel.pipeline.syncOperations.addHandler(tls)
                    try channel.pipeline.syncOperations.addHandler(HandshakeWatcher(done: done))
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        defer { channel.close(promise: nil) }
        return try await done.futureResult.get()
    }
}

/// Completes `done` with the negotiated protocol when the TLS handshake finishes, or with the
/// error (or a closed channel) when it does not.
private final class HandshakeWatcher: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    struct ClosedBeforeHandshake: Error {}

    let done: EventLoopPromise<String?>

    init(done: EventLoopPromise<String?>) { self.done = done }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .handshakeCompleted(let negotiated) = event as? TLSUserEvent {
            done.succeed(negotiated)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        done.fail(error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        // A no-op when the promise is already completed.
        done.fail(ClosedBeforeHandshake())
        context.fireChannelInactive()
    }
}
