import Control
import Platform

// daybreak-socket-bridge: socket activation (docs/socket-bridge.md). Run as
// a job (extra/init/daybreak-socket-bridge.conf); a client of the daemon's
// control socket. The same code runs as its own executable (the
// `daybreak-socket-bridge` product) or inside `daybreak` when that is
// called by this name (a link), sharing the daemon's code pages.

public enum SocketBridgeMain {
    static let usage = """
Usage: daybreak-socket-bridge [--socket PATH]

Listens on the sockets named by the loaded jobs' `start on socket ...`
(PROTO=inet|inet6 PORT= ADDR=, or PROTO=unix SOCKET_PATH=) and, on the
first connection, emits `socket` events carrying the listening sockets,
each addressed to its job.

  --socket PATH    the daemon's control socket (default: UPSTART_SESSION's,
                   else /run/daybreak/control)

"""

    /// Whether a program name (argv[0]) asks for the bridge.
    public static func isInvoked(as argv0: String?) -> Bool {
        BridgeCommandLine.isInvoked(as: argv0, name: "daybreak-socket-bridge")
    }

    /// Runs the bridge with its command-line arguments (argv[0] excluded).
    public static func run(_ arguments: [String]) -> Never {
        let socketPath = BridgeCommandLine.socketPath(arguments, name: "daybreak-socket-bridge", usage: usage)
        // One bridge per daemon socket: a bridge that outlived its daemon
        // and connected to the next one keeps its sockets, and the bridge
        // that daemon starts waits here until the first one exits.
        let lockPath = socketPath + ".socket-bridge.lock"
        if !ListenSocket.lockIsFree(lockPath) {
            FileSystem.writeStandardError("daybreak-socket-bridge: another socket bridge serves \(socketPath) (\(lockPath) is locked); waiting to take over\n")
        }
        let lock: Int32
        do {
            lock = try ListenSocket.holdLock(lockPath)
        } catch {
            FileSystem.writeStandardError("daybreak-socket-bridge: \(error)\n")
            Process.exit(1)
        }
        defer { closeDescriptor(lock) }
        do {
            let bridge = try Bridge(socket: socketPath)
            try bridge.run()
        } catch {
            FileSystem.writeStandardError("daybreak-socket-bridge: \(error)\n")
            Process.exit(1)
        }
    }
}
