import Foundation
import GlossTestSupport
import Testing

/// A test stuck beyond cancellation ends the run and names itself.
@Suite(.hangGuard, .timeLimit(.minutes(10)))
struct HangGuardTests {
    /// Stuck for good when the probe is asked for (in the child run below); passes otherwise.
    @Test func stuckProbe() async throws {
        guard ProcessInfo.processInfo.environment["GLOSS_TEST_STUCK_PROBE"] == "1" else { return }
        // A wait that cancellation cannot end.
        try await GlossProcesses.onOwnThread { DispatchSemaphore(value: 0).wait() }
    }

    @Test func aStuckTestEndsTheRunNamingItself() async throws {
        // This test bundle run again, on the probe alone, told to give up after 2 seconds.
        let bundle = URL(fileURLWithPath: CommandLine.arguments[0])
        let result = try await GlossProcesses.tool(
            bundle, ["--testing-library", "swift-testing", "--filter", "HangGuardTests/stuckProbe"],
            env: ["GLOSS_TEST_STUCK_PROBE": "1", "GLOSS_TEST_END_STUCK_AFTER": "2"])
        #expect(result.status == 70, "\(result.out)\(result.err)")
        #expect(result.out.contains("✘ stuckProbe() (HangGuardTests.swift:9) is still running"), "\(result.out)")
        #expect(result.out.contains("ending the test run"))
    }
}
