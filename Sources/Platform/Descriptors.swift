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

