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

    /// The directory each watch descriptor stands for.
    private var watched: [Int32: String] = [:]

    /// Files created or modified and not yet closed: half-written, so a
    /// reading of the directories leaves them alone until they are.
    public private(set) var beingWritten = Set<String>()

    /// Watches a directory for files written, moved and deleted, and for
    /// directories created in it.
    ///
    /// With `forSubdirectory`, the directory is only the nearest existing
    /// parent of a job directory that does not exist yet: only directories
    /// appearing in it count, not its files.
    public func watch(directory: String, forSubdirectory: Bool = false) throws(PlatformError) {
        let wd = cevents_inotify_watch_directory(fd, directory)
        guard wd >= 0 else {
            throw PlatformError(operation: "watch", path: directory, errno: Errno(rawValue: errno))
        }
        watched[wd] = directory
        if forSubdirectory { if !whole.contains(wd) { parentsOnly.insert(wd) } } else { whole.insert(wd); parentsOnly.remove(wd) }
    }

    /// Watches that stand for a job directory (its files count), and those
    /// that wait for one to appear (only new directories count).
    private var whole = Set<Int32>()
    private var parentsOnly = Set<Int32>()

    /// Drains pending events; returns whether any of them means the job
    /// directories should be read again.
    ///
    /// A file counts once it has been written and closed (IN_CLOSE_WRITE)
    /// or moved into place (IN_MOVED_TO), never when it is merely created:
    /// `printf ... > job.conf` creates an empty file first, and reading it
    /// then would load an empty job. A created directory (a job directory
    /// appearing, or one under it) and a created symbolic link (complete as
    /// soon as it exists) count at once; so do removals and an overflowed
    /// queue.
    public func drain() -> Bool {
        var relevant = false
        var buffer = [UInt8](repeating: 0, count: 8192)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { return relevant }
            var offset = 0
            buffer.withUnsafeBytes { raw in
                while offset + 16 <= n {
                    let wd = raw.loadUnaligned(fromByteOffset: offset, as: Int32.self)
                    let mask = raw.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self)
                    let length = Int(raw.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self))
                    let nameBytes = raw[(offset + 16)..<min(n, offset + 16 + length)].prefix { $0 != 0 }
                    offset += 16 + length
                    if mask & UInt32(IN_IGNORED) != 0 {
                        watched[wd] = nil
                        whole.remove(wd)
                        parentsOnly.remove(wd)
                        continue
                    }
                    if parentsOnly.contains(wd) {
                        let appeared = mask & UInt32(IN_ISDIR) != 0 && mask & (UInt32(IN_CREATE) | UInt32(IN_MOVED_TO)) != 0
                        if appeared || mask & UInt32(IN_Q_OVERFLOW) != 0 { relevant = true }
                        continue
                    }
                    let path = watched[wd].map { $0 + "/" + String(decoding: nameBytes, as: UTF8.self) }
                    if let path, mask & UInt32(IN_ISDIR) == 0 {
                        if mask & (UInt32(IN_CREATE) | UInt32(IN_MODIFY)) != 0 {
                            // Created or written to, not yet closed; a
                            // symbolic link or a second hard link is
                            // complete as soon as it exists.
                            var st = stat()
                            let whole = mask & UInt32(IN_CREATE) != 0 && lstat(path, &st) == 0
                                && ((st.st_mode & S_IFMT) == S_IFLNK || st.st_nlink > 1)
                            if whole { relevant = true } else { beingWritten.insert(path) }
                        }
                        if mask & (UInt32(IN_CLOSE_WRITE) | UInt32(IN_MOVED_TO) | UInt32(IN_MOVED_FROM) | UInt32(IN_DELETE)) != 0 {
                            beingWritten.remove(path)
                        }
                    }
                    if Inotify.counts(mask) { relevant = true }
                }
            }
        }
    }

    /// Whether an event with `mask` alone means the directories changed.
    static func counts(_ mask: UInt32) -> Bool {
        if mask & UInt32(IN_Q_OVERFLOW) != 0 { return true }
        if mask & UInt32(IN_CREATE) != 0 { return mask & UInt32(IN_ISDIR) != 0 }
        let changes = UInt32(IN_CLOSE_WRITE) | UInt32(IN_MOVED_TO) | UInt32(IN_MOVED_FROM) | UInt32(IN_DELETE)
            | UInt32(IN_DELETE_SELF) | UInt32(IN_MOVE_SELF)
        return mask & changes != 0
    }
}

/// One inotify event, as read: the watch, the IN_* mask and the entry's name
/// (empty for an event about the watched directory itself).
public struct InotifyEvent: Sendable {
    public var watch: Int32
    public var mask: UInt32
    public var name: String
}

/// The IN_* bits a reader of `InotifyWatcher` needs.
public enum InotifyMask {
    public static let create = UInt32(IN_CREATE)
    public static let modify = UInt32(IN_MODIFY)
    public static let closeWrite = UInt32(IN_CLOSE_WRITE)
    public static let delete = UInt32(IN_DELETE)
    public static let movedFrom = UInt32(IN_MOVED_FROM)
    public static let movedTo = UInt32(IN_MOVED_TO)
    public static let deleteSelf = UInt32(IN_DELETE_SELF)
    public static let moveSelf = UInt32(IN_MOVE_SELF)
    public static let ignored = UInt32(IN_IGNORED)
    public static let isDirectory = UInt32(IN_ISDIR)
    public static let overflow = UInt32(IN_Q_OVERFLOW)
}

/// inotify(7) as plain events, for the file bridge: watches added and
/// removed by the caller, events read in bounded batches. (`Inotify` above
/// is the daemon's own, which only says whether job files changed.)
public final class InotifyWatcher {
    public let fd: Int32
    private var buffer: [UInt8]

    /// Fails when the kernel has no inotify (or the instance limit is hit).
    public init(bufferSize: Int = 65536) throws(PlatformError) {
        fd = cevents_inotify_create()
        guard fd >= 0 else { throw PlatformError(operation: "create", path: "inotify instance", errno: Errno(rawValue: errno)) }
        buffer = [UInt8](repeating: 0, count: max(bufferSize, 4096))
    }

    deinit { close(fd) }

    /// Watches a directory's entries (created, written, closed after
    /// writing, moved, deleted) and the directory itself going; returns the
    /// watch descriptor (the same one for a directory watched already).
    public func add(directory: String) throws(PlatformError) -> Int32 {
        let wd = cevents_inotify_watch_directory(fd, directory)
        guard wd >= 0 else { throw PlatformError(operation: "watch", path: directory, errno: Errno(rawValue: errno)) }
        return wd
    }

    /// Removes a watch; the kernel then queues IN_IGNORED for it.
    public func remove(_ wd: Int32) {
        _ = cevents_inotify_unwatch(fd, wd)
    }

    /// Reads what is queued, at most one buffer's worth (the caller's loop
    /// stays fair); empty when nothing is.
    public func read() -> [InotifyEvent] {
        let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
        guard n > 0 else { return [] }
        var out: [InotifyEvent] = []
        buffer.withUnsafeBytes { raw in
            var offset = 0
            while offset + 16 <= n {
                let wd = raw.loadUnaligned(fromByteOffset: offset, as: Int32.self)
                let mask = raw.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self)
                let length = Int(raw.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self))
                let name = raw[(offset + 16)..<min(n, offset + 16 + length)].prefix { $0 != 0 }
                out.append(InotifyEvent(watch: wd, mask: mask, name: String(decoding: name, as: UTF8.self)))
                offset += 16 + length
            }
        }
        return out
    }
}
