/// The answer of `GET /health`: healthy (200) or not (503), with a reason and details.
///
/// The server does not decide this itself: ``MetricsServer`` asks a closure the caller writes,
/// which knows what "serving" means in that deployment (the listener is bound, the account
/// store and corpus stores open, the database reachable).
public struct HealthStatus: Sendable, Hashable {
    public var isHealthy: Bool
    /// Why the server is unhealthy, for the operator reading the probe's output.
    public var reason: String?
    /// Extra members of the JSON body, e.g. `connections` or `version`.
    public var details: [String: String]

    public init(isHealthy: Bool, reason: String? = nil, details: [String: String] = [:]) {
        self.isHealthy = isHealthy
        self.reason = reason
        self.details = details
    }

    public static func healthy(details: [String: String] = [:]) -> HealthStatus {
        HealthStatus(isHealthy: true, details: details)
    }

    public static func unhealthy(_ reason: String, details: [String: String] = [:]) -> HealthStatus {
        HealthStatus(isHealthy: false, reason: reason, details: details)
    }

    /// `{"status":"ok", …details}` or `{"status":"unavailable","reason":…, …details}`, details
    /// sorted by key; `status` and `reason` cannot be overridden by a detail.
    public var jsonBody: [UInt8] {
        var members = [("status", isHealthy ? "ok" : "unavailable")]
        if let reason { members.append(("reason", reason)) }
        members += details.filter { $0.key != "status" && $0.key != "reason" }.sorted { $0.key < $1.key }
            .map { ($0.key, $0.value) }
        return JSONText.object(members)
    }
}
