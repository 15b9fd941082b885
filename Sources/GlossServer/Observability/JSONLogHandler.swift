import Foundation
import Logging

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A swift-log handler that writes one JSON object per line (`log.format: json`), for log
/// shippers (Loki, Elasticsearch, journald's JSON mode) that index fields rather than parse text:
///
/// ```json
/// {"time":"2026-05-04T10:11:12.345Z","level":"info","label":"glossd","message":"request finished","connection":"9f3a61c2","request":"9f3a61c2/7","type":"push","outcome":"ok","duration_ms":"1.204"}
/// ```
///
/// `time` (UTC, ISO 8601 with milliseconds), `level`, `label` and `message` come first, then the
/// metadata (the handler's, the provider's, then the call's, later ones winning) in key order,
/// flattened: a nested dictionary `{"a": {"b": 1}}` becomes the member `"a.b"`, an array a JSON
/// array of strings. A metadata key that would clash with the four fixed members is written as
/// `metadata.KEY`. Values are strings, as swift-log metadata is.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    public var logLevel: Logger.Level = .info
    public let label: String
    private let output: @Sendable ([UInt8]) -> Void
    private let clock: @Sendable () -> Date

    /// Writes each line with `output` (a whole line, newline included, per call).
    public init(
        label: String, metadataProvider: Logger.MetadataProvider? = LoggingSystem.metadataProvider,
        clock: @escaping @Sendable () -> Date = { Date() }, output: @escaping @Sendable ([UInt8]) -> Void
    ) {
        self.label = label
        self.metadataProvider = metadataProvider
        self.clock = clock
        self.output = output
    }

    /// Writes to standard error, one `write(2)` per line: lines from several threads never
    /// interleave (up to the pipe's atomic size, 4 KiB on Linux), and nothing waits in a buffer
    /// when the process dies.
    public static func standardError(
        label: String, metadataProvider: Logger.MetadataProvider? = LoggingSystem.metadataProvider
    ) -> JSONLogHandler {
        JSONLogHandler(label: label, metadataProvider: metadataProvider) { line in
            line.withUnsafeBytes { bytes in
                var offset = 0
                while offset < bytes.count {
                    let written = write(2, bytes.baseAddress! + offset, bytes.count - offset)
                    if written > 0 {
                        offset += written
                    } else if written < 0 && errno == EINTR {
                        continue
                    } else {
                        return  // stderr is gone: nowhere left to report it
                    }
                }
            }
        }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let explicit = event.metadata { merged.merge(explicit) { _, new in new } }
        if let error = event.error { merged["error"] = "\(error)" }
        output(Self.line(time: clock(), level: event.level, label: label, message: event.message.description, metadata: merged))
    }

    // MARK: Formatting

    private static let fixedKeys: Set<String> = ["time", "level", "label", "message"]

    /// One log line, newline included.
    static func line(time: Date, level: Logger.Level, label: String, message: String, metadata: Logger.Metadata)
        -> [UInt8]
    {
        var members: [(String, Member)] = [
            ("time", .string(iso8601(time))), ("level", .string(level.rawValue)), ("label", .string(label)),
            ("message", .string(message)),
        ]
        var flat: [(String, Member)] = []
        for (key, value) in metadata { flatten(value, key: fixedKeys.contains(key) ? "metadata.\(key)" : key, into: &flat) }
        members += flat.sorted { $0.0 < $1.0 }

        var out: [UInt8] = []
        out.reserveCapacity(256)
        out.append(UInt8(ascii: "{"))
        for (index, (key, member)) in members.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            JSONText.appendString(key, to: &out)
            out.append(UInt8(ascii: ":"))
            switch member {
            case .string(let text):
                JSONText.appendString(text, to: &out)
            case .array(let items):
                out.append(UInt8(ascii: "["))
                for (i, item) in items.enumerated() {
                    if i > 0 { out.append(UInt8(ascii: ",")) }
                    JSONText.appendString(item, to: &out)
                }
                out.append(UInt8(ascii: "]"))
            }
        }
        out.append(contentsOf: "}\n".utf8)
        return out
    }

    private enum Member {
        case string(String)
        case array([String])
    }

    private static func flatten(_ value: Logger.Metadata.Value, key: String, into out: inout [(String, Member)]) {
        switch value {
        case .string(let text):
            out.append((key, .string(text)))
        case .stringConvertible(let convertible):
            out.append((key, .string(convertible.description)))
        case .dictionary(let dictionary):
            for (inner, value) in dictionary { flatten(value, key: "\(key).\(inner)", into: &out) }
        case .array(let items):
            out.append((key, .array(items.map(\.description))))
        }
    }

    /// `2026-05-04T10:11:12.345Z`: UTC, milliseconds, by hand because `ISO8601DateFormatter`
    /// is neither cheap to make nor safe to share between threads.
    static func iso8601(_ date: Date) -> String {
        let milliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        // Floor division, so that an instant before 1970 still gets milliseconds in 0…999.
        var (whole, millis) = milliseconds.quotientAndRemainder(dividingBy: 1000)
        if millis < 0 {
            whole -= 1
            millis += 1000
        }
        var seconds = time_t(whole)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ value: Int, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return "\(pad(Int(parts.tm_year) + 1900, 4))-\(pad(Int(parts.tm_mon) + 1, 2))-\(pad(Int(parts.tm_mday), 2))"
            + "T\(pad(Int(parts.tm_hour), 2)):\(pad(Int(parts.tm_min), 2)):\(pad(Int(parts.tm_sec), 2))"
            + ".\(pad(Int(millis), 3))Z"
    }
}
