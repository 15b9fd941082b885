import Foundation

/// First start: an `admin` user whose token goes to `DIR/admin.token`, readable by the owner only.
public enum AdminBootstrap {
    /// Creates the admin user and token file when the server has no users yet; returns the
    /// token file's path when it did. Of several nodes starting together on one database, one
    /// does it.
    @discardableResult
    public static func ensureAdmin(accounts: AccountStore, dataDirectory: URL) throws -> String? {
        guard try accounts.users().isEmpty else { return nil }
        do {
            _ = try accounts.addUser("admin", isAdmin: true)
        } catch let error as AccountError where error.code == .alreadyExists {
            // Another node sharing the database started at the same moment and made it: the
            // token is in that node's data directory.
            return nil
        }
        let token = try accounts.issueToken(for: "admin", label: "first start")
        let path = dataDirectory.appendingPathComponent("admin.token").path
        // Created 0600 from the first byte (O_EXCL: never through someone else's file).
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else { throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: path]) }
        defer { close(fd) }
        let bytes = Array((token.secret + "\n").utf8)
        guard write(fd, bytes, bytes.count) == bytes.count, fsync(fd) == 0 else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
        }
        return path
    }
}
