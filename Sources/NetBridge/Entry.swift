import Control
import Platform

// daybreak-net-bridge: Upstart's network events from the kernel's rtnetlink
// (docs/net-and-power-events.md). Run as a job (extra/init/
// daybreak-net-bridge.conf); a client of the daemon's control socket. The
// same code runs as its own static executable (the `daybreak-net-bridge`
// product) or inside `daybreak` called by this name (a link), sharing the
// daemon's code pages (docs/PERFORMANCE.md).

public enum NetBridgeMain {
    static let usage = """
Usage: daybreak-net-bridge [--socket PATH]

Emits net-device-added / net-device-removed (INTERFACE), net-device-up /
net-device-down (IFACE, LOGICAL, ADDRFAM, METHOD, ADDRESS, PREFIX) and
default-route-up / default-route-down (ADDRFAM, IFACE, GATEWAY) as the
kernel reports links, addresses and routes (rtnetlink). At start it
announces what is already there.

  --socket PATH    the daemon's control socket (default: UPSTART_SESSION's,
                   else /run/daybreak/control)

"""

    /// Whether a program name (argv[0]) asks for the bridge.
    public static func isInvoked(as argv0: String?) -> Bool {
        BridgeCommandLine.isInvoked(as: argv0, name: "daybreak-net-bridge")
    }

    static func log(_ line: String) { FileSystem.writeStandardError("daybreak-net-bridge: \(line)\n") }

    /// Runs the bridge with its command-line arguments (argv[0] excluded).
    public static func run(_ arguments: [String]) -> Never {
        let socketPath = BridgeCommandLine.socketPath(arguments, name: "daybreak-net-bridge", usage: usage)
        let netlink: NetlinkSocket
        let client: ControlClient
        do {
            netlink = try NetlinkSocket(groups: [.link, .ipv4Address, .ipv6Address, .ipv4Route, .ipv6Route])
            client = try ControlClient(path: socketPath)
        } catch {
            log("\(error)")
            Process.exit(1)
        }
        var state = NetState()
        func emit(_ events: [NetEvent]) {
            for e in events {
                do {
                    _ = try client.call(.emit, .init(env: e.environment, wait: false, event: e.name))
                } catch {
                    log("cannot emit \(e): \(error.message)")
                    Process.exit(1)
                }
            }
        }
        /// Reads links, then addresses, then routes (one dump at a time, as
        /// rtnetlink wants), passing on changes that arrive meanwhile too.
        func dumpAll() {
            var sequence: UInt32 = 1
            for d in RouteMessage.dumps {
                do {
                    try netlink.send(RouteMessage.dumpRequest(type: d.type, headerSize: d.headerSize, sequence: sequence))
                    sequence += 1
                    var finished = false
                    while !finished {
                        for m in RouteMessage.parse(try netlink.receive()) {
                            if case .done = m { finished = true } else if case .error(let e) = m {
                                log("the kernel refused a dump: errno \(e)")
                                finished = true
                            } else { emit(state.apply(m)) }
                        }
                    }
                } catch {
                    log("\(error)")
                    Process.exit(1)
                }
            }
        }
        dumpAll()
        while true {
            do {
                for m in RouteMessage.parse(try netlink.receive()) { emit(state.apply(m)) }
            } catch where error.errno == .noBufferSpace {
                // The kernel dropped messages: read everything again.
                log("missed changes (the kernel's queue overflowed); reading the state again")
                dumpAll()
            } catch {
                log("\(error)")
                Process.exit(1)
            }
        }
    }
}
