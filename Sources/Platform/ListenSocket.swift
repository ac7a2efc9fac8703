import SystemPackage
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Listening sockets for the socket bridge (docs/socket-bridge.md): TCP
/// over IPv4 and IPv6, and Unix stream sockets (a path, or a name in the
/// abstract namespace).
///
/// Every socket is close-on-exec and **blocking**: the bridge only waits
/// for it to become readable (epoll), never accepts, and hands it to a job
/// that may expect a blocking `accept` (systemd passes sockets blocking too;
/// O_NONBLOCK would be shared with the job through the file description).
public enum ListenSocket {
    /// The backlog: connections that wait while the job starts.
    public static let backlog: Int32 = 4096

    /// A TCP socket bound to `address:port` and listening. IPv6 sockets
    /// are IPv6 only (IPV6_V6ONLY), so `::` and `0.0.0.0` on one port can
    /// both be had. SO_REUSEADDR lets a socket be bound again while old
    /// connections linger in TIME_WAIT.
    public static func tcp(ipv6: Bool, address: String, port: UInt16) throws(PlatformError) -> Int32 {
        let label = ipv6 ? "[\(address)]:\(port)" : "\(address):\(port)"
        let fd = socket(ipv6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw PlatformError(operation: "create a socket for", path: label, errno: Errno(rawValue: errno)) }
        var one: Int32 = 1
        _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var rc: Int32
        if ipv6 {
            _ = setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &one, socklen_t(MemoryLayout<Int32>.size))
            var addr = sockaddr_in6()
            addr.sin6_family = sa_family_t(AF_INET6)
            addr.sin6_port = port.bigEndian
            guard inet_pton(AF_INET6, address, &addr.sin6_addr) == 1 else {
                close(fd)
                throw PlatformError(operation: "bind", path: label, errno: .invalidArgument, detail: "not an IPv6 address")
            }
            rc = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
            }
        } else {
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_port = port.bigEndian
            guard inet_pton(AF_INET, address, &addr.sin_addr) == 1 else {
                close(fd)
                throw PlatformError(operation: "bind", path: label, errno: .invalidArgument, detail: "not an IPv4 address")
            }
            rc = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        }
        guard rc == 0 else {
            let e = errno
            close(fd)
            throw PlatformError(operation: "bind", path: label, errno: Errno(rawValue: e))
        }
        guard listen(fd, backlog) == 0 else {
            let e = errno
            close(fd)
            throw PlatformError(operation: "listen on", path: label, errno: Errno(rawValue: e))
        }
        return fd
    }

    /// A Unix stream socket at `path` (`@name`: the abstract namespace),
    /// listening; for a path, its file gets `mode` and `owner` (uid, gid;
    /// nil leaves each as created).
    ///
    /// A stale socket file (no one listens on it) is replaced; a path a
    /// live program listens on is refused (`addressInUse`), as is a path
    /// that is not a socket (a regular file is never removed).
    public static func unix(path: String, mode: UInt32?, owner: (uid: UInt32?, gid: UInt32?)) throws(PlatformError) -> Int32 {
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let abstract = path.hasPrefix("@")
        let bytes = abstract ? [0] + Array(path.utf8.dropFirst()) : Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: addr.sun_path)
        guard bytes.count < capacity else {
            throw PlatformError(operation: "bind", path: path, errno: .fileNameTooLong)
        }
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            for (i, b) in bytes.enumerated() { raw[i] = b }
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count + (abstract ? 0 : 1))
        if !abstract {
            var st = stat()
            if lstat(path, &st) == 0 {
                guard (st.st_mode & S_IFMT) == S_IFSOCK else {
                    throw PlatformError(operation: "bind", path: path, errno: .fileExists, detail: "the path exists and is not a socket")
                }
                if (try? UnixSocket.connect(path: path)).map({ close($0); return true }) == true {
                    throw PlatformError(operation: "bind", path: path, errno: .addressInUse, detail: "another program is listening there")
                }
                unlink(path)  // stale: its listener is gone
            }
        }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw PlatformError(operation: "create a socket for", path: path, errno: Errno(rawValue: errno)) }
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard rc == 0 else {
            let e = errno
            close(fd)
            throw PlatformError(operation: "bind", path: path, errno: Errno(rawValue: e))
        }
        if !abstract {
            if let mode, chmod(path, mode_t(mode)) != 0 {
                let e = errno
                close(fd)
                unlink(path)
                throw PlatformError(operation: "set the mode of", path: path, errno: Errno(rawValue: e))
            }
            if owner.uid != nil || owner.gid != nil,
               lchown(path, owner.uid ?? UInt32.max, owner.gid ?? UInt32.max) != 0 {
                let e = errno
                close(fd)
                unlink(path)
                throw PlatformError(operation: "set the owner of", path: path, errno: Errno(rawValue: e))
            }
        }
        guard listen(fd, backlog) == 0 else {
            let e = errno
            close(fd)
            if !abstract { unlink(path) }
            throw PlatformError(operation: "listen on", path: path, errno: Errno(rawValue: e))
        }
        return fd
    }

    /// Removes a socket file if it is still a socket (never anything else).
    public static func removeSocketFile(_ path: String) {
        guard !path.hasPrefix("@") else { return }
        var st = stat()
        if lstat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFSOCK { unlink(path) }
    }

    /// `USER` or `USER:GROUP` as ids, from the user database; the group
    /// defaults to the user's primary group. nil with a reason when a name
    /// is unknown.
    public static func owner(_ text: String) -> Result<(uid: UInt32, gid: UInt32), PlatformError> {
        _ = Credentials.staticUserDatabase
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        var uid: UInt32
        var gid: UInt32
        switch Credentials.lookupUser(parts[0]) {
        case .found(let u, let g):
            uid = u
            gid = g
        case .missing:
            return .failure(PlatformError(operation: "use SOCKET_OWNER", path: text, errno: .noSuchFileOrDirectory, detail: "no such user '\(parts[0])'"))
        case .failed(let e):
            return .failure(PlatformError(operation: "use SOCKET_OWNER", path: text, errno: e))
        }
        if parts.count > 1 {
            switch Credentials.lookupGroup(parts[1]) {
            case .found(let g): gid = g
            case .missing:
                return .failure(PlatformError(operation: "use SOCKET_OWNER", path: text, errno: .noSuchFileOrDirectory, detail: "no such group '\(parts[1])'"))
            case .failed(let e):
                return .failure(PlatformError(operation: "use SOCKET_OWNER", path: text, errno: e))
            }
        }
        return .success((uid, gid))
    }

    /// Takes an exclusive lock on `path` (created 0600 if missing; flock),
    /// waiting for whoever holds it to let go or exit. Returns the lock's
    /// descriptor (close-on-exec), held for as long as it stays open.
    public static func holdLock(_ path: String) throws(PlatformError) -> Int32 {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw PlatformError(operation: "open the lock", path: path, errno: Errno(rawValue: errno)) }
        while flock(fd, LOCK_EX) != 0 {
            guard errno == EINTR else {
                let e = errno
                close(fd)
                throw PlatformError(operation: "lock", path: path, errno: Errno(rawValue: e))
            }
        }
        return fd
    }

    /// Whether `path`'s lock is free now (without taking it).
    public static func lockIsFree(_ path: String) -> Bool {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return true }
        defer { close(fd) }
        return flock(fd, LOCK_EX | LOCK_NB) == 0
    }

    /// Whether the machine can listen on IPv6 loopback (`::1`).
    public static var hasIPv6Loopback: Bool {
        guard let fd = try? tcp(ipv6: true, address: "::1", port: 0) else { return false }
        close(fd)
        return true
    }
}
