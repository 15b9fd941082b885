import Foundation
import GlossClient

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs the user's text editor on a file and waits for it, the way git's `launch_editor` does.
///
/// The editor is `$VISUAL`, else `$EDITOR`, else `vi` (empty values are skipped). A command with
/// arguments or other shell syntax, such as `code --wait`, runs as
/// `/bin/sh -c 'EDITOR "$@"' gloss-edit FILE`; a bare command name runs directly, as git does, so
/// that no shell sits between gloss and the editor (see `shellMetacharacters`).
///
/// The editor inherits standard input, output and error and, unlike a child of Foundation's
/// `Process` (which on Linux gets a process group of its own), it stays in gloss's process group.
/// That group is the terminal's foreground group, so a terminal editor such as vi may read and
/// change the terminal instead of being stopped by SIGTTIN/SIGTTOU.
struct EditorLauncher {
    /// The shell command naming the editor, with any arguments of its own.
    let editor: String

    /// Picks the editor from the environment: `$VISUAL`, else `$EDITOR`, else `vi`.
    init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        editor = [environment["VISUAL"], environment["EDITOR"]].compactMap { $0 }.first { !$0.isEmpty } ?? "vi"
    }

    /// Characters that make git hand an editor command to the shell (git's `prepare_shell_cmd`).
    /// Without them the command is one program name, which gloss starts itself: a shell in between
    /// would, on a Ctrl-C meant for the editor (say during vim's `:!make`), wait for the editor and
    /// then die of SIGINT itself, which would read as an interrupted edit.
    static let shellMetacharacters = Set("|&;<>()$`\\\"' \t\n*?[#~=%")

    /// The program to start and its arguments (`argv[0]` first), searched for in `$PATH`.
    func commandLine(for file: URL) -> [String] {
        guard editor.contains(where: Self.shellMetacharacters.contains) else { return [editor, file.path] }
        return ["/bin/sh", "-c", editor + " \"$@\"", "gloss-edit", file.path]
    }

    /// Opens `file` in the editor and returns once the editor has exited successfully.
    ///
    /// While the editor runs gloss ignores SIGINT and SIGQUIT, so that a Ctrl-C reaches the editor
    /// alone; the previous handlers come back afterwards. If the editor dies of one of those
    /// signals gloss then sends it to itself, as git does, so that a calling shell sees the
    /// interruption. An editor of `:` does nothing (git's convention for "keep the file as is").
    /// - Throws: `WorkspaceError(.io)` when the editor cannot be found or started, or exits with
    ///   a non-zero status or by a signal.
    func edit(_ file: URL) throws {
        guard editor != ":" else { return }
        var argv = commandLine(for: file).map { strdup($0) }
        argv.append(nil)
        defer { for arg in argv { free(arg) } }

        let terminal = Self.takeTerminal()
        // Ignore before spawning (git ignores just after, leaving a moment in which Ctrl-C kills
        // gloss but not the editor); the editor gets the default action back through
        // POSIX_SPAWN_SETSIGDEF, unless gloss itself was started with the signal ignored.
        let previousInt = Self.ignore(SIGINT)
        let previousQuit = Self.ignore(SIGQUIT)

        var status: Int32 = 0
        var lost = false
        let (pid, spawnError) = Self.spawn(argv, resetting: [(SIGINT, previousInt), (SIGQUIT, previousQuit)])
        if spawnError == 0 {
            while waitpid(pid, &status, 0) < 0 {
                guard errno == EINTR else {
                    lost = true
                    break
                }
            }
        }

        var restore = previousInt
        sigaction(SIGINT, &restore, nil)
        restore = previousQuit
        sigaction(SIGQUIT, &restore, nil)
        let signal = spawnError == 0 && !lost ? Self.terminatingSignal(status) : nil
        Self.giveBack(terminal, resetModes: signal != nil)

        switch spawnError {
        case 0: break
        case ENOENT:
            throw WorkspaceError(.io, "the editor \(editor) was not found: set $VISUAL or $EDITOR to an installed editor")
        default:
            throw WorkspaceError(.io, "cannot start the editor \(editor): \(String(cString: strerror(spawnError)))")
        }
        if lost {
            throw WorkspaceError(.io, "lost track of the editor \(editor); nothing was recorded, the file is kept")
        }
        if let signal {
            // To the process, not this thread (raise): Dispatch's threads block most signals.
            if signal == SIGINT || signal == SIGQUIT { kill(getpid(), signal) }
            throw WorkspaceError(
                .io, "the editor \(editor) was ended by signal \(signal); nothing was recorded, the file is kept")
        }
        let exitStatus = (status >> 8) & 0xff
        switch exitStatus {
        case 0:
            return
        // The shell's codes for a command it could not find or run (POSIX).
        case 127:
            throw WorkspaceError(
                .io, "the editor \(editor) was not found: set $VISUAL or $EDITOR to an installed editor; the file is kept")
        case 126:
            throw WorkspaceError(.io, "the editor \(editor) cannot be run (is it executable?); the file is kept")
        default:
            throw WorkspaceError(
                .io, "the editor (\(editor)) exited with status \(exitStatus); nothing was recorded, the file is kept")
        }
    }

    /// Starts `argv[0]` (searched in `$PATH`) in gloss's own process group and session (no
    /// SETPGROUP or SETSID), with an empty signal mask (the calling thread's may block signals)
    /// and the default action for each listed signal that was not ignored before gloss ignored it.
    /// Returns the child's id and 0, or an error number.
    private static func spawn(
        _ argv: [UnsafeMutablePointer<CChar>?], resetting signals: [(Int32, sigaction)]
    ) -> (pid: pid_t, error: Int32) {
        #if canImport(Glibc)
            var attributes = posix_spawnattr_t()
        #else
            var attributes: posix_spawnattr_t = nil
        #endif
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for (number, previous) in signals where !isIgnore(previous) { sigaddset(&defaults, number) }
        var emptyMask = sigset_t()
        sigemptyset(&emptyMask)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setsigmask(&attributes, &emptyMask)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        var pid: pid_t = 0
        guard let program = argv.first ?? nil else { return (0, EINVAL) }
        let code = posix_spawnp(&pid, program, nil, &attributes, argv, environ)
        return (pid, code)
    }

    /// Ignores signal `number` and returns the action this replaced.
    private static func ignore(_ number: Int32) -> sigaction {
        var ignore = sigaction()
        #if canImport(Glibc)
            ignore.__sigaction_handler.sa_handler = SIG_IGN
        #else
            ignore.__sigaction_u.__sa_handler = SIG_IGN
        #endif
        sigemptyset(&ignore.sa_mask)
        var previous = sigaction()
        sigaction(number, &ignore, &previous)
        return previous
    }

    private static func isIgnore(_ action: sigaction) -> Bool {
        #if canImport(Glibc)
            let handler = action.__sigaction_handler.sa_handler
        #else
            let handler = action.__sigaction_u.__sa_handler
        #endif
        return unsafeBitCast(handler, to: Int.self) == unsafeBitCast(SIG_IGN, to: Int.self)
    }

    /// The signal that ended a child, from `waitpid`'s status, or nil if it exited.
    private static func terminatingSignal(_ status: Int32) -> Int32? {
        let low = status & 0x7f
        return low != 0 && low != 0x7f ? low : nil
    }

    /// What `takeTerminal` changed, for `giveBack` to undo.
    private typealias TerminalState = (modes: termios?, previousForeground: pid_t?)

    /// When standard input is gloss's controlling terminal, saves its modes and, should gloss not
    /// be in its foreground group (started in the background, say), makes gloss's group the
    /// foreground, so that the editor, which shares the group, can use the terminal.
    private static func takeTerminal() -> TerminalState {
        guard isatty(STDIN_FILENO) == 1 else { return (nil, nil) }
        var modes = termios()
        let saved = tcgetattr(STDIN_FILENO, &modes) == 0 ? modes : nil
        let foreground = tcgetpgrp(STDIN_FILENO)
        let own = getpgrp()
        // -1: not gloss's controlling terminal, whose foreground gloss could not change anyway.
        guard foreground > 0, foreground != own else { return (saved, nil) }
        let moved = withSIGTTOUBlocked { tcsetpgrp(STDIN_FILENO, own) } == 0
        return (saved, moved ? foreground : nil)
    }

    /// Restores the terminal's modes when the editor died without doing so, and hands the
    /// terminal back to the group that had it before `takeTerminal`.
    private static func giveBack(_ state: TerminalState, resetModes: Bool) {
        if resetModes, var modes = state.modes {
            _ = withSIGTTOUBlocked { tcsetattr(STDIN_FILENO, TCSANOW, &modes) }
        }
        if let previous = state.previousForeground {
            // Fails harmlessly if that group has gone meanwhile.
            _ = withSIGTTOUBlocked { tcsetpgrp(STDIN_FILENO, previous) }
        }
    }

    /// Runs `body` with SIGTTOU blocked on this thread: a process outside the foreground group
    /// that changes the terminal is otherwise stopped by it.
    private static func withSIGTTOUBlocked(_ body: () -> Int32) -> Int32 {
        var block = sigset_t()
        var previous = sigset_t()
        sigemptyset(&block)
        sigaddset(&block, SIGTTOU)
        pthread_sigmask(SIG_BLOCK, &block, &previous)
        defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
        return body()
    }
}
