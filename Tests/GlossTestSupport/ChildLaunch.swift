import Foundation

extension GlossProcesses {
    /// One spawn at a time in the test process.
    private static let spawning = NSLock()

    /// Starts `process`, handing it only its own descriptors. Every test starts children this
    /// way, never with `Process.run()` alone.
    ///
    /// Foundation learns that a child has ended when the child's end of a socket pair closes,
    /// and it leaves that end, and the child's ends of its pipes, open in the test process
    /// while it spawns. A child spawned by another test at that moment inherits them: if it
    /// lives long (a glossd, a `gloss watch`), the first child's end is never seen, and its
    /// test waits for good — or, with the roles crossed between two tests, both do. Spawning
    /// one at a time closes that window; the ends this process keeps (a pipe's other side) are
    /// marked close-on-exec so that no later child inherits them either (a stdin pipe's write
    /// end held by another child would never let the reader see its end).
    ///
    /// The child also starts with no signal blocked, as from a shell. A child inherits the mask
    /// of the thread that spawns it, and the threads that run tests' tasks block nearly every
    /// signal: a child started from one would ignore the SIGINT or SIGTERM its test sends.
    public static func launch(_ process: Process) throws {
        for case let pipe as Pipe in [process.standardInput] {
            closeOnExec(pipe.fileHandleForWriting.fileDescriptor)
        }
        for case let pipe as Pipe in [process.standardOutput, process.standardError] {
            closeOnExec(pipe.fileHandleForReading.fileDescriptor)
        }
        try spawning.withLock {
            var none = sigset_t()
            sigemptyset(&none)
            var previous = sigset_t()
            pthread_sigmask(SIG_SETMASK, &none, &previous)
            defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
            try process.run()
        }
    }

    private static func closeOnExec(_ fd: Int32) {
        let flags = fcntl(fd, F_GETFD)
        if flags >= 0 { _ = fcntl(fd, F_SETFD, flags | FD_CLOEXEC) }
    }
}
