import Dispatch
import Synchronization

/// Pure work spread over the machine's cores, results in order.
enum ParallelWork {
    /// `transform` applied to every element, on as many threads as there are cores; the
    /// results in the elements' order. Throws the error of the first element (in order) that
    /// failed, once every element has run.
    static func map<Element: Sendable, Result: Sendable>(
        _ elements: some Collection<Element>, _ transform: @Sendable (Element) throws -> Result
    ) throws -> [Result] {
        let input = Array(elements)
        guard input.count > 1 else { return try input.map(transform) }
        let results = Mutex([Swift.Result<Result, any Error>?](repeating: nil, count: input.count))
        DispatchQueue.concurrentPerform(iterations: input.count) { i in
            let outcome = Swift.Result { try transform(input[i]) }
            results.withLock { $0[i] = outcome }
        }
        return try results.withLock { $0 }.map { try $0!.get() }
    }
}
