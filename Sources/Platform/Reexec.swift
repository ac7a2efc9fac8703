import CSpawn
import SystemPackage
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// What stateful re-exec needs from the system: a descriptor holding the
/// state document across exec(2), descriptors kept open across it, the
/// executable to run again, and the exec itself.
public enum ReexecSupport {
    /// An anonymous in-memory file (memfd, not close-on-exec) holding
    /// `bytes`, its offset at 0: the `--state-fd` of the next daemon. A
    /// pipe would hold only 64 KiB before the writer blocks.
    public static func stateDescriptor(_ bytes: [UInt8]) throws(PlatformError) -> Int32 {
        let fd = creexec_memfd("daybreak-state")
        guard fd >= 0 else { throw PlatformError(operation: "memfd_create", path: "daybreak-state", errno: .init(rawValue: errno)) }
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                let e = errno
                close(fd)
                throw PlatformError(operation: "write state document", path: "memfd", errno: .init(rawValue: e))
            }
            offset += n
        }
        lseek(fd, 0, SEEK_SET)
        return fd
    }

    /// Reads a state descriptor to its end (from offset 0, at most
    /// `limit` bytes) and closes it. Nil if it cannot be read.
    public static func readState(_ fd: Int32, limit: Int = 256 << 20) -> [UInt8]? {
        defer { close(fd) }
        lseek(fd, 0, SEEK_SET)
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while out.count <= limit {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { return nil }
            if n == 0 { return out }
            out += buffer[..<n]
        }
        return nil
    }

    /// Clears close-on-exec: the descriptor survives the exec.
    public static func keepAcrossExec(_ fd: Int32) {
        let flags = fcntl(fd, F_GETFD)
        if flags >= 0 { _ = fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC) }
    }

    /// Sets close-on-exec again (after a restore: jobs must not inherit it).
    public static func closeOnExec(_ fd: Int32) {
        let flags = fcntl(fd, F_GETFD)
        if flags >= 0 { _ = fcntl(fd, F_SETFD, flags | FD_CLOEXEC) }
    }

    /// Whether a descriptor is open.
    public static func isOpen(_ fd: Int32) -> Bool { fcntl(fd, F_GETFD) >= 0 }

    /// The executable this process was started as, resolved at start-up
    /// (after an upgrade /proc/self/exe names a deleted file; the path it
    /// was started from names the new one): argv[0] made absolute (from the
    /// working directory, or searched in PATH), else /proc/self/exe.
    public static func resolveExecutable(_ argv0: String?, path: String?) -> String? {
        if let argv0, !argv0.isEmpty {
            if argv0.hasPrefix("/") { return argv0 }
            if argv0.contains("/") {
                var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
                if let cwd = getcwd(&buffer, buffer.count) {
                    return String(cString: cwd) + "/" + argv0
                }
            } else {
                for dir in (path ?? "/usr/sbin:/usr/bin:/sbin:/bin").split(separator: ":") where dir.hasPrefix("/") {
                    let candidate = "\(dir)/\(argv0)"
                    if access(candidate, X_OK) == 0 { return candidate }
                }
            }
        }
        return FileSystem.resolvedLink("/proc/self/exe")
    }

    /// Whether this process is in the initial pid namespace (the
    /// machine's, not a container's): its inode is fixed by the kernel
    /// (PROC_PID_INIT_INO).
    public static var inInitialPidNamespace: Bool {
        FileSystem.resolvedLink("/proc/self/ns/pid") == "pid:[4026531836]"
    }

    /// A pidfd for `pid` (readable once it exits), or nil.
    public static func pidfd(_ pid: Int32) -> Int32? {
        let fd = creexec_pidfd_open(pid)
        return fd >= 0 ? fd : nil
    }

    /// The names of the subdirectories of a directory (none if unreadable).
    public static func subdirectories(of path: String) -> [String] {
        guard let dir = opendir(path) else { return [] }
        defer { closedir(dir) }
        var out: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name == "." || name == ".." { continue }
            if FileSystem.kind(of: path + "/" + name) == .directory { out.append(name) }
        }
        return out.sorted()
    }

    /// Removes a file, if it is there.
    public static func removeFile(_ path: String) { _ = unlink(path) }

    /// Whether a process exists and is not a zombie.
    public static func isRunning(_ pid: Int32) -> Bool {
        guard let bytes = try? FileSystem.readFile("/proc/\(pid)/stat") else { return false }
        let text = String(decoding: bytes, as: UTF8.self)
        guard let close = text.lastIndex(of: ")") else { return false }
        return text[text.index(after: close)...].split(separator: " ").first != "Z"
    }

    /// The parent of a process, from /proc (nil if it is gone).
    public static func parent(of pid: Int32) -> Int32? {
        guard let bytes = try? FileSystem.readFile("/proc/\(pid)/stat") else { return nil }
        let text = String(decoding: bytes, as: UTF8.self)
        guard let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        return fields.count > 1 ? Int32(fields[1]) : nil
    }

    /// execv(2); returns only on failure, with the reason.
    public static func exec(_ path: String, _ arguments: [String]) -> PlatformError {
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) }
        argv.append(nil)
        execv(path, &argv)
        let e = errno
        for p in argv { free(p) }
        return PlatformError(operation: "exec", path: path, errno: .init(rawValue: e))
    }
}
