import Foundation
import GlossModel
import GlossStore
import GlossStoreSQLite
import GlossWire

/// A local working copy of one corpus: a replica of the server's history (`.gloss/replica.sqlite`,
/// the same store code as the server), the changesets made here and not yet pushed
/// (`.gloss/pending/`), and the resolutions chosen for conflicts (`.gloss/resolutions.json`).
///
/// Pending changesets are kept as they were made, against the base they were made on; conflicts
/// are recomputed from them by the same check the server runs, so they never go stale, and
/// their ids are stable hashes.
///
/// So that a command costs what it touches, not the size of the workspace, two derived files
/// are kept beside them and rebuilt whenever missing or out of date: `.gloss/rebased`, the
/// pending work rebased on the replica's head (``RebaseCache``), and `.gloss/index`, where each
/// annotation of the replica's head is and how many each document has per layer
/// (``AnnotationIndex``).
public final class Workspace: @unchecked Sendable {
    public static let directoryName = ".gloss"

    public let root: URL
    public private(set) var config: WorkspaceConfig
    public let replica: CorpusStore
    // Built once, marked as directories: a URL built without that hint stats its path.
    private let meta: URL
    private let pendingDirectory: URL
    private var resolutionsFile: URL { meta.appendingPathComponent("resolutions.json") }
    /// Derived files, rebuilt when missing: the rebased pending work (``RebaseCache``) and
    /// where each annotation of the replica is (``AnnotationIndex``).
    private var rebaseCacheFile: URL { meta.appendingPathComponent("rebased") }
    var indexFile: URL { meta.appendingPathComponent("index") }
    /// This process's last rebase, so that a command asking several times reads the cache once.
    private var rebaseMemo: RebaseCache?
    /// This process's last listing of the pending files, while the directory has not changed.
    private var listingMemo: PendingListing?

    // MARK: Opening

    /// Creates the workspace's metadata in `root` (which must not already hold one).
    ///
    /// - Parameter replica: a replica database already built (a clone installs one), moved into
    ///   the workspace; without it the workspace starts with an empty replica.
    public static func create(at root: URL, config: WorkspaceConfig, token: String?, replica: URL? = nil) throws
        -> Workspace
    {
        let meta = root.appendingPathComponent(directoryName)
        if FileManager.default.fileExists(atPath: meta.path) {
            throw WorkspaceError(.alreadyExists, "\(root.path) already holds a Gloss workspace; clone into another directory")
        }
        try FileManager.default.createDirectory(
            at: meta.appendingPathComponent("pending"), withIntermediateDirectories: true)
        if let replica { try FileManager.default.moveItem(at: replica, to: replicaFile(in: root)) }
        let workspace = try Workspace(root: root, config: config)
        try workspace.saveConfig()
        if let token { try workspace.saveToken(token) }
        return workspace
    }

    /// Opens the workspace containing `directory` (it or a parent), like git.
    public static func open(containing directory: URL) throws -> Workspace {
        try open(containing: directory) { try SQLiteCorpusBackend(path: $0) }
    }

    /// Opens the workspace containing `directory` with the replica's database opened by
    /// `backend` (given its path): tests wrap it to count what a command reads.
    static func open(containing directory: URL, backend: (String) throws -> any CorpusBackend) throws -> Workspace {
        var current = directory.standardizedFileURL
        while true {
            if FileManager.default.fileExists(atPath: current.appendingPathComponent(directoryName).path) {
                let data = try Data(contentsOf: current.appendingPathComponent(directoryName).appendingPathComponent("config.json"))
                let config = try JSONDecoder().decode(WorkspaceConfig.self, from: data)
                let replica = CorpusStore(backend: try backend(replicaFile(in: current).path))
                return Workspace(root: current, config: config, replica: replica)
            }
            let parent = current.deletingLastPathComponent()
            if parent.path == current.path {
                throw WorkspaceError(
                    .notAWorkspace, "not inside a Gloss workspace; run `gloss clone gloss://HOST:PORT/CORPUS` first")
            }
            current = parent
        }
    }

