import GlossModel
import Testing

/// Runs `body`, expecting it to throw `E` with `code` (and `context`, when given): the typed
/// errors' shared shape (``ContextualError``), checked the same way by every suite.
public func expectError<E: ContextualError>(
    _ type: E.Type, _ code: ErrorCode<E.Domain>, context: String? = nil,
    sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void
) {
    let error = #expect(throws: E.self, sourceLocation: sourceLocation) { try body() }
    #expect(error?.code == code, sourceLocation: sourceLocation)
    if let context {
        #expect(error?.context == context, sourceLocation: sourceLocation)
    }
}
