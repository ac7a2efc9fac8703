import CSpawn
import SystemPackage
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A pseudo-terminal pair for `console log`: the job writes to the slave
/// (its standard output and error), the daemon reads the master and writes
/// the log. A pty rather than a pipe so programs see a terminal and
/// line-buffer, as under Upstart.
///
/// Both ends are close-on-exec (the spawner dup2s the slave onto 1 and 2 in
/// the child, which clears the flag there), so neither leaks into other
/// jobs. The master is in raw mode: no echo, no `\n` to `\r\n` translation,
/// bytes reach the log as written.
///
/// Reading the master once every slave is closed fails with EIO rather
/// than returning end-of-file; treat EIO as the end.
public struct PseudoTerminal: Sendable {
    public let master: FileDescriptor
    public let slave: FileDescriptor
    /// The slave's path (`/dev/pts/N`).
    public let slavePath: String

    public static func open() throws(PlatformError) -> PseudoTerminal {
        let master = cplatform_posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC)
        if master < 0 { throw PlatformError(operation: "open", path: "/dev/ptmx", errno: Errno(rawValue: Glibc.errno)) }
        func fail(_ operation: String, _ path: String = "/dev/ptmx") -> PlatformError {
            let error = PlatformError(operation: operation, path: path, errno: Errno(rawValue: Glibc.errno))
            _ = Glibc.close(master)
            return error
        }
        guard cplatform_grantpt(master) == 0 else { throw fail("grantpt") }
        guard cplatform_unlockpt(master) == 0 else { throw fail("unlockpt") }
        var name = [CChar](repeating: 0, count: 128)
        guard cplatform_ptsname_r(master, &name, name.count) == 0 else { throw fail("ptsname_r") }
        let path = String(decoding: name.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        var attributes = termios()
        guard tcgetattr(master, &attributes) == 0 else { throw fail("tcgetattr", path) }
        cfmakeraw(&attributes)
        guard tcsetattr(master, TCSANOW, &attributes) == 0 else { throw fail("tcsetattr", path) }
        let slave = Glibc.open(path, O_RDWR | O_NOCTTY | O_CLOEXEC)
        guard slave >= 0 else { throw fail("open", path) }
        return PseudoTerminal(
            master: FileDescriptor(rawValue: master), slave: FileDescriptor(rawValue: slave), slavePath: path)
    }

    /// Closes the daemon's copy of the slave (after spawning the job onto it).
    public func closeSlave() {
        _ = Glibc.close(slave.rawValue)
    }

    /// Closes the master (after the last read).
    public func closeMaster() {
        _ = Glibc.close(master.rawValue)
    }
}
