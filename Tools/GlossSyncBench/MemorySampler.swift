import Foundation
import Synchronization

// Another process's memory while a phase runs: VmRSS sampled from /proc/PID/status on a thread
// of our own, and the kernel's VmHWM for the phase (reset when it starts).

/// A process's resident memory over one phase.
struct MemoryReading: Codable, Sendable {
    /// VmRSS when the phase started.
    var vmRSSBeforeBytes: Int?
    var samples: Int
    var intervalMs: Double
    var maxVmRSSBytes: Int?
    var meanVmRSSBytes: Int?
    /// VmRSS when the phase ended.
    var vmRSSAfterBytes: Int?
    /// The kernel's peak for the phase (VmHWM, reset at its start); nil when the reset or the
    /// reading failed (the process ended).
    var vmHWMBytes: Int?
    var peakWasReset: Bool
    /// CPU seconds the process used during the phase.
    var cpuSeconds: Double?
    /// The largest anonymous (heap) and file-backed (mapped files, the binary) parts of the
    /// samples, and when the largest sample was taken, in seconds from the start.
    var maxRssAnonBytes: Int?
    var maxRssFileBytes: Int?
    var peakAtSeconds: Double?
    var seconds: Double?
    /// Bytes the process passed to write calls during the phase (/proc/PID/io `wchar`): for
    /// glossd serving a clone, the TLS records it sent the client, whatever else uses loopback.
    var writeCallBytes: Int?

    /// The largest VmHWM sampled: the process's own peak until the last sample, for a process
    /// whose peak wait4 cannot give (a child spawned while the benchmark was large reports the
    /// benchmark's resident set as its ru_maxrss, inherited at exec).
    var maxVmHWMSampledBytes: Int?

    /// The phase's peak: VmHWM when the kernel kept it, else the largest sample.
    var peakBytes: Int? { vmHWMBytes ?? maxVmRSSBytes }
}

/// Samples a process's VmRSS every `interval` until stopped.
final class MemorySampler: Sendable {
    private struct State {
        var running = true
        var samples = 0
        var max = 0
        var sum = 0.0
        var maxAnon = 0
        var maxFile = 0
        var peakAt = 0.0
        var maxHWM = 0
    }

    let pid: pid_t
    let interval: Duration
    private let state = Mutex(State())
    private let finished = DispatchSemaphore(value: 0)
    private let before: Int?
    private let reset: Bool
    private let cpuBefore: Double?
    private let writtenBefore: Int?
    private let started = ContinuousClock.now

    /// Resets the process's VmHWM and starts sampling.
    init(pid: pid_t, every interval: Duration = .milliseconds(20)) {
        self.pid = pid
        self.interval = interval
        before = procStatus("VmRSS", pid: pid)
        cpuBefore = processCPUSeconds(pid: pid)
        writtenBefore = procIO("wchar", pid: pid)
        reset = resetPeakMemory(pid: pid)
        Thread.detachNewThread { [self] in
            let micros = useconds_t(interval.components.attoseconds / 1_000_000_000_000 + interval.components.seconds * 1_000_000)
            let clock = ContinuousClock()
            let start = clock.now
            while state.withLock({ $0.running }) {
                let fields = procStatusFields(pid: pid)
                if let rss = fields["VmRSS"] {
                    let at = seconds(clock.now - start)
                    state.withLock {
                        $0.samples += 1
                        if rss > $0.max { ($0.max, $0.peakAt) = (rss, at) }
                        $0.sum += Double(rss)
                        $0.maxAnon = Swift.max($0.maxAnon, fields["RssAnon"] ?? 0)
                        $0.maxFile = Swift.max($0.maxFile, fields["RssFile"] ?? 0)
                        $0.maxHWM = Swift.max($0.maxHWM, fields["VmHWM"] ?? 0)
                    }
                }
                usleep(micros)
            }
            finished.signal()
        }
    }

    /// Stops sampling and reads the phase's peak.
    func stop() -> MemoryReading {
        let hwm = procStatus("VmHWM", pid: pid)
        let after = procStatus("VmRSS", pid: pid)
        let cpu = processCPUSeconds(pid: pid).flatMap { a in cpuBefore.map { a - $0 } }
        let written = procIO("wchar", pid: pid).flatMap { a in writtenBefore.map { a - $0 } }
        state.withLock { $0.running = false }
        finished.wait()
        let s = state.withLock { $0 }
        return MemoryReading(
            vmRSSBeforeBytes: before, samples: s.samples, intervalMs: seconds(interval) * 1000,
            maxVmRSSBytes: s.samples > 0 ? s.max : nil, meanVmRSSBytes: s.samples > 0 ? Int(s.sum / Double(s.samples)) : nil,
            vmRSSAfterBytes: after, vmHWMBytes: reset ? hwm : nil, peakWasReset: reset,
            cpuSeconds: cpu, maxRssAnonBytes: s.samples > 0 ? s.maxAnon : nil, maxRssFileBytes: s.samples > 0 ? s.maxFile : nil,
            peakAtSeconds: s.samples > 0 ? s.peakAt : nil, seconds: seconds(ContinuousClock.now - started),
            writeCallBytes: written, maxVmHWMSampledBytes: s.maxHWM > 0 ? s.maxHWM : nil)
    }
}

/// Runs `body` while sampling the memory of process `pid`.
func measuringMemory<T>(of pid: pid_t, _ body: () async throws -> T) async throws -> (T, MemoryReading) {
    let sampler = MemorySampler(pid: pid)
    do {
        let value = try await body()
        return (value, sampler.stop())
    } catch {
        _ = sampler.stop()
        throw error
    }
}
