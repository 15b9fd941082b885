import Foundation
import GlossModel
import GlossStore
import GlossStoreSQLite
import GlossWire

/// Pull, rebase, push and retry, between a ``Workspace`` and its server.
public struct SyncEngine: Sendable {
    public let workspace: Workspace
    public let connection: ClientConnection

    public init(workspace: Workspace, connection: ClientConnection) {
        self.workspace = workspace
        self.connection = connection
    }

    public struct PullSummary: Sendable {
        public var revisions = 0
        public var head = 0
        /// Our pending changesets that came back as revisions (pushed before, acknowledgement lost).
        public var acknowledged = 0
        /// Documents the server sent as a snapshot because that was smaller than their deltas.
        public var snapshots = 0
        /// Revisions made by others: what "pulled N" reports (our own acknowledged pushes that
        /// come back are not news).
        public var othersRevisions: Int { revisions - acknowledged }
    }

    public struct PushSummary: Sendable {
        public var accepted: [Int] = []
        public var duplicates = 0
        /// True when the server refused a changeset because of revisions we have not pulled.
        public var refused = false
    }

    public struct SyncSummary: Sendable {
        public var pulled = 0
        public var pushed = 0
        /// Conflicts waiting for `gloss resolve`.
        public var conflicts: [Conflict] = []
        public var head = 0
    }

    /// Clones a corpus into `directory`: a new workspace whose replica holds the whole history.
    ///
    /// All or nothing: the corpus is looked up before anything is created, the workspace is
    /// built in a ``CloneStaging`` directory and moved into place as the last step, and a
    /// failure or cancellation (the task cancelled on Ctrl-C) removes whatever the clone made.
    /// `directory` must be missing or empty.
    public static func clone(
        url: GlossURL, into directory: URL, connection: ClientConnection, pin: CertificateFingerprint?, caFile: String?,
        token: String?, progress: (@Sendable (TransferProgress) -> Void)? = nil
    ) async throws -> Workspace {
        try CloneStaging.checkTarget(directory)
        // A corpus that does not exist (or that this user cannot see) fails here, with nothing made.
        _ = try await connection.request(.with { $0.listDocuments = .with { $0.corpus = url.corpus } })
        try Task.checkCancellation()
        let config = WorkspaceConfig(
            url: url.description, pin: pin?.description, caFile: caFile, user: connection.user,
            replica: ReplicaID.random().rawValue)
        let staging = try CloneStaging.begin(at: directory)
        do {
            try await fillStaged(staging.root, corpus: url.corpus, config: config, token: token, connection: connection, progress: progress)
            try Task.checkCancellation()  // a stream cut short by cancellation must not land
            try staging.commit()
        } catch {
            staging.discard()
            throw error
        }
        return try Workspace.open(containing: staging.target)
    }

    /// Builds the workspace in the staging directory and closes its replica: the store is
    /// dropped on return, so SQLite has closed its files before the directory is renamed.
    private static func fillStaged(
        _ root: URL, corpus: String, config: WorkspaceConfig, token: String?, connection: ClientConnection,
        progress: (@Sendable (TransferProgress) -> Void)?
    ) async throws {
        let built = root.appendingPathComponent("replica.installing")
        try await installClone(of: corpus, into: built, connection: connection, progress: progress)
        try Task.checkCancellation()
        let workspace: Workspace
        do {
            workspace = try Workspace.create(at: root, config: config, token: token, replica: built)
        } catch let error as CocoaError {
            throw WorkspaceError(.io, "cannot write the workspace in \(root.path): \(CloneStaging.reason(of: error))")
        }
        // Known from the start, so that a fresh workspace refuses what the role cannot do.
        try await SyncEngine(workspace: workspace, connection: connection).refreshRights()
    }

    /// Receives a CLONE stream into a new replica database at `file` (``ReplicaInstaller``):
    /// the server's blobs are written as they come, then each document's head is built and
    /// checked; revisions keep their numbers and metadata. A live document whose chain starts
    /// at a snapshot arrives as that snapshot just before its revision, and the replica records
    /// the revisions before it as a history gap.
    static func installClone(
        of corpus: String, into file: URL, connection: ClientConnection, progress: (@Sendable (TransferProgress) -> Void)?
    ) async throws {
        let backend: SQLiteBulkBackend
        do {
            backend = try SQLiteBulkBackend(path: file.path)
        } catch let error as StoreError {
            throw WorkspaceError(.io, "cannot write the replica: \(error.message)")
        }
        let installer = try ReplicaInstaller(into: CorpusStore(backend: backend))
        let end = try await Self.streamItems(.with { $0.clone = .with { $0.corpus = corpus } }, connection, progress) { body in
            switch body {
            case .text(let t):
                guard let digest = TextDigest(bytes: Array(t.digest)) else {
                    throw ClientError(.protocolViolation, "bad text digest")
                }
                try installer.text(digest: digest, rawLength: try Self.length(t.rawLength, of: "text \(digest)"), deflated: Array(t.deflated))
            case .snapshot(let blob):
                try installer.snapshot(Self.storedSnapshot(blob))
            case .revision(let r):
                let (revision, deltas) = try Self.revision(r)
                try installer.revision(revision, deltas: deltas)
            case .progress, .schema:
                break
            }
        }
        try installer.finish(head: try Self.wire(end.streamEnd.headRevision, "the head revision"))
        try backend.close()
    }

