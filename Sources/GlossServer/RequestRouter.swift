import Foundation
import GlossModel
import GlossStore
import GlossWire
import NIOCore

/// Runs authenticated requests: checks the caller's role, reads or writes the corpus, and
/// answers. Independent of sockets: the connection hands it a ``ResponseSink``.
public struct RequestRouter: Sendable {
    public let accounts: AccountStore
    public let corpora: CorpusRegistry
    /// Subscribers to new revisions: the registry's, fed by its committers or, on a shared
    /// database, by ``PeerRevisionRelay``.
    public var broadcaster: RevisionBroadcaster { corpora.broadcaster }
    /// Users' roles and corpus policies, re-read only when the account store says they changed.
    let rights: RightsCache
    /// Revisions per page when streaming history: bounds what a clone holds in memory.
    public var pageSize = 500

    public init(accounts: AccountStore, corpora: CorpusRegistry) {
        self.accounts = accounts
        self.corpora = corpora
        self.rights = RightsCache(accounts: accounts)
    }

    /// Handles one request and returns its final response; request-level failures throw a
    /// ``WireError`` (any other error becomes `internal`). `readsTextRevisions`: whether the
    /// client announced the `text-revisions` capability; one that did not is refused a clone or
    /// pull whose stream would hold a text revision (`upgrade-required`), never sent ops it
    /// cannot read.
    public func handle(
        _ request: Gloss_V1_Request, user: String, sink: any ResponseSink, readsTextRevisions: Bool = true
    ) async throws -> Gloss_V1_Response {
        do {
            switch request.body {
            case .listCorpora: return try await offload { try listCorpora(user: user) }
            case .listDocuments(let r): return try await offload { try listDocuments(r, user: user) }
            case .clone(let r):
                if !readsTextRevisions { try await refuseTextRevisions(r.corpus, after: 0, user: user) }
                return try await clone(r, user: user, sink: sink)
            case .pull(let r):
                if !readsTextRevisions { try await refuseTextRevisions(r.corpus, after: Int(clamping: r.sinceRevision), user: user) }
                return try await pull(r, user: user, sink: sink)
            case .push(let r): return try await push(r, user: user)
            case .subscribe(let r): return try await subscribe(r, user: user, sink: sink)
            case .createCorpus(let r): return try await createCorpus(r, user: user)
            case .grant(let r): return try await offload { try grant(r, user: user) }
            case .auth: throw WireError(.protocolError, "this connection is already authenticated")
            case nil: throw WireError(.badMessage, "the request has no body this server knows")
            }
        } catch let error as WireError {
            throw error
        } catch is CancellationError {
            throw CancellationError()
        } catch let error as AccountError {
            throw Self.wireError(error)
        } catch let error as any StorageFailure where error.isRetryable {
            throw Self.storageUnavailable(error.message)
        } catch {
            throw WireError(.internal, "the server failed: \(error)")
        }
    }

    // MARK: Listing

    private func listCorpora(user: String) throws -> Gloss_V1_Response {
        var list = Gloss_V1_ListCorporaResponse()
        for (record, role) in try accounts.corpora(visibleTo: user) {
            let store = try corpora.handle(for: record.name).store
            list.corpora.append(
                Gloss_V1_CorpusInfo.with {
                    $0.name = record.name
                    $0.role = role.wire
                    $0.headRevision = UInt64((try? store.headRevision()) ?? 0)
                    $0.documents = UInt32((try? store.liveDocumentCount()) ?? 0)
                    $0.policy = record.policy.wire
                })
        }
        return .with { $0.listCorpora = list }
    }

    private func listDocuments(_ r: Gloss_V1_ListDocumentsRequest, user: String) throws -> Gloss_V1_Response {
        let (handle, _) = try open(r.corpus, user: user, needs: .viewer)
        var list = Gloss_V1_ListDocumentsResponse()
        list.headRevision = UInt64(try handle.store.headRevision())
        list.documents = try handle.store.documents().filter(\.isLive).map(Self.documentInfo)
        return .with { $0.listDocuments = list }
    }

    // MARK: Clone and pull

