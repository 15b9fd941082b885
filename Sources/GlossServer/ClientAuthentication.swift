import Foundation
import GlossWire
import NIOCore
import NIOSSL

/// Mutual TLS: whether the server asks clients for a certificate, and which it accepts. On top
/// of it, every client still authenticates with its bearer token.
public enum ClientAuthentication: Sendable, Hashable {
    /// No client certificate (the default).
    case none
    /// A certificate chaining to one of the CAs in this PEM file.
    case certificateAuthority(path: String)
    /// A certificate whose SHA-256 fingerprint is one of these (self-signed client certificates).
    case pinned(Set<CertificateFingerprint>)

    /// Applies the policy to a server TLS configuration.
    func apply(to configuration: inout TLSConfiguration) {
        switch self {
        case .none:
            configuration.certificateVerification = .none
        case .certificateAuthority(let path):
            configuration.certificateVerification = .noHostnameVerification
            configuration.trustRoots = .file(path)
        case .pinned:
            // Chain building would reject self-signed certificates: the callback decides.
            configuration.certificateVerification = .noHostnameVerification
        }
    }

    /// The verification callback for ``pinned``; nil otherwise.
    var verificationCallback: NIOSSLCustomVerificationCallback? {
        guard case .pinned(let pins) = self else { return nil }
        return { certificates, promise in
            guard let leaf = certificates.first, let der = try? leaf.toDERBytes(),
                pins.contains(CertificateFingerprint(derBytes: der))
            else {
                promise.succeed(.failed)
                return
            }
            promise.succeed(.certificateVerified)
        }
    }
}
