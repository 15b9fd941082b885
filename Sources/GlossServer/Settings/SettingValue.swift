import Foundation
import GlossStorePostgres
import GlossWire

/// Parsing of the value kinds settings use; every failure says what was expected.
enum SettingValue {
    static func duration(_ text: String) -> Duration? {
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]
        for (suffix, seconds) in units where text.hasSuffix(suffix) {
            let number = text.dropLast(suffix.count)
            guard let value = Double(number), value >= 0, value.isFinite else { return nil }
            return .milliseconds(Int64((value * seconds * 1000).rounded()))
        }
        return nil
    }

    static func size(_ text: String) -> Int? {
        let units: [(String, Int)] = [("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30), ("KB", 1000), ("MB", 1_000_000), ("GB", 1_000_000_000)]
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            guard let value = Int(text.dropLast(suffix.count)), value >= 0 else { return nil }
            let (product, overflow) = value.multipliedReportingOverflow(by: factor)
            return overflow ? nil : product
        }
        guard let value = Int(text), value >= 0 else { return nil }
        return value
    }

    /// `HOST:PORT`, IPv6 hosts in brackets.
    static func address(_ text: String) -> (host: String, port: Int)? {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (0...65535).contains(port)
        else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty, !host.contains(where: \.isWhitespace) else { return nil }
        return (host, port)
    }

    static func fingerprints(_ text: String) -> Set<CertificateFingerprint>? {
        var out = Set<CertificateFingerprint>()
        for part in text.split(separator: ",") {
            guard let fingerprint = CertificateFingerprint(parsing: part.trimmingCharacters(in: .whitespaces)) else {
                return nil
            }
            out.insert(fingerprint)
        }
        return out.isEmpty ? nil : out
    }

    /// Nil when the text fits the kind; otherwise what was expected.
    static func problem(_ text: String, for setting: SettingKey) -> String? {
        switch setting.kind {
        case .path: return text.isEmpty ? "expected a path" : nil
        case .address: return address(text) == nil ? "expected HOST:PORT, e.g. 0.0.0.0:7743" : nil
        case .optionalAddress:
            return text == "off" || address(text) != nil ? nil : "expected HOST:PORT, e.g. 127.0.0.1:9743, or off"
        case .integer: return Int(text).map { $0 >= 0 } == true ? nil : "expected a whole number ≥ 0"
        case .duration: return duration(text) == nil ? "expected a duration such as 500ms, 10s, 5m or 1h" : nil
        case .size: return size(text) == nil ? "expected a size in bytes such as 65536, 64KiB or 1MiB" : nil
        case .choice:
            return setting.choices.contains(text) ? nil : "expected one of \(setting.choices.joined(separator: ", "))"
        case .fingerprints:
            return fingerprints(text) == nil ? "expected sha256:HEX fingerprints separated by commas" : nil
        case .databaseURL:
            do {
                _ = try PostgresStorageConfiguration(url: text)
                return nil
            } catch let error as PostgresStorageError {
                return error.message
            } catch {
                return "\(error)"
            }
        }
    }
}
