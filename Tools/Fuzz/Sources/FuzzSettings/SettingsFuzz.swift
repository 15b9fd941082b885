import Foundation
import FuzzSupport
import GlossServer

/// Input: a glossd configuration file (YAML), checked as `glossd config check` does. The file
/// is written to a temporary path, one per process, since the parser reads files.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSettings(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = FuzzInput(data, size)
    FileManager.default.createFile(atPath: settingsPath, contents: Data(input.bytes))
    do {
        try GlossdSettings.check(file: settingsPath)
    } catch {
        fuzzCheck(!error.message.isEmpty, "a settings error without a message")
    }
    return 0
}

private let settingsPath = NSTemporaryDirectory() + "gloss-fuzz-settings-\(getpid()).yaml"
