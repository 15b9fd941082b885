import Crypto

/// The SHA-256 digest of a certificate's DER encoding: what a client pins to trust a server
/// whose certificate is self-signed.
///
/// Printed as `sha256:` followed by 64 lowercase hex digits, e.g.
/// `sha256:3f0a…e9`. ``init(parsing:)`` also accepts the colon-separated, upper-case form that
/// `openssl x509 -noout -fingerprint -sha256` prints, behind the same `sha256:` prefix.
public struct CertificateFingerprint: Hashable, Sendable, CustomStringConvertible {
    /// The 32 digest bytes.
    public let bytes: [UInt8]

    /// The prefix naming the digest algorithm, in the printed form.
    public static let prefix = "sha256:"

    /// Computes the fingerprint of a certificate from its DER bytes.
    public init(derBytes: some Sequence<UInt8>) {
        var hasher = SHA256()
        hasher.update(data: Array(derBytes))
        bytes = Array(hasher.finalize())
    }

    /// Parses the printed form: `sha256:` (any case) then the 32 digest bytes as hex digits (any
    /// case), either all 64 digits run together or as 32 pairs separated by `:`.
    ///
    /// Returns nil for anything else: another algorithm, a wrong length, mixed separators,
    /// surrounding whitespace.
    public init?(parsing text: String) {
        let utf8 = Array(text.utf8)
        let prefix = Array(Self.prefix.utf8)
        guard utf8.count > prefix.count,
            zip(utf8, prefix).allSatisfy({ Self.lowercased($0) == $1 })
        else { return nil }
        var digits = utf8[prefix.count...]
        switch digits.count {
        case 64:
            break
        case 95:
            // "AB:CD:…": a colon after every pair but the last, and nowhere else.
            var packed: [UInt8] = []
            packed.reserveCapacity(64)
            for (offset, byte) in digits.enumerated() {
                if offset % 3 == 2 {
                    guard byte == UInt8(ascii: ":") else { return nil }
                } else {
                    packed.append(byte)
                }
            }
            digits = packed[...]
        default:
            return nil
        }
        var result: [UInt8] = []
        result.reserveCapacity(32)
        var index = digits.startIndex
        while index < digits.endIndex {
            guard let high = Self.hexValue(digits[index]), let low = Self.hexValue(digits[index + 1]) else {
                return nil
            }
            result.append(high << 4 | low)
            index += 2
        }
        bytes = result
    }

    /// `sha256:` and 64 lowercase hex digits.
    public var description: String {
        let hex: [Character] = Array("0123456789abcdef")
        var text = Self.prefix
        text.reserveCapacity(Self.prefix.count + 64)
        for byte in bytes {
            text.append(hex[Int(byte >> 4)])
            text.append(hex[Int(byte & 0x0F)])
        }
        return text
    }

    private static func lowercased(_ byte: UInt8) -> UInt8 {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte + 32 : byte
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
