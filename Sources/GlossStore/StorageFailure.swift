/// A failure of the database under a store, as a server needs to tell its clients about it:
/// whether the same work may succeed if tried again. A networked backend's errors conform (the
/// embedded SQLite backend has no such failure), so that callers above the storage seam need
/// not know which backend they run on.
public protocol StorageFailure: Error {
    /// The database was unreachable, the connection dropped, or it gave up on a transaction to
    /// break a conflict: nothing was acknowledged, and trying again later may succeed.
    var isRetryable: Bool { get }
    /// What went wrong, for the client's error message.
    var message: String { get }
}
