import Dispatch
import Foundation
import Synchronization

/// Turns Ctrl-C (SIGINT), SIGTERM and SIGHUP into task cancellation, so that a command's
/// clean-up runs (a clone removes its partial workspace) before the process exits.
///
/// The default action of these signals ends the process on the spot, in the middle of
/// whatever it was writing. Here the first signal cancels the work; if the work has not
/// finished `grace` later (it is stuck in something cancellation cannot reach, a TCP
/// connect), or a second signal comes, `beforeExit` runs and the process exits at once with
/// 128 + the signal number, as a shell reports a process ended by that signal.
public final class InterruptHandler: Sendable {
    public static let handledSignals: [Int32] = [SIGINT, SIGTERM, SIGHUP]

    private struct State {
        var received: Int32?
        var onSignal: (@Sendable (Int32) -> Void)?
        var stopped = false
    }

    private let state = Mutex(State())
    private let sources: Mutex<[any DispatchSourceSignal]>
    private let queue = DispatchQueue(label: "gloss.interrupts")
    private let grace: Duration
    private let beforeExit: @Sendable () -> Void
    private let exit: @Sendable (Int32) -> Void
    private let listening: Bool

    /// Starts handling the signals. `beforeExit` runs on the way out of an exit in a hurry.
    public convenience init(grace: Duration = .seconds(5), beforeExit: @escaping @Sendable () -> Void = {}) {
        self.init(grace: grace, beforeExit: beforeExit, exit: { _exit($0) }, listening: true)
    }

    /// `exit` ends the process with a status; `listening` false handles only ``deliver(_:)``
    /// (for tests, which must not end the test process or take its signals).
    init(
        grace: Duration, beforeExit: @escaping @Sendable () -> Void, exit: @escaping @Sendable (Int32) -> Void,
        listening: Bool
    ) {
        self.grace = grace
        self.beforeExit = beforeExit
        self.exit = exit
        self.listening = listening
        var sources: [any DispatchSourceSignal] = []
        for number in listening ? Self.handledSignals : [] {
            // Dispatch sees a signal only when its default action (ending the process) is off.
            signal(number, SIG_IGN)
            sources.append(DispatchSource.makeSignalSource(signal: number, queue: queue))
        }
        self.sources = Mutex(sources)
        // A source is armed a moment after it is resumed, on Dispatch's own thread; a signal sent
        // before that, with the default action already off, would be lost (a loaded machine
        // stretched that moment past a whole curate prompt). So wait until every one is armed.
        let armed = DispatchSemaphore(value: 0)
        self.sources.withLock { sources in
            for (number, source) in zip(Self.handledSignals, sources) {
                source.setEventHandler { [weak self] in self?.handle(number) }
                source.setRegistrationHandler { armed.signal() }
                source.resume()
            }
        }
        for _ in 0..<(listening ? Self.handledSignals.count : 0) {
            if armed.wait(timeout: .now() + .seconds(30)) == .timedOut { break }
        }
    }

    /// What to do on the first signal, given its number (cancel the work); runs at once if
    /// one already came.
    public func onSignal(_ action: @escaping @Sendable (Int32) -> Void) {
        let already = state.withLock { s -> Int32? in
            s.onSignal = action
            return s.received
        }
        if let already { action(already) }
    }

    /// The first signal received, if any.
    public var received: Int32? { state.withLock { $0.received } }

    /// Stops handling: the signals' default actions apply again.
    public func stop() {
        state.withLock { $0.stopped = true }
        sources.withLock { sources in
            for source in sources { source.cancel() }
            sources = []
        }
        if listening { for number in Self.handledSignals { signal(number, SIG_DFL) } }
    }

    /// Handles a signal as if it had been received.
    func deliver(_ number: Int32) { queue.async { self.handle(number) } }

    private func handle(_ number: Int32) {
        let (first, action, stopped) = state.withLock { s in
            let first = s.received == nil
            if first { s.received = number }
            return (first, s.onSignal, s.stopped)
        }
        guard !stopped else { return }
        guard first else { return exitNow(number) }
        // The deadline is set before the action starts, and the action runs off this queue: an
        // action that never returns (stuck on a lock, a disk) must neither keep the process
        // alive past the grace nor stop a second signal from ending it at once.
        let grace = grace
        queue.asyncAfter(deadline: .now() + .milliseconds(Int(grace.components.seconds * 1000))) { [weak self] in
            guard let self, !self.state.withLock({ $0.stopped }) else { return }
            self.exitNow(number)
        }
        if let action { DispatchQueue.global().async { action(number) } }
    }

    private func exitNow(_ number: Int32) {
        beforeExit()
        exit(128 + number)
    }
}
