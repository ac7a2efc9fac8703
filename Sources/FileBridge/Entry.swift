import Control
import Platform

// daybreak-file-bridge: jobs started by files created, modified and deleted
// (docs/file-bridge.md). Run as a job (extra/init/daybreak-file-bridge.conf);
// a client of the daemon's control socket. The same code runs as its own
// static executable (the `daybreak-file-bridge` product) or inside
// `daybreak` when that is called by this name (a link): then the bridge
// shares the daemon's code pages (docs/PERFORMANCE.md).

public enum FileBridgeMain {
    static let usage = """
Usage: daybreak-file-bridge [--socket PATH]

Emits `file` events for the `file` matches in the loaded jobs' `start on`
and `stop on` (FILE=, EVENT=), each addressed to its job (JOB=).

  --socket PATH    the daemon's control socket (default: UPSTART_SESSION's,
                   else /run/daybreak/control)

"""

    /// The exit status when the kernel offers no inotify: the shipped job
    /// lists it in `normal exit`, so the bridge is not respawned in vain.
    public static let noInotifyStatus: Int32 = 3

    /// Whether a program name (argv[0]) asks for the bridge.
    public static func isInvoked(as argv0: String?) -> Bool {
        BridgeCommandLine.isInvoked(as: argv0, name: "daybreak-file-bridge")
    }

    /// Runs the bridge with its command-line arguments (argv[0] excluded).
    public static func run(_ arguments: [String]) -> Never {
        let socketPath = BridgeCommandLine.socketPath(arguments, name: "daybreak-file-bridge", usage: usage)

        let inotify: InotifyWatcher
        do {
            inotify = try InotifyWatcher()
        } catch {
            FileSystem.writeStandardError("daybreak-file-bridge: inotify is not available (\(error.errno)): no file events; jobs that wait for one must be started by hand (initctl start JOB)\n")
            Process.exit(noInotifyStatus)
        }
        let bridge: Bridge
        do {
            bridge = try Bridge(socket: socketPath, inotify: inotify)
        } catch {
            FileSystem.writeStandardError("daybreak-file-bridge: \(error)\n")
            Process.exit(1)
        }
        bridge.run()
    }
}
