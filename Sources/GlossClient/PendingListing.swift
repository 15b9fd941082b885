import Foundation

/// A pending changeset's file as the directory lists it: what the rebase cache is keyed by.
struct PendingFile: Hashable {
    var name: String
    var size: Int
    /// Modification time, nanoseconds since 1970.
    var modified: Int64

    /// The pending files of a directory (`*.cs`), sorted by name, with what `stat` says of each.
    ///
    /// Read with readdir and fstatat on the open directory: a command lists a thousand pending
    /// files in about a millisecond this way (Foundation's URLs stat every path they build).
    static func listing(of directory: URL) throws -> [PendingFile] {
        guard let handle = opendir(directory.path) else {
            throw WorkspaceError(.io, "cannot list \(directory.path): \(String(cString: strerror(errno)))")
        }
        defer { closedir(handle) }
        let fd = dirfd(handle)
        var files: [PendingFile] = []
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.baseAddress!.assumingMemoryBound(to: CChar.self)) }
            guard name.hasSuffix(".cs") else { continue }
            // Dropped between the listing and now: it is no longer pending.
            guard let file = try named(name, at: fd, in: directory) else { continue }
            files.append(file)
        }
        return files.sorted { $0.name < $1.name }
    }

    /// One pending file as ``listing(of:)`` describes it; nil when there is none by that name.
    static func named(_ name: String, in directory: URL) throws -> PendingFile? {
        try named(name, at: AT_FDCWD, in: directory, path: directory.path + "/" + name)
    }

    private static func named(_ name: String, at fd: Int32, in directory: URL, path: String? = nil) throws -> PendingFile? {
        var info = stat()
        guard fstatat(fd, path ?? name, &info, 0) == 0 else {
            if errno == ENOENT { return nil }
            throw WorkspaceError(.io, "cannot read \(name) in \(directory.path): \(String(cString: strerror(errno)))")
        }
        return PendingFile(
            name: name, size: Int(info.st_size),
            modified: Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec))
    }
}

/// A listing of the pending directory that may be used again while the directory is unchanged:
/// by the process that made it, and by the next command through the ``RebaseCache`` it keys.
///
/// Every change to the pending files goes through a rename or an unlink in the directory (they
/// are written atomically), which sets the directory's modification time. That time comes from
/// a coarse clock, so a change made in the same tick as the listing could leave it as it was:
/// like git's "racily clean" index entries, a listing taken too soon after the directory last
/// changed is not trusted again, and the next question lists the files anew.
struct PendingListing {
    /// The directory as `stat` shows it, and when it was looked at.
    struct Stamp {
        var inode: UInt64
        /// Nanoseconds since 1970.
        var modified: Int64
        /// The clock just before the `stat`, nanoseconds since 1970.
        var taken: Int64

        init(inode: UInt64, modified: Int64, taken: Int64) {
            (self.inode, self.modified, self.taken) = (inode, modified, taken)
        }

        init(of directory: URL) throws {
            var now = timespec()
            clock_gettime(CLOCK_REALTIME, &now)
            taken = Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
            var info = stat()
            guard stat(directory.path, &info) == 0 else {
                throw WorkspaceError(.io, "cannot read \(directory.path): \(String(cString: strerror(errno)))")
            }
            inode = UInt64(info.st_ino)
            modified = Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec)
        }

        /// The same directory, unchanged.
        func matches(_ other: Stamp) -> Bool { inode == other.inode && modified == other.modified }
    }

    /// How long after the directory's last change a listing counts as settled: well above the
    /// file system clock's tick.
    static let settling: Int64 = 100_000_000

    var directory: Stamp
    var files: [PendingFile]

    /// - Parameter directory: the directory's stamp, taken before the files were listed.
    init(directory: Stamp, files: [PendingFile]) {
        self.directory = directory
        self.files = files
    }

    /// Whether the directory had been unchanged for ``settling`` when it was stamped: any later
    /// change then moves its time.
    var isSettled: Bool { directory.taken - directory.modified > Self.settling }

    /// Whether the files are still as listed: the listing was settled and the directory is
    /// unchanged since. (A pending file is only ever replaced whole, by a rename: its bytes do
    /// not change in place.)
    func stillHolds(for stamp: Stamp) -> Bool { isSettled && stamp.matches(directory) }
}