    private convenience init(root: URL, config: WorkspaceConfig) throws {
        // No decoded-block cache: a command reads a block about once, and wants a few entries of it.
        self.init(
            root: root, config: config,
            replica: try CorpusStore.sqlite(path: Self.replicaFile(in: root).path, headCacheEntries: 0))
    }

    private init(root: URL, config: WorkspaceConfig, replica: CorpusStore) {
        self.root = root
        meta = root.appendingPathComponent(Self.directoryName, isDirectory: true)
        pendingDirectory = meta.appendingPathComponent("pending", isDirectory: true)
        self.config = config
        self.replica = replica
    }

    /// The replica's database file in the workspace at `root`.
    static func replicaFile(in root: URL) -> URL {
        root.appendingPathComponent(directoryName).appendingPathComponent("replica.sqlite")
    }

    public var url: GlossURL {
        get throws {
            guard let url = GlossURL(config.url) else {
                throw WorkspaceError(.corrupt, "the workspace's URL \(config.url) is not a gloss:// URL")
            }
            return url
        }
    }

    /// How to verify the server, from what the workspace recorded.
    public var trust: ServerTrust {
        if let pin = config.pin, let fingerprint = CertificateFingerprint(parsing: pin) { return .pinned(fingerprint) }
        if let ca = config.caFile { return .certificateAuthority(path: ca) }
        return .system
    }

    // MARK: Token

    /// The token saved at clone time (`.gloss/token`, mode 0600), if any.
    public func savedToken() -> String? {
        (try? String(contentsOf: meta.appendingPathComponent("token"), encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    public func saveToken(_ token: String) throws {
        let path = meta.appendingPathComponent("token").path
        try? FileManager.default.removeItem(atPath: path)
        guard FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]) else {
            throw WorkspaceError(.io, "cannot write \(path)")
        }
        try Data((token + "\n").utf8).write(to: URL(fileURLWithPath: path))
    }

    // MARK: Ids and local changesets

    /// A fresh annotation id: this workspace's replica and its next counter (saved first, so
    /// an id is never handed out twice even if the process dies).
    public func mintID() throws -> AnnotationID {
        config.counter += 1
        try saveConfig()
        return AnnotationID(replica: ReplicaID(config.replica), counter: config.counter)
    }

    /// Runs `body` with a minter of fresh ids that saves the counter once at the end, for
    /// imports that mint thousands (an id is never reused: the counter is saved before any
    /// changeset holding the ids is).
    public func mintingIDs<T>(_ body: (() -> AnnotationID) throws -> T) throws -> T {
        var counter = config.counter
        let replicaID = ReplicaID(config.replica)
        let result = try body {
            counter += 1
            return AnnotationID(replica: replicaID, counter: counter)
        }
        config.counter = counter
        try saveConfig()
        return result
    }

    /// Makes sure no id of this replica used in `ops` is handed out again (for ops minted by a
    /// ``mintingIDs(_:)`` that will not get to save its counter, as when Ctrl-C ends a command).
    public func reserveIDs(through ops: [Op]) throws {
        let mine = ReplicaID(config.replica)
        let used = ops.compactMap { op -> UInt64? in
            guard case .create(let a) = op, a.id.replica == mine else { return nil }
            return a.id.counter
        }.max() ?? 0
        guard used > config.counter else { return }
        config.counter = used
        try saveConfig()
    }

    /// Records how to verify the server from now on: a pin, a CA file, or (both nil) the
    /// system's CA store (`gloss trust`).
    public func setTrust(pin: CertificateFingerprint?, caFile: String?) throws {
        config.pin = pin?.description
        config.caFile = caFile
        try saveConfig()
    }

    public func saveConfig() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try atomicWrite(encoder.encode(config), to: meta.appendingPathComponent("config.json"))
    }

