#if canImport(Glibc)
import Glibc
#endif
import SystemPackage

/// A NETLINK_ROUTE socket (rtnetlink(7)): the kernel's own report of links,
/// addresses and routes, for the net bridge. No NetworkManager, no udev:
/// it works in containers and on embedded systems.
///
/// Thin, as the rest of Platform: open, join multicast groups, send a
/// request, receive a datagram of messages. The meaning of the bytes is the
/// caller's (NetBridge's `RouteMessage`).
public final class NetlinkSocket {
    public let fd: Int32

    /// The multicast groups of rtnetlink(7) the net bridge joins.
    public struct Groups: OptionSet, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        public static let link = Groups(rawValue: 0x1)
        public static let ipv4Address = Groups(rawValue: 0x10)
        public static let ipv6Address = Groups(rawValue: 0x100)
        public static let ipv4Route = Groups(rawValue: 0x40)
        public static let ipv6Route = Groups(rawValue: 0x400)
    }

    /// Opens a blocking, close-on-exec NETLINK_ROUTE socket joined to `groups`.
    public init(groups: Groups) throws(PlatformError) {
        let fd = socket(AF_NETLINK, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0 /* NETLINK_ROUTE */)
        guard fd >= 0 else { throw PlatformError(operation: "open", path: "a NETLINK_ROUTE socket", errno: Errno(rawValue: errno)) }
        let addr = NetlinkSocket.address(groups: groups.rawValue)
        let rc = addr.withUnsafeBytes { bind(fd, $0.baseAddress!.assumingMemoryBound(to: sockaddr.self), socklen_t($0.count)) }
        guard rc == 0 else {
            let e = Errno(rawValue: errno)
            close(fd)
            throw PlatformError(operation: "bind", path: "a NETLINK_ROUTE socket", errno: e)
        }
        // A large receive buffer: a burst (a hundred VLANs at boot) should
        // not overflow; when one does anyway, receive reports ENOBUFS and
        // the caller reads the whole state again.
        var size: Int32 = 1 << 20
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        self.fd = fd
    }

    deinit { close(fd) }

    /// A sockaddr_nl (family, padding, pid 0: the kernel, groups), kept
    /// aligned for the kernel's reading of it.
    static func address(groups: UInt32) -> [UInt32] {
        [UInt32(AF_NETLINK), 0, groups]
    }

    /// Sends one request to the kernel.
    public func send(_ bytes: [UInt8]) throws(PlatformError) {
        let addr = NetlinkSocket.address(groups: 0)
        let n = bytes.withUnsafeBytes { raw in
            addr.withUnsafeBytes { a in
                sendto(fd, raw.baseAddress, raw.count, 0, a.baseAddress!.assumingMemoryBound(to: sockaddr.self), socklen_t(a.count))
            }
        }
        guard n == bytes.count else { throw PlatformError(operation: "send to", path: "the kernel's rtnetlink", errno: Errno(rawValue: errno)) }
    }

    /// Waits for and returns one datagram (several messages); EINTR is retried.
    /// ENOBUFS (the kernel dropped messages) is thrown: state must be read again.
    public func receive() throws(PlatformError) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n >= 0 { return Array(buffer[..<n]) }
            if errno == EINTR { continue }
            throw PlatformError(operation: "receive from", path: "the kernel's rtnetlink", errno: Errno(rawValue: errno))
        }
    }
}
