import Foundation
import NIOCore
import NIOPosix
import NIOSSL

/// Plain messages for what goes wrong while reaching a server.
///
/// NIO's and BoringSSL's errors name internals (`SingleConnectionFailure(target: …)`,
/// `BoringSSLError` with a path in BoringSSL's build tree) that tell a user nothing: these
/// name the address, say what happened in words, and what to check.
extension ClientError {
    /// The TCP connection could not be made (refused, unreachable, no such host, timed out),
    /// or the TLS set-up failed before any byte was sent.
    static func cannotConnect(to address: String, trust: ServerTrust, _ error: any Error) -> ClientError {
        if let error = error as? ClientError { return error }
        let check = "is glossd running there, and the port open?"
        switch error {
        case let error as NIOConnectionError:
            if error.connectionErrors.isEmpty, let dns = error.dnsAError ?? error.dnsAAAAError {
                return ClientError(
                    .connectionFailed, "cannot connect to \(address): the host name does not resolve (\(plain(dns))); check the URL")
            }
            if let first = error.connectionErrors.first {
                return ClientError(.connectionFailed, "cannot connect to \(address): \(plain(first.error)); \(check)")
            }
            return ClientError(.connectionFailed, "cannot connect to \(address); \(check)")
        case ChannelError.connectTimeout(let amount):
            return ClientError(
                .connectionFailed,
                "cannot connect to \(address): no answer within \(amount.nanoseconds / 1_000_000_000) s; check the host, the port and any firewall")
        case let error as NIOSSLError:
            if case .certificateAuthority(let path) = trust {
                return ClientError(
                    .tlsFailed, "cannot load the CA certificates from \(path) (\(plain(error))); --ca takes a PEM file")
            }
            return ClientError(.tlsFailed, "cannot set up TLS for \(address): \(plain(error))")
        default:
            return ClientError(.connectionFailed, "cannot connect to \(address): \(plain(error)); \(check)")
        }
    }

    /// The connection was made but the TLS or Gloss handshake failed.
    ///
    /// `greeting` is what the peer sent first: a TLS server's first byte is a TLS record type
    /// (20 to 23), anything else is another protocol (an SSH banner, an HTTP reply).
    static func handshakeFailed(
        with address: String, trust: ServerTrust, greeting: [UInt8], timedOut: TimeAmount?, _ error: (any Error)?
    ) -> ClientError {
        if let error = error as? ClientError { return error }
        if let first = greeting.first, !(20...23).contains(first) {
            return ClientError(
                .protocolViolation,
                "\(address) is not a Gloss server: it does not speak TLS (it said \(excerpt(greeting))); check the host and port")
        }
        if let timedOut {
            return ClientError(
                .closed,
                "\(address) accepted the connection but did not finish the handshake within \(timedOut.nanoseconds / 1_000_000_000) s; is it a glossd, and is it overloaded?")
        }
        let closed =
            "\(address) closed the connection during the TLS handshake: it is not a Gloss server, or it refused this client (a server that requires a client certificate: --client-cert)"
        switch error {
        case nil, NIOSSLError.uncleanShutdown?, ChannelError.eof?, ChannelError.ioOnClosedChannel?, ChannelError.alreadyClosed?:
            return ClientError(.closed, closed)
        case let error as IOError where error.errnoCode == ECONNRESET || error.errnoCode == EPIPE:
            return ClientError(.closed, closed)
        case NIOSSLError.handshakeFailed(let ssl)?:
            // No reason from BoringSSL: the peer hung up mid-handshake (a syscall error at EOF).
            guard let reason = Self.reasonCode(ssl) else { return ClientError(.closed, closed) }
            return tlsRefusal(address, trust: trust, reason: reason)
        default:
            return ClientError(.tlsFailed, "the TLS handshake with \(address) failed: \(plain(error!)); is it a glossd?")
        }
    }

    /// The connection ended while a request was waiting for its reply.
    static func connectionLost(_ address: String, _ error: (any Error)?) -> ClientError {
        let reason: String
        switch error {
        case nil, NIOSSLError.uncleanShutdown?, ChannelError.eof?, ChannelError.ioOnClosedChannel?:
            reason = "the server closed it"
        case let error?:
            reason = plain(error)
        }
        return ClientError(
            .closed,
            "the connection to \(address) ended before the reply did (\(reason)): the server stopped, restarted or the network failed; try again")
    }

