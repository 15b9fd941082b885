import Foundation

/// Times as history listings show them: `2026-11-29 14:03`, in UTC.
///
/// Computed from the seconds with civil-calendar arithmetic (Howard Hinnant's `civil_from_days`):
/// a `DateFormatter` costs about half a millisecond to set up, and `gloss log` prints thousands
/// of times. Outside 1970...9999 it hands over to `DateFormatter`, which switches to the Julian
/// calendar before 1582 and writes years past 9999 and before 1 its own way.
public enum MinuteFormat {
    /// `yyyy-MM-dd HH:mm` in UTC, exactly as an `en_US_POSIX` `DateFormatter` writes it.
    public static func utc(_ seconds: Int64) -> String {
        guard seconds >= 0, seconds < lastSecondOf9999 else { return formatted(seconds) }
        let days = seconds / 86_400
        let minuteOfDay = Int((seconds % 86_400) / 60)
        let (year, month, day) = civil(days)
        var out = [UInt8]()
        out.reserveCapacity(16)
        func digits(_ value: Int, _ count: Int) {
            var divisor = 1
            for _ in 1..<count { divisor *= 10 }
            var v = value
            while divisor > 0 {
                out.append(UInt8(ascii: "0") + UInt8(v / divisor))
                v %= divisor
                divisor /= 10
            }
        }
        digits(year, 4)
        out.append(UInt8(ascii: "-"))
        digits(month, 2)
        out.append(UInt8(ascii: "-"))
        digits(day, 2)
        out.append(UInt8(ascii: " "))
        digits(minuteOfDay / 60, 2)
        out.append(UInt8(ascii: ":"))
        digits(minuteOfDay % 60, 2)
        return String(decoding: out, as: UTF8.self)
    }

    /// 10000-01-01 00:00:00 UTC.
    static let lastSecondOf9999: Int64 = 253_402_300_800

    /// Year, month (1...12) and day (1...31) of a day counted from 1970-01-01 (non-negative).
    static func civil(_ days: Int64) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = z / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (Int(year), Int(month), Int(day))
    }

    /// The same through Foundation, for times outside the fast path.
    static func formatted(_ seconds: Int64) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm"
        return formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
    }
}
