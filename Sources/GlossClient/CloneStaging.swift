import Foundation
import Synchronization

/// Where a clone builds its workspace before it becomes one: `TARGET/.gloss-clone-partial-PID/`.
///
/// A clone fills its replica for a long time, and anything that stops it halfway (a server
/// that dies, Ctrl-C, a corpus that turns out not to exist) used to leave a `.gloss` that
/// looked like a finished workspace at revision 0. Now the workspace is built here, and its
/// `.gloss` is renamed into the target as the very last step: `rename(2)` within one
/// directory is atomic, so the target holds either no workspace or a complete one.
///
/// On failure ``discard()`` removes the staging directory and the directories the clone
/// created. A process killed outright (`kill -9`) cannot clean up: its staging directory is
/// garbage that the next clone into the same target removes (a target holding only such
/// leftovers counts as empty). The process id in the name tells a leftover from the staging
/// directory of a clone still running into the same target.
public final class CloneStaging: Sendable {
    /// The prefix of staging directories' names.
    public static let prefix = ".gloss-clone-partial-"

    /// The directory the clone was asked to create or fill.
    public let target: URL
    /// The root of the workspace being built (its `.gloss` is the one renamed into `target`).
    public let root: URL
    /// Directories this clone created (the target and missing parents), outermost first.
    private let created: [URL]
    private let state = Mutex(State.building)

    private enum State { case building, committed, discarded }

    /// Stagings in progress in this process, for ``discardAll()`` when the process must exit
    /// at once (a second Ctrl-C).
    private static let active = Mutex<[ObjectIdentifier: CloneStaging]>([:])

    // MARK: Checking the target

