import Foundation
import GlossTestSupport
import Testing

/// `gloss demo`, and the command line's manners: help examples, completions, --quiet, exit codes.
@Suite(.serialized)
struct DemoAndTerminalTests {
    @Test func demoRunsEndToEndAndCleansUp() throws {
        let dir = try TemporaryDirectory("demo")
        defer { dir.remove() }
        let before = try FileManager.default.contentsOfDirectory(atPath: NSTemporaryDirectory()).filter { $0.hasPrefix("gloss-demo-") }
        let result = try GlossProcesses.gloss(["demo"], in: dir.url)
        #expect(result.status == 0, "\(result.err)")
        #expect(result.out.contains("glossd is listening on 127.0.0.1:"))
        #expect(result.out.contains("found a real conflict: field conflict on label"))
        #expect(result.out.contains("resolves it: gloss resolve"))
        #expect(result.out.contains("both workspaces converged at revision 5"))
        #expect(result.out.contains("[The Federation of Soviet Republics]("))
        #expect(result.out.contains("Cohen κ") && result.out.contains("(all)"))
        let after = try FileManager.default.contentsOfDirectory(atPath: NSTemporaryDirectory()).filter { $0.hasPrefix("gloss-demo-") }
        #expect(Set(after) == Set(before), "the demo left its directory behind")
    }

    @Test func theDemoCarriesTheShippedSampleDocument() throws {
        let dir = try TemporaryDirectory("sample")
        defer { dir.remove() }
        let shipped = try String(contentsOf: GlossProcesses.sampleDocument, encoding: .utf8)
        #expect(try GlossProcesses.gloss(["demo", "--print-sample"], in: dir.url).out == shipped)
        #expect(try SharedData.federation() == shipped)
    }

    @Test func helpHasExamplesAndCompletionScriptsAreGenerated() throws {
        let dir = try TemporaryDirectory("help")
        defer { dir.remove() }
        for command in ["import", "export", "diff", "log", "show", "curate", "agree", "watch", "edit"] {
            let help = try GlossProcesses.gloss(["help", command], in: dir.url)
            #expect(help.status == 0)
            #expect(help.out.contains("gloss \(command)"), "\(command) help has no example")
        }
        for shell in ["bash", "zsh", "fish"] {
            let script = try GlossProcesses.gloss(["--generate-completion-script", shell], in: dir.url)
            #expect(script.status == 0)
            #expect(script.out.contains("curate") && script.out.contains("import"))
        }
    }

    @Test func quietLeavesOnlyDataAndErrorsSayWhatToDo() throws {
        let f = try CLIFixture("quiet")
        let loud = try f.ok(["doc", "add", GlossProcesses.sampleDocument.path, "--id", "fed"])
        #expect(!loud.out.isEmpty)
        #expect(try f.ok(["sync", "--quiet"]).out.isEmpty)
        #expect(try f.ok(["revert", "1", "-q"]).out.isEmpty)
        // Outside a workspace: what to do next.
        let dir = try TemporaryDirectory("nowhere")
        defer { dir.remove() }
        let outside = try GlossProcesses.gloss(["log"], in: dir.url)
        #expect(outside.status == 6)
        #expect(outside.err.contains("run `gloss clone"))
        // A usage error exits 2.
        #expect(try f.gloss(["span", "add", "fed"]).status == 2)
        #expect(try f.gloss(["import", "xml", "."]).status == 2)
    }
}
