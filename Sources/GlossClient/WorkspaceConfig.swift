import Foundation
import GlossModel

/// What a workspace remembers about where it came from (`.gloss/config.json`).
public struct WorkspaceConfig: Codable, Hashable, Sendable {
    public var url: String
    /// The pinned server certificate (`sha256:…`), when trust is by pin.
    public var pin: String?
    /// A CA file to verify the server with, when trust is by CA.
    public var caFile: String?
    public var user: String
    /// This workspace's replica id: annotation ids it mints are (replica, counter).
    public var replica: UInt64
    /// The last counter used.
    public var counter: UInt64
    /// The user's role in the corpus as the server last said (`annotator`, …), and whether the
    /// corpus lets annotators edit only their own layer: what the workspace checks a change
    /// against before recording it. Nil until known (older workspaces learn it at the next pull).
    public var role: String?
    public var ownLayersOnly: Bool?

    public init(
        url: String, pin: String?, caFile: String?, user: String, replica: UInt64, counter: UInt64 = 0,
        role: String? = nil, ownLayersOnly: Bool? = nil
    ) {
        self.role = role
        self.ownLayersOnly = ownLayersOnly
        self.url = url
        self.pin = pin
        self.caFile = caFile
        self.user = user
        self.replica = replica
        self.counter = counter
    }
}

extension WorkspaceConfig {
    /// What this user may change here, when the role is known.
    public var rights: WriteRights? {
        role.flatMap { WriteRights(user: user, role: $0, ownLayersOnly: ownLayersOnly ?? false) }
    }
}