    /// Refuses a target that is not an empty directory (or missing), like `git clone`, and
    /// returns the leftover staging directories of killed clones in it, which count as empty.
    /// Touches nothing: the command calls it before connecting, so a clone that cannot land
    /// fails before any network traffic.
    @discardableResult
    public static func checkTarget(_ target: URL) throws -> [URL] {
        let path = target.path
        var status = stat()
        guard stat(path, &status) == 0 else {  // following links: a link to an empty directory will do
            let code = errno
            if code == ENOENT { return [] }
            throw WorkspaceError(.io, "cannot use \(path) for the clone: \(Self.reason(code))")
        }
        guard status.st_mode & S_IFMT == S_IFDIR else {
            throw WorkspaceError(.alreadyExists, "destination path '\(path)' already exists and is not an empty directory")
        }
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: path)
        } catch {
            throw WorkspaceError(.io, "cannot read the directory \(path): \(Self.reason(of: error))")
        }
        var leftovers: [URL] = []
        for name in names {
            guard name.hasPrefix(prefix) else {
                throw WorkspaceError(
                    .alreadyExists, "destination path '\(path)' already exists and is not an empty directory")
            }
            if let pid = pid_t(name.dropFirst(prefix.count)), pid != getpid(), isCloneRunning(pid) {
                throw WorkspaceError(
                    .alreadyExists, "another gloss clone (process \(pid)) is cloning into \(path); wait for it or stop it")
            }
            leftovers.append(target.appendingPathComponent(name))
        }
        return leftovers
    }

    /// Whether process `pid` is alive and (where /proc tells) a `gloss`: a killed clone's id
    /// may have been reused by another program since.
    private static func isCloneRunning(_ pid: pid_t) -> Bool {
        guard kill(pid, 0) == 0 || errno == EPERM else { return false }
        guard let name = try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8) else { return true }
        return name.trimmingCharacters(in: .whitespacesAndNewlines) == "gloss"
    }

    // MARK: Staging

    /// Checks the target, removes leftovers of killed clones, creates the target (and its
    /// missing parents) and an empty staging directory in it.
    public static func begin(at target: URL) throws -> CloneStaging {
        let target = target.standardizedFileURL
        for leftover in try checkTarget(target) {
            do {
                try FileManager.default.removeItem(at: leftover)
            } catch {
                throw WorkspaceError(
                    .io, "cannot remove \(leftover.path), left by an interrupted clone: \(Self.reason(of: error))")
            }
        }
        var missing: [URL] = []
        var directory = target
        while !FileManager.default.fileExists(atPath: directory.path) {
            missing.insert(directory, at: 0)
            let parent = directory.deletingLastPathComponent()
            if parent.path == directory.path { break }
            directory = parent
        }
        let root = target.appendingPathComponent(prefix + String(getpid()))
        // Under the lock `exitIfNoneActive` takes: a process exiting on Ctrl-C either exits
        // before anything is created here or finds this staging registered and cleans it up.
        return try active.withLock { active in
            let created = try makeDirectories(missing, root: root, in: target)
            let staging = CloneStaging(target: target, root: root, created: created)
            active[ObjectIdentifier(staging)] = staging
            return staging
        }
    }

    /// Creates the missing directories, outermost first, then `root`; returns the ones it
    /// created before `root`. On failure removes what it created.
    private static func makeDirectories(_ missing: [URL], root: URL, in target: URL) throws -> [URL] {
        var created: [URL] = []
        do {
            for directory in missing {
                if mkdir(directory.path, 0o777) == 0 {
                    created.append(directory)
                } else if errno != EEXIST {  // EEXIST: another process made it meanwhile; not ours to remove
                    throw WorkspaceError(.io, "cannot create the directory \(directory.path): \(Self.reason(errno))")
                }
            }
            guard mkdir(root.path, 0o700) == 0 else {
                throw WorkspaceError(.io, "cannot create a directory in \(target.path): \(Self.reason(errno))")
            }
        } catch {
            remove(root: nil, created: created)
            throw error
        }
        return created
    }

    private init(target: URL, root: URL, created: [URL]) {
        self.target = target
        self.root = root
        self.created = created
    }

    /// Moves the staged `.gloss` into the target: the clone's one visible step. The replica
    /// must be closed (every reference to its store dropped) or checkpointed before: SQLite
    /// finds its `-wal` and `-shm` files by path.
    public func commit() throws {
        let meta = Workspace.directoryName
        try Self.active.withLock { active in
            // Under the same lock as `discardAll`: an exit in a hurry either removes the
            // staging before this rename or finds it already committed, never half of each.
            guard state.withLock({ $0 }) == .building else {
                throw CancellationError()
            }
            let from = root.appendingPathComponent(meta).path
            let to = target.appendingPathComponent(meta).path
            guard rename(from, to) == 0 else {
                let code = errno
                if code == EEXIST || code == ENOTEMPTY {
                    throw WorkspaceError(.alreadyExists, "\(target.path) already holds a Gloss workspace; clone into another directory")
                }
                throw WorkspaceError(.io, "cannot move the new workspace into \(target.path): \(Self.reason(code))")
            }
            state.withLock { $0 = .committed }
            active[ObjectIdentifier(self)] = nil
        }
        // The staging directory is empty now; a failure to remove it leaves harmless garbage
        // that the workspace never looks at.
        rmdir(root.path)
    }

    /// Removes the staging directory and the directories this clone created (when nothing
    /// else appeared in them). Does nothing after ``commit()``.
    public func discard() {
        Self.active.withLock { active in
            discardLocked()
            active[ObjectIdentifier(self)] = nil
        }
    }

    /// Exits the process with `status` at once if no clone is staging (there is nothing to
    /// clean up: a Ctrl-C at a prompt or during a connect need not wait); returns otherwise.
    public static func exitIfNoneActive(status: Int32) {
        active.withLock { active in
            if active.isEmpty { _exit(status) }
        }
    }

    /// Discards every staging of this process: for a process about to exit without unwinding.
    public static func discardAll() {
        active.withLock { active in
            for staging in active.values { staging.discardLocked() }
            active = [:]
        }
    }

    private func discardLocked() {
        let building = state.withLock { s -> Bool in
            defer { if s == .building { s = .discarded } }
            return s == .building
        }
        guard building else { return }
        Self.remove(root: root, created: created)
    }

    private static func remove(root: URL?, created: [URL]) {
        if let root { try? FileManager.default.removeItem(at: root) }
        // rmdir, not a recursive removal: a directory where anything else appeared is kept.
        for directory in created.reversed() { rmdir(directory.path) }
    }

    // MARK: Messages

    static func reason(_ code: Int32) -> String { String(cString: strerror(code)) }

    /// A plain reason for a file-system error (Foundation's errors carry the POSIX one).
    static func reason(of error: any Error) -> String {
        let nsError = error as NSError
        if let underlying = nsError.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return reason(Int32(underlying.code))
        }
        if nsError.domain == NSPOSIXErrorDomain { return reason(Int32(nsError.code)) }
        return nsError.localizedDescription
    }
}
