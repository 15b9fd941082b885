import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An exclusive lock on a data directory: `flock(2)` on `DIR/.lock`.
///
/// `glossd serve` holds it for as long as it runs, and `glossd restore` takes it before
/// replacing the directory, so a restore never pulls the databases from under a running
/// server. The kernel drops a `flock` lock when its holder exits, however it exits, so a
/// crashed server leaves no stale lock (the file stays; it is only a handle to lock).
///
/// `flock` locks belong to open file descriptions: a second ``DataDirectoryLock`` on the same
/// directory fails even within one process. The lock is advisory and local: it does not work
/// across NFS clients.
public final class DataDirectoryLock: Sendable {
    /// The lock file's name inside the data directory.
    public static let fileName = ".lock"

    public let directory: URL
    /// The open lock file, or -1 once released.
    private let descriptor: Mutex<Int32>

    /// Takes the lock without waiting, creating `directory/.lock` if needed (not the directory).
    ///
    /// - Throws: ``DataDirectoryError``: `locked` when another holder has it (the message
    ///   names the holder's process id when it recorded one), `io` when the file cannot be
    ///   opened.
    public init(directory: URL) throws {
        self.directory = directory
        let path = directory.appendingPathComponent(Self.fileName).path
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw DataDirectoryError(.io, "cannot open the lock file: \(Self.errorText(errno))", context: path)
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let code = errno
            close(fd)
            guard code == EWOULDBLOCK else {
                throw DataDirectoryError(.io, "cannot lock the data directory: \(Self.errorText(code))", context: path)
            }
            let holder = Self.holder(of: directory).map { " (process \($0))" } ?? ""
            throw DataDirectoryError(
                .locked, "the data directory is in use by another glossd\(holder); stop it first",
                context: directory.path)
        }
        // Record the holder for the message others get. Best effort: the lock is what counts.
        let line = Array("\(getpid())\n".utf8)
        if ftruncate(fd, 0) == 0 {
            _ = line.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        }
        descriptor = Mutex(fd)
    }

    /// Releases the lock (closing the file releases it); later calls do nothing.
    public func release() {
        descriptor.withLock { fd in
            guard fd >= 0 else { return }
            close(fd)
            fd = -1
        }
    }

    deinit { release() }

    /// Whether some holder has the lock right now: takes and releases it when free.
    public static func isHeld(in directory: URL) -> Bool {
        do {
            try DataDirectoryLock(directory: directory).release()
            return false
        } catch let error as DataDirectoryError {
            return error.code == .locked
        } catch {
            return false
        }
    }

    /// The process id the current or last holder recorded in the lock file.
    public static func holder(of directory: URL) -> Int32? {
        let path = directory.appendingPathComponent(fileName).path
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        return Int32(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    private static func errorText(_ code: Int32) -> String { String(cString: strerror(code)) }
}
