import Foundation

/// First start: an `admin` user whose token goes to `DIR/admin.token`, readable by the owner only.
public enum AdminBootstrap {
    /// Creates the admin user and token file when the server has no users yet.
    @discardableResult
    public static func ensureAdmin(accounts: AccountStore, dataDirectory: URL) throws -> Bool {
        guard try accounts.users().isEmpty else { return false }
        _ = try accounts.addUser("admin", isAdmin: true)
        let token = try accounts.issueToken(for: "admin", label: "first start")
        let path = dataDirectory.appendingPathComponent("admin.token").path
        guard FileManager.default.createFile(atPath: path, contents: Data((token.secret + "\n").utf8),
            attributes: [.posixPermissions: 0o600])
        else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
        }
        print("created user admin; its token is in \(path)")
        return true
    }
}
