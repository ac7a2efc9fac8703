import Control
import Platform
import TimeSchedule

// daybreak-time-bridge: periodic and delayed jobs (docs/time-bridge.md).
// Run as a job (extra/init/daybreak-time-bridge.conf); a client of the
// daemon's control socket. The same code runs as its own static executable
// (the `daybreak-time-bridge` product) or inside `daybreak` when that is
// called by this name (a link): then the bridge shares the daemon's code
// pages and costs little more than its heap (docs/PERFORMANCE.md).

public enum TimeBridgeMain {
    static let usage = """
Usage: daybreak-time-bridge [--socket PATH] [--state FILE] [--zoneinfo DIR]

Emits `timer` events for the timers in the loaded jobs' `start on` and
`stop on` (EVERY=, SCHEDULE=, AFTER= with DELAY=), each addressed to its job.

  --socket PATH    the daemon's control socket (default: UPSTART_SESSION's,
                   else /run/daybreak/control)
  --state FILE     where runs are remembered (default: system
                   /var/lib/daybreak/time-bridge.state; user
                   $XDG_STATE_HOME/daybreak/time-bridge.state)
  --zoneinfo DIR   time zone files (default: /usr/share/zoneinfo)

"""

    /// Whether a program name (argv[0]) asks for the bridge.
    public static func isInvoked(as argv0: String?) -> Bool {
        argv0.map { $0.split(separator: "/").last.map(String.init) == "daybreak-time-bridge" } ?? false
    }

    /// Runs the bridge with its command-line arguments (argv[0] excluded).
    public static func run(_ arguments: [String]) -> Never {
        let env = Environment.current
        var socket: String? = nil
        var statePath: String? = nil
        var zoneinfo = "/usr/share/zoneinfo"
        var args = arguments[...]
        while let a = args.popFirst() {
            switch a {
            case "--socket", "--state", "--zoneinfo":
                guard let v = args.popFirst() else {
                    FileSystem.writeStandardError("daybreak-time-bridge: \(a) needs a value\n" + usage)
                    Process.exit(2)
                }
                if a == "--socket" { socket = v } else if a == "--state" { statePath = v } else { zoneinfo = v }
            case "--help", "-h":
                FileSystem.writeStandardOutput(usage)
                Process.exit(0)
            case "--version":
                FileSystem.writeStandardOutput("daybreak-time-bridge (daybreak 0.1.0)\n")
                Process.exit(0)
            default:
                FileSystem.writeStandardError("daybreak-time-bridge: unknown argument '\(a)'\n" + usage)
                Process.exit(2)
            }
        }

        let session = env["UPSTART_SESSION"].flatMap(SocketPath.path(fromSession:))
        let socketPath = socket ?? session ?? SocketPath.system
        let defaultState = BridgeState.defaultPath(user: session != nil, environment: env, home: Identity.homeDirectory)

        /// Which daemon run this is: the parent's pid and start time (field 22 of
        /// /proc/PID/stat), so a respawned bridge knows `startup` already counted.
        func daemonIdentity() -> String {
            let ppid = Process.parentID
            guard let bytes = try? FileSystem.readFile("/proc/\(ppid)/stat") else { return "\(ppid)" }
            let text = String(decoding: bytes, as: UTF8.self)
            guard let close = text.lastIndex(of: ")") else { return "\(ppid)" }
            let fields = text[text.index(after: close)...].split(separator: " ")
            return fields.count > 19 ? "\(ppid):\(fields[19])" : "\(ppid)"
        }

        do {
            let bridge = try Bridge(socket: socketPath, statePath: statePath ?? defaultState, zoneDirectory: zoneinfo, daemonIdentity: daemonIdentity())
            try bridge.run()
        } catch {
            FileSystem.writeStandardError("daybreak-time-bridge: \(error)\n")
            Process.exit(1)
        }
    }

}
