#if canImport(Glibc)
import Glibc
#endif
import SystemPackage
import CSpawn

/// The credentials of a socket's peer (SO_PEERCRED), as the kernel vouches for them.
public struct PeerCredentials: Sendable, Equatable {
    public var pid: Int32
    public var uid: UInt32
    public var gid: UInt32

    public init(pid: Int32, uid: UInt32, gid: UInt32) {
        self.pid = pid
        self.uid = uid
        self.gid = gid
    }
}

/// Unix stream sockets: the control socket and its clients.
///
/// Every descriptor is close-on-exec, so no job inherits the control socket.
/// Server-side descriptors are non-blocking; client-side ones block.
public enum UnixSocket {
    private static func address(_ path: String) throws(PlatformError) -> sockaddr_un {
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: addr.sun_path)
        guard bytes.count < capacity else {
            throw PlatformError(operation: "use socket path (longer than \(capacity - 1) bytes)", path: path, errno: .fileNameTooLong)
        }
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            for (i, b) in bytes.enumerated() { raw[i] = b }
            raw[bytes.count] = 0
        }
        return addr
    }

    /// Creates a listening socket at `path` with permissions `mode`.
    ///
    /// A stale socket file left by a daemon that died is replaced; a path
    /// that another live daemon is listening on is refused, so a second
    /// daemon cannot steal the first one's socket.
    public static func listen(path: String, mode: mode_t) throws(PlatformError) -> Int32 {
        var addr = try address(path)
        if (try? connect(path: path)).map({ close($0); return true }) == true {
            throw PlatformError(operation: "listen on (another daemon is already listening there)", path: path, errno: .addressInUse)
        }
        unlink(path)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { throw PlatformError(operation: "create socket for", path: path, errno: Errno(rawValue: errno)) }
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0 else {
            let e = errno
            close(fd)
            throw PlatformError(operation: "bind", path: path, errno: Errno(rawValue: e))
        }
        guard chmod(path, mode) == 0, Glibc.listen(fd, 128) == 0 else {
            let e = errno
            close(fd)
            unlink(path)
            throw PlatformError(operation: "listen on", path: path, errno: Errno(rawValue: e))
        }
        return fd
    }

    /// Closes a listening socket and removes its file, if the file is
    /// still a socket (a clean exit leaves nothing behind).
    public static func closeListener(_ fd: Int32, path: String) {
        close(fd)
        var st = stat()
        if lstat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFSOCK { unlink(path) }
    }

    /// What one accept(2) gave.
    public enum Accepted: Equatable {
        /// A new client, non-blocking and close-on-exec.
        case client(Int32)
        /// No one is waiting (or the attempt failed in a way that passes).
        case none
        /// Someone is waiting, but the daemon (or the system) is out of
        /// descriptors: the connection stays queued until one is freed.
        case outOfDescriptors
    }

    /// Accepts one client.
    public static func accept(_ listener: Int32) -> Accepted {
        let fd = cevents_accept(listener)
        if fd >= 0 { return .client(fd) }
        return errno == EMFILE || errno == ENFILE ? .outOfDescriptors : .none
    }

    /// Connects to the socket at `path` (blocking, close-on-exec).
    public static func connect(path: String) throws(PlatformError) -> Int32 {
        var addr = try address(path)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw PlatformError(operation: "create socket for", path: path, errno: Errno(rawValue: errno)) }
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard rc == 0 else {
            let e = errno
            close(fd)
            throw PlatformError(operation: "connect to", path: path, errno: Errno(rawValue: e))
        }
        return fd
    }

    /// The peer's pid, uid and gid.
    public static func peerCredentials(_ fd: Int32) -> PeerCredentials? {
        var pid: Int32 = 0
        var uid: UInt32 = 0
        var gid: UInt32 = 0
        guard cevents_peer_credentials(fd, &pid, &uid, &gid) == 0 else { return nil }
        return PeerCredentials(pid: pid, uid: uid, gid: gid)
    }

    /// The outcome of one non-blocking write or read.
    public enum IO: Equatable {
        case done(Int)
        case wouldBlock
        case closed
        case failed(Errno)
    }

    /// Writes as much of `bytes` as the socket takes now, passing `fds`
    /// (SCM_RIGHTS, at most 16) with the first byte. Never raises SIGPIPE.
    public static func send(_ fd: Int32, _ bytes: ArraySlice<UInt8>, fds: [Int32] = []) -> IO {
        guard !bytes.isEmpty else { return .done(0) }
        let n = bytes.withUnsafeBytes { raw in
            fds.withUnsafeBufferPointer { f in cevents_send(fd, raw.baseAddress, UInt(raw.count), f.baseAddress, Int32(f.count)) }
        }
        if n >= 0 { return .done(n) }
        return failure(errno)
    }

    /// Reads what is available (up to `max` bytes) and any descriptors
    /// passed with it, which arrive close-on-exec.
    public static func receive(_ fd: Int32, max: Int = 64 * 1024) -> (IO, [UInt8], [Int32]) {
        var fds = [Int32](repeating: -1, count: 16)
        var count: Int32 = 0
        var n = 0
        // Not zeroed first: the kernel writes what it reads, and zeroing
        // 64 KiB cost every read (an initctl run most of all) sixteen page
        // faults (docs/PERFORMANCE.md, "initctl's start-up").
        let buffer = [UInt8](unsafeUninitializedCapacity: max) { raw, initialized in
            n = cevents_receive(fd, raw.baseAddress, UInt(raw.count), &fds, 16, &count)
            initialized = Swift.max(n, 0)
        }
        let received = Array(fds.prefix(Int(count)))
        if n > 0 { return (.done(n), buffer, received) }
        if n == 0 { return (.closed, [], received) }
        return (failure(errno), [], received)
    }

    private static func failure(_ e: Int32) -> IO {
        if e == EAGAIN || e == EWOULDBLOCK { return .wouldBlock }
        if e == EPIPE || e == ECONNRESET { return .closed }
        return .failed(Errno(rawValue: e))
    }
}
