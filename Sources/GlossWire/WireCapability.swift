/// Capabilities a HELLO may announce and a WELCOME confirm (wire.md section 2).
public enum WireCapability {
    /// Frames may be deflate-compressed.
    public static let deflate = "deflate"
    /// The client reads text revisions: the `reviseText` op, the `anchor` field and value, and
    /// anchored annotations (storage-encoding.md). A server refuses to send a corpus that has
    /// them to a client without it (`upgrade-required`), rather than let it fail to decode.
    public static let textRevisions = "text-revisions"
}