    /// Records local ops as a pending changeset after checking them against the local view.
    ///
    /// - Parameter base: the revision the ops were made against (default: the replica's head);
    ///   an older one makes later revisions' changes to the same fields conflicts, as `revert` needs.
    /// - Parameter replica: the replica the changeset claims (default: this workspace's). Changes
    ///   a replica made itself never conflict with its own later work, so `revert` claims a
    ///   fresh one: undoing must conflict with every later change, yours included.
    @discardableResult
    public func commit(
        _ ops: [Op], texts: [TextDigest: String] = [:], message: String = "", base: Int? = nil,
        replica claimed: ReplicaID? = nil
    ) throws -> Changeset {
        let changeset = Changeset(
            author: config.user, replica: claimed ?? ReplicaID(config.replica), base: try base ?? replica.headRevision(),
            message: message,
            timestamp: Int64(Date().timeIntervalSince1970), ops: ops, texts: texts)
        // A string or list past the protocol's limits is refused now, by the same check the
        // server runs (the rebase below would find it too, after more work).
        try FieldLimits.v1.checkChangeset(message: message, opCount: ops.count, texts: texts.values)
        try FieldLimits.v1.check(ops: ops)
        // What the server would refuse for this user's role is refused now, not at push.
        if let rights = config.rights,
            let denial = try rights.check(changeset, head: { try replica.headEntry($0).map { ($0.annotation, $0.isLive) } })
        {
            throw WorkspaceError(.notPermitted, "\(denial); nothing was recorded")
        }
        // The same check the server runs, against the replica plus the earlier pending work:
        // with the earlier work's rebase at hand, only its ops on the documents this changeset
        // touches are checked again with it; otherwise the whole rebase, which names any culprit.
        let key = try rebaseKey()
        // The rebase after this changeset, to keep for the next command (nil: none to keep).
        let next: RebaseCache?
        if let cached = cachedRebase(for: key), let quick = try quickRebase(changeset, after: cached) {
            next = quick
        } else {
            let result = try rebase(try pending(in: key.files) + [changeset], newest: changeset)
            next = result.hasConflicts ? nil : try RebaseCache(key: key, changesets: result.changesets)
        }
        let file = try savePending(changeset, after: key.files.map(\.name))
        // It then stands for the files listed before plus this one. Were another process to
        // change the directory meanwhile, the next listing would not match that key: a key
        // that is not the directory's state only ever misses.
        if var next, let added = try PendingFile.named(file, in: pendingDirectory) {
            next.key.files.append(added)
            next.directory = nil
            keep(next)
        } else {
            forgetRebase()
        }
        return changeset
    }

    /// The rebase of `cache`'s pending work plus `changeset` when a check of the documents it
    /// touches is enough to know it: the changeset edits annotations (no document or schema
    /// changes), and it and the earlier pending ops on its documents, checked together, pass
    /// without conflicts. Nil otherwise: then only the whole rebase can say, and name a culprit.
    ///
    /// A changeset's check reads only the state of the documents it touches (and the schema),
    /// and the cached changesets are what the whole rebase accepted: applied again, they leave
    /// those documents exactly as the whole rebase does.
    private func quickRebase(_ changeset: Changeset, after cache: RebaseCache) throws -> RebaseCache? {
        var documents = Set<DocumentID>()
        for op in changeset.ops {
            switch op {
            case .create, .set, .delete: documents.insert(op.document!)
            case .addDocument, .removeDocument, .reviseText, .setSchema: return nil
            }
        }
        let earlier = try cache.changesets(touching: documents).map { pending in
            var relevant = pending
            relevant.ops = pending.ops.filter { op in op.document.map(documents.contains) ?? true }
            return relevant
        }
        let result: Rebaser.Result
        do {
            result = try replica.rebase(earlier + [changeset])
        } catch is ValidationError {
            return nil
        }
        guard !result.hasConflicts, let last = result.changesets.last, last.id == changeset.id else { return nil }
        var next = cache
        next.entries.append(try RebaseCache.Entry(last))
        // The counts of the documents it touches, counted again (their heads were just read).
        for document in documents where next.layers != nil {
            next.layers![document] = Self.layerCounts(
                try localState(of: document, pending: try next.changesets(touching: [document])))
        }
        return next
    }

