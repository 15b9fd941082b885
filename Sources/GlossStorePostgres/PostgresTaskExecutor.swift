import NIOCore
import NIOPosix

/// Runs the PostgreSQL pool's tasks on a NIO event loop thread instead of Swift's cooperative
/// pool.
///
/// The storage API blocks its calling thread until a pooled connection is handed over. A caller
/// on a cooperative thread (a synchronous test, a misplaced call) would otherwise starve the very
/// tasks that hand connections over: with two cores the cooperative pool has two threads, and two
/// blocked callers would wait for ever. Pinning the pool's work here keeps it moving whatever
/// the cooperative pool is doing. The jobs it runs never block.
final class PostgresTaskExecutor: TaskExecutor {
    /// One thread for the whole process: the pool's work is bookkeeping, the I/O runs on
    /// postgres-nio's own event loops.
    static let shared = PostgresTaskExecutor(eventLoop: MultiThreadedEventLoopGroup(numberOfThreads: 1).next())

    private let eventLoop: any EventLoop

    private init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute {
            job.runSynchronously(on: self.asUnownedTaskExecutor())
        }
    }
}
