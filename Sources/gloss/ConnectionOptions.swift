import ArgumentParser
import Foundation
import GlossClient
import GlossModel
import GlossWire

typealias ModelValidationError = GlossModel.ValidationError

/// How to authenticate and whom to trust, shared by every command that talks to a server.
struct ConnectionOptions: ParsableArguments {
    @Option(help: "The bearer token (or set GLOSS_TOKEN, or use --token-file).")
    var token: String?

    @Option(help: "A file holding the token.")
    var tokenFile: String?

    @Option(help: "Trust the server whose certificate has this fingerprint (sha256:HEX, as glossd prints it).")
    var pin: String?

    @Option(help: "Trust servers whose certificate chains to this CA (PEM file).")
    var ca: String?

    @Flag(help: "Trust servers whose certificate chains to the system's CAs (a public CA such as Let's Encrypt).")
    var systemCa = false

    @Option(help: "Your client certificate (PEM), for servers that require mutual TLS (or GLOSS_CLIENT_CERT).")
    var clientCert: String?

    @Option(help: "The private key of --client-cert (PEM; or GLOSS_CLIENT_KEY).")
    var clientKey: String?

    /// The client certificate from the flags or the environment.
    var clientCertificate: ClientCertificate? {
        let env = ProcessInfo.processInfo.environment
        guard let cert = clientCert ?? env["GLOSS_CLIENT_CERT"], let key = clientKey ?? env["GLOSS_CLIENT_KEY"] else {
            return nil
        }
        return ClientCertificate(certificatePath: cert, keyPath: key)
    }

    func validate() throws {
        if token != nil && tokenFile != nil { throw ValidationError("give --token or --token-file, not both") }
        if [pin != nil, ca != nil, systemCa].filter({ $0 }).count > 1 {
            throw ValidationError("give one of --pin, --ca and --system-ca")
        }
        if (clientCert == nil) != (clientKey == nil) { throw ValidationError("--client-cert and --client-key go together") }
        if let pin, CertificateFingerprint(parsing: pin.trimmingCharacters(in: .whitespaces)) == nil {
            throw ValidationError("--pin must look like sha256: followed by 64 hex digits, as glossd prints it")
        }
    }

    /// The token from the flags, the environment, or `fallback` (a workspace's saved token).
    func resolvedToken(fallback: String? = nil) throws -> String {
        if let token { return token }
        if let tokenFile {
            guard let text = try? String(contentsOfFile: tokenFile, encoding: .utf8) else {
                throw WorkspaceError(.io, "cannot read the token file \(tokenFile)")
            }
            return text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        if let env = ProcessInfo.processInfo.environment["GLOSS_TOKEN"], !env.isEmpty { return env }
        if let fallback { return fallback }
        throw ValidationError("no token: pass --token, --token-file, or set GLOSS_TOKEN (ask your server admin for one)")
    }

    var pinnedFingerprint: CertificateFingerprint? {
        pin.flatMap { CertificateFingerprint(parsing: $0.trimmingCharacters(in: .whitespaces)) }
    }

    /// Connects to a server, asking the user to trust its certificate on first use when
    /// neither a pin nor a CA was given. Returns the connection and the pin that was used.
    func connect(to url: GlossURL, token: String, trust recorded: ServerTrust? = nil) async throws
        -> (ClientConnection, CertificateFingerprint?)
    {
        let trust: ServerTrust
        if let fingerprint = pinnedFingerprint {
            trust = .pinned(fingerprint)
        } else if let ca {
            trust = .certificateAuthority(path: ca)
        } else if systemCa {
            trust = .system
        } else if let recorded {
            trust = recorded
        } else {
            return try await trustOnFirstUse(url, token: token)
        }
        let connection = try await ClientConnection.connect(
            .init(host: url.host, port: url.port, trust: trust, token: token, clientCertificate: clientCertificate))
        if case .pinned(let p) = trust { return (connection, p) }
        return (connection, nil)
    }

    /// ssh-style: show the fingerprint, ask, and pin it when the user says yes.
    private func trustOnFirstUse(_ url: GlossURL, token: String) async throws -> (ClientConnection, CertificateFingerprint?) {
        let probe = try await ClientConnection.connect(
            .init(
                host: url.host, port: url.port, trust: .recordFingerprint, token: token,
                clientCertificate: clientCertificate))
        guard let fingerprint = probe.serverFingerprint else {
            probe.close()
            throw ClientError(.tlsFailed, "the server presented no certificate")
        }
        guard isatty(STDIN_FILENO) == 1 else {
            probe.close()
            throw ClientError(
                .tlsFailed,
                "the authenticity of \(url.host):\(url.port) cannot be established: its certificate fingerprint is \(fingerprint); if your admin confirms it, run again with --pin \(fingerprint)")
        }
        FileHandle.standardError.write(
            Data(
                """
                The authenticity of server '\(url.host):\(url.port)' can't be established.
                Its certificate fingerprint is \(fingerprint).
                Are you sure you want to continue connecting (yes/no)? 
                """.utf8))
        let answer = readLine()?.trimmingCharacters(in: .whitespaces).lowercased()
        guard answer == "yes" || answer == "y" else {
            probe.close()
            throw ClientError(.tlsFailed, "not connecting: the server's certificate was not trusted")
        }
        return (probe, fingerprint)
    }
}

/// Output helpers.
func say(_ line: String) { print(line) }

func warn(_ line: String) { FileHandle.standardError.write(Data((line + "\n").utf8)) }

/// The shortest prefix (at least 7 characters) that tells each id apart from the others.
///
/// Sorted, an id's nearest look-alikes are its neighbours: one character past the longest
/// prefix it shares with either is enough. O(n log n), so a listing of 100,000 ids stays quick.
func abbreviations(_ ids: [AnnotationID]) -> [AnnotationID: String] {
    let sorted = Array(Set(ids)).map { ($0, Array($0.description.utf8)) }.sorted { $0.1.lexicographicallyPrecedes($1.1) }
    func common(_ a: [UInt8], _ b: [UInt8]) -> Int {
        var n = 0
        while n < a.count, n < b.count, a[n] == b[n] { n += 1 }
        return n
    }
    var out: [AnnotationID: String] = [:]
    out.reserveCapacity(sorted.count)
    for (i, (id, text)) in sorted.enumerated() {
        var shared = 0
        if i > 0 { shared = max(shared, common(text, sorted[i - 1].1)) }
        if i + 1 < sorted.count { shared = max(shared, common(text, sorted[i + 1].1)) }
        let length = min(text.count, max(7, shared + 1))
        out[id] = String(decoding: text[..<length], as: UTF8.self)
    }
    return out
}
