import Foundation

/// Writing the workspace's derived files (``RebaseCache``, ``AnnotationIndex``): atomically, so
/// a reader sees the old file or the new one, but without the fsync of `Data.write(.atomic)`.
/// They are rebuilt from the replica and the pending files whenever they are missing or do not
/// decode, so a crash that loses one costs a rebuild, not data; a commit should not wait for
/// the disk twice.
enum DerivedFile {
    static func write(_ bytes: some ContiguousBytes, to url: URL) throws {
        let temporary = url.path + ".\(getpid()).tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw failure("cannot write", temporary) }
        let written = bytes.withUnsafeBytes { buffer -> Bool in
            var offset = 0
            while offset < buffer.count {
                let n = Glibc.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { return false }
                offset += n
            }
            return true
        }
        let closed = close(fd) == 0
        guard written, closed, rename(temporary, url.path) == 0 else {
            let error = failure("cannot write", temporary)
            unlink(temporary)
            throw error
        }
    }

    private static func failure(_ what: String, _ path: String) -> WorkspaceError {
        WorkspaceError(.io, "\(what) \(path): \(String(cString: strerror(errno)))")
    }
}