    private static func tlsRefusal(_ address: String, trust: ServerTrust, reason: String) -> ClientError {
        switch reason {
        case "CERTIFICATE_VERIFY_FAILED":
            let against: String
            switch trust {
            case .certificateAuthority(let path): against = "the CA certificates in \(path)"
            case .system: against = "the system's CA certificates"
            case .pinned, .recordFingerprint: against = "the pinned fingerprint"
            }
            return ClientError(
                .tlsFailed,
                "cannot trust \(address): its certificate does not verify against \(against); check --ca, or pass --pin with the fingerprint glossd printed")
        case "TLSV1_ALERT_NO_APPLICATION_PROTOCOL", "NO_APPLICATION_PROTOCOL":
            return ClientError(
                .protocolViolation, "\(address) speaks TLS but not the Gloss protocol (gloss/1); check the host and port")
        case "TLSV1_ALERT_PROTOCOL_VERSION", "UNSUPPORTED_PROTOCOL", "WRONG_VERSION_NUMBER":
            return ClientError(
                .tlsFailed, "\(address) does not speak TLS 1.2 or 1.3 as glossd does: it is not a Gloss server, or a very old one")
        case "TLSV13_ALERT_CERTIFICATE_REQUIRED", "SSLV3_ALERT_BAD_CERTIFICATE", "TLSV1_ALERT_UNKNOWN_CA",
            "SSLV3_ALERT_CERTIFICATE_UNKNOWN":
            return ClientError(
                .tlsFailed,
                "\(address) refused this client's certificate (or its lack of one): it requires mutual TLS; pass --client-cert and --client-key")
        default:
            return ClientError(
                .tlsFailed,
                "the TLS handshake with \(address) failed (\(reason.lowercased().replacingOccurrences(of: "_", with: " "))); is it a glossd?")
        }
    }

    /// BoringSSL's reason (`CERTIFICATE_VERIFY_FAILED`), from an error that also names the
    /// source file it was raised in.
    static func reasonCode(_ error: BoringSSLError) -> String? {
        let text = String(describing: error)
        guard let range = text.range(of: #"(OPENSSL_internal|SSL routines):[A-Z0-9_]+"#, options: .regularExpression) else {
            return nil
        }
        return String(text[range].split(separator: ":").last!)
    }

    /// An error in words: errno's text for I/O errors, no type names or source paths.
    static func plain(_ error: any Error) -> String {
        switch error {
        case let error as IOError:
            return String(cString: strerror(error.errnoCode)).lowercased()
        case let error as NIOConnectionError:
            return error.connectionErrors.first.map { plain($0.error) } ?? "connection failed"
        case let error as ChannelError:
            switch error {
            case .connectTimeout: return "timed out"
            case .eof, .ioOnClosedChannel, .alreadyClosed, .outputClosed: return "the connection closed"
            default: return "\(error)"
            }
        case let error as NIOSSLError:
            if case .handshakeFailed(let ssl) = error, let reason = reasonCode(ssl) {
                return reason.lowercased().replacingOccurrences(of: "_", with: " ")
            }
            return withoutSourcePaths("\(error)")
        case let error as SocketAddressError.UnknownHost:
            return error.errorDescription.lowercased()
        case let error as SocketAddressError:
            switch error {
            case .unknown(let host, _): return "unknown host \(host)"
            default: return withoutSourcePaths("\(error)")
            }
        default:
            return withoutSourcePaths("\(error)")
        }
    }

    /// Drops " at /path/file.cc:123" (where BoringSSL raised an error) from a description.
    static func withoutSourcePaths(_ text: String) -> String {
        text.replacingOccurrences(of: #" at /[^ \]\)"]+:[0-9]+"#, with: "", options: .regularExpression)
    }

    /// The first line of what a peer sent, quoted, with anything unprintable as `.`.
    static func excerpt(_ bytes: [UInt8]) -> String {
        let line = bytes.prefix(48).prefix { $0 != 0x0D && $0 != 0x0A }
        let text = String(line.map { (0x20..<0x7F).contains($0) ? Character(Unicode.Scalar($0)) : "." })
        return "\"\(text)\(line.count == 48 ? "…" : "")\""
    }
}
