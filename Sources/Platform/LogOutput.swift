#if canImport(Glibc)
import Glibc
#endif
import CSpawn
import SystemPackage

/// The daemon's standard error, written without ever blocking.
///
/// A daemon's log goes wherever its standard error points: a terminal, a
/// pipe into a logger, a socket (journald), a file, `/dev/console`. Any of
/// those but a file can stop taking bytes (a logger that hangs, a terminal
/// paused with ^S), and a blocking write there would stop PID 1. So:
///
/// - a pipe, FIFO or terminal is opened again through `/proc/self/fd/2`,
///   which gives the daemon its own open file description, made
///   non-blocking without touching the one it shares with others;
/// - a socket is written with `MSG_DONTWAIT`;
/// - a regular file is written as it is (a file write does not wait on a
///   reader);
/// - anything else, or when `/proc` is not mounted yet, is written only
///   while poll(2) says it is writable.
///
/// `write` returns how many bytes were taken; 0 means "not now" (the
/// caller keeps them), -1 that the output is gone for good.
public final class LogOutput {
    private enum Kind { case ownDescription, owned, socket, file, polled }
    private let fd: Int32
    private let kind: Kind

    /// The output on descriptor `target` (2 for the daemon).
    public init(descriptor target: Int32 = 2) {
        var st = stat()
        guard fstat(target, &st) == 0 else {
            fd = target
            kind = .polled
            return
        }
        switch st.st_mode & S_IFMT {
        case S_IFREG:
            fd = target
            kind = .file
        case S_IFSOCK:
            fd = target
            kind = .socket
        case S_IFIFO, S_IFCHR:
            let own = open("/proc/self/fd/\(target)", O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)
            if own >= 0 {
                fd = own
                kind = .ownDescription
            } else {
                fd = target
                kind = .polled
            }
        default:
            fd = target
            kind = .polled
        }
    }

    /// A device or file opened by path for writing (the kernel log,
    /// `/dev/kmsg`): each write is one record. Throws why it cannot be
    /// opened.
    public init(path: String) throws(Errno) {
        let fd = open(path, O_WRONLY | O_APPEND | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)
        guard fd >= 0 else { throw Errno(rawValue: errno) }
        self.fd = fd
        kind = .owned
    }

    deinit {
        if kind == .ownDescription || kind == .owned { close(fd) }
    }

    /// Writes what the output takes now, without waiting.
    public func write(_ bytes: ArraySlice<UInt8>) -> Int {
        guard !bytes.isEmpty else { return 0 }
        let n: Int = bytes.withUnsafeBytes { raw in
            switch kind {
            case .socket:
                return Glibc.send(fd, raw.baseAddress, raw.count, Int32(MSG_DONTWAIT) | Int32(MSG_NOSIGNAL))
            case .polled:
                var p = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                guard poll(&p, 1, 0) == 1, p.revents & Int16(POLLOUT) != 0 else { return 0 }
                // Small writes only: a pipe or terminal that has room for a
                // little takes a little without waiting.
                return Glibc.write(fd, raw.baseAddress, min(raw.count, 512))
            case .file, .ownDescription, .owned:
                return Glibc.write(fd, raw.baseAddress, raw.count)
            }
        }
        if n >= 0 { return n }
        if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR { return 0 }
        return -1
    }
}
