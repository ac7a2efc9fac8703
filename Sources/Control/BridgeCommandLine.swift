import Platform

/// What the bridges' command lines share (`daybreak-file-bridge`,
/// `daybreak-socket-bridge`, `daybreak-net-bridge`): being run by their
/// name, and `--socket PATH`, `--help`, `--version`.
public enum BridgeCommandLine {
    /// Whether a program name (argv[0]) asks for the bridge `name`.
    public static func isInvoked(as argv0: String?, name: String) -> Bool {
        argv0.map { $0.split(separator: "/").last.map(String.init) == name } ?? false
    }

    /// Reads `--socket PATH`, `--help` and `--version` (the last two print
    /// and exit 0; anything else, or `--socket` without a value, says so
    /// with the usage and exits 2). Returns the daemon's control socket:
    /// `--socket`, else the session's (`UPSTART_SESSION`), else the
    /// system one.
    public static func socketPath(_ arguments: [String], name: String, usage: String) -> String {
        var socket: String? = nil
        var args = arguments[...]
        while let a = args.popFirst() {
            switch a {
            case "--socket":
                guard let v = args.popFirst() else {
                    FileSystem.writeStandardError("\(name): --socket needs a value\n" + usage)
                    Process.exit(2)
                }
                socket = v
            case "--help", "-h":
                FileSystem.writeStandardOutput(usage)
                Process.exit(0)
            case "--version":
                FileSystem.writeStandardOutput("\(name) (daybreak 0.1.0)\n")
                Process.exit(0)
            default:
                FileSystem.writeStandardError("\(name): unknown argument '\(a)'\n" + usage)
                Process.exit(2)
            }
        }
        let session = Environment.current["UPSTART_SESSION"].flatMap(SocketPath.path(fromSession:))
        return socket ?? session ?? SocketPath.system
    }
}
