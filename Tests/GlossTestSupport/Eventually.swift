/// Polls `condition` until it holds or `timeout` passes; whether it held.
///
/// The bound is generous by default: a condition that holds returns at once, and one that
/// holds late on a loaded machine (CI shares two cores) must not fail the test.
public func eventually(
    within timeout: Duration = .seconds(120), poll: Duration = .milliseconds(10), _ condition: () throws -> Bool
) async throws -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try condition() { return true }
        try await Task.sleep(for: poll)
    }
    return try condition()
}
