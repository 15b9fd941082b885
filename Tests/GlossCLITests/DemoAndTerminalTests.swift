import Foundation
import GlossTestSupport
import Testing

/// `gloss demo`, and the command line's manners: help examples, completions, --quiet, exit codes.
@Suite(.serialized, .hangGuard, .timeLimit(.minutes(10)))
struct DemoAndTerminalTests {
    @Test func demoRunsEndToEndAndCleansUp() async throws {
        let dir = try TemporaryDirectory("demo")
        defer { dir.remove() }
        let before = try FileManager.default.contentsOfDirectory(atPath: NSTemporaryDirectory()).filter { $0.hasPrefix("gloss-demo-") }
        let result = try await GlossProcesses.gloss(["demo"], in: dir.url)
        #expect(result.status == 0, "\(result.err)")
        #expect(result.out.contains("glossd is listening on 127.0.0.1:"))
        // alice syncs first, so bob, second, always has the conflict: however slow the machine.
        #expect(result.out.contains("bob's sync found a real conflict: field conflict on label"))
        #expect(!result.out.contains("alice's sync found a real conflict"))
        #expect(result.out.contains("bob resolves it: gloss resolve"))
        #expect(result.out.contains("both workspaces converged at revision 5"))
        #expect(result.out.contains("[The Federation of Soviet Republics]("))
        #expect(result.out.contains("Cohen κ") && result.out.contains("(all)"))
        let after = try FileManager.default.contentsOfDirectory(atPath: NSTemporaryDirectory()).filter { $0.hasPrefix("gloss-demo-") }
        #expect(Set(after) == Set(before), "the demo left its directory behind")
    }

    @Test func theDemoCarriesTheShippedSampleDocument() async throws {
        let dir = try TemporaryDirectory("sample")
        defer { dir.remove() }
        let shipped = try String(contentsOf: GlossProcesses.sampleDocument, encoding: .utf8)
        #expect(try await GlossProcesses.gloss(["demo", "--print-sample"], in: dir.url).out == shipped)
        #expect(try SharedData.federation() == shipped)
    }

    @Test func helpHasExamplesAndCompletionScriptsAreGenerated() async throws {
        let dir = try TemporaryDirectory("help")
        defer { dir.remove() }
        for command in ["import", "export", "diff", "log", "show", "curate", "agree", "watch", "edit"] {
            let help = try await GlossProcesses.gloss(["help", command], in: dir.url)
            #expect(help.status == 0)
            #expect(help.out.contains("gloss \(command)"), "\(command) help has no example")
        }
        for shell in ["bash", "zsh", "fish"] {
            let script = try await GlossProcesses.gloss(["--generate-completion-script", shell], in: dir.url)
            #expect(script.status == 0)
            #expect(script.out.contains("curate") && script.out.contains("import"))
        }
    }

    @Test func quietLeavesOnlyDataAndErrorsSayWhatToDo() async throws {
        let f = try await CLIFixture("quiet")
        let loud = try await f.ok(["doc", "add", GlossProcesses.sampleDocument.path, "--id", "fed"])
        #expect(!loud.out.isEmpty)
        #expect(try await f.ok(["sync", "--quiet"]).out.isEmpty)
        #expect(try await f.ok(["revert", "1", "-q"]).out.isEmpty)
        // Outside a workspace: what to do next.
        let dir = try TemporaryDirectory("nowhere")
        defer { dir.remove() }
        let outside = try await GlossProcesses.gloss(["log"], in: dir.url)
        #expect(outside.status == 6)
        #expect(outside.err.contains("run `gloss clone"))
        // A usage error exits 2.
        #expect(try await f.gloss(["span", "add", "fed"]).status == 2)
        #expect(try await f.gloss(["import", "xml", "."]).status == 2)
    }
}
