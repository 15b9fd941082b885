import Foundation
import GlossTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `gloss edit` with a real terminal editor (vim) on a pseudo-terminal made by `script(1)`.
///
/// A terminal editor can only read and draw when it is in the terminal's foreground process
/// group; one started in a process group of its own (as Foundation's `Process` does on Linux) is
/// stopped by SIGTTOU before it draws anything. Each run is bounded: a stopped editor shows as a
/// failure after `bound` seconds, never as a hung suite, and whatever it left is killed.
@Suite(.serialized, .hangGuard, .timeLimit(.minutes(10)))
struct EditorTerminalTests {
    static let schema = #"{"spanLabels": ["TITLE", "ORG", "PER", "LOC"], "isOpen": false}"#
    /// How long one `gloss edit` may take, editor included, before it counts as hung.
    static let bound: TimeInterval = 60

    @Test func plainViReadsTypedCommandsFromTheTerminal() async throws {
        let f = try await CLIFixture("edit-vi", schema: Self.schema)
        try await f.addSample()
        let title = try await f.ok(["span", "add", "fed", "1", "35", "TITLE"]).line
        // The keystrokes go through script's pty: vim must read the terminal to see them.
        let output = await Self.edit(f, editor: "vi") { terminal in
            await terminal.type(":%s/(TITLE)/(ORG)/\r")
            await terminal.type(":wq\r")
        }
        #expect(output.contains("recorded 0 new, 1 changed and 0 removed"), "\(output.suffix(2000))")
        let rows = try await f.ok(["annotations", "--json"]).jsonLines()
        #expect(rows.first { $0["id"] as? String == title }?["label"] as? String == "ORG")
    }

    /// vim reads a typed Ctrl-C as a key; a terminal in its ordinary mode (as during vim's `:!cmd`,
    /// or with an editor such as `code --wait`) sends SIGINT to its foreground group instead.
    @Test func aSIGINTFromTheTerminalReachesTheEditorAndGlossCarriesOn() async throws {
        let f = try await CLIFixture("edit-vim-int", schema: Self.schema)
        try await f.addSample()
        let title = try await f.ok(["span", "add", "fed", "1", "35", "TITLE"]).line
        let output = await Self.edit(f, editor: "vim") { terminal in
            let running = Self.processes(in: f.a)
            let gloss = try #require(running.first { $0.name == "gloss" }, "\(running)")
            let vim = try #require(running.first { $0.name == "vim" }, "\(running)")
            // The editor shares gloss's process group, and that group owns the terminal.
            try #require(gloss.group == gloss.foreground && gloss.group > 1, "\(running)")
            #expect(vim.group == gloss.group, "\(running)")
            // What the terminal does on Ctrl-C when ISIG is on: SIGINT to the foreground group.
            kill(-gloss.group, SIGINT)
            // vim notices the interrupt at its next key and throws away what was typed with it:
            // press Escape until it reports the interrupt, then type the commands.
            var interrupted = false
            let deadline = Date().addingTimeInterval(20)
            while !interrupted, Date() < deadline {
                await terminal.type("\u{1B}")
                interrupted = await terminal.waitForOutput(containing: "Type  :qa", until: Date().addingTimeInterval(1))
            }
            #expect(interrupted, "vim did not report the interrupt: \(terminal.output.suffix(2000))")
            let after = Self.processes(in: f.a)
            #expect(after.contains { $0.name == "gloss" } && after.contains { $0.name == "vim" }, "\(after)")
            await terminal.type(":%s/(TITLE)/(PER)/\r:wq\r")
        }
        #expect(output.contains("recorded 0 new, 1 changed and 0 removed"), "\(output.suffix(2000))")
        let rows = try await f.ok(["annotations", "--json"]).jsonLines()
        #expect(rows.first { $0["id"] as? String == title }?["label"] as? String == "PER")
    }

