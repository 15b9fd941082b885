import GlossWire

/// Why a client operation failed, with what to do next.
public struct ClientError: Error, Sendable, CustomStringConvertible {
    public typealias Code = ErrorCode<ClientError>

    public var code: Code
    public var message: String
    /// The server's error, when it sent one.
    public var server: WireError?

    public init(_ code: Code, _ message: String, server: WireError? = nil) {
        self.code = code
        self.message = message
        self.server = server
    }

    /// The server refused the request or the connection.
    public init(_ error: WireError) {
        self.init(.server, error.message, server: error)
    }

    public var description: String {
        if let server { return "\(server.code): \(server.message)" }
        return "\(code): \(message)"
    }
}

extension ErrorCode where Domain == ClientError {
    public static let connectionFailed = Self(rawValue: "connection-failed")
    public static let pinMismatch = Self(rawValue: "pin-mismatch")
    public static let tlsFailed = Self(rawValue: "tls-failed")
    public static let server = Self(rawValue: "server-error")
    public static let closed = Self(rawValue: "connection-closed")
    public static let protocolViolation = Self(rawValue: "protocol-violation")
}

import GlossModel
