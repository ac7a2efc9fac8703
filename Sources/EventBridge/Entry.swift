import Control
import JSON
import Platform

// daybreak-event-bridge: the system daemon's events in a user session, as
// `:sys:NAME` (docs/net-and-power-events.md), as Upstart's
// upstart-event-bridge(8) gave them. A session job (extra/init/
// daybreak-event-bridge.conf), not part of the user-mode daemon: the daemon
// stays simple, and a bridge that dies harms neither side.
//
// It reads the system socket through `subscribe`, which is read-only:
// anyone may call it, and nothing the bridge is given there lets it change
// the system daemon. It emits into its own session's socket. Either side
// may restart: the bridge connects again, with a growing pause (0.1 s to
// 2 s) while a side is away, and says so once.

public enum EventBridgeMain {
    static let usage = """
Usage: daybreak-event-bridge [--system-socket PATH] [--socket PATH]

Emits every event of the system daemon into this session as :sys:NAME with
the same variables (start on :sys:net-device-up IFACE=wlan0).

  --system-socket PATH  the system daemon's socket (default /run/daybreak/control)
  --socket PATH         this session's socket (default: UPSTART_SESSION's)

"""

    /// Whether a program name (argv[0]) asks for the bridge.
    public static func isInvoked(as argv0: String?) -> Bool {
        argv0.map { $0.split(separator: "/").last.map(String.init) == "daybreak-event-bridge" } ?? false
    }

    static func log(_ line: String) { FileSystem.writeStandardError("daybreak-event-bridge: \(line)\n") }

    /// The prefix of the events it emits. Events that carry it already are
    /// not passed on again (a bridge pointed at its own daemon would loop).
    public static let prefix = ":sys:"

    /// Runs the bridge with its command-line arguments (argv[0] excluded).
    public static func run(_ arguments: [String]) -> Never {
        var socket: String? = nil, systemSocket = SocketPath.system
        var args = arguments[...]
        while let a = args.popFirst() {
            switch a {
            case "--socket", "--system-socket":
                guard let v = args.popFirst() else {
                    FileSystem.writeStandardError("daybreak-event-bridge: \(a) needs a value\n" + usage)
                    Process.exit(2)
                }
                if a == "--socket" { socket = v } else { systemSocket = v }
            case "--help", "-h":
                FileSystem.writeStandardOutput(usage)
                Process.exit(0)
            case "--version":
                FileSystem.writeStandardOutput("daybreak-event-bridge (daybreak 0.1.0)\n")
                Process.exit(0)
            default:
                FileSystem.writeStandardError("daybreak-event-bridge: unknown argument '\(a)'\n" + usage)
                Process.exit(2)
            }
        }
        let session = Environment.current["UPSTART_SESSION"].flatMap(SocketPath.path(fromSession:))
        guard let sessionPath = socket ?? session else {
            FileSystem.writeStandardError("daybreak-event-bridge: no session: UPSTART_SESSION is not set and no --socket was given\n")
            Process.exit(2)
        }
        var system: ControlClient? = nil, target: ControlClient? = nil
        var pause = 100
        var away: Set<String> = []
        func wait() {
            sleepMilliseconds(pause)
            pause = min(pause * 2, 2000)
        }
        func lost(_ side: String, _ why: String) {
            if away.insert(side).inserted { log("\(side): \(why); connecting again") }
        }
        while true {
            if target == nil {
                do { target = try ControlClient(path: sessionPath) } catch {
                    lost("the session daemon (\(sessionPath))", "\(error)")
                    wait()
                    continue
                }
            }
            if system == nil {
                do {
                    let c = try ControlClient(path: systemSocket)
                    _ = try c.call(.subscribe)
                    system = c
                    if away.remove("the system daemon (\(systemSocket))") != nil || pause > 100 { log("connected to \(systemSocket)") }
                    pause = 100
                } catch {
                    lost("the system daemon (\(systemSocket))", "\(error)")
                    wait()
                    continue
                }
            }
            let event: JSONValue?
            do { event = try system!.nextEvent() } catch {
                lost("the system daemon (\(systemSocket))", error.message)
                system = nil
                continue
            }
            guard let event else {
                lost("the system daemon (\(systemSocket))", "it closed the connection")
                system = nil
                continue
            }
            guard event["type"]?.string == "event", let name = event["name"]?.string, !name.hasPrefix(prefix) else { continue }
            let env = (event["env"]?.array ?? []).compactMap(\.string)
            do {
                _ = try target!.call(.emit, .init(env: env, wait: false, event: prefix + name))
                away.remove("the session daemon (\(sessionPath))")
            } catch {
                log("cannot emit \(prefix)\(name): \(error.message)")
                if error.code == .internalError { target = nil }
            }
        }
    }
}
