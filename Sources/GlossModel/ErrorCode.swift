/// An extensible error code: a stable, machine-readable string, namespaced by the error type
/// it belongs to. A struct rather than an enum, so that adding a code breaks no caller.
public struct ErrorCode<Domain>: Hashable, Sendable, RawRepresentable, CustomStringConvertible {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }
}
