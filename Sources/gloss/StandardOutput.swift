#if canImport(Glibc)
    import Glibc
#endif

/// Standard output written a page at a time: a listing of ten thousand lines becomes a few
/// dozen writes, not ten thousand calls of `print` (each locking stdout and writing piece by piece).
///
/// Pages go to file descriptor 1, where the pager's redirection points; C's streams (which
/// `print` uses) are flushed first, so lines printed either way come out in order.
struct StandardOutput {
    private(set) var bytes: [UInt8] = []
    /// Written out once this full.
    static let page = 64 << 10

    init() { bytes.reserveCapacity(Self.page + 4096) }

    /// Appends a line (the newline is added).
    mutating func line(_ text: String) {
        var text = text
        text.withUTF8 { bytes.append(contentsOf: $0) }
        bytes.append(UInt8(ascii: "\n"))
        flushIfFull()
    }

    /// Appends bytes as they are (with their newline, if they have one).
    mutating func append(_ raw: [UInt8]) {
        bytes.append(contentsOf: raw)
        flushIfFull()
    }

    mutating func flushIfFull() {
        if bytes.count >= Self.page { flush() }
    }

    /// Writes what is buffered, whole (a closed pipe ends the writing: the reader is gone).
    mutating func flush() {
        guard !bytes.isEmpty else { return }
        fflush(nil)
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let n = write(STDOUT_FILENO, buffer.baseAddress! + offset, buffer.count - offset)
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { return }
                offset += n
            }
        }
        bytes.removeAll(keepingCapacity: true)
    }
}
