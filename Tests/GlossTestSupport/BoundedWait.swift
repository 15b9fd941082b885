import Foundation

/// How long a test waits for a child process before it kills it.
///
/// A test that waits forever for a stuck child (a lost signal, a deadlock) hangs the whole
/// suite until CI gives up, and the log then names nothing. With a bound the child is killed,
/// the test fails naming the command, and every other test still runs. The bounds are far
/// above what the slowest command takes on a loaded 2-core machine: they only catch hangs.
public enum ChildLimits {
    /// A one-shot `gloss` or `glossd` command, or a helper tool.
    public static let command: Duration = .seconds(300)
    /// A server asked to stop: its drain timeout is 30 s.
    public static let shutdown: Duration = .seconds(90)
}

/// A child process outlived the bound its test gave it, and was killed.
public struct ChildProcessHung: Error, CustomStringConvertible {
    public var command: String
    public var limit: Duration
    public var output: String

    public var description: String {
        "\(command) did not exit within \(limit) and was killed (SIGKILL)\(output.isEmpty ? "" : "; its output:\n\(output)")"
    }
}

/// Kills a child that is still running when its bound has passed, so that whatever waits for
/// it (its exit, the end of its output) returns.
// @unchecked: DispatchWorkItem is thread-safe but not marked Sendable.
public final class ChildWatchdog: @unchecked Sendable {
    private let killed: Flag
    private let item: DispatchWorkItem
    private let command: String
    private let limit: Duration

    /// Starts watching a process that has been run.
    public init(_ process: Process, limit: Duration = ChildLimits.command) {
        let killed = Flag()
        self.killed = killed
        self.command = process.commandLine
        self.limit = limit
        item = DispatchWorkItem {
            guard process.isRunning else { return }
            killed.set()
            kill(process.processIdentifier, SIGKILL)
        }
        DispatchQueue.global().asyncAfter(deadline: .now() + limit.inSeconds, execute: item)
    }

    /// Whether the bound passed and the process was killed.
    public var fired: Bool { killed.value }

    /// Stops watching (the process ended).
    public func cancel() { item.cancel() }

    /// Throws ``ChildProcessHung`` if the process had to be killed.
    public func check(output: @autoclosure () -> String = "") throws {
        guard !fired else { throw ChildProcessHung(command: command, limit: limit, output: output()) }
    }

    private final class Flag: @unchecked Sendable {
        private let lock = NSLock()
        private var raised = false
        func set() { lock.withLock { raised = true } }
        var value: Bool { lock.withLock { raised } }
    }
}

extension Process {
    /// The command line, for messages.
    public var commandLine: String {
        ([executableURL?.lastPathComponent ?? "?"] + (arguments ?? [])).joined(separator: " ")
    }

    /// Waits for the process to exit, at most `limit`; kills it (SIGKILL) if it has not, and
    /// then returns false. Blocks the calling thread: call it off the cooperative pool
    /// (``GlossProcesses/onOwnThread(_:)``) where other tests' tasks must keep running.
    @discardableResult
    public func waitUntilExit(orKillAfter limit: Duration) -> Bool {
        let watchdog = ChildWatchdog(self, limit: limit)
        waitUntilExit()
        watchdog.cancel()
        return !watchdog.fired
    }

    /// ``waitUntilExit(orKillAfter:)``, throwing ``ChildProcessHung`` when the process had to be killed.
    public func waitForExit(within limit: Duration, output: @autoclosure () -> String = "") throws {
        guard waitUntilExit(orKillAfter: limit) else {
            throw ChildProcessHung(command: commandLine, limit: limit, output: output())
        }
    }

    /// SIGTERM, then ``waitUntilExit(orKillAfter:)`` with the shutdown bound.
    @discardableResult
    public func terminateAndWait(limit: Duration = ChildLimits.shutdown) -> Bool {
        if isRunning { terminate() }
        return waitUntilExit(orKillAfter: limit)
    }
}

extension Duration {
    /// The duration in seconds, for Dispatch deadlines.
    public var inSeconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
