import SystemPackage
#if canImport(Glibc)
import Glibc
#endif
import CSpawn

/// One piece of work run on a thread of its own, whose end the event loop
/// learns through a descriptor: `fd` (an eventfd) becomes readable when the
/// result is ready, and `take()` then returns it.
///
/// The daemon is single-threaded; this is the one exception, for work that
/// only reads files and computes (parsing the job directories), so that a
/// huge job file never holds the loop. The work must not touch the
/// daemon's state: it gets copies of what it needs and returns a value.
public final class Background<Result: Sendable>: @unchecked Sendable {
    /// Readable once the work is done.
    public let fd: Int32
    private let holder: ResultHolder<Result>
    private let thread: WorkerThread

    /// Starts `work` on a new thread.
    public init(_ work: @escaping @Sendable () -> Result) throws(PlatformError) {
        let fd = cevents_eventfd()
        guard fd >= 0 else { throw PlatformError(operation: "create", path: "an eventfd", errno: Errno(rawValue: errno)) }
        let holder = ResultHolder<Result>()
        self.fd = fd
        self.holder = holder
        do {
            thread = try WorkerThread {
                holder.result = work()
                var one: UInt64 = 1
                _ = Glibc.write(fd, &one, 8)
            }
        } catch {
            close(fd)
            throw error
        }
    }

    deinit {
        thread.detachUnlessJoined()
        close(fd)
    }

    /// The result, once `fd` has become readable (nil before). Waits for
    /// the thread's last instructions, which follow the write at once.
    public func take() -> Result? {
        var count: UInt64 = 0
        guard Glibc.read(fd, &count, 8) == 8 else { return nil }
        thread.join()
        return holder.result
    }

    /// Runs the work to its end and returns the result.
    public func wait() -> Result {
        thread.join()
        var count: UInt64 = 0
        _ = Glibc.read(fd, &count, 8)
        return holder.result!
    }
}

/// Where the worker leaves its result; read only after the thread is joined.
private final class ResultHolder<Result: Sendable>: @unchecked Sendable {
    var result: Result?
}

/// A POSIX thread running one closure.
private final class WorkerThread: @unchecked Sendable {
    private var thread = pthread_t()
    private var joined = false
    private let body: @Sendable () -> Void

    init(_ body: @escaping @Sendable () -> Void) throws(PlatformError) {
        self.body = body
        let context = Unmanaged.passRetained(self).toOpaque()
        let rc = pthread_create(&thread, nil, workerThreadMain, context)
        guard rc == 0 else {
            Unmanaged<WorkerThread>.fromOpaque(context).release()
            throw PlatformError(operation: "start", path: "a thread", errno: Errno(rawValue: rc))
        }
    }

    func run() { body() }

    func join() {
        guard !joined else { return }
        pthread_join(thread, nil)
        joined = true
    }

    func detachUnlessJoined() {
        if !joined { pthread_detach(thread) }
        joined = true
    }
}

private func workerThreadMain(_ raw: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
    Unmanaged<WorkerThread>.fromOpaque(raw!).takeRetainedValue().run()
    return nil
}
