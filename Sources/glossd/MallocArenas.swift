#if canImport(Glibc)
import Glibc
#endif

/// How many malloc arenas glossd lets glibc make.
///
/// glibc gives threads that allocate at once arenas of their own, up to 8 per core, and keeps
/// what each arena grew to. glossd's storage work runs on at least 16 threads (the storage
/// executor), so a burst of pushes spread allocations over many arenas: its peak while 100
/// clients pushed rose from 111 MB to 154–173 MB once the executor came, and fell back to
/// 111 MB with two arenas, at the same push rate (BENCHMARKS.md). `MALLOC_ARENA_MAX` in the
/// environment still wins, for an operator who wants another trade.
enum MallocArenas {
    static let limit: Int32 = 2
    /// `M_ARENA_MAX` in glibc's `malloc.h`, which Swift's Glibc module does not import.
    static let arenaMaxParameter: Int32 = -8

    /// Caps the arenas unless the environment already does; call before threads start.
    /// Looked up at run time, so that a libc without `mallopt` (musl) just keeps its own ways.
    static func cap() {
        #if canImport(Glibc)
        guard getenv("MALLOC_ARENA_MAX") == nil, let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt")
        else { return }
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        _ = unsafeBitCast(symbol, to: Mallopt.self)(arenaMaxParameter, limit)
        #endif
    }
}
