#if canImport(Glibc)
import Glibc
#endif

/// Closes a descriptor, ignoring errors (there is nothing to do about them).
public func closeDescriptor(_ fd: Int32) {
    _ = close(fd)
}

/// read(2) into a buffer; the count, 0 at end of file, or -1 (see `lastErrorWouldBlock`).
public func readDescriptor(_ fd: Int32, _ buffer: UnsafeMutableRawBufferPointer) -> Int {
    read(fd, buffer.baseAddress, buffer.count)
}

/// Whether the last failed call failed with EAGAIN/EWOULDBLOCK (or EINTR).
public func lastErrorWouldBlock() -> Bool {
    errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR
}

/// Sets O_NONBLOCK on a descriptor.
public func setNonBlocking(_ fd: Int32) {
    let flags = fcntl(fd, F_GETFL)
    _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
}

/// Ignores a signal (SIGPIPE: writes to a closed socket fail with EPIPE instead).
public func ignoreSignal(_ signal: Int32) {
    Glibc.signal(signal, SIG_IGN)
}

import CSpawn

/// Returns free heap memory to the kernel (malloc_trim). The daemon calls
/// it after work that builds large temporary values (reading every job
/// file, a reply to `list` of every job), so its resident size follows
/// what it keeps, not the peak of what it once built.
public func trimHeap() {
    cevents_trim_heap()
}


/// The soft limit on open descriptors (RLIMIT_NOFILE), read now: an
/// administrator may change it while the daemon runs (prlimit).
public func descriptorLimit() -> Int {
    var limit = rlimit()
    guard getrlimit(RLIMIT_NOFILE_VALUE, &limit) == 0 else { return 1024 }
    return Int(clamping: limit.rlim_cur)  // RLIM_INFINITY is the largest value: clamped to Int.max
}

private let RLIMIT_NOFILE_VALUE = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)

/// Whether the last failed call ran out of descriptors (EMFILE or ENFILE).
public func lastErrorIsOutOfDescriptors() -> Bool {
    errno == EMFILE || errno == ENFILE
}

/// A few descriptors held open on `/dev/null`, given back when the daemon
/// runs out so that the work that matters can still be done: starting a
/// job, or refusing a connection instead of leaving it to spin the loop.
///
/// `release()` closes them; `refill()` opens them again (as many as it
/// can). Every descriptor is close-on-exec, so no job inherits one.
public final class DescriptorReserve {
    public let size: Int
    private var held: [Int32] = []

    public init(size: Int) {
        self.size = size
        refill()
    }

    deinit { release() }

    /// How many are held now.
    public var count: Int { held.count }

    public func release() {
        for fd in held { close(fd) }
        held.removeAll()
    }

    public func refill() {
        while held.count < size {
            let fd = open("/dev/null", O_RDONLY | O_CLOEXEC)
            if fd < 0 { return }
            held.append(fd)
        }
    }
}
