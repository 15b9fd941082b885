import ArgumentParser
import Foundation
#if canImport(Glibc)
    import Glibc
#endif

/// What the terminal can do, and how chatty to be: colours and progress bars only on a
/// terminal (and never with NO_COLOR or TERM=dumb), informational lines off with `--quiet`.
enum Terminal {
    /// Set once from `--quiet` before a command runs.
    nonisolated(unsafe) static var quiet = false

    static var stdoutIsTerminal: Bool { isatty(STDOUT_FILENO) == 1 }
    static var stderrIsTerminal: Bool { isatty(STDERR_FILENO) == 1 }

    /// Whether to colour standard output.
    static var colorsStdout: Bool {
        let env = ProcessInfo.processInfo.environment
        // no-color.org: NO_COLOR counts when set to a non-empty value.
        if !(env["NO_COLOR"] ?? "").isEmpty || env["TERM"] == "dumb" { return false }
        if env["GLOSS_COLOR"] == "always" { return true }
        return stdoutIsTerminal
    }

    /// The terminal's width in columns (80 when unknown).
    static var columns: Int {
        var size = winsize()
        if ioctl(STDERR_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 { return Int(size.ws_col) }
        return Int(ProcessInfo.processInfo.environment["COLUMNS"] ?? "") ?? 80
    }
}

/// `--quiet`, for commands that report progress or what they did.
struct OutputOptions: ParsableArguments {
    @Flag(name: [.short, .long], help: "Print only errors and the data asked for: no progress, no summaries.")
    var quiet = false

    /// Applies the flag; call first in `run()`.
    func apply() { Terminal.quiet = quiet }
}

/// An informational line on standard output, left out with `--quiet`.
func note(_ line: String) {
    if !Terminal.quiet { print(line) }
}

/// Progress of long work (clone, import, export) on standard error: a redrawn bar on a
/// terminal, a plain line every tenth of the way otherwise, nothing with `--quiet`.
final class ProgressReporter: @unchecked Sendable {
    private let label: String
    private let bar: Bool
    private let lock = NSLock()
    private var lastTenth = -1
    private var lastDraw = Date.distantPast
    private var drew = false

    init(_ label: String) {
        self.label = label
        bar = Terminal.stderrIsTerminal
    }

    private let started = Date()

    /// Reports `done` of `total` units (total 0: unknown), and the bytes moved so far when the
    /// work is a transfer (shown with the rate, so a slow link visibly moves).
    func update(_ done: Int, of total: Int, bytes: Int? = nil) {
        guard !Terminal.quiet else { return }
        lock.lock()
        defer { lock.unlock() }
        // Called for every stream item of a clone: decide whether to draw before formatting.
        var transfer: String {
            bytes.map { b -> String in
                let seconds = max(0.001, Date().timeIntervalSince(started))
                return ", \(Self.size(b)) (\(Self.size(Int(Double(b) / seconds)))/s)"
            } ?? ""
        }
        if bar {
            // Redraw at most 20 times a second; always draw the end.
            guard (total > 0 && done >= total) || Date().timeIntervalSince(lastDraw) > 0.05 else { return }
            lastDraw = Date()
            let width = max(10, min(40, Terminal.columns - label.count - 50))
            let fraction = total > 0 ? min(1, Double(done) / Double(total)) : 0
            let filled = Int(fraction * Double(width))
            let line = "\r\(label) [\(String(repeating: "#", count: filled))\(String(repeating: " ", count: width - filled))] "
                + (total > 0 ? "\(Int(fraction * 100))% \(done)/\(total)" : "\(done)") + transfer + "\u{1B}[K"
            FileHandle.standardError.write(Data(line.utf8))
            drew = true
        } else if total > 0 {
            let tenth = min(10, done * 10 / total)
            guard tenth > lastTenth else { return }
            lastTenth = tenth
            FileHandle.standardError.write(Data("\(label): \(done)/\(total) (\(tenth * 10)%)\(transfer)\n".utf8))
        }
    }

    /// `812 B`, `3.4 kB`, `12.0 MB`.
    static func size(_ bytes: Int) -> String {
        let units = ["B", "kB", "MB", "GB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1000 && unit < units.count - 1 {
            value /= 1000
            unit += 1
        }
        return unit == 0 ? "\(bytes) B" : String(format: "%.1f %@", value, units[unit])
    }

    /// Ends the bar's line.
    func finish() {
        lock.lock()
        defer { lock.unlock() }
        if drew { FileHandle.standardError.write(Data("\n".utf8)) }
        drew = false
    }
}

/// ANSI colours for labels, picked by a stable hash so a label keeps its colour across runs.
enum LabelColors {
    /// Foreground colours that read on dark and light backgrounds: the six bold basic colours,
    /// then six from the 256-colour cube.
    static let palette = [
        "1;31", "1;32", "1;33", "1;34", "1;35", "1;36",
        "38;5;208", "38;5;129", "38;5;37", "38;5;166", "38;5;99", "38;5;142",
    ]

    /// A distinct colour for each label (in sorted order), so no two labels of a document share
    /// one until there are more labels than colours; labels are also named inline, so colour is
    /// never the only way to tell them apart.
    static func assign(_ labels: some Sequence<String>) -> [String: String] {
        var out: [String: String] = [:]
        for (i, label) in Set(labels).sorted().enumerated() { out[label] = palette[i % palette.count] }
        return out
    }

    static func paint(_ text: String, _ code: String) -> String { "\u{1B}[\(code)m\(text)\u{1B}[0m" }

    /// Dim, for the inline label names.
    static func dim(_ text: String) -> String { "\u{1B}[2m\(text)\u{1B}[0m" }
}
