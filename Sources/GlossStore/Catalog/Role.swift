/// A user's role in one corpus. Each role includes the rights of the roles below it.
///
/// - `viewer`: reads (clone, pull, subscribe).
/// - `annotator`: pushes annotation ops; under ``CorpusPolicy/own`` only to its own layer.
/// - `curator`: annotation ops on every layer.
/// - `owner`: everything, including the schema, documents and grants.
///
/// The raw values are stored in the account database: never renumber them.
public enum Role: Int, Comparable, Sendable, CaseIterable, CustomStringConvertible {
    case viewer = 1
    case annotator
    case curator
    case owner

    /// The role with this lowercase name (`"viewer"`, `"annotator"`, `"curator"`, `"owner"`).
    public init?(name: String) {
        guard let role = Self.allCases.first(where: { $0.name == name }) else { return nil }
        self = role
    }

    /// The lowercase name used on the wire, in the CLI and in configuration.
    public var name: String {
        switch self {
        case .viewer: "viewer"
        case .annotator: "annotator"
        case .curator: "curator"
        case .owner: "owner"
        }
    }

    public var description: String { name }

    public static func < (lhs: Role, rhs: Role) -> Bool { lhs.rawValue < rhs.rawValue }
}
