import GlossWire
import NIOCore
import NIOSSL
import Synchronization

/// How the client decides that it is talking to the right server.
public enum ServerTrust: Sendable {
    /// The leaf certificate must have this SHA-256 fingerprint (ssh-style pinning).
    case pinned(CertificateFingerprint)
    /// Verify the chain against these PEM CA certificates and the hostname.
    case certificateAuthority(path: String)
    /// Verify against the system's CA store and the hostname.
    case system
    /// Accept any certificate and report its fingerprint, for a trust-on-first-use prompt;
    /// the caller must show the fingerprint and pin it, or disconnect.
    case recordFingerprint
}

/// A server presented a certificate other than the pinned one.
public struct PinMismatch: Error, Sendable, CustomStringConvertible {
    public var expected: CertificateFingerprint
    public var presented: CertificateFingerprint
    public var host: String

    public var description: String {
        """
        @@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@
        @    WARNING: THE SERVER'S CERTIFICATE HAS CHANGED!       @
        @@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@
        Someone could be eavesdropping on you right now (a man-in-the-middle attack),
        or the server's certificate was replaced.
        The pinned fingerprint for \(host) is
            \(expected)
        but the server presented
            \(presented)
        If the server's administrator confirms the new fingerprint, update the pin in the
        workspace with `gloss trust --pin \(presented)`; otherwise do not connect.
        """
    }
}

/// A client certificate and its key (PEM files), for servers that require mutual TLS.
public struct ClientCertificate: Sendable, Hashable {
    public var certificatePath: String
    public var keyPath: String

    public init(certificatePath: String, keyPath: String) {
        self.certificatePath = certificatePath
        self.keyPath = keyPath
    }
}

/// Builds the TLS client handler for a trust choice, and remembers what the server presented.
final class TrustEvaluation: Sendable {
    let trust: ServerTrust
    let host: String
    /// This client's own certificate, for servers that require mutual TLS.
    let clientCertificate: ClientCertificate?
    private let presented = Mutex<CertificateFingerprint?>(nil)
    private let mismatch = Mutex<PinMismatch?>(nil)

    init(trust: ServerTrust, host: String, clientCertificate: ClientCertificate? = nil) {
        self.trust = trust
        self.host = host
        self.clientCertificate = clientCertificate
    }

    var presentedFingerprint: CertificateFingerprint? { presented.withLock { $0 } }
    var pinMismatch: PinMismatch? { mismatch.withLock { $0 } }

    func makeHandler() throws -> NIOSSLClientHandler {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv12  // NIOSSL defaults to TLS 1.0
        configuration.maximumTLSVersion = .tlsv13
        configuration.applicationProtocols = ["gloss/1"]
        if let clientCertificate {
            do {
                configuration.certificateChain = try NIOSSLCertificate.fromPEMFile(clientCertificate.certificatePath)
                    .map { .certificate($0) }
                configuration.privateKey = .privateKey(try NIOSSLPrivateKey(file: clientCertificate.keyPath, format: .pem))
            } catch {
                throw ClientError(
                    .tlsFailed,
                    "cannot load the client certificate \(clientCertificate.certificatePath) or key \(clientCertificate.keyPath): \(error)")
            }
        }
        // An IP literal cannot be an SNI name (NIOSSL throws); hostname checks still match IP SANs.
        let isIP = (try? SocketAddress(ipAddress: host, port: 0)) != nil
        let serverHostname = isIP ? nil : host
        switch trust {
        case .system:
            let context = try NIOSSLContext(configuration: configuration)
            return try NIOSSLClientHandler(context: context, serverHostname: serverHostname)
        case .certificateAuthority(let path):
            configuration.trustRoots = .file(path)
            let context = try NIOSSLContext(configuration: configuration)
            return try NIOSSLClientHandler(context: context, serverHostname: serverHostname)
        case .pinned, .recordFingerprint:
            // With `.none` NIOSSL never calls the callback: keep verification on, without the
            // hostname check, and decide in the callback by fingerprint alone.
            configuration.certificateVerification = .noHostnameVerification
            let context = try NIOSSLContext(configuration: configuration)
            return try NIOSSLClientHandler(context: context, serverHostname: serverHostname) { certificates, promise in
                guard let leaf = certificates.first, let der = try? leaf.toDERBytes() else {
                    promise.succeed(.failed)
                    return
                }
                let fingerprint = CertificateFingerprint(derBytes: der)
                self.presented.withLock { $0 = fingerprint }
                if case .pinned(let expected) = self.trust, expected != fingerprint {
                    self.mismatch.withLock { $0 = PinMismatch(expected: expected, presented: fingerprint, host: self.host) }
                    promise.succeed(.failed)
                } else {
                    promise.succeed(.certificateVerified)
                }
            }
        }
    }
}