    /// Schema, then the revisions in order, each preceded by the texts of the documents added
    /// there, and carrying every delta of the documents live at the head since they were last
    /// added: the whole history a replica needs to show any of their revisions, as `git clone`
    /// carries every commit. Both sides hold one page of revisions and one document at a time,
    /// so a corpus larger than memory still clones.
    private func clone(_ r: Gloss_V1_CloneRequest, user: String, sink: any ResponseSink) async throws
        -> Gloss_V1_Response
    {
        let (handle, _) = try await offload { try open(r.corpus, user: user, needs: .viewer) }
        let store = handle.store
        let (head, schema) = try await offload { (try store.headRevision(), try schemaItem(store)) }
        try await sink.stream(item { $0.schema = schema })
        // Where each live document's history starts: metadata only, no blobs yet.
        let plan = try await offload { try Self.clonePlan(store, head: head) }
        var sentTexts: Set<TextDigest> = []
        try await streamRevisions(store, after: 0, through: head, sink: sink) { blob in
            guard let document = blob.document else { return true }
            guard let first = plan.firstDelta[document] else { return false }  // removed since
            return blob.revision >= first
        } before: { revision in
            for digest in plan.textsDue[revision] ?? [] where sentTexts.insert(digest).inserted {
                try await sink.stream(try await offload { try textItem(store, digest) })
            }
        }
        return .with { $0.streamEnd = .with { $0.headRevision = UInt64(head) } }
    }

    /// Where each live document's history starts, and the revision before which its texts go out.
    struct ClonePlan: Sendable {
        var firstDelta: [DocumentID: Int] = [:]
        var textsDue: [Int: [TextDigest]] = [:]
    }

    static func clonePlan(_ store: CorpusStore, head: Int) throws -> ClonePlan {
        var plan = ClonePlan()
        for (doc, first, texts) in try store.historyStarts(through: head) {
            plan.firstDelta[doc.document.id] = first
            plan.textsDue[first, default: []] += texts
        }
        return plan
    }

    /// Refuses a client that does not read text revisions the revisions after `after` of a corpus
    /// whose documents have some there.
    private func refuseTextRevisions(_ corpus: String, after: Int, user: String) async throws {
        let (handle, _) = try await offload { try open(corpus, user: user, needs: .viewer) }
        let store = handle.store
        guard let revised = try await offload({ try store.documentsRevised(after: after) }).first else { return }
        throw WireError(
            .upgradeRequired,
            "corpus \(corpus) has text revisions (the text of \(revised.document.id) changed in revision "
                + "\(revised.textRevisedAt ?? 0)), which this client cannot read: upgrade gloss")
    }

    /// The revisions after `since`, with the texts their new documents need.
    private func pull(_ r: Gloss_V1_PullRequest, user: String, sink: any ResponseSink) async throws
        -> Gloss_V1_Response
    {
        let (handle, _) = try await offload { try open(r.corpus, user: user, needs: .viewer) }
        let store = handle.store
        let head = try await offload { try store.headRevision() }
        guard r.sinceRevision <= UInt64(head) else {
            throw WireError(
                .notFound,
                "revision \(r.sinceRevision) is past the head (\(head)): the server was restored from an older backup, "
                    + "or this replica belongs to another server; clone again (unpushed work stays in the old .gloss/pending)")
        }
        let since = Int(r.sinceRevision)
        if since < head {
            for digest in try await offload({ try store.textsAdded(after: since, through: head) }) {
                try await sink.stream(try await offload { try textItem(store, digest) })
            }
            let schema = try await offload { try schemaItem(store) }
            try await sink.stream(item { $0.schema = schema })
            let replaced = try await sendSmallerSnapshots(store, after: since, through: head, sink: sink)
            try await streamRevisions(store, after: since, through: head, sink: sink) { blob in
                guard let document = blob.document, let snapshot = replaced[document] else { return true }
                return blob.revision > snapshot
            }
        }
        return .with { $0.streamEnd = .with { $0.headRevision = UInt64(head) } }
    }