    /// Rebases pending work; a changeset that breaks a rule of the corpus is named, with the
    /// way out (`gloss drop`), instead of failing every command that looks at the local view.
    private func rebase(_ changesets: [Changeset], newest: Changeset? = nil) throws -> Rebaser.Result {
        do {
            return try replica.rebase(changesets)
        } catch let error as ValidationError {
            // Find the first changeset that breaks it: a rare path, so rebase prefixes again.
            var culprit = changesets.count - 1
            for k in 0..<changesets.count where (try? replica.rebase(Array(changesets[...k]))) == nil {
                culprit = k
                break
            }
            if let newest, changesets[culprit].id == newest.id { throw error }
            let entry = (try? pendingEntries())?.first { $0.changeset.id == changesets[culprit].id }
            let name = entry.map { "#\($0.number)" } ?? "a pending change"
            throw WorkspaceError(
                .pendingInvalid,
                "your pending change \(name) (\(PendingEntry.summary(changesets[culprit]))) breaks a rule of the corpus: \(error); "
                    + "drop it with `gloss drop \(entry.map { String($0.number) } ?? "N")` (`gloss status` lists your pending changes)")
        }
    }

    /// Records the role and policy the server reported, for the checks ``commit(_:texts:message:base:replica:)`` makes.
    public func setRights(role: String, ownLayersOnly: Bool) throws {
        guard config.role != role || config.ownLayersOnly != ownLayersOnly else { return }
        config.role = role
        config.ownLayersOnly = ownLayersOnly
        try saveConfig()
    }

    /// Pending changesets, oldest first.
    public func pending() throws -> [Changeset] { try pendingEntries().map(\.changeset) }

    /// The pending changesets of listed files, in their order.
    private func pending(in files: [PendingFile]) throws -> [Changeset] {
        try pendingEntries(files.map(\.name)).map(\.changeset)
    }

    /// Pending changesets with the numbers `gloss status` shows and `gloss drop` takes.
    public func pendingEntries() throws -> [PendingEntry] {
        try pendingEntries(try pendingFiles().map(\.name))
    }

    private func pendingEntries(_ files: [String]) throws -> [PendingEntry] {
        let refusals = refusals()
        let directory = pendingDirectory.path
        return try files.map { name in
            // A path URL built without asking the file system whether it is a directory.
            let data = try Data(contentsOf: URL(fileURLWithPath: directory + "/" + name, isDirectory: false))
            let changeset: Changeset
            do {
                changeset = try Gloss_V1_Changeset(serializedBytes: data).changeset()
            } catch {
                throw WorkspaceError(
                    .corrupt, "pending changeset \(name) does not decode: \(error); `gloss drop \(Int(name.dropLast(3)) ?? 0)` removes it")
            }
            return PendingEntry(
                number: Int(name.dropLast(3)) ?? 0, file: name, changeset: changeset,
                refusal: refusals.isEmpty ? nil : refusals[changeset.id.description])
        }
    }

    // MARK: Refusals and dropping

    private var refusalsFile: URL { meta.appendingPathComponent("refused.json") }
    private var droppedDirectory: URL { meta.appendingPathComponent("dropped") }

    /// Why the server refused pending changesets, by changeset id.
    func refusals() -> [String: PendingEntry.Refusal] {
        guard let data = try? Data(contentsOf: refusalsFile) else { return [:] }
        return (try? JSONDecoder().decode([String: PendingEntry.Refusal].self, from: data)) ?? [:]
    }

    /// Remembers that the server refused a changeset, so `gloss status` can say so until it is
    /// dropped (the refusal holds back everything after it).
    public func recordRefusal(of changeset: ChangesetID, code: String, message: String) throws {
        var all = refusals()
        all[changeset.description] = PendingEntry.Refusal(code: code, message: message)
        try atomicWrite(JSONEncoder().encode(all), to: refusalsFile)
    }

