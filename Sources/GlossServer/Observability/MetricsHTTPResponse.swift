import NIOHTTP1

/// A complete response of the metrics port: small, so it is built whole and written at once.
struct MetricsHTTPResponse: Sendable {
    var status: HTTPResponseStatus
    var contentType: String
    var body: [UInt8]
    /// Headers beyond content type, length and connection (e.g. `Allow` on a 405).
    var headers: [(String, String)] = []

    /// The Prometheus text exposition format, version 0.0.4.
    static let prometheusContentType = "text/plain; version=0.0.4; charset=utf-8"

    static func text(_ status: HTTPResponseStatus, _ text: String, headers: [(String, String)] = []) -> Self {
        MetricsHTTPResponse(
            status: status, contentType: "text/plain; charset=utf-8", body: Array((text + "\n").utf8), headers: headers)
    }

    static func metrics(_ exposition: [UInt8]) -> Self {
        MetricsHTTPResponse(status: .ok, contentType: prometheusContentType, body: exposition)
    }

    static func health(_ status: HealthStatus) -> Self {
        MetricsHTTPResponse(
            status: status.isHealthy ? .ok : .serviceUnavailable, contentType: "application/json",
            body: status.jsonBody + [UInt8(ascii: "\n")],
            // A probe must see the state now, not a cached answer.
            headers: [("Cache-Control", "no-store")])
    }

    static let notFound = text(.notFound, "not found: this port serves /metrics, /health and /ready")

    static let methodNotAllowed = text(
        .methodNotAllowed, "method not allowed: use GET or HEAD", headers: [("Allow", MetricsRoute.allowedMethods)])
}