    /// For each document touched in `(after, through]`, sends its latest snapshot instead of
    /// the deltas it covers when that is fewer bytes. Returns the snapshot revision per
    /// document replaced this way.
    private func sendSmallerSnapshots(_ store: CorpusStore, after: Int, through head: Int, sink: any ResponseSink)
        async throws -> [DocumentID: Int]
    {
        var sizes: [DocumentID: [(revision: Int, bytes: Int)]] = [:]
        var from = after
        while from < head {
            let to = min(head, from + pageSize)
            for blob in try await offload({ [from] in try store.storedDeltas(after: from, through: to) }) {
                if let document = blob.document { sizes[document, default: []].append((blob.revision, blob.data.count)) }
            }
            from = to
        }
        var replaced: [DocumentID: Int] = [:]
        for (document, deltas) in sizes.sorted(by: { $0.key < $1.key }) {
            guard let snapshot = try await offload({ try store.storedSnapshot(of: document, atOrBefore: head) }),
                snapshot.revision > after
            else { continue }
            let all = deltas.reduce(0) { $0 + $1.bytes }
            let past = deltas.filter { $0.revision > snapshot.revision }.reduce(0) { $0 + $1.bytes }
            guard snapshot.data.count + past < all else { continue }
            try await sink.stream(item { $0.snapshot = Self.blob(snapshot) })
            replaced[document] = snapshot.revision
        }
        return replaced
    }

    private func streamRevisions(
        _ store: CorpusStore, after: Int, through head: Int, sink: any ResponseSink,
        include: (StoredBlob) -> Bool, before: (Int) async throws -> Void = { _ in }
    ) async throws {
        var from = after
        while from < head {
            try Task.checkCancellation()
            let to = min(head, from + pageSize)
            let (revisions, deltas) = try await offload { [from] in
                (try store.revisions(after: from, through: to), try store.storedDeltas(after: from, through: to))
            }
            var blobs: [Int: [StoredBlob]] = [:]
            for blob in deltas where include(blob) {
                blobs[blob.revision, default: []].append(blob)
            }
            for revision in revisions {
                try await before(revision.number)
                try await sink.stream(
                    item { $0.revision = Self.revisionData(revision, blobs[revision.number] ?? []) })
            }
            try await sink.stream(progress(to, head, "revisions"))
            from = to
        }
    }

    // MARK: Push and subscribe

    private func push(_ r: Gloss_V1_PushRequest, user: String) async throws -> Gloss_V1_Response {
        // Kept encoded (the message's bytes): a large push is decoded a document at a time.
        var changeset = try r.changeset.encodedChangeset()
        changeset.author = user  // the authenticated user, whatever the client claims
        let checked = changeset
        let handle = try await offload {
            let (handle, access) = try open(r.corpus, user: user, needs: .viewer)
            try PushAuthorizer(user: user, access: access, store: handle.store).check(checked)
            return handle
        }
        let outcome: AppendOutcome
        do {
            outcome = try await handle.committer.append(changeset)
        } catch let error as CodecError {
            throw WireError(.badMessage, error.message)
        }
        var response = Gloss_V1_PushResponse()
        switch outcome {
        case .accepted(let revision):
            // Subscribers heard of it from the committer (or the relay), in revision order.
            response.acceptedRevision = UInt64(revision)
        case .duplicate(let revision):
            response.duplicateRevision = UInt64(revision)
        case .conflicts(let conflicts):
            let head = (try? await offload { try handle.store.headRevision() }) ?? 0
            response.conflicts = .with {
                $0.headRevision = UInt64(head)
                $0.conflicts = conflicts.map(Self.conflictInfo)
            }
        case .invalid(let error) where error.code == .basePastHead:
            // Not a rule of the data model: the replica's history is not this server's.
            throw WireError(
                .notFound,
                "\(error.message): the server was restored from an older backup, or this replica belongs to another "
                    + "server; nothing was written; clone again (unpushed work stays in the old .gloss/pending)")
        case .invalid(let error):
            response.invalid = .with {
                $0.code = error.code.rawValue
                $0.message = error.message
                $0.document = error.document?.rawValue ?? ""
                $0.annotation = error.annotation?.description ?? ""
                $0.opIndex = Int64(error.opIndex ?? -1)
            }
        }
        return .with { $0.push = response }
    }