    /// Removes pending changesets, keeping a copy of each in `.gloss/dropped/` (as git keeps
    /// what a reset discards reachable for a while). Returns what was dropped.
    @discardableResult
    public func drop(_ entries: [PendingEntry]) throws -> [URL] {
        try FileManager.default.createDirectory(at: droppedDirectory, withIntermediateDirectories: true)
        let stamp = Int(Date().timeIntervalSince1970)
        var kept: [URL] = []
        var all = refusals()
        for entry in entries {
            let target = droppedDirectory.appendingPathComponent("\(stamp)-\(entry.changeset.id.description.prefix(12)).cs")
            try? FileManager.default.removeItem(at: target)
            try FileManager.default.moveItem(at: pendingDirectory.appendingPathComponent(entry.file), to: target)
            all[entry.changeset.id.description] = nil
            kept.append(target)
        }
        forgetRebase()
        try atomicWrite(JSONEncoder().encode(all), to: refusalsFile)
        // Resolutions chosen for conflicts of dropped work no longer apply to anything.
        if try pendingEntries().isEmpty { try? FileManager.default.removeItem(at: resolutionsFile) }
        return kept
    }

    /// The pending entries named by number (`3`, `#3`) or by a unique prefix of the changeset id.
    public func pendingEntries(named names: [String]) throws -> [PendingEntry] {
        let entries = try pendingEntries()
        return try names.map { name in
            let trimmed = name.hasPrefix("#") ? String(name.dropFirst()) : name
            if let number = Int(trimmed), trimmed.count < 8, let entry = entries.first(where: { $0.number == number }) {
                return entry
            }
            return try Self.unique(
                trimmed, in: entries, id: \.changeset.id.description, missing: .unknownChangeset, what: "pending change",
                listedBy: "gloss status")
        }
    }

    /// The one item whose id starts with `prefix` (case ignored), as ids are named on the
    /// command line; a typed error when none or several match.
    static func unique<T>(
        _ prefix: String, in items: [T], id: (T) -> String, missing: WorkspaceError.Code, what: String, listedBy: String
    ) throws -> T {
        let matches = items.filter { id($0).hasPrefix(prefix.lowercased()) }
        guard matches.count == 1 else {
            throw WorkspaceError(
                matches.isEmpty ? missing : .ambiguous,
                matches.isEmpty
                    ? "no \(what) \(prefix); `\(listedBy)` lists them"
                    : "\(prefix) matches \(matches.count) \(what)s; give more characters")
        }
        return matches[0]
    }

    /// Removes the pending changesets the replica's history holds already: pushed, and come
    /// back in a pull (their acknowledgement may have been lost). The others stay as they are,
    /// file and all. Each removal is one unlink, so a process killed half-way leaves only
    /// landed changesets behind, which the next call removes: never unpushed work lost, never
    /// pushed work stuck as pending. Returns how many were removed.
    @discardableResult
    public func removeLanded() throws -> Int {
        let landed = try pendingEntries().filter { try replica.revisionNumber(of: $0.changeset.id) != nil }
        guard !landed.isEmpty else { return 0 }
        forgetRebase()
        for entry in landed {
            try FileManager.default.removeItem(at: pendingDirectory.appendingPathComponent(entry.file))
        }
        return landed.count
    }

    /// Replaces the pending changesets with new versions of them (resolutions folded in),
    /// matched by id: each file is rewritten in place by an atomic rename, a changeset left
    /// empty loses its file last, and one not pending before gets a new file. A process killed
    /// half-way leaves each changeset once, old or new, never none and never two.
    public func replacePending(_ changesets: [Changeset]) throws {
        // Files rewritten within one tick of the clock can keep their size and time: the cache
        // of the old ones must not outlive them.
        forgetRebase()
        let entries = try pendingEntries()
        var files = Dictionary(entries.map { ($0.changeset.id, $0.file) }, uniquingKeysWith: { first, _ in first })
        for changeset in changesets where !changeset.ops.isEmpty {
            if let file = files.removeValue(forKey: changeset.id) {
                let bytes: [UInt8] = try Gloss_V1_Changeset(changeset).serializedBytes()
                try atomicWrite(Data(bytes), to: pendingDirectory.appendingPathComponent(file))
            } else {
                try savePending(changeset)
            }
        }
        for file in files.values.sorted() {
            try FileManager.default.removeItem(at: pendingDirectory.appendingPathComponent(file))
        }
    }

