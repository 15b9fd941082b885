import GlossModel
import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A listener could not start: thrown by ``GlossServer/run()`` and by ``ListenProbe``, which
/// glossd runs for both of its listeners before creating anything. (``MetricsServer`` words its
/// bind failure the same way but throws ``ObservabilityError``, as it always has.)
///
/// The message names the address and the setting that chose it, because the socket error alone
/// ("bind(descriptor:ptr:bytes:): Address already in use") tells an admin neither which of
/// glossd's two listeners failed nor what to change.
public struct ListenError: ContextualError, Hashable, Sendable {
    public typealias Code = ErrorCode<ListenError>

    public var code: Code
    /// Names the address: "cannot listen on 127.0.0.1:7743: address already in use; …".
    public var message: String
    /// The address as `HOST:PORT` (`[HOST]:PORT` for IPv6).
    public var context: String?

    public init(_ code: Code, _ message: String, context: String? = nil) {
        self.code = code
        self.message = message
        self.context = context
    }

    /// The code and message: unlike other errors the context is not repeated, since the
    /// message already starts with the address.
    public var description: String { "\(code): \(message)" }

    /// The typed error for a failed bind of `host:port`.
    ///
    /// - Parameters:
    ///   - what: which listener, for the message ("" for the sync server, "metrics " for the
    ///     metrics endpoint).
    ///   - setting: the flag that sets the address (`--listen`, `--metrics-listen`).
    public static func binding(_ error: any Error, host: String, port: Int, what: String = "", setting: String)
        -> ListenError
    {
        let address = Self.address(host: host, port: port)
        let start = "cannot listen \(what)on \(address)"
        if let error = error as? IOError {
            switch error.errnoCode {
            case EADDRINUSE:
                return ListenError(
                    .addressInUse,
                    "\(start): address already in use; is another glossd running? change \(setting)",
                    context: address)
            case EADDRNOTAVAIL:
                return ListenError(
                    .addressNotAvailable,
                    "\(start): \(host) is not an address of this machine; change \(setting) (0.0.0.0 listens on all)",
                    context: address)
            case EACCES:
                return ListenError(
                    .permissionDenied,
                    "\(start): permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE); change \(setting)",
                    context: address)
            default:
                return ListenError(
                    .bindFailed, "\(start): \(String(cString: strerror(error.errnoCode))); change \(setting)",
                    context: address)
            }
        }
        if error is SocketAddressError {
            return ListenError(
                .addressNotAvailable, "\(start): \(host) does not resolve to an address; change \(setting)",
                context: address)
        }
        return ListenError(.bindFailed, "\(start): \(error); change \(setting)", context: address)
    }

    /// Runs `bind`, turning its failure into the typed error for `host:port` (see
    /// ``binding(_:host:port:what:setting:)``).
    public static func naming<T>(
        host: String, port: Int, what: String = "", setting: String, _ bind: () async throws -> T
    ) async throws(ListenError) -> T {
        do {
            return try await bind()
        } catch {
            throw binding(error, host: host, port: port, what: what, setting: setting)
        }
    }

    /// `HOST:PORT`, with an IPv6 host in brackets as URLs write it.
    static func address(host: String, port: Int) -> String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}

extension ErrorCode where Domain == ListenError {
    /// Another process listens on the address (often another glossd).
    public static let addressInUse = Self(rawValue: "address-in-use")
    /// The host is not an address of this machine, or does not resolve.
    public static let addressNotAvailable = Self(rawValue: "address-not-available")
    /// The port needs privileges glossd does not have.
    public static let permissionDenied = Self(rawValue: "permission-denied")
    /// Any other failure to bind or listen.
    public static let bindFailed = Self(rawValue: "bind-failed")
}