    /// Confirms, then streams a notification per new revision until the request is cancelled.
    private func subscribe(_ r: Gloss_V1_SubscribeRequest, user: String, sink: any ResponseSink) async throws
        -> Gloss_V1_Response
    {
        let (handle, _) = try await offload { try open(r.corpus, user: user, needs: .viewer) }
        let (id, events) = broadcaster.subscribe(corpus: r.corpus)
        defer { broadcaster.unsubscribe(id) }
        let head = UInt64(try await offload { try handle.store.headRevision() })
        try await sink.interim(.with { $0.subscribe = .with { $0.headRevision = head } })
        var last = head
        for await event in events where UInt64(event.revision) > head {
            try Task.checkCancellation()
            last = UInt64(event.revision)
            let note = Gloss_V1_Notification.with {
                $0.corpus = event.corpus
                $0.revision = UInt64(event.revision)
                $0.author = event.author
                $0.summary = event.summary
                $0.documents = event.documents
                $0.message = event.message
            }
            try await sink.stream(ByteBuffer(bytes: try note.serializedBytes() as [UInt8]))
        }
        return .with { $0.subscribe = .with { $0.headRevision = last } }
    }

    // MARK: Administration

    private func createCorpus(_ r: Gloss_V1_CreateCorpusRequest, user: String) async throws -> Gloss_V1_Response {
        // Checked before anything is created: a refused schema leaves no corpus behind.
        var schema: Schema?
        if !r.schemaJson.isEmpty {
            do {
                schema = try SchemaFile.parse(Data(r.schemaJson.utf8))
            } catch {
                throw WireError(.badMessage, "schema_json: \(error)")
            }
        }
        let handle = try await offload {
            guard try accounts.user(named: user)?.isAdmin == true else {
                throw WireError(.permissionDenied, "only server admins create corpora; ask one, or use glossd's admin token")
            }
            try accounts.createCorpus(name: r.name, owner: user, policy: r.policy == .own ? .own : .shared)
            return try corpora.handle(for: r.name)
        }
        if let schema {
            // Through the committer like any push: serialised with them, announced to subscribers.
            let outcome = try await handle.committer.append(
                Changeset(
                    author: user, replica: ReplicaID.random(), base: 0, message: "schema",
                    timestamp: Int64(Date().timeIntervalSince1970), ops: [.setSchema(schema)]))
            guard outcome.revision != nil else { throw WireError(.internal, "could not store the schema: \(outcome)") }
        }
        return .with { $0.createCorpus = .with { $0.name = r.name } }
    }

    private func grant(_ r: Gloss_V1_GrantRequest, user: String) throws -> Gloss_V1_Response {
        _ = try open(r.corpus, user: user, needs: .owner)
        // Only ROLE_NONE revokes: a value this server does not know must not read as a revocation.
        if case .UNRECOGNIZED(let value) = r.role {
            throw WireError(.badMessage, "role \(value) is not a role: use ROLE_NONE (to revoke), viewer, annotator, curator or owner")
        }
        try accounts.grant(corpus: r.corpus, user: r.user, role: Role(wire: r.role))
        return .with { $0.grant = .init() }
    }

    // MARK: Helpers