    /// Applies a PULL stream to the replica, revision by revision, in batches. A
    /// snapshot sent in place of a document's deltas becomes the ops that take the replica's
    /// copy of the document to it, applied at the snapshot's revision; the replica records the
    /// revisions it skipped (after `since`) as a history gap.
    private func receive(
        _ request: Gloss_V1_Request, since: Int, into summary: inout PullSummary, progress: (@Sendable (TransferProgress) -> Void)?
    ) async throws -> Gloss_V1_Response {
        let replica = workspace.replica
        var texts: [TextDigest: String] = [:]
        var snapshots: [Int: [StoredBlob]] = [:]
        var batch: [CorpusStore.PulledRevision] = []
        var applied = 0
        var snapshotCount = 0
        func flush() throws {
            try replica.applyPulled(batch)
            applied += batch.count
            batch.removeAll()
        }
        let end = try await Self.streamItems(request, connection, progress) { body in
            switch body {
            case .text(let t):
                let (digest, text) = try Self.text(t)
                texts[digest] = text
            case .snapshot(let blob):
                let stored = try Self.storedSnapshot(blob)
                snapshots[stored.revision, default: []].append(stored)
                snapshotCount += 1
            case .revision(let r):
                var pulled = try Self.pulledRevision(r, texts: texts)
                if let due = snapshots.removeValue(forKey: pulled.revision.number) {
                    try flush()  // the replica must stand just before this revision
                    var ops: [Op] = []
                    for snapshot in due {
                        guard let document = snapshot.document else { continue }
                        var target = DocumentState()
                        for op in try snapshot.ops() { try target.apply(op) }
                        let known = try replica.document(document) != nil
                        let current = known ? try replica.reconstruct(document, at: pulled.revision.number - 1) : DocumentState()
                        ops += current.ops(toReach: target)
                        pulled.catchUps[document] = since
                    }
                    for case .addDocument(let d) in ops { pulled.texts[d.digest] = texts[d.digest] }
                    // Those documents' ops now differ from the server's deltas: encode them anew.
                    for snapshot in due { pulled.storedDeltas[snapshot.document] = nil }
                    pulled.ops = ops + pulled.ops
                }
                batch.append(pulled)
                if batch.count >= 256 { try flush() }
            case .progress, .schema:
                break
            }
        }
        try flush()
        summary.revisions += applied
        summary.snapshots += snapshotCount
        summary.head = try Self.wire(end.streamEnd.headRevision, "the head revision")
        return end
    }

    /// Runs a CLONE or PULL stream, handing each item's body to `body` and reporting progress:
    /// bytes as they arrive (so a slow link shows movement between the server's progress items,
    /// one per page of revisions) and the server's count of revisions.
    private static func streamItems(
        _ request: Gloss_V1_Request, _ connection: ClientConnection, _ progress: (@Sendable (TransferProgress) -> Void)?,
        _ body: (Gloss_V1_StreamItem.OneOf_Body) throws -> Void
    ) async throws -> Gloss_V1_Response {
        var received = 0
        var (done, total) = (0, 0)
        return try await connection.streaming(request) { event in
            guard case .item(let bytes) = event else { return }
            received += bytes.readableBytes
            progress?(TransferProgress(revisions: done, total: total, bytes: received))
            guard let item = try Gloss_V1_StreamItem(serializedBytes: Array(bytes.readableBytesView)).body else { return }
            if case .progress(let p) = item {
                (done, total) = (Int(clamping: p.done), Int(clamping: p.total))
                progress?(TransferProgress(revisions: done, total: total, bytes: received))
            }
            try body(item)
        }
    }

    static func storedSnapshot(_ blob: Gloss_V1_StoredBlob) throws -> StoredBlob {
        StoredBlob(
            kind: .snapshot, revision: try Self.wire(blob.revision, "a snapshot's revision"), document: DocumentID(storedRawValue: blob.document),
            rawLength: try Self.length(blob.rawLength, of: "a stored blob"), data: Array(blob.deflated))
    }