    /// Writes a pending changeset as the next file after `existing` (default: those listed
    /// now); returns its name.
    @discardableResult
    private func savePending(_ changeset: Changeset, after existing: [String]? = nil) throws -> String {
        let existing = try existing ?? pendingFiles().map(\.name)
        let next = (existing.compactMap { Int($0.dropLast(3)) }.max() ?? 0) + 1
        // `%08d.cs`, without String(format:), whose first use costs milliseconds of Foundation set-up.
        let digits = String(next)
        let name = String(repeating: "0", count: max(0, 8 - digits.count)) + digits + ".cs"
        let bytes: [UInt8] = try Gloss_V1_Changeset(changeset).serializedBytes()
        try atomicWrite(Data(bytes), to: pendingDirectory.appendingPathComponent(name))
        return name
    }

    // MARK: Conflicts

    /// The pending changesets rebased on the replica's head, with the conflicts that hold
    /// part of them back.
    ///
    /// Read from `.gloss/rebased` while the replica's head and the pending files are the ones
    /// it was computed from; otherwise computed and, without conflicts, kept there.
    public func rebased() throws -> Rebaser.Result { try rebasedWork().result() }

    /// The rebase, from the cache (decoding only what is asked of it) or computed and kept.
    func rebasedWork() throws -> RebasedWork {
        let key = try rebaseKey()
        if let cached = cachedRebase(for: key) { return RebasedWork(cache: cached, computed: nil) }
        // Listed before they are read: a file rewritten meanwhile makes the key stale, never
        // the cache wrong.
        let result = try rebase(try pending(in: key.files))
        remember(result, key: key)
        return RebasedWork(cache: rebaseMemo, computed: result)
    }

    /// The replica's head as derived files are stamped with.
    func replicaStamp() throws -> ReplicaStamp {
        try replicaStamp(at: try replica.headRevision())
    }

    func replicaStamp(at revision: Int) throws -> ReplicaStamp {
        guard revision > 0 else { return ReplicaStamp(revision: 0) }
        return ReplicaStamp(revision: revision, changeset: try replica.revisions(after: revision - 1, through: revision).first?.changeset)
    }

    /// The pending files, listed again only when the directory may have changed since the
    /// last listing (see ``PendingListing``).
    private func pendingFiles() throws -> [PendingFile] {
        let directory = try PendingListing.Stamp(of: pendingDirectory)
        if let memo = listingMemo, memo.stillHolds(for: directory) { return memo.files }
        // The listing the kept rebase was made from, while it holds: no pending file to stat.
        if let kept = storedRebase()?.listing, kept.stillHolds(for: directory) {
            listingMemo = kept
            return kept.files
        }
        let listing = PendingListing(directory: directory, files: try PendingFile.listing(of: pendingDirectory))
        listingMemo = listing
        return listing.files
    }

    func rebaseKey() throws -> RebaseCache.Key {
        RebaseCache.Key(replica: try replicaStamp(), files: try pendingFiles())
    }

    /// The kept rebase, whatever it was made from.
    private func storedRebase() -> RebaseCache? {
        if rebaseMemo == nil { rebaseMemo = RebaseCache.load(from: rebaseCacheFile) }
        return rebaseMemo
    }

    /// The cached rebase of exactly `key`, if there is one.
    func cachedRebase(for key: RebaseCache.Key) -> RebaseCache? {
        var cache: RebaseCache
        if let memo = rebaseMemo, memo.key == key {
            cache = memo
        } else if let loaded = RebaseCache.load(from: rebaseCacheFile), loaded.key == key {
            cache = loaded
            rebaseMemo = loaded
        } else {
            return nil
        }
        // Listed afresh, and settled: kept with that listing, so the next command stats no file.
        if let listing = settledListing(of: key), !(cache.directory.map(listing.directory.matches) ?? false) {
            cache.directory = listing.directory
            keep(cache)
        }
        return cache
    }

