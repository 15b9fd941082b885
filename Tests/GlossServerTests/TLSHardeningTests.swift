import Foundation
import GlossClient
import GlossServer
import GlossTestSupport
import GlossWire
import Testing

/// Mutual TLS (client certificates from a CA, or pinned) and certificate reload without
/// dropping connections.
@Suite(.serialized, .hangGuard, .timeLimit(.minutes(10)))
struct TLSHardeningTests {
    /// Certificates made with the openssl command line, an independent implementation.
    struct Certificates {
        let dir: TemporaryDirectory
        func path(_ name: String) -> String { dir.path(name) }

        init() throws {
            dir = try TemporaryDirectory("mtls")
            let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
            try Data("extendedKeyUsage=clientAuth\n".utf8).write(to: URL(fileURLWithPath: path("client.ext")))
            try run(["req", "-x509"] + ec + ["-keyout", path("ca.key"), "-out", path("ca.pem"), "-days", "2", "-subj", "/CN=test-ca"])
            for name in ["alice", "mallory"] {
                try run(["req"] + ec + ["-keyout", path("\(name).key"), "-out", path("\(name).csr"), "-subj", "/CN=\(name)"])
            }
            // alice is signed by the CA; mallory signs herself.
            try run([
                "x509", "-req", "-in", path("alice.csr"), "-CA", path("ca.pem"), "-CAkey", path("ca.key"),
                "-CAcreateserial", "-out", path("alice.pem"), "-days", "2", "-extfile", path("client.ext"),
            ])
            try run([
                "x509", "-req", "-in", path("mallory.csr"), "-signkey", path("mallory.key"), "-out", path("mallory.pem"),
                "-days", "2", "-extfile", path("client.ext"),
            ])
        }

        func fingerprint(_ name: String) throws -> CertificateFingerprint {
            try run(["x509", "-in", path("\(name).pem"), "-outform", "der", "-out", path("\(name).der")])
            return CertificateFingerprint(derBytes: try Data(contentsOf: URL(fileURLWithPath: path("\(name).der"))))
        }

        func client(_ name: String) -> ClientCertificate {
            ClientCertificate(certificatePath: path("\(name).pem"), keyPath: path("\(name).key"))
        }

        private func run(_ args: [String]) throws {
            guard try GlossProcesses.runBlocking(URL(fileURLWithPath: "/usr/bin/openssl"), args).status == 0 else {
                throw CocoaError(.executableLoad)
            }
        }
    }

    static func refuses(_ server: TestServer, _ certificate: ClientCertificate?) async -> Bool {
        do {
            let connection = try await server.connect(clientCertificate: certificate)
            _ = try await connection.request(.with { $0.listCorpora = .init() })
            connection.close()
            return false
        } catch {
            return true
        }
    }

    @Test func aClientCertificateFromTheCAIsRequired() async throws {
        let certs = try Certificates()
        defer { certs.dir.remove() }
        let server = try await TestServer.start(clientAuthentication: .certificateAuthority(path: certs.path("ca.pem")))
        defer { Task { await server.stop() } }
        #expect(await Self.refuses(server, nil), "a client without a certificate was let in")
        #expect(await Self.refuses(server, certs.client("mallory")), "a certificate from another issuer was let in")
        #expect(!(await Self.refuses(server, certs.client("alice"))))
    }

    @Test func aPinnedClientCertificateIsRequired() async throws {
        let certs = try Certificates()
        defer { certs.dir.remove() }
        let server = try await TestServer.start(clientAuthentication: .pinned([try certs.fingerprint("mallory")]))
        defer { Task { await server.stop() } }
        #expect(await Self.refuses(server, nil))
        #expect(await Self.refuses(server, certs.client("alice")), "an unpinned certificate was let in")
        #expect(!(await Self.refuses(server, certs.client("mallory"))))
    }

    @Test func reloadPresentsTheNewCertificateWithoutDroppingConnections() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let open = try await server.connect()
        let old = server.fingerprint
        let other = try TemporaryDirectory("renewed")
        defer { other.remove() }
        let (renewed, _) = try ServerIdentity.loadOrCreate(directory: other.url)
        #expect(renewed.fingerprint != old)
        try server.server.reloadIdentity(renewed)
        #expect(server.server.fingerprint == renewed.fingerprint)

        // The open connection keeps working.
        _ = try await open.request(.with { $0.listCorpora = .init() })
        // New connections see the new certificate: the old pin is refused, the new one accepted.
        await #expect(throws: (any Error).self) { _ = try await server.connect(trust: .pinned(old)) }
        let fresh = try await server.connect(trust: .pinned(renewed.fingerprint))
        _ = try await fresh.request(.with { $0.listCorpora = .init() })
        fresh.close()
        open.close()
    }
}