    /// Runs a blocking store or account call on the storage executor (``StorageExecutor``).
    private func offload<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await corpora.executor.run(body)
    }

    /// The corpus, if the user has at least `needs` in it; unknown corpora and no role look
    /// the same (`not-found`), so names do not leak.
    ///
    /// Asked before every request, also on a connection that has been open for hours: a role
    /// lowered since then holds from this request on (``RightsCache`` makes that cheap).
    private func open(_ corpus: String, user: String, needs: Role) throws -> (CorpusHandle, CorpusAccess) {
        guard let access = try rights.access(of: user, in: corpus) else {
            throw WireError(.notFound, "no corpus \"\(corpus)\" that \(user) can see; `gloss corpus list` shows yours")
        }
        guard access.role >= needs else {
            throw WireError(.permissionDenied, "\(user) is \(access.role.name) of \(corpus); this needs \(needs.name)")
        }
        return (try corpora.handle(for: corpus), access)
    }

    private func item(_ fill: (inout Gloss_V1_StreamItem) throws -> Void) throws -> ByteBuffer {
        var item = Gloss_V1_StreamItem()
        try fill(&item)
        return ByteBuffer(bytes: try item.serializedBytes() as [UInt8])
    }

    private func progress(_ done: Int, _ total: Int, _ unit: String) throws -> ByteBuffer {
        try item {
            $0.progress = .with {
                $0.done = UInt64(done)
                $0.total = UInt64(total)
                $0.unit = unit
            }
        }
    }

    private func schemaItem(_ store: CorpusStore) throws -> Gloss_V1_Schema {
        let (schema, revision) = try store.schemaWithRevision()
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return .with {
            $0.json = String(decoding: (try? encoder.encode(schema)) ?? Data(), as: UTF8.self)
            $0.revision = UInt64(revision)
        }
    }

    private func textItem(_ store: CorpusStore, _ digest: TextDigest) throws -> ByteBuffer {
        guard let text = try store.storedText(digest) else {
            throw WireError(.internal, "the text \(digest) is missing from the store")
        }
        return try item {
            $0.text = .with {
                $0.digest = Data(digest.bytes)
                $0.rawLength = UInt64(text.rawLength)
                $0.deflated = Data(text.data)
            }
        }
    }

    static func blob(_ blob: StoredBlob) -> Gloss_V1_StoredBlob {
        .with {
            $0.document = blob.document?.rawValue ?? ""
            $0.revision = UInt64(blob.revision)
            $0.rawLength = UInt64(blob.rawLength)
            $0.deflated = Data(blob.data)
        }
    }

    static func revisionData(_ r: Revision, _ blobs: [StoredBlob]) -> Gloss_V1_RevisionData {
        .with {
            $0.number = UInt64(r.number)
            $0.changesetID = Data(r.changeset.bytes)
            $0.author = r.author
            $0.replica = r.replica.rawValue
            $0.base = UInt64(r.base)
            $0.message = r.message
            $0.timestamp = r.timestamp
            $0.deltas = blobs.map(blob)
            $0.opCount = UInt64(r.opCount)
        }
    }

    static func documentInfo(_ d: DocumentEntry) -> Gloss_V1_DocumentInfo {
        .with {
            $0.id = d.document.id.rawValue
            $0.digest = Data(d.document.digest.bytes)
            $0.length = UInt64(d.document.length)
            $0.metadata = d.document.metadata
            $0.addedRevision = UInt64(d.addedAt)
        }
    }

    static func conflictInfo(_ c: Conflict) -> Gloss_V1_ConflictInfo {
        .with {
            $0.id = c.id
            $0.kind = c.kindName
            $0.document = c.document?.rawValue ?? ""
            $0.annotation = c.annotation?.description ?? ""
            if case .field(let f) = c.kind { $0.field = f.description }
            $0.theirRevision = UInt64(c.theirRevision)
            $0.description_p = c.description
        }
    }

    /// Nothing was acknowledged: the client retries, here or on another node.
    static func storageUnavailable(_ reason: String) -> WireError {
        WireError(
            .storageUnavailable, "the server cannot reach its database (\(reason)); your change was not acknowledged: retry (a retry never applies it twice)",
            retryAfterMilliseconds: 1000)
    }

    static func wireError(_ error: AccountError) -> WireError {
        switch error.code {
        case .unavailable: storageUnavailable(error.message)
        case .unknownCorpus, .unknownUser, .unknownToken: WireError(.notFound, error.message)
        // A refusal, not a failure: retrying cannot help.
        case .lastOwner: WireError(.permissionDenied, error.message)
        case .alreadyExists: WireError(.alreadyExists, error.message)
        case .invalidName: WireError(.badMessage, error.message)
        default: WireError(.internal, error.message)
        }
    }
}

extension Role {
    var wire: Gloss_V1_Role {
        switch self {
        case .viewer: .viewer
        case .annotator: .annotator
        case .curator: .curator
        case .owner: .owner
        }
    }

    /// nil for `ROLE_NONE` (a revocation).
    init?(wire: Gloss_V1_Role) {
        switch wire {
        case .viewer: self = .viewer
        case .annotator: self = .annotator
        case .curator: self = .curator
        case .owner: self = .owner
        default: return nil
        }
    }
}

extension CorpusPolicy {
    var wire: Gloss_V1_Policy { self == .own ? .own : .shared }
}