    /// This process's listing of the pending files when it is the one `key` names and settled.
    private func settledListing(of key: RebaseCache.Key) -> PendingListing? {
        guard let listing = listingMemo, listing.isSettled, listing.files == key.files else { return nil }
        return listing
    }

    /// Keeps a rebase for the next command; one with conflicts is not kept (it is recomputed).
    private func remember(_ result: Rebaser.Result, key: RebaseCache.Key) {
        guard !result.hasConflicts, var cache = try? RebaseCache(key: key, changesets: result.changesets) else {
            return forgetRebase()
        }
        cache.directory = settledListing(of: key)?.directory
        keep(cache)
    }

    /// Keeps a cache for this process and the next command.
    func keep(_ cache: RebaseCache) {
        rebaseMemo = cache
        // Derived: a workspace whose cache cannot be written still works, only slower.
        try? cache.save(to: rebaseCacheFile)
    }

    private func forgetRebase() {
        rebaseMemo = nil
        try? FileManager.default.removeItem(at: rebaseCacheFile)
    }

    /// Conflicts not yet resolved.
    public func conflicts() throws -> [Conflict] {
        let resolved = try resolutions()
        return try rebasedWork().conflicts.values.flatMap { $0 }.filter { resolved[$0.id] == nil }
    }

    /// Chooses how to settle a conflict, named by a unique prefix of its id.
    public func resolve(_ prefix: String, with resolution: Resolution) throws -> Conflict {
        let conflict = try Self.unique(
            prefix, in: try rebased().conflicts.values.flatMap { $0 }, id: \.id, missing: .unknownConflict,
            what: "conflict", listedBy: "gloss conflicts")
        // Refuse a resolution that does not fit now, or that breaks a rule of the corpus (a
        // value the schema does not allow): recorded, it would poison every later command.
        let ops = try conflict.ops(resolving: resolution)
        let result = try rebased()
        var trial = result.changesets
        if let index = trial.firstIndex(where: { result.conflicts[$0.id]?.contains { $0.id == conflict.id } == true }) {
            trial[index].ops += ops
            do {
                _ = try replica.rebase(trial)
            } catch let error as ValidationError {
                throw WorkspaceError(.invalidResolution, "cannot resolve \(conflict.id.prefix(8)) that way: \(error.message); nothing was recorded")
            }
        }
        var stored = try resolutions()
        stored[conflict.id] = StoredResolution(resolution)
        try atomicWrite(JSONEncoder().encode(stored), to: resolutionsFile)
        return conflict
    }

    /// When every conflict has a resolution, folds them into the pending changesets (now based
    /// on the head) and clears them. Returns the conflicts still unresolved otherwise.
    @discardableResult
    public func applyResolutions() throws -> [Conflict] {
        let result = try rebased()
        let stored = try resolutions()
        let open = result.conflicts.values.flatMap { $0 }.filter { stored[$0.id] == nil }
        guard open.isEmpty else { return open }
        // Nothing to fold in: the pending files stay as they are (a push rebases in memory).
        guard !result.conflicts.isEmpty else {
            // Resolutions of conflicts that no longer arise apply to nothing.
            if !stored.isEmpty { try? FileManager.default.removeItem(at: resolutionsFile) }
            return []
        }
        var changesets = result.changesets
        for (index, changeset) in changesets.enumerated() {
            for conflict in result.conflicts[changeset.id] ?? [] {
                changesets[index].ops += try conflict.ops(resolving: stored[conflict.id]!.resolution)
            }
        }
        try replacePending(changesets)
        try? FileManager.default.removeItem(at: resolutionsFile)
        return []
    }

    private func resolutions() throws -> [String: StoredResolution] {
        guard let data = try? Data(contentsOf: resolutionsFile) else { return [:] }
        return try JSONDecoder().decode([String: StoredResolution].self, from: data)
    }

