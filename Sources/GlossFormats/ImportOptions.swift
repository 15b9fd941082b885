import GlossModel

/// What every importer needs to know besides the files: who imports, into which layer, how
/// strictly, and (rarely) the offset unit when detection should be overridden.
public struct ImportOptions: Hashable, Sendable {
    /// The user who imports; owner of every imported annotation.
    public var owner: String
    /// The layer every annotation goes into (`gloss import --author U`). Nil keeps the
    /// annotators a format records (doccano users, Label Studio `completed_by`) as layers of
    /// their own, and puts the rest into the owner's layer.
    public var layer: String?
    /// Whether any problem aborts the import (the first one is thrown).
    public var strict: Bool
    /// The unit the files' offsets are in; nil detects it from the span texts they record.
    public var offsetUnit: OffsetError.Unit?

    /// Options for an import by `owner`.
    public init(owner: String, layer: String? = nil, strict: Bool = false, offsetUnit: OffsetError.Unit? = nil) {
        self.owner = owner
        self.layer = layer
        self.strict = strict
        self.offsetUnit = offsetUnit
    }
}