    static func text(_ t: Gloss_V1_StoredText) throws -> (TextDigest, String) {
        guard let digest = TextDigest(bytes: Array(t.digest)) else { throw ClientError(.protocolViolation, "bad text digest") }
        let raw = try BlobCompression.decompress(
            Array(t.deflated), expectedLength: try Self.length(t.rawLength, of: "text \(digest)"), what: "text \(digest)")
        guard let text = String(validating: raw, as: UTF8.self), TextDigest(of: text) == digest else {
            throw ClientError(.protocolViolation, "the server sent a text that does not match its digest \(digest)")
        }
        return (digest, text)
    }

    /// Brings the replica up to the server's head; pending work is rebased lazily (conflicts
    /// are recomputed from it).
    @discardableResult
    public func pull(progress: (@Sendable (TransferProgress) -> Void)? = nil, refreshingRights: Bool = true) async throws
        -> PullSummary
    {
        if refreshingRights { try await refreshRights() }
        let corpus = try workspace.url.corpus
        let since = try workspace.replica.headRevision()
        var summary = PullSummary()
        _ = try await receive(
            .with {
                $0.pull = .with {
                    $0.corpus = corpus
                    $0.sinceRevision = UInt64(since)
                }
            }, since: since, into: &summary, progress: progress)
        // Pending changesets the server already accepted (their acknowledgement was lost)
        // came back in this pull or an earlier one (that a kill cut short): history now.
        summary.acknowledged = try workspace.removeLanded()
        return summary
    }

    /// A raw length the server sent, refused (not trapped on) when no buffer could have it.
    static func length(_ raw: UInt64, of what: String) throws -> Int {
        guard let length = Int(exactly: raw), length < Int.max else {
            throw ClientError(.protocolViolation, "the server sent \(what) with an impossible raw length, \(raw) bytes")
        }
        return length
    }

    /// A number the server sent (a revision, a count), refused rather than trapped on when it
    /// does not fit an Int.
    static func wire(_ value: UInt64, _ what: @autoclosure () -> String) throws -> Int {
        guard let number = Int(exactly: value) else {
            throw ClientError(.protocolViolation, "the server sent \(what()) of \(value), past any this client can hold")
        }
        return number
    }

    static func pulledRevision(_ r: Gloss_V1_RevisionData, texts: [TextDigest: String]) throws -> CorpusStore.PulledRevision {
        let (revision, deltas) = try Self.revision(r)
        var ops: [Op] = []
        var storedDeltas: [DocumentID?: StoredBlob] = [:]
        for stored in deltas {
            ops += try stored.ops()
            storedDeltas[stored.document] = stored
        }
        var needed: [TextDigest: String] = [:]
        for digest in ops.compactMap(\.namedText) { needed[digest] = texts[digest] }
        return CorpusStore.PulledRevision(revision: revision, ops: ops, texts: needed, storedDeltas: storedDeltas)
    }

    /// A revision item's metadata and its deltas as the server stored them (not decoded).
    static func revision(_ r: Gloss_V1_RevisionData) throws -> (Revision, [StoredBlob]) {
        guard let id = ChangesetID(bytes: Array(r.changesetID)) else { throw ClientError(.protocolViolation, "bad changeset id") }
        let deltas = try r.deltas.map { blob in
            StoredBlob(
                kind: .delta, revision: try Self.wire(r.number, "a revision number"), document: blob.document.isEmpty ? nil : DocumentID(storedRawValue: blob.document),
                rawLength: try Self.length(blob.rawLength, of: "a stored blob"), data: Array(blob.deflated))
        }
        var revision = Revision(
            number: try Self.wire(r.number, "a revision number"), changeset: id, author: r.author, replica: ReplicaID(r.replica), base: try Self.wire(r.base, "a revision's base"),
            message: r.message, timestamp: r.timestamp, opCount: try Self.wire(r.opCount, "a revision's op count"))
        // A server that does not count ops: count them (rare, and only then decoded).
        if r.opCount == 0, !deltas.isEmpty { revision.opCount = try deltas.reduce(0) { $0 + (try $1.ops().count) } }
        return (revision, deltas)
    }

