import CSpawn
import SystemPackage
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The daemon's end of sd_notify(3) for one job instance: a datagram
/// socket in the abstract namespace (so there is no file to remove), whose
/// messages carry the sender's pid (SO_PASSCRED). Closed on deinit.
public final class NotifySocket {
    public let fd: Int32
    /// The value for `NOTIFY_SOCKET`: `@` and the abstract name.
    public let address: String

    /// Binds `@name`. Throws if the name is taken or sockets are unavailable.
    public init(name: String) throws(PlatformError) {
        let fd = cnotify_open(name)
        guard fd >= 0 else { throw PlatformError(operation: "bind notify socket", path: "@" + name, errno: Errno(rawValue: Glibc.errno)) }
        self.fd = fd
        self.address = "@" + name
    }

    /// Takes over a socket kept open across a re-exec.
    public init(adopting fd: Int32, address: String) {
        self.fd = fd
        self.address = address
    }

    /// The next waiting message and its sender's pid (0 if unknown), or nil.
    public func receive() -> (text: String, pid: Int32)? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        var pid: Int32 = 0
        let n = buffer.withUnsafeMutableBytes { cnotify_receive(fd, $0.baseAddress, UInt($0.count), &pid) }
        guard n >= 0 else { return nil }
        return (String(decoding: buffer[..<Int(n)], as: UTF8.self), pid)
    }

    deinit { close(fd) }
}

extension Process {
    /// The parent of a process (from /proc/PID/stat), or nil if it is gone.
    public static func parent(of pid: Int32) -> Int32? {
        guard let bytes = try? FileSystem.readFile("/proc/\(pid)/stat", limit: 4096) else { return nil }
        let text = String(decoding: bytes, as: UTF8.self)
        guard let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        return fields.count > 1 ? Int32(fields[1]) : nil
    }
}
