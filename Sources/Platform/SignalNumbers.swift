#if canImport(Glibc)
import Glibc
#endif

/// Linux signal numbers, for modules that do not import Glibc.
public enum SignalNumber {
    public static let hangup = SIGHUP
    public static let interrupt = SIGINT
    public static let kill = SIGKILL
    public static let user1 = SIGUSR1
    public static let pipe = SIGPIPE
    public static let terminate = SIGTERM
    public static let child = SIGCHLD
    public static let `continue` = SIGCONT
    public static let stop = SIGSTOP
    public static let trap = SIGTRAP
    public static let windowChange = SIGWINCH
    public static let power = SIGPWR
}