    @Test func anEditorCommandWithShellArgumentsAndAMissingEditor() async throws {
        let f = try await CLIFixture("edit-vim-args", schema: Self.schema)
        try await f.addSample()
        let title = try await f.ok(["span", "add", "fed", "1", "35", "TITLE"]).line
        // vim still takes over the terminal (raw mode, alternate screen) with its commands given as
        // arguments, quoted for the shell the way a user quotes EDITOR.
        let output = await Self.edit(
            f, editor: "vim -u NONE -N -c '%s/(TITLE)/(LOC)/' -c wq", shows: "\u{1B}[?1049h" /* alternate screen */
        ) { _ in }
        #expect(output.contains("recorded 0 new, 1 changed and 0 removed"), "\(output.suffix(2000))")
        let rows = try await f.ok(["annotations", "--json"]).jsonLines()
        #expect(rows.first { $0["id"] as? String == title }?["label"] as? String == "LOC")

        // A missing editor, run directly or through the shell: gloss's own error names it.
        for editor in ["gloss-no-such-editor", "gloss-no-such-editor --wait"] {
            let missing = try await f.gloss(["edit", "fed"], env: ["VISUAL": "", "EDITOR": editor])
            #expect(missing.status == 6)
            #expect(missing.err.contains("error: the editor \(editor) was not found"), "\(missing.err)")
        }
    }

    /// gloss started in the background by a shell with job control is not in the terminal's
    /// foreground group: it takes the terminal for the editor and gives it back to the shell.
    @Test func aBackgroundGlossTakesTheTerminalForTheEditorAndGivesItBack() async throws {
        let f = try await CLIFixture("edit-vi-bg", schema: Self.schema)
        try await f.addSample()
        let title = try await f.ok(["span", "add", "fed", "1", "35", "TITLE"]).line
        // Then the terminal's group must be the shell's again (`$(ps …)` runs in the shell's own
        // group). dash, /bin/sh here, does not take the terminal back by itself; bash would.
        let script = #"set -m; "$0" edit fed & wait $!; echo "gloss-status=$?"; "#
            + #"[ "$(ps -o tpgid= -p $$)" -eq "$(ps -o pgid= -p $$)" ] && echo "terminal-back""#
        let output = await Self.edit(
            f, editor: "vi", command: "/bin/sh -i -c '\(script)' \(Self.quoted(Self.glossPath))"
        ) { terminal in
            await terminal.type(":%s/(TITLE)/(ORG)/\r:wq\r")
        }
        #expect(output.contains("gloss-status=0"), "\(output.suffix(2000))")
        #expect(output.contains("terminal-back"), "\(output.suffix(2000))")
        let rows = try await f.ok(["annotations", "--json"]).jsonLines()
        #expect(rows.first { $0["id"] as? String == title }?["label"] as? String == "ORG")
    }

    static var glossPath: String { GlossProcesses.products.appendingPathComponent("gloss").path }

    /// `text` quoted for the shell.
    static func quoted(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: #"'\''"#) + "'" }

    /// Runs `gloss edit fed` (or `command`) in the workspace under `script` with `EDITOR=editor`,
    /// runs `drive` once the terminal shows `marker` (by default, a line of the document as the
    /// editor draws it), and returns everything the terminal showed. Records an issue when the
    /// editor never draws, the command fails or outlives `bound`, or a process is left behind.
    static func edit(
        _ f: CLIFixture, editor: String, command: String? = nil, shows marker: String = "Federation of Soviet",
        drive: (ScriptedTerminal) async throws -> Void
    ) async -> String {
        let deadline = Date().addingTimeInterval(bound)
        let terminal: ScriptedTerminal
        do {
            terminal = try ScriptedTerminal(
                command: command ?? "\(quoted(glossPath)) edit fed", in: f.a,
                environment: [
                    "EDITOR": editor, "VISUAL": "", "TERM": "xterm", "NO_COLOR": "1",
                    // No user vimrc or viminfo: the editor is the installed one, as it comes.
                    "HOME": f.directory.url.path,
                ])
        } catch {
            Issue.record("cannot start script: \(error)")
            return ""
        }
        // Only an editor that has the terminal draws anything.
        let drew = await terminal.waitForOutput(containing: marker, until: deadline)
        #expect(drew, "the editor never drew on the terminal within \(bound) s: \(terminal.output.suffix(2000))")
        var driven = drew
        if drew {
            do {
                try await drive(terminal)
            } catch {
                // A failed #require has recorded itself already.
                if !(error is ExpectationFailedError) { Issue.record(error) }
                driven = false
            }
        }
        // Nothing more will be typed: do not wait for the deadline.
        let status = await terminal.waitForExit(until: driven ? deadline : Date())
        let state = status.map { "exited with status \($0)" } ?? "still running after \(bound) s: \(processes(in: f.a))"
        #expect(status == 0, "under script, the command \(state)")
        if status == nil { await terminal.kill() }

        // Everything that ran in the workspace (gloss, its shell, the editor) has gone.
        var left = processes(in: f.a)
        let settle = Date().addingTimeInterval(5)
        while !left.isEmpty, Date() < settle {
            try? await Task.sleep(for: .milliseconds(100))
            left = processes(in: f.a)
        }
        #expect(left.isEmpty, "left behind: \(left)")
        for process in left { kill(process.pid, SIGKILL) }
        return terminal.output
    }

    /// A process as /proc shows it.
    struct RunningProcess: CustomStringConvertible {
        var pid: pid_t
        var name: String
        var state: String
        var group: pid_t
        /// The foreground process group of its controlling terminal.
        var foreground: pid_t
        var description: String { "\(name)[\(pid)] state \(state) group \(group) terminal's group \(foreground)" }
    }

    /// The processes whose working directory is `dir`: the ones `gloss edit` started there.
    static func processes(in dir: URL) -> [RunningProcess] {
        let target = dir.resolvingSymlinksInPath().path
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { entry -> RunningProcess? in
            guard let pid = pid_t(entry), pid != getpid(),
                let cwd = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(entry)/cwd"), cwd == target,
                let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                let open = stat.firstIndex(of: "("), let close = stat.lastIndex(of: ")")
            else { return nil }
            // "pid (name) state ppid pgrp session tty_nr tpgid …"; the name may hold spaces.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 5, let group = pid_t(fields[2]), let foreground = pid_t(fields[5]) else { return nil }
            return RunningProcess(
                pid: pid, name: String(stat[stat.index(after: open)..<close]), state: String(fields[0]), group: group,
                foreground: foreground)
        }
    }
}

/// `script(1)` running a command on a pseudo-terminal of its own: what is written to script's
/// standard input is typed on that terminal, and script's standard output is what it shows.
final class ScriptedTerminal: @unchecked Sendable {
    private let process = Process()
    private let input = Pipe()
    private let lock = NSLock()
    private var shown = Data()

