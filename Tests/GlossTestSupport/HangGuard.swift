import Foundation
import Testing

/// Every suite's guard against a hang, so that one stuck test fails by name instead of
/// holding the whole run until CI gives up.
///
/// - Each test gets a time limit: past it, Swift Testing records the failure and cancels the
///   test. Ten minutes is many times what the slowest test takes on a loaded 2-core machine.
/// - A test still running two minutes past that limit is stuck where cancellation cannot
///   reach it (a lock, a continuation never resumed). It then ends the whole run, naming
///   itself: every other result is lost, but CI fails at once with the culprit instead of
///   timing out with nothing named.
/// - Each test's body runs on ``TestBodyExecutor``'s threads, not the cooperative pool, so that
///   a body blocking on the store holds up no other test's server.
/// - The run's standard output is flushed every second. Swift Testing reports through C's
///   `stdout`, which a pipe (CI's log) buffers by the 4 KB: were the run killed, the last
///   results, the hang's own report among them, would never reach the log.
public struct HangGuard: SuiteTrait, TestTrait, TestScoping {
    /// The limit to pair with (`.timeLimit(.minutes(10))`), and how long past it a test that
    /// ignores cancellation may run before it ends the run.
    public static let timeLimit: Duration = .seconds(600)
    public static let grace: Duration = .seconds(120)

    public var isRecursive: Bool { true }

    public func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        TestRunSetup.start()
        // Suites take their tests' time: only each test case is bounded.
        guard testCase != nil else { return try await function() }
        let name = "\(test.name) (\(test.sourceLocation.fileName):\(test.sourceLocation.line))"
        let stuck = DispatchWorkItem {
            let message = "\n✘ \(name) is still running \(HangGuard.grace) past its time limit of "
                + "\(HangGuard.timeLimit), beyond the reach of cancellation: ending the test run\n"
            fflush(nil)  // what Swift Testing has reported so far, then this, on the same stream
            FileHandle.standardOutput.write(Data(message.utf8))
            _exit(70)  // EX_SOFTWARE
        }
        DispatchQueue.global().asyncAfter(deadline: .now() + Self.endAfterSeconds, execute: stuck)
        defer { stuck.cancel() }
        try await withTaskExecutorPreference(TestBodyExecutor.shared) { try await function() }
    }

    /// Seconds after its start at which a test ends the run: the limit plus the grace, or
    /// `GLOSS_TEST_END_STUCK_AFTER` (for the test of this guard).
    static var endAfterSeconds: Double {
        if let text = ProcessInfo.processInfo.environment["GLOSS_TEST_END_STUCK_AFTER"], let value = Double(text) {
            return value
        }
        return (timeLimit + grace).inSeconds
    }
}

extension Trait where Self == HangGuard {
    /// Flushes the run's output as it goes and ends a run stuck in one test (see
    /// ``HangGuard``); pair it with `.timeLimit(.minutes(10))`.
    public static var hangGuard: Self { HangGuard() }
}

/// Set up once, by the first test to start: output flushed every second, and SIGINT and
/// SIGQUIT back to their default actions.
///
/// A run started in the background of a script ignores SIGINT and SIGQUIT, and an ignored
/// signal stays ignored in every child: each `gloss` a test starts would then shrug off the
/// Ctrl-C the test sends it.
enum TestRunSetup {
    private static let started: Void = {
        signal(SIGINT, SIG_DFL)
        signal(SIGQUIT, SIG_DFL)
        Thread.detachNewThread {
            while true {
                sleep(1)
                fflush(nil)  // every output stream; stdout is not concurrency-safe to name
            }
        }
    }()

    static func start() { _ = started }
}
