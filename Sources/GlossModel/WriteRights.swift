/// What one user may change in one corpus, derived from their role and the corpus policy
/// (`Protocol/wire.md`, "Authorisation"). The server enforces it on every push; a workspace
/// checks it before recording a change, so a change that cannot succeed never enters the queue.
public struct WriteRights: Hashable, Sendable {
    /// The user the changes are made as.
    public var user: String
    /// Pushes at all (annotator and above; viewers only read).
    public var mayPush: Bool
    /// Annotations in other users' layers (curator and above).
    public var mayWriteOtherLayers: Bool
    /// Other layers' annotations under policy `own`, or anyone's under `shared`.
    public var mayEditOthersAnnotations: Bool
    /// Schema and documents (owners).
    public var mayChangeCorpus: Bool
    /// The role's name, for messages.
    public var roleName: String

    public init(
        user: String, roleName: String, mayPush: Bool, mayWriteOtherLayers: Bool, mayEditOthersAnnotations: Bool,
        mayChangeCorpus: Bool
    ) {
        self.user = user
        self.roleName = roleName
        self.mayPush = mayPush
        self.mayWriteOtherLayers = mayWriteOtherLayers
        self.mayEditOthersAnnotations = mayEditOthersAnnotations
        self.mayChangeCorpus = mayChangeCorpus
    }

    /// Rights by role name (`viewer`, `annotator`, `curator`, `owner`) and policy (`shared` or
    /// `own`); nil for a name this version does not know.
    public init?(user: String, role: String, ownLayersOnly: Bool) {
        let rank = ["viewer": 1, "annotator": 2, "curator": 3, "owner": 4][role]
        guard let rank else { return nil }
        self.init(
            user: user, roleName: role, mayPush: rank >= 2, mayWriteOtherLayers: rank >= 3,
            mayEditOthersAnnotations: !ownLayersOnly || rank >= 3, mayChangeCorpus: rank >= 4)
    }

    /// A refused op: which one and why.
    public struct Denial: Error, Hashable, Sendable, CustomStringConvertible {
        /// The op's index in its changeset; nil when the whole changeset is refused.
        public var opIndex: Int?
        public var reason: String
        public var description: String { (opIndex.map { "op \($0): " } ?? "") + reason }
    }

    /// Checks every op of `changeset`. `head` looks up an annotation as it stands before the
    /// changeset (nil if it never existed), with whether it is live.
    public func check(
        _ changeset: Changeset, head: (AnnotationKey) throws -> (annotation: Annotation, isLive: Bool)?
    ) throws -> Denial? {
        guard mayPush else {
            return Denial(reason: "\(user) is a \(roleName) of this corpus and cannot change it; ask an owner for the annotator role")
        }
        for (index, op) in changeset.ops.enumerated() {
            switch op {
            case .setSchema, .addDocument, .removeDocument, .reviseText:
                guard mayChangeCorpus else {
                    return Denial(
                        opIndex: index, reason: "only corpus owners change the schema, documents or texts (\(user) is \(roleName))")
                }
            case .create(let a):
                if a.owner == user && (a.layer == user || mayWriteOtherLayers) { continue }
                // Bringing back an annotation someone deleted (a conflict resolved as "mine")
                // restores it as it was, owner and layer included.
                if let entry = try head(AnnotationKey(a.document, a.id)), !entry.isLive,
                    entry.annotation.owner == a.owner, entry.annotation.layer == a.layer,
                    mayEditOthersAnnotations
                {
                    continue
                }
                guard a.owner == user else {
                    return Denial(opIndex: index, reason: "annotation \(a.id) names \(a.owner) as its owner; create annotations as yourself")
                }
                return Denial(opIndex: index, reason: "writing to the layer of \(a.layer) needs the curator role (\(user) is \(roleName))")
            case .set(let d, let id, _, _), .delete(let d, let id):
                guard !mayEditOthersAnnotations else { continue }
                if let layer = try head(AnnotationKey(d, id))?.annotation.layer, layer != user {
                    return Denial(
                        opIndex: index,
                        reason: "this corpus lets annotators edit only their own layer; \(id) is in \(layer)'s")
                }
            }
        }
        return nil
    }
}