    init(command: String, in dir: URL, environment: [String: String]) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/script")
        // -q: no banner; -e: script's status is the command's; /dev/null: no typescript file.
        // script runs the command with `$SHELL -c`. The shell execs it, so that no shell sits in
        // the terminal's foreground group: dash (/bin/sh) does not exec a lone command by itself,
        // and would die of a SIGINT meant for the editor, ending script with status 130.
        process.arguments = ["-q", "-e", "-c", "exec " + command, "/dev/null"]
        process.currentDirectoryURL = dir
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
            .merging(["SHELL": "/bin/sh"]) { $1 }
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = output
        try GlossProcesses.launch(process)
        // Reads until script exits; a thread of its own, as it blocks.
        let handle = output.fileHandleForReading
        Thread.detachNewThread { [self] in
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                lock.withLock { shown.append(chunk) }
            }
        }
    }

    /// Everything the terminal has shown so far, escape sequences included.
    var output: String { lock.withLock { String(decoding: shown, as: UTF8.self) } }

    /// Types `keys` on the terminal.
    func type(_ keys: String) async {
        let handle = input.fileHandleForWriting
        // On a thread of its own that blocks SIGPIPE: should script have gone, the write fails
        // instead of the signal ending the test run.
        _ = try? await GlossProcesses.onOwnThread {
            var block = sigset_t()
            sigemptyset(&block)
            sigaddset(&block, SIGPIPE)
            pthread_sigmask(SIG_BLOCK, &block, nil)
            try handle.write(contentsOf: Data(keys.utf8))
        }
    }

    /// Waits (off the cooperative pool) until the terminal has shown `text`; false at the deadline
    /// or when script has exited without showing it.
    func waitForOutput(containing text: String, until deadline: Date) async -> Bool {
        (try? await GlossProcesses.onOwnThread { [self] in
            while Date() < deadline {
                if output.contains(text) { return true }
                if !process.isRunning { return output.contains(text) }
                usleep(50_000)
            }
            return false
        }) ?? false
    }

    /// Waits for script to exit and returns its status, or nil if it still runs at the deadline.
    func waitForExit(until deadline: Date) async -> Int32? {
        let status =
            (try? await GlossProcesses.onOwnThread { [self] () -> Int32? in
                while process.isRunning {
                    guard Date() < deadline else { return nil }
                    usleep(50_000)
                }
                return process.terminationStatus
            }) ?? nil
        if status != nil { try? input.fileHandleForWriting.close() }
        return status
    }

    /// Kills script (the terminal then hangs up on what runs in it) and waits a little for it.
    func kill() async {
        Glibc.kill(process.processIdentifier, SIGKILL)
        _ = await waitForExit(until: Date().addingTimeInterval(5))
        try? input.fileHandleForWriting.close()
    }
}
