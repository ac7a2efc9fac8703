#if canImport(Glibc)
import Glibc
#endif
import SystemPackage
import CSpawn

/// epoll(7): the one place the daemon waits.
public final class Epoll {
    public let fd: Int32

    public init() throws(PlatformError) {
        fd = cevents_epoll_create()
        guard fd >= 0 else { throw PlatformError(operation: "create", path: "epoll instance", errno: Errno(rawValue: errno)) }
    }

    deinit { close(fd) }

    public struct Events: OptionSet, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        public static let readable = Events(rawValue: 0x001)  // EPOLLIN
        public static let writable = Events(rawValue: 0x004)  // EPOLLOUT
        public static let error = Events(rawValue: 0x008)  // EPOLLERR
        public static let hangup = Events(rawValue: 0x010 | 0x2000)  // EPOLLHUP | EPOLLRDHUP
    }

    /// Watches `target` for `events`, or changes what it is watched for.
    public func watch(_ target: Int32, for events: Events) throws(PlatformError) {
        guard cevents_epoll_watch(fd, target, events.rawValue) == 0 else {
            throw PlatformError(operation: "watch descriptor \(target) with", path: "epoll", errno: Errno(rawValue: errno))
        }
    }

    /// Stops watching `target` (closing it also does).
    public func unwatch(_ target: Int32) {
        _ = cevents_epoll_unwatch(fd, target)
    }

    /// Waits up to `timeout` milliseconds (-1: forever) and returns the ready descriptors.
    public func wait(timeout: Int32) -> [(fd: Int32, events: Events)] {
        var fds = [Int32](repeating: -1, count: 64)
        var events = [UInt32](repeating: 0, count: 64)
        let n = cevents_epoll_wait(fd, &fds, &events, 64, timeout)
        guard n > 0 else { return [] }
        return (0..<Int(n)).map { (fds[$0], Events(rawValue: events[$0])) }
    }
}

/// A timerfd on CLOCK_MONOTONIC, armed for one absolute deadline at a time.
public final class Timer {
    public let fd: Int32

    public init() throws(PlatformError) {
        fd = cevents_timerfd_create()
        guard fd >= 0 else { throw PlatformError(operation: "create", path: "timerfd", errno: Errno(rawValue: errno)) }
    }

    deinit { close(fd) }

    /// Fires once at `milliseconds` on the monotonic clock; nil disarms.
    public func arm(at milliseconds: Int64?) {
        _ = cevents_timerfd_arm(fd, max(milliseconds ?? 0, milliseconds == nil ? 0 : 1))
    }

    /// Clears a fired timer.
    public func acknowledge() {
        var expirations: UInt64 = 0
        _ = read(fd, &expirations, 8)
    }
}

/// A timerfd on CLOCK_REALTIME for one wall-clock deadline at a time, armed
/// with TFD_TIMER_CANCEL_ON_SET: it also wakes its reader when the clock is
/// set (by hand, by NTP stepping it, on resume), so a sleeper on a schedule
/// recomputes instead of sleeping through the change.
public final class WallClockTimer {
    public let fd: Int32

    public init() throws(PlatformError) {
        fd = cevents_timerfd_realtime_create()
        guard fd >= 0 else { throw PlatformError(operation: "create", path: "timerfd", errno: Errno(rawValue: errno)) }
    }

    deinit { close(fd) }

    /// Fires once at `milliseconds` since the epoch by the wall clock.
    public func arm(at milliseconds: Int64) {
        _ = cevents_timerfd_arm_realtime(fd, milliseconds)
    }

    /// What woke the reader.
    public enum Wake: Sendable { case fired, clockSet, nothing }

    /// Clears the timer and says why it woke.
    public func acknowledge() -> Wake {
        var expirations: UInt64 = 0
        let n = read(fd, &expirations, 8)
        if n == 8 { return .fired }
        return errno == ECANCELED ? .clockSet : .nothing
    }
}
