import Dispatch
import PostgresNIO
import Synchronization

/// Hands a connection leased by an async task to a blocking thread, and hands it back.
///
/// The task leases inside `PostgresClient.withConnection`, ``deliver(_:)``s the connection and
/// awaits ``released()`` (suspending, never blocking); the thread ``receive(timeout:)``s, works,
/// then ``release()``s. A thread that gave up waiting ``abandon()``s: a connection delivered later
/// goes straight back to the pool.
final class ConnectionHandoff: Sendable {
    /// How the lease reached the thread.
    private enum Delivery {
        case waiting
        case delivered(PostgresConnection)
        case failed(any Error)
        /// The thread stopped waiting before anything arrived.
        case abandoned
    }

    /// How the connection goes back: the two ends reach this point in either order.
    private enum Release {
        case inUse
        /// The task awaits the release.
        case awaited(CheckedContinuation<Void, Never>)
        /// The thread is done; the task may still be on its way to awaiting.
        case released
    }

    private struct State {
        var delivery = Delivery.waiting
        var release = Release.inUse
    }

    private let state = Mutex(State())
    private let arrived = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)

    /// Task side: the connection is leased. Returns false when the thread no longer waits.
    func deliver(_ connection: PostgresConnection) -> Bool {
        let taken = state.withLock { state -> Bool in
            guard case .waiting = state.delivery else { return false }
            state.delivery = .delivered(connection)
            return true
        }
        if taken { arrived.signal() }
        return taken
    }

    /// Task side: leasing failed.
    func fail(_ error: any Error) {
        let told = state.withLock { state -> Bool in
            guard case .waiting = state.delivery else { return false }
            state.delivery = .failed(error)
            return true
        }
        if told { arrived.signal() }
    }

    /// Task side: suspends until the thread is done with the connection.
    func released() async {
        await withCheckedContinuation { continuation in
            let done = state.withLock { state -> Bool in
                if case .released = state.release { return true }
                state.release = .awaited(continuation)
                return false
            }
            if done { continuation.resume() }
        }
    }

    /// Task side: the lease is over and the connection back in the pool.
    func taskFinished() { finished.signal() }

    /// Thread side: waits for the connection; nil when `timeout` passed first.
    func receive(timeout: Duration) throws -> PostgresConnection? {
        let (seconds, attoseconds) = timeout.components
        let nanoseconds = max(0, seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
        guard arrived.wait(timeout: .now() + .nanoseconds(Int(nanoseconds))) == .success else { return nil }
        switch state.withLock({ $0.delivery }) {
        case .delivered(let connection): return connection
        case .failed(let error): throw error
        case .waiting, .abandoned: preconditionFailure("a connection handoff signalled without a connection or an error")
        }
    }

    /// Thread side: stops waiting. True if something arrived meanwhile (then receive it).
    func abandon() -> Bool {
        state.withLock { state -> Bool in
            guard case .waiting = state.delivery else { return true }
            state.delivery = .abandoned
            return false
        }
    }

    /// Thread side: done with the connection; waits until the task has given it back.
    func release() {
        let continuation = state.withLock { state -> CheckedContinuation<Void, Never>? in
            defer { state.release = .released }
            if case .awaited(let continuation) = state.release { return continuation }
            return nil
        }
        continuation?.resume()
        finished.wait()
    }
}
