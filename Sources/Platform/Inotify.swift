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
