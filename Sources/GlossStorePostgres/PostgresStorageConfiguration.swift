import Foundation
import NIOSSL
import PostgresNIO

/// Where the PostgreSQL storage lives and how to reach it: `postgres://USER@HOST:PORT/DATABASE`
/// (or `postgresql://`), with an optional `?sslmode=disable|prefer|require`.
///
/// The password never travels in the URL (URLs end up in logs, `ps` listings and config files
/// under version control): give it separately, from a password file or the environment.
///
/// TLS modes: `disable` never encrypts; `prefer` (the default, as libpq) encrypts when the server
/// offers it, without verifying its certificate (opportunistic, as libpq's `prefer`); `require`
/// insists on TLS and, stricter than libpq's `require`, verifies the certificate against the
/// system's trust roots and the host name, so that nobody in between can read the corpora.
public struct PostgresStorageConfiguration: Sendable, Hashable {
    /// How the connection is encrypted.
    public enum SSLMode: String, Sendable, Hashable, CaseIterable {
        case disable, prefer, require
    }

    public var host: String
    public var port: Int
    public var user: String
    public var database: String
    public var sslMode: SSLMode
    /// Given separately from the URL (nil: none, for trust or peer authentication).
    public var password: String?
    /// Connections the pool keeps at most: the database work one node runs at once.
    public var poolSize: Int
    /// How long a caller waits for a pooled connection before giving up with
    /// ``PostgresStorageError/Code/unavailable`` (the database down, or every connection busy).
    /// A client's push waits this long before hearing `storage-unavailable`, and a load
    /// balancer's health probe as long before the node reads as down: keep it short.
    public var leaseTimeout: Duration = .seconds(10)
    /// How long opening one connection may take.
    public var connectTimeout: Duration = .seconds(10)

    /// Parses `url`; throws ``PostgresStorageError`` with code ``PostgresStorageError/Code/invalidURL``
    /// naming what is wrong (a password in it, a missing user or database, an unknown option).
    public init(url: String, password: String? = nil, poolSize: Int = 10) throws {
        func invalid(_ why: String) -> PostgresStorageError {
            PostgresStorageError(.invalidURL, why, context: Self.redacted(url))
        }
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased() else {
            throw invalid("not a URL: expected postgres://USER@HOST:PORT/DATABASE")
        }
        guard scheme == "postgres" || scheme == "postgresql" else {
            throw invalid("the scheme is \(scheme)://, expected postgres:// or postgresql://")
        }
        guard components.password == nil else {
            throw invalid(
                "the URL carries a password: remove it, and give the password in a password file or the environment instead")
        }
        guard let user = components.user, !user.isEmpty else {
            throw invalid("the URL names no user: expected postgres://USER@HOST:PORT/DATABASE")
        }
        guard let host = components.host, !host.isEmpty else {
            throw invalid("the URL names no host: expected postgres://USER@HOST:PORT/DATABASE")
        }
        let port = components.port ?? 5432
        guard (1...65535).contains(port) else { throw invalid("the port \(port) is out of range") }
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        guard !path.isEmpty else { throw invalid("the URL names no database: expected postgres://USER@HOST:PORT/DATABASE") }
        guard !path.contains("/") else { throw invalid("the database name \"\(path)\" contains a slash") }
        var sslMode = SSLMode.prefer
        for item in components.queryItems ?? [] {
            guard item.name == "sslmode" else {
                throw invalid("unknown option \"\(item.name)\": the only option is sslmode=disable|prefer|require")
            }
            guard let value = item.value, let mode = SSLMode(rawValue: value) else {
                throw invalid("sslmode=\(item.value ?? "") is not one of disable, prefer, require")
            }
            sslMode = mode
        }
        guard poolSize >= 1 else { throw invalid("the pool size must be at least 1, not \(poolSize)") }
        self.host = host
        self.port = port
        self.user = user
        self.database = path
        self.sslMode = sslMode
        self.password = password
        self.poolSize = poolSize
    }

    /// `host:port/database`: how errors and logs name the database.
    public var location: String { "\(host):\(port)/\(database)" }

    /// The URL without secrets (it never holds one): `postgres://user@host:port/db?sslmode=…`.
    public var url: String { "postgres://\(user)@\(host):\(port)/\(database)?sslmode=\(sslMode.rawValue)" }

    /// The postgres-nio pool configuration: `poolSize` connections at most, none kept open idle.
    public var clientConfiguration: PostgresClient.Configuration {
        let tls: PostgresClient.Configuration.TLS
        switch sslMode {
        case .disable:
            tls = .disable
        case .prefer:
            var unverified = TLSConfiguration.makeClientConfiguration()
            unverified.certificateVerification = .none
            tls = .prefer(unverified)
        case .require:
            tls = .require(.makeClientConfiguration())
        }
        var configuration = PostgresClient.Configuration(
            host: host, port: port, username: user, password: password, database: database, tls: tls)
        configuration.options.maximumConnections = poolSize
        configuration.options.minimumConnections = 0
        configuration.options.connectTimeout = connectTimeout
        return configuration
    }

    /// `url` with anything between `//` and `@` reduced to the user, for error messages.
    static func redacted(_ url: String) -> String {
        guard let scheme = url.range(of: "://"), let at = url[scheme.upperBound...].firstIndex(of: "@") else { return url }
        let credentials = url[scheme.upperBound..<at]
        guard let colon = credentials.firstIndex(of: ":") else { return url }
        return String(url[..<colon]) + ":***" + String(url[at...])
    }
}