    /// Pushes pending changesets in order. Requires every conflict resolved; stops at the first
    /// refusal (another push won the race: pull and try again).
    public func push() async throws -> PushSummary {
        let open = try workspace.applyResolutions()
        guard open.isEmpty else {
            throw WorkspaceError(.conflictsPending, "\(open.count) conflict(s) need resolving first: see `gloss conflicts`")
        }
        let corpus = try workspace.url.corpus
        var summary = PushSummary()
        var pending = try workspace.rebased().changesets
        while let changeset = pending.first {
            let response: Gloss_V1_Response
            do {
                response = try await connection.request(
                    .with {
                        $0.push = .with {
                            $0.corpus = corpus
                            $0.changeset = Gloss_V1_Changeset(changeset)
                        }
                    })
            } catch let error as ClientError where error.server?.code == .permissionDenied {
                // Kept, so that `gloss status` shows it until it is dropped: it holds back the rest.
                try workspace.recordRefusal(of: changeset.id, code: error.server!.code.rawValue, message: error.server!.message)
                throw ClientError(
                    WireError(
                        .permissionDenied,
                        "the server refused your pending change \(try pendingName(changeset)): \(error.server!.message); "
                            + "drop it with `gloss drop \(try pendingNumber(changeset))` (`gloss status` shows what is pending)"))
            }
            switch response.push.outcome {
            case .acceptedRevision(let r):
                summary.accepted.append(Int(r))
            case .duplicateRevision:
                summary.duplicates += 1
            case .conflicts:
                summary.refused = true
                return summary
            case .invalid(let invalid):
                try workspace.recordRefusal(of: changeset.id, code: invalid.code, message: invalid.message)
                throw ClientError(
                    .server,
                    "the server refused your pending change \(try pendingName(changeset)): \(invalid.code): \(invalid.message); "
                        + "drop it with `gloss drop \(try pendingNumber(changeset))` (`gloss status` shows what is pending)")
            case nil:
                throw ClientError(.protocolViolation, "the push response has no outcome")
            }
            // Accepted: it stays pending until the pull that brings it back, so a lost
            // acknowledgement can never lose it.
            pending.removeFirst()
        }
        return summary
    }

    private func pendingNumber(_ changeset: Changeset) throws -> String {
        try workspace.pendingEntries().first { $0.changeset.id == changeset.id }.map { String($0.number) } ?? "N"
    }

    private func pendingName(_ changeset: Changeset) throws -> String {
        "#\(try pendingNumber(changeset)) (\(PendingEntry.summary(changeset)))"
    }

    /// Asks the server for this user's role and the corpus policy, and records them, so that
    /// local commands refuse what the server would.
    public func refreshRights() async throws {
        let corpus = try workspace.url.corpus
        let response = try await connection.request(.with { $0.listCorpora = .init() })
        guard let info = response.listCorpora.corpora.first(where: { $0.name == corpus }) else { return }
        let role: String
        switch info.role {
        case .viewer: role = "viewer"
        case .annotator: role = "annotator"
        case .curator: role = "curator"
        case .owner: role = "owner"
        default: return
        }
        try workspace.setRights(role: role, ownLayersOnly: info.policy == .own)
    }

    /// Pull, rebase, push; when another push won the race, pull and retry.
    public func sync(maxAttempts: Int = 5) async throws -> SyncSummary {
        var summary = SyncSummary()
        // Once per sync, not once per pull of each attempt.
        try await refreshRights()
        for _ in 0..<maxAttempts {
            summary.pulled += try await pull(refreshingRights: false).othersRevisions
            let open = try workspace.applyResolutions()
            if !open.isEmpty {
                summary.conflicts = open
                summary.head = try workspace.replica.headRevision()
                return summary
            }
            let pushed = try await push()
            summary.pushed += pushed.accepted.count
            if !pushed.refused {
                summary.pulled += try await pull(refreshingRights: false).othersRevisions
                summary.head = try workspace.replica.headRevision()
                summary.conflicts = try workspace.conflicts()
                return summary
            }
        }
        throw ClientError(.server, "sync gave up after \(maxAttempts) attempts: the corpus is very busy; try again")
    }
}

/// How far a clone or pull has got: revisions applied of the total the server announced, and
/// the bytes received so far.
public struct TransferProgress: Sendable {
    public var revisions: Int
    public var total: Int
    public var bytes: Int
}

/// A new revision the server announced to a subscriber (`gloss watch`).
public struct RevisionNotice: Sendable {
    public var revision: Int
    public var author: String
    public var summary: String
    public var documents: [DocumentID]
    public var message: String
}

extension SyncEngine {
    /// Subscribes to the corpus's new revisions and hands each to `onNotice` until the task is
    /// cancelled or the server ends the subscription. `onConfirmed` gets the head at subscription.
    public func watch(
        onConfirmed: @Sendable (Int) async throws -> Void = { _ in },
        onNotice: @Sendable (RevisionNotice) async throws -> Void
    ) async throws {
        let corpus = try workspace.url.corpus
        let request = Gloss_V1_Request.with { $0.subscribe = .with { $0.corpus = corpus } }
        _ = try await connection.streaming(request) { event in
            switch event {
            case .interim(let response):
                try await onConfirmed(try Self.wire(response.subscribe.headRevision, "the head revision"))
            case .item(let bytes):
                let note = try Gloss_V1_Notification(serializedBytes: Array(bytes.readableBytesView))
                try await onNotice(
                    RevisionNotice(
                        revision: try Self.wire(note.revision, "a notification's revision"), author: note.author, summary: note.summary,
                        documents: note.documents.map(DocumentID.init(storedRawValue:)), message: note.message))
            }
        }
    }
}