    private func atomicWrite(_ data: Data, to url: URL) throws {
        try data.write(to: url, options: .atomic)
    }
}

/// A resolution as `resolutions.json` keeps it.
struct StoredResolution: Codable {
    var choice: String
    var value: String?

    init(_ resolution: Resolution) {
        switch resolution {
        case .mine: choice = "mine"
        case .theirs: choice = "theirs"
        case .value(.string(let s)): (choice, value) = ("value", s)
        case .value(.reference(let id)): (choice, value) = ("reference", id.description)
        case .value(.ranges(let r)): (choice, value) = ("ranges", r.map(\.description).joined(separator: ","))
        case .value(.none): choice = "none"
        case .value(.anchor(let a)):
            (choice, value) = ("anchor", a.text.hex + " " + a.ranges.map(\.description).joined(separator: ","))
        }
    }

    var resolution: Resolution {
        switch choice {
        case "mine": return .mine
        case "theirs": return .theirs
        case "reference": return .value(value.flatMap(AnnotationID.init).map(FieldValue.reference) ?? .none)
        case "ranges": return .value(.ranges(RangeList.parse(value ?? "") ?? []))
        case "none": return .value(.none)
        case "anchor":
            let parts = (value ?? "").split(separator: " ", maxSplits: 1).map(String.init)
            guard parts.count == 2, let digest = TextDigest(hex: parts[0]), let ranges = RangeList.parse(parts[1]) else {
                return .value(.none)
            }
            return .value(.anchor(TextAnchor(text: digest, ranges: ranges)))
        default: return .value(.string(value ?? ""))
        }
    }
}

/// `S-E[,S-E]` range lists as the CLI writes them.
public enum RangeList {
    public static func parse(_ text: String) -> [TextRange]? {
        var out: [TextRange] = []
        for part in text.split(separator: ",") {
            let bounds = part.split(separator: "-")
            guard bounds.count == 2, let s = Int(bounds[0]), let e = Int(bounds[1]) else { return nil }
            out.append(TextRange(s, e))
        }
        return out.isEmpty ? nil : out
    }
}

/// A workspace problem, with what to do about it.
public struct WorkspaceError: Error, Sendable, CustomStringConvertible {
    public typealias Code = ErrorCode<WorkspaceError>
    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}

extension ErrorCode where Domain == WorkspaceError {
    public static let notAWorkspace = Self(rawValue: "not-a-workspace")
    public static let alreadyExists = Self(rawValue: "already-exists")
    public static let corrupt = Self(rawValue: "corrupt")
    public static let io = Self(rawValue: "io")
    public static let unknownConflict = Self(rawValue: "unknown-conflict")
    public static let unknownAnnotation = Self(rawValue: "unknown-annotation")
    public static let ambiguous = Self(rawValue: "ambiguous")
    public static let conflictsPending = Self(rawValue: "conflicts-pending")
    /// The token authenticates another user than the one the workspace belongs to.
    public static let wrongUser = Self(rawValue: "wrong-user")
    /// A document, revision or range the workspace does not have.
    public static let unknownDocument = Self(rawValue: "unknown-document")
    public static let unknownRevision = Self(rawValue: "unknown-revision")
    /// A role that may not make this change (checked before it is recorded).
    public static let notPermitted = Self(rawValue: "not-permitted")
    /// A pending changeset that breaks a rule of the corpus.
    public static let pendingInvalid = Self(rawValue: "pending-invalid")
    /// A resolution whose value the schema or the data model does not allow.
    public static let invalidResolution = Self(rawValue: "invalid-resolution")
    public static let unknownChangeset = Self(rawValue: "unknown-changeset")
    /// A layer or label named on the command line that no annotation here carries.
    public static let unknownLayer = Self(rawValue: "unknown-layer")
    /// A revision `revert` cannot undo (a schema change).
    public static let cannotRevert = Self(rawValue: "cannot-revert")
}
