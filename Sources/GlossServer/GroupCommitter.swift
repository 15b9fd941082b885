import Foundation
import GlossModel
import GlossStore
import GlossStoreSQLite
import Synchronization

/// Group commit: pushes that arrive while a transaction is committing wait, and go into the
/// next transaction together, so one fsync acknowledges many pushes. Each push is still
/// checked on its own, in arrival order, and answered only after its commit is durable.
public final class GroupCommitter: Sendable {
    private struct Pending {
        var changeset: EncodedChangeset
        var continuation: CheckedContinuation<AppendOutcome, any Error>
    }

    private struct State {
        var queue: [Pending] = []
        var draining = false
    }

    public let store: CorpusStore
    /// Told of each accepted changeset once its transaction has committed, in revision order,
    /// before any of the batch's pushes is answered.
    private let announce: (@Sendable (_ revision: Int, _ changeset: EncodedChangeset) -> Void)?
    /// Runs the drain loop: a thread that may block on the database.
    private let executor: StorageExecutor
    /// Most changesets in one transaction: bounds the latency a large batch adds.
    public let maxBatch: Int
    private let state = Mutex(State())

    public init(
        store: CorpusStore, executor: StorageExecutor = .shared, maxBatch: Int = 256,
        announce: (@Sendable (_ revision: Int, _ changeset: EncodedChangeset) -> Void)? = nil
    ) {
        self.store = store
        self.announce = announce
        self.executor = executor
        self.maxBatch = maxBatch
    }

    /// Appends durably; returns once the transaction holding it has committed.
    public func append(_ changeset: Changeset) async throws -> AppendOutcome {
        try await append(EncodedChangeset(changeset))
    }

    /// Appends a changeset as it came over the wire, its ops still encoded (a large one is
    /// checked and written a document at a time, ``CorpusStore/append(encoded:)``); returns
    /// once the transaction holding it has committed.
    ///
    /// - Throws: the ``CodecError`` of a run of its ops that does not decode (only this
    ///   changeset fails; the others of its transaction go on).
    public func append(_ changeset: EncodedChangeset) async throws -> AppendOutcome {
        try await withCheckedThrowingContinuation { continuation in
            let startDrain = state.withLock { s in
                s.queue.append(Pending(changeset: changeset, continuation: continuation))
                if s.draining { return false }
                s.draining = true
                return true
            }
            // Store calls block: the drain runs on the executor, never on the cooperative pool.
            if startDrain { executor.submit { self.drain() } }
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
                try? store.backend.compactJournal(above: CorpusStore.idleJournalLimit)
                return
            }
            do {
                let results = try store.append(encoded: batch.map(\.changeset))
                if let announce {
                    for (pending, result) in zip(batch, results) {
                        if case .success(.accepted(let revision)) = result { announce(revision, pending.changeset) }
                    }
                }
                for (pending, result) in zip(batch, results) { pending.continuation.resume(with: result) }
            } catch {
                for pending in batch { pending.continuation.resume(throwing: error) }
            }
        }
    }
}
