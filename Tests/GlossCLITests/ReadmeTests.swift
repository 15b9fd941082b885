import Foundation
import GlossTestSupport
import Testing

/// The README's two-person setup, run as written: its shell blocks (all but the build) in one
/// bash, from a copy of Examples/, with the built binaries on PATH.
@Suite(.serialized, .hangGuard, .timeLimit(.minutes(10)))
struct ReadmeTests {
    static func setupBlocks() throws -> String {
        let readme = try String(contentsOf: GlossProcesses.repositoryRoot.appendingPathComponent("README.md"), encoding: .utf8)
        guard let start = readme.range(of: "## From the demo to a real two-person setup"),
            let end = readme.range(of: "Without `--pin`", range: start.upperBound..<readme.endIndex)
        else { throw CocoaError(.fileReadCorruptFile) }
        let blocks = readme[start.upperBound..<end.lowerBound].components(separatedBy: "```sh\n").dropFirst()
            .map { $0.components(separatedBy: "```").first ?? "" }
        #expect(blocks.count >= 4, "the README's setup lost its blocks")
        #expect(blocks.first?.contains("swift build -c release") == true)
        return blocks.dropFirst().joined(separator: "\n")
    }

    @Test func theTwoPersonSetupRunsAsWritten() async throws {
        let dir = try TemporaryDirectory("readme")
        defer { dir.remove() }
        let examples = dir.url.appendingPathComponent("Examples")
        try FileManager.default.copyItem(
            at: GlossProcesses.repositoryRoot.appendingPathComponent("Examples"), to: examples)
        // The harness's only addition: whatever happens, the server started in the background goes.
        let script = "trap 'kill $(jobs -p) 2>/dev/null' EXIT\n" + (try Self.setupBlocks())
        try Data(script.utf8).write(to: dir.url.appendingPathComponent("readme.sh"))
        let path = GlossProcesses.products.path + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        let run = try await GlossProcesses.onOwnThread {
            try GlossProcesses.runBlocking(
                URL(fileURLWithPath: "/usr/bin/timeout"), ["300", "bash", "readme.sh"], in: dir.url,
                env: ["PATH": path, "EDITOR": "true", "VISUAL": "", "GLOSSD_METRICS_LISTEN": "off", "GLOSS_TOKEN": ""],
                input: nil)
        }
        let transcript = run.out + run.err
        #expect(run.status == 0, "the README's setup failed (\(run.status)):\n\(transcript.suffix(3000))")
        // What the README says happens, happened.
        #expect(transcript.contains("created corpus news"))
        #expect(transcript.contains("alice  no     1") && transcript.contains("news (curator)"), "\(transcript.suffix(2000))")
        #expect(transcript.contains("field conflict on label"), "no conflict met:\n\(transcript.suffix(2000))")
        #expect(transcript.contains("recorded 2 span(s) in the curated layer"))
        let curated = try String(contentsOf: dir.url.appendingPathComponent("alice/curated.jsonl"), encoding: .utf8)
        #expect(curated.contains("\"PER\"") && curated.contains("\"LOC\""), "\(curated)")
        #expect(!transcript.contains("error:"), "\(transcript.suffix(3000))")
    }
}
