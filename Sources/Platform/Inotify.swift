#if canImport(Glibc)
import Glibc
#endif
import SystemPackage
import CSpawn

/// inotify(7) over job directories. When it is unavailable the daemon still
/// works: `initctl reload-configuration` and SIGHUP rescan by hand.
public final class Inotify {
    public let fd: Int32

    public init() throws(PlatformError) {
        fd = cevents_inotify_create()
        guard fd >= 0 else { throw PlatformError(operation: "create", path: "inotify instance", errno: Errno(rawValue: errno)) }
    }

    deinit { close(fd) }

    /// Watches a directory for files created, written, moved and deleted.
    public func watch(directory: String) throws(PlatformError) {
        guard cevents_inotify_watch_directory(fd, directory) >= 0 else {
            throw PlatformError(operation: "watch", path: directory, errno: Errno(rawValue: errno))
        }
    }

    /// Drains pending events; returns whether any arrived.
    public func drain() -> Bool {
        var any = false
        var buffer = [UInt8](repeating: 0, count: 8192)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { return any }
            any = true
        }
    }
}
