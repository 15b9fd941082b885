extension GlossServer {
    /// A health check to hand to ``MetricsServer``: healthy when the listener is bound, the
    /// account store answers a read, and so does every corpus store the metrics have seen used.
    ///
    /// The reads block on the database, so they run on the ``StorageExecutor``. A server that is draining
    /// still reads as healthy here; it is on its way out with the whole service group, metrics
    /// endpoint included, so a probe sees it go.
    public func healthStatus() async -> HealthStatus {
        guard localAddress != nil else { return .unhealthy("the listener is not bound yet") }
        let accounts = router.accounts
        let corpora = router.corpora
        let names = metrics?.observedCorpora ?? []
        do {
            try await corpora.executor.run {
                do {
                    _ = try accounts.user(named: "admin")
                } catch {
                    throw HealthProblem(reason: "the account store does not answer: \(error)")
                }
                for name in names {
                    do {
                        _ = try corpora.handle(for: name).store.headRevision()
                    } catch {
                        throw HealthProblem(reason: "the store of corpus \(name) does not answer: \(error)")
                    }
                }
            }
        } catch let problem as HealthProblem {
            return .unhealthy(problem.reason)
        } catch {
            return .unhealthy("the health check could not run: \(error)")
        }
        return .healthy(details: ["connections": "\(connectionCount)", "corpora_open": "\(names.count)"])
    }
}

/// Why a health check failed, carried out of the thread pool.
private struct HealthProblem: Error {
    var reason: String
}
