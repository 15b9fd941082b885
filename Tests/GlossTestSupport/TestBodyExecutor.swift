import Foundation

/// The threads test bodies run on (``HangGuard`` sets it as each test's task executor), instead
/// of Swift's cooperative pool.
///
/// Tests call the store synchronously, as the CLI does: on SQLite that is microseconds, on
/// PostgreSQL a network round trip per statement. The cooperative pool has a thread per core,
/// two on CI, and every in-process server's tasks share it: test bodies blocking there held up
/// other tests' servers for seconds (a push timed past 5 s, a metrics scrape unanswered). Here
/// a blocked body holds one of its own threads, and the servers' tasks go on. Four of them: as
/// many tests' bodies as run at once, about what the cooperative pool ran before, so that two
/// cores are not shared by dozens of tests racing their own time bounds (eight made a hostile-
/// input exchange outlast its 20 s), with room for a body or two blocked on a process.
public final class TestBodyExecutor: TaskExecutor, @unchecked Sendable {
    public static let shared = TestBodyExecutor(threads: 4)

    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []

    private init(threads: Int) {
        for index in 0..<threads {
            let thread = Thread { [unowned self] in self.work() }
            thread.name = "test-body-\(index)"
            thread.start()
        }
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    private func work() {
        while true {
            condition.lock()
            while jobs.isEmpty { condition.wait() }
            let job = jobs.removeFirst()
            condition.unlock()
            job.runSynchronously(on: asUnownedTaskExecutor())
        }
    }
}
