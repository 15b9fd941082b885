import Foundation
import GlossTestSupport
import Synchronization
import Testing

/// The bound every test puts on its child processes: a stuck child is killed and named.
@Suite(.hangGuard, .timeLimit(.minutes(10)))
struct ChildWatchdogTests {
    @Test func aChildPastItsBoundIsKilledAndNamed() async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sleep")
        process.arguments = ["600"]
        try GlossProcesses.launch(process)
        let child = process
        let error = await #expect(throws: ChildProcessHung.self) {
            try await GlossProcesses.onOwnThread { try child.waitForExit(within: .seconds(1)) }
        }
        #expect(error?.description.hasPrefix("sleep 600 did not exit within 1.0 seconds") == true, "\(String(describing: error))")
        #expect(!process.isRunning)
        #expect(process.terminationReason == .uncaughtSignal && process.terminationStatus == SIGKILL)
    }

    @Test func aChildThatEndsInTimeIsLeftAlone() async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "exit 3"]
        try GlossProcesses.launch(process)
        let child = process
        try await GlossProcesses.onOwnThread { try child.waitForExit(within: .seconds(60)) }
        #expect(process.terminationReason == .exit && process.terminationStatus == 3)
    }
}

/// Children started at the same time by different tests: a long-lived one must not keep
/// a short one's end (Foundation would then wait for the short one until the long one ends).
@Suite(.hangGuard, .timeLimit(.minutes(10)))
struct ChildLaunchTests {
    /// Started from a test's task (a thread that blocks nearly every signal), a child still
    /// starts with none blocked, and a SIGTERM ends it.
    @Test func aChildStartsWithNoSignalBlockedWhateverThreadStartsIt() async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sleep")
        process.arguments = ["120"]
        try GlossProcesses.launch(process)
        let status = try String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8)
        let blocked = status.split(separator: "\n").first { $0.hasPrefix("SigBlk:") }
        process.terminate()
        let child = process
        let ended = try await GlossProcesses.onOwnThread { child.waitUntilExit(orKillAfter: .seconds(60)) }
        #expect(blocked == "SigBlk:\t0000000000000000")
        #expect(ended && process.terminationReason == .uncaughtSignal && process.terminationStatus == SIGTERM)
    }

    @Test func shortChildrenEndWhileLongOnesStartedBesideThemRun() async throws {
        let unseen = try await GlossProcesses.onOwnThread { () -> Int in
            let started = Mutex<(long: [Process], short: [Process])>(([], []))
            DispatchQueue.concurrentPerform(iterations: 4) { _ in
                for _ in 0..<8 {
                    for (path, arguments, isLong) in [("/bin/sleep", ["120"], true), ("/bin/sh", ["-c", "exit 0"], false)] {
                        let process = Process()
                        process.executableURL = URL(fileURLWithPath: path)
                        process.arguments = arguments
                        process.standardOutput = Pipe()
                        guard (try? GlossProcesses.launch(process)) != nil else { continue }
                        started.withLock { isLong ? $0.long.append(process) : $0.short.append(process) }
                    }
                }
            }
            let (long, short) = started.withLock { $0 }
            // Every short child has ended by now or soon: Foundation must see each end.
            let unseen = short.filter { !$0.waitUntilExit(orKillAfter: .seconds(20)) }.count
            for process in long { process.terminateAndWait() }
            return unseen
        }
        #expect(unseen == 0, "\(unseen) short children were not seen to end while long ones started beside them ran")
    }
}
