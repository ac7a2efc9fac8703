/// Where the control socket lives (docs/protocol.md, "Finding the socket").
///
/// - System mode: `/run/daybreak/control`.
/// - User mode: `$XDG_RUNTIME_DIR/daybreak/control`, or, without
///   `XDG_RUNTIME_DIR`, `/tmp/daybreak-UID/control` (the daemon makes that
///   directory mode 0700 and refuses one it does not own).
/// - Jobs of a user-mode daemon get `UPSTART_SESSION=unix:path=SOCKET`, as
///   Upstart exports its session address, and `initctl` run inside a job
///   finds its daemon through it.
public enum SocketPath {
    public static let system = "/run/daybreak/control"

    public static func user(environment: [String: String], uid: UInt32) -> String {
        if let runtime = environment["XDG_RUNTIME_DIR"], runtime.hasPrefix("/") {
            return runtime + "/daybreak/control"
        }
        return "/tmp/daybreak-\(uid)/control"
    }

    /// The value of `UPSTART_SESSION` for a socket path.
    public static func sessionAddress(for path: String) -> String { "unix:path=" + path }

    /// The socket path named by an `UPSTART_SESSION` value, or nil when it
    /// is not a `unix:path=` address (Upstart's own abstract D-Bus
    /// addresses are not ours to talk to).
    public static func path(fromSession address: String) -> String? {
        for part in address.split(separator: ",") where part.hasPrefix("unix:path=") {
            let p = String(part.dropFirst("unix:path=".count))
            return p.isEmpty ? nil : p
        }
        if address.hasPrefix("/") { return address }
        return nil
    }
}
