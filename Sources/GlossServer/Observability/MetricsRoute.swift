import NIOHTTP1

/// What a request to the metrics port asks for, from its method and path alone.
enum MetricsRoute: Hashable, Sendable {
    /// `GET /metrics`: the Prometheus text exposition.
    case metrics
    /// `GET /health` or `GET /ready`: the health status.
    case health
    /// Any other path.
    case notFound
    /// A known path with a method other than GET or HEAD.
    case methodNotAllowed

    /// The methods every known path answers.
    static let allowedMethods = "GET, HEAD"

    init(method: HTTPMethod, uri: String) {
        // The query string is ignored (Prometheus may add one); the path must match exactly.
        let path = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? uri
        let known: MetricsRoute
        switch path {
        case "/metrics": known = .metrics
        // Readiness and health are the same question here: a glossd that is up serves.
        case "/health", "/ready": known = .health
        default:
            self = .notFound
            return
        }
        self = method == .GET || method == .HEAD ? known : .methodNotAllowed
    }
}
