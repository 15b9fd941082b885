import Dispatch
import Foundation
import GlossTestSupport
@testable import GlossClient
import Synchronization
import Testing

/// Ctrl-C ends a command in time even when its clean-up is stuck.
@Suite(.hangGuard, .timeLimit(.minutes(10)))
struct InterruptHandlerTests {
    /// Records the statuses a handler "exits" with, and releases waiters on the first.
    final class Exits: Sendable {
        let statuses = Mutex<[Int32]>([])
        let first = DispatchSemaphore(value: 0)
        func record(_ status: Int32) {
            statuses.withLock { $0.append(status) }
            first.signal()
        }
    }

    @Test func aStuckActionStillEndsTheProcessAfterTheGrace() async throws {
        let exits = Exits()
        let handler = InterruptHandler(
            grace: .milliseconds(200), beforeExit: {}, exit: { exits.record($0) }, listening: false)
        let release = DispatchSemaphore(value: 0)
        let started = DispatchSemaphore(value: 0)
        handler.onSignal { _ in
            started.signal()
            release.wait()  // a clean-up that never finishes on its own
        }
        handler.deliver(SIGINT)
        // In that order: the action starts (on its queue, perhaps only after the grace on a
        // loaded machine), and the process ends whether it has or not.
        let (began, ended) = try await GlossProcesses.onOwnThread {
            (started.wait(timeout: .now() + 60) == .success, exits.first.wait(timeout: .now() + 60) == .success)
        }
        #expect(began)
        #expect(ended, "the grace passed with the action stuck, and the process was not ended")
        #expect(exits.statuses.withLock { $0 } == [128 + SIGINT])
        release.signal()
    }

    @Test func aSecondSignalEndsAtOnceWhileTheActionIsStuck() async throws {
        let exits = Exits()
        let handler = InterruptHandler(grace: .seconds(3600), beforeExit: {}, exit: { exits.record($0) }, listening: false)
        let release = DispatchSemaphore(value: 0)
        let started = DispatchSemaphore(value: 0)
        handler.onSignal { _ in
            started.signal()
            release.wait()
        }
        handler.deliver(SIGINT)
        // The second comes once the first's action runs, as a user's second Ctrl-C would.
        let running = try await GlossProcesses.onOwnThread { started.wait(timeout: .now() + 60) == .success }
        #expect(running)
        handler.deliver(SIGTERM)
        let ended = try await GlossProcesses.onOwnThread { exits.first.wait(timeout: .now() + 60) == .success }
        #expect(ended)
        #expect(exits.statuses.withLock { $0 } == [128 + SIGTERM])
        release.signal()
    }
}
