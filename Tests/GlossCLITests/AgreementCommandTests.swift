import Foundation
import GlossTestSupport
import Testing

/// `gloss agree` and `gloss curate` on two annotators' layers, through the binaries.
@Suite(.serialized, .hangGuard, .timeLimit(.minutes(10)))
struct AgreementCommandTests {
    /// alice and bob agree on "The Federation of Soviet Republics" (ORG) and disagree on the
    /// label of "Moscow" (LOC vs ORG); only alice marked "J. Stalin".
    static func twoAnnotators() async throws -> (CLIFixture, alice: URL, bob: URL) {
        let f = try await CLIFixture("agree")
        try await f.addSample()
        let alice = try await f.annotator("alice"), bob = try await f.annotator("bob")
        for (dir, moscow) in [(alice, "LOC"), (bob, "ORG")] {
            try await f.ok(["pull"], in: dir)
            try await f.ok(["span", "add", "fed", "5", "35", "ORG"], in: dir)
            try await f.ok(["span", "add", "fed", "66", "72", moscow], in: dir)
            if dir == alice { try await f.ok(["span", "add", "fed", "98", "107", "PER"], in: alice) }
            try await f.ok(["sync"], in: dir)
        }
        try await f.ok(["pull"])
        return (f, alice, bob)
    }

    @Test func agreeReportsF1AndKappaPerLabel() async throws {
        let (f, _, _) = try await Self.twoAnnotators()
        let json = try await f.ok(["agree", "alice", "bob", "--json"]).out
        let report = try JSONSerialization.jsonObject(with: Data(json.utf8)) as! [String: Any]
        let overall = report["overall"] as! [String: Any]
        // Exact: 1 match; alice has 3 spans, bob 2 → F1 = 2·1/(3+2) = 0.4.
        let exact = overall["exact"] as! [String: Any]
        #expect(abs((exact["meanF1"] as! Double) - 0.4) < 1e-9)
        let tokens = overall["tokens"] as! [String: Any]
        #expect(tokens["cohensKappa"] != nil)
        let labels = (report["labels"] as! [[String: Any]]).map { $0["label"] as! String }
        #expect(labels == ["LOC", "ORG", "PER"])
        let table = try await f.ok(["agree", "alice", "bob", "--label", "ORG"]).out
        #expect(table.contains("Cohen κ") && table.contains("(all)"))
        #expect(try await f.gloss(["agree", "alice"]).status == 2)
        // The layers may be named with --layer, as elsewhere; a misspelt one is refused.
        #expect(try await f.ok(["agree", "--layer", "alice", "--layer", "bob", "--json"]).out == json)
        let typo = try await f.gloss(["agree", "alice", "bobb"])
        #expect(typo.status == 6 && typo.err.contains("did you mean bob"), "\(typo.err)")
    }

    @Test func curateTakesAgreementsAndAsksAboutEachDisagreement() async throws {
        let (f, _, _) = try await Self.twoAnnotators()
        // Two disagreements in text order: Moscow (LOC vs ORG), then alice's J. Stalin.
        let result = try await f.ok(["curate", "fed", "--layer", "alice", "--layer", "bob"], input: "2\nn\n")
        #expect(result.out.contains("[1/2]") && result.out.contains("[2/2]"))
        #expect(result.out.contains("1) alice: [Moscow](LOC)"))
        #expect(result.out.contains("recorded 2 span(s) in the curated layer (1 agreed, 2 decided"))
        try await f.ok(["sync"])
        let curated = try await f.ok(["annotations", "--json"]).jsonLines().filter { $0["layer"] as? String == "curated" }
        #expect(Set(curated.map { "\($0["text"]!)/\($0["label"]!)" }) == ["Federation of Soviet Republics/ORG", "Moscow/ORG"])
        // A second run asks only about the place decided as "neither" (nothing covers it);
        // the end of the input stops it without recording anything.
        let again = try await f.ok(["curate", "fed", "--annotators", "alice", "bob"], input: "")
        #expect(again.out.contains("nothing to record"))
        #expect(again.out.contains("[1/1]") && again.out.contains("J. Stalin"))
        #expect(!again.out.contains("Moscow](LOC)"))
    }

    @Test func curateEditsAPlaceAsInlineMarkupAndStopsOnQuit() async throws {
        let (f, _, _) = try await Self.twoAnnotators()
        let result = try await f.ok(["curate", "fed", "--annotators", "alice", "bob"], input: "e\n[Moscow](LOC)\nq\n")
        #expect(result.out.contains("recorded 2 span(s)"), "\(result.out)")
        let curated = try await f.ok(["annotations", "--json"]).jsonLines().filter { $0["layer"] as? String == "curated" }
        #expect(curated.contains { $0["text"] as? String == "Moscow" && $0["label"] as? String == "LOC" })
        #expect(!curated.contains { $0["label"] as? String == "PER" })
    }

    @Test func curateKeepsItsDecisionsOnCtrlC() async throws {
        let (f, _, _) = try await Self.twoAnnotators()
        let process = Process()
        process.executableURL = GlossProcesses.products.appendingPathComponent("gloss")
        process.arguments = ["curate", "fed"]
        process.currentDirectoryURL = f.a
        process.environment = ProcessInfo.processInfo.environment.merging(["NO_COLOR": "1"]) { $1 }
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = output
        try GlossProcesses.launch(process)
        // Killed if stuck: its output then ends, and the reads below return.
        let watchdog = ChildWatchdog(process)
        defer { watchdog.cancel() }
        nonisolated(unsafe) let running = process
        // Answer the first disagreement (Moscow: alice's LOC), then press Ctrl-C at the second.
        let reader = output.fileHandleForReading
        let text = try await GlossProcesses.onOwnThread {
            var text = ""
            func readUntil(_ count: Int) {
                while text.components(separatedBy: "take 1-").count - 1 < count {
                    let chunk = reader.availableData
                    if chunk.isEmpty { return }
                    text += String(decoding: chunk, as: UTF8.self)
                }
            }
            readUntil(1)
            input.fileHandleForWriting.write(Data("1\n".utf8))
            readUntil(2)
            kill(running.processIdentifier, SIGINT)
            text += String(decoding: reader.readDataToEndOfFile(), as: UTF8.self)
            running.waitUntilExit()
            return text
        }
        try watchdog.check(output: text)
        #expect(process.terminationStatus == 130, "\(text)")
        #expect(text.contains("interrupted: recorded the 2 span(s) decided so far"), "\(text)")
        // The agreed span and the one answer are pending, and sync shares them.
        let pending = try await f.ok(["status", "--json"]).jsonLines().filter { $0["type"] as? String == "pending" }
        #expect(pending.count == 1 && (pending.first?["message"] as? String ?? "").contains("interrupted"))
        try await f.ok(["sync"])
        let curated = try await f.ok(["annotations", "--json", "--layer", "curated"]).jsonLines()
        #expect(Set(curated.map { "\($0["text"]!)/\($0["label"]!)" }) == ["Federation of Soviet Republics/ORG", "Moscow/LOC"])
    }
}
