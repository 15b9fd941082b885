import Foundation
import GlossTestSupport
import Testing

/// The bound every test puts on its child processes: a stuck child is killed and named.
@Suite(.hangGuard, .timeLimit(.minutes(10)))
struct ChildWatchdogTests {
    @Test func aChildPastItsBoundIsKilledAndNamed() async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sleep")
        process.arguments = ["600"]
        try process.run()
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
        try process.run()
        let child = process
        try await GlossProcesses.onOwnThread { try child.waitForExit(within: .seconds(60)) }
        #expect(process.terminationReason == .exit && process.terminationStatus == 3)
    }
}
