import GlossStore
import Synchronization

/// Each user's access to each corpus, read from the account store once and reused for as long
/// as the store's ``AccountStore/rightsGeneration()`` stays the same.
///
/// A request then costs one primary-key `SELECT` of that counter instead of the role and policy
/// look-ups, and a grant lowered or a policy changed holds from the next request on, also on a
/// connection that is already open.
///
/// Why a counter in the database, bumped by triggers:
/// - The admin commands (`glossd user …`, `glossd token …`) are separate processes writing the
///   same file while the server runs, so an in-process "invalidate" call would never hear of
///   their changes; the file itself has to say.
/// - `PRAGMA data_version` does say when another connection committed, but its value belongs to
///   one connection: the pool hands reads to any of several readers, whose values cannot be
///   compared, so it would need a connection of its own, serialising every request's check on
///   it. It also misses that connection's own writes, and moves on any commit (a token issued).
/// - The counter is data: any reader connection may read it, equal values mean no rights
///   changed between the two reads, and the triggers bump it in the writer's own transaction,
///   whoever writes (another glossd process, an older method, the sqlite3 shell).
///
/// A resolved access is stored with the generation read in the same statement, and served only
/// while a freshly read generation equals it; a change that commits between the two reads is
/// seen by the next request. Only users' access to existing corpora is kept, and at most
/// ``capacity`` entries, so requests for made-up corpus names cannot grow the cache.
final class RightsCache: Sendable {
    private struct Key: Hashable {
        var user: String
        var corpus: String
    }

    private struct State {
        var generation: Int64?
        var entries: [Key: CorpusAccess] = [:]
    }

    /// The most (user, corpus) pairs kept; past that the cache starts again from empty.
    static let capacity = 10_000

    private let accounts: AccountStore
    private let state = Mutex(State())

    init(accounts: AccountStore) { self.accounts = accounts }

    /// What `user` may do in `corpus` now; nil when there is no such corpus or no role in it.
    /// Blocking (SQLite): call it off the cooperative pool.
    func access(of user: String, in corpus: String) throws -> CorpusAccess? {
        let key = Key(user: user, corpus: corpus)
        let generation = try accounts.rightsGeneration()
        if let cached = state.withLock({ $0.generation == generation ? $0.entries[key] : nil }) { return cached }
        let (current, access) = try accounts.access(of: user, in: corpus)
        state.withLock { state in
            // Entries of another generation are stale, or newer when a slower look-up raced
            // this one; either way they go, which costs a look-up later, never a wrong answer.
            if state.generation != current || state.entries.count >= Self.capacity {
                state = State(generation: current)
            }
            if let access { state.entries[key] = access }
        }
        return access
    }
}
