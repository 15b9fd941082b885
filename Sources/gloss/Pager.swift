import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Pipes a long listing through a pager on a terminal, as git does: `$GLOSS_PAGER`, else
/// `$PAGER`, else `less`, with `LESS=FRX` unless set (quit when it fits one screen, keep colours,
/// leave the text on screen). Nothing happens when standard output is not a terminal, with
/// `--no-pager`, or when the pager is empty or `cat`.
///
/// The pager runs in gloss's process group (not a group of its own, as Foundation's `Process`
/// would make), so that it can read keys from the terminal.
enum Pager {
    /// The running pager, waited for when gloss exits.
    nonisolated(unsafe) private static var child: pid_t = 0

    static func start(disabled: Bool = false) {
        guard !disabled, child == 0, isatty(STDOUT_FILENO) == 1 else { return }
        let env = ProcessInfo.processInfo.environment
        let command = (env["GLOSS_PAGER"] ?? env["PAGER"] ?? "less").trimmingCharacters(in: .whitespaces)
        guard !command.isEmpty, command != "cat" else { return }
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { return }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, fds[0], STDIN_FILENO)
        posix_spawn_file_actions_addclose(&actions, fds[0])
        posix_spawn_file_actions_addclose(&actions, fds[1])
        var environment = env
        if environment["LESS"] == nil { environment["LESS"] = "FRX" }
        if environment["LV"] == nil { environment["LV"] = "-c" }
        let words: [String] = ["/bin/sh", "-c", command]
        let argv: [UnsafeMutablePointer<CChar>?] = words.map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var pid: pid_t = 0
        guard posix_spawn(&pid, "/bin/sh", &actions, nil, argv, envp) == 0 else {
            close(fds[0])
            close(fds[1])
            return
        }
        close(fds[0])
        fflush(nil)
        dup2(fds[1], STDOUT_FILENO)
        close(fds[1])
        child = pid
        atexit { Pager.finish() }
    }

    /// Hands the pager the end of the output and waits until the user quits it.
    static func finish() {
        guard child != 0 else { return }
        fflush(nil)
        close(STDOUT_FILENO)
        var status: Int32 = 0
        while waitpid(child, &status, 0) < 0 && errno == EINTR {}
        child = 0
    }
}
