import Foundation
import GlossModel
import GlossStore
import Synchronization

/// Group commit: pushes that arrive while a transaction is committing wait, and go into the
/// next transaction together, so one fsync acknowledges many pushes. Each push is still
/// checked on its own, in arrival order, and answered only after its commit is durable.
public final class GroupCommitter: Sendable {
    private struct Pending {
        var changeset: Changeset
        var continuation: CheckedContinuation<AppendOutcome, any Error>
    }

    private struct State {
        var queue: [Pending] = []
        var draining = false
    }

    public let store: CorpusStore
    /// Most changesets in one transaction: bounds the latency a large batch adds.
    public let maxBatch: Int
    private let state = Mutex(State())

    public init(store: CorpusStore, maxBatch: Int = 256) {
        self.store = store
        self.maxBatch = maxBatch
    }

    /// Appends durably; returns once the transaction holding it has committed.
    public func append(_ changeset: Changeset) async throws -> AppendOutcome {
        try await withCheckedThrowingContinuation { continuation in
            let startDrain = state.withLock { s in
                s.queue.append(Pending(changeset: changeset, continuation: continuation))
                if s.draining { return false }
                s.draining = true
                return true
            }
            // SQLite calls block: run them on a thread of their own, not the cooperative pool.
            if startDrain { Thread.detachNewThread { self.drain() } }
        }
    }

    private func drain() {
        while true {
            let batch: [Pending] = state.withLock { s in
                let taken = Array(s.queue.prefix(maxBatch))
                s.queue.removeFirst(taken.count)
                if taken.isEmpty { s.draining = false }
                return taken
            }
            guard !batch.isEmpty else {
                // Idle now: give back what a large batch grew the journal to.
                try? store.backend.compactJournal(above: SQLiteCorpusBackend.journalSizeLimit)
                return
            }
            do {
                let outcomes = try store.append(batch: batch.map(\.changeset))
                for (pending, outcome) in zip(batch, outcomes) { pending.continuation.resume(returning: outcome) }
            } catch {
                for pending in batch { pending.continuation.resume(throwing: error) }
            }
        }
    }
}
