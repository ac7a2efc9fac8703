import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `ip` (iproute2), for the network namespaces the net bridge tests make.
let ipTool = ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"].first { FileManager.default.isExecutableFile(atPath: $0) }

/// A network namespace of a test's own (`ip netns add`), deleted with
/// everything in it (the dummy interfaces) when the test ends: the
/// machine's own network is never touched.
final class TestNetns {
    let name = "dbt-" + String(UUID().uuidString.prefix(8)).lowercased()
    private var deleted = false

    init() throws {
        let r = try runProgram(ipTool!, ["netns", "add", name])
        guard r.status == 0 else { throw HarnessError("ip netns add \(name): \(r.stderr)") }
    }

    /// Runs `ip -n NAME ARGS...`; the test fails if it does.
    func ip(_ args: String...) {
        let r = try? runProgram(ipTool!, ["-n", name] + args)
        #expect(r?.status == 0, "ip -n \(name) \(args.joined(separator: " ")): \(r?.stderr ?? "did not run")")
    }

    /// Adds an interface that only the test uses: a dummy (`ip link add d0
    /// type dummy`) where the kernel has the module, else one end of a veth
    /// pair whose other end (NAMEp) stays down: the same to the bridge.
    func addInterface(_ name: String) {
        if (try? runProgram(ipTool!, ["-n", self.name, "link", "add", name, "type", "dummy"]))?.status == 0 { return }
        ip("link", "add", name, "type", "veth", "peer", "name", name + "p")
    }

    func delete() {
        guard !deleted else { return }
        deleted = true
        _ = try? runProgram(ipTool!, ["netns", "del", name])
    }

    deinit { delete() }

    static func exists(_ name: String) -> Bool {
        ((try? runProgram(ipTool!, ["netns", "list"]))?.stdout ?? "").split(separator: "\n").contains { $0.hasPrefix(name) }
    }
}

@Suite struct NetBridgeValidation {
    @Test func theShippedBridgeJobPasses() throws {
        let r = try run("init-checkconf", [repoRoot.appendingPathComponent("extra/init/daybreak-net-bridge.conf").path])
        #expect(r.status == 0, "\(r.stderr)")
    }
}

/// The real daemon with the real net bridge as a job, the bridge run
/// inside a network namespace the test makes (`ip netns exec`); the test
/// adds a dummy interface there, addresses it, routes through it and
/// brings it up and down.
@Suite(.serialized, .enabled(if: isRoot && ipTool != nil, "needs root and ip (iproute2)"))
struct NetBridge {
    static let bridge = binDirectory.appendingPathComponent("daybreak-net-bridge").path

    /// A task appending its event and variables, as the job sees them, to out/NAME.
    /// An instance per `instance` value, so that events close together
    /// (a veth pair's two ends) each run it.
    func recorder(_ d: TestDaemon, _ name: String, _ on: String, _ vars: String, instance: String = "") -> String {
        "env OUT=\(d.out.path)\ntask\n\(instance.isEmpty ? "" : "instance \(instance)\n")start on \(on)\nexec /bin/sh -c 'echo \"$UPSTART_EVENTS \(vars)\" >> $OUT/\(name)'\n"
    }

    func lines(_ d: TestDaemon, _ name: String) -> [String] {
        d.output(name).split(separator: "\n").map(String.init)
    }

    func bridgeLog(_ d: TestDaemon) -> String {
        (try? String(contentsOf: d.logs.appendingPathComponent("net-bridge.log"), encoding: .utf8)) ?? ""
    }

    @Test func aDummyInterfaceAddedAddressedUpAndDownStartsAndStopsJobsWithUpstartsVariables() throws {
        let ns = try TestNetns()
        defer { ns.delete() }
        let d = try TestDaemon(jobs: [:])
        defer { d.stop() }
        try d.job("added", recorder(d, "added", "net-device-added or net-device-removed", "$INTERFACE", instance: "$INTERFACE"))
        try d.job("route", recorder(d, "route", "default-route-up or default-route-down", "$ADDRFAM $IFACE $GATEWAY"))
        // The old way of writing it, unchanged: runs while d0 has IPv4.
        try d.job("web", """
            env OUT=\(d.out.path)
            start on net-device-up IFACE=d0 ADDRFAM=inet
            stop on net-device-down IFACE=d0 ADDRFAM=inet
            pre-start exec /bin/sh -c 'echo "$IFACE $LOGICAL $ADDRFAM $METHOD $ADDRESS $PREFIX" >> $OUT/web'
            exec sleep 1000

            """)
        try d.job("down", recorder(d, "down", "net-device-down IFACE=d0 ADDRFAM=inet", "$IFACE $ADDRESS"))
        try d.job("net-bridge", "respawn\nexec \(ipTool!) netns exec \(ns.name) \(NetBridge.bridge) --socket \(d.socket)\n")
        #expect(try d.initctl("start", "net-bridge").status == 0)
        // A new namespace has lo, down: announced at start, as it is there.
        #expect(eventually(timeout: 5) { lines(d, "added") == ["net-device-added lo"] }, "\(lines(d, "added")) \(bridgeLog(d))")

        ns.addInterface("d0")
        #expect(eventually(timeout: 5) { lines(d, "added").contains("net-device-added d0") }, "\(lines(d, "added")) \(bridgeLog(d))")
        ns.ip("addr", "add", "10.9.8.7/24", "dev", "d0")
        Thread.sleep(forTimeInterval: 0.2)
        #expect(lines(d, "web").isEmpty, "an address on a link that is down is not up")
        ns.ip("link", "set", "d0", "up")
        #expect(eventually(timeout: 5) { (try? d.initctl("status", "web"))?.stdout.contains("start/running") == true }, "\(bridgeLog(d))")
        #expect(lines(d, "web") == ["d0 d0 inet static 10.9.8.7 24"])

        ns.ip("route", "add", "default", "via", "10.9.8.1", "dev", "d0")
        #expect(eventually(timeout: 5) { lines(d, "route") == ["default-route-up inet d0 10.9.8.1"] }, "\(lines(d, "route"))")

        ns.ip("link", "set", "d0", "down")
        #expect(eventually(timeout: 5) { (try? d.initctl("status", "web"))?.stdout.contains("stop/waiting") == true })
        #expect(eventually(timeout: 5) { lines(d, "down") == ["net-device-down d0 10.9.8.7"] }, "\(lines(d, "down"))")
        #expect(eventually(timeout: 5) { lines(d, "route").last == "default-route-down inet d0 10.9.8.1" }, "\(lines(d, "route"))")

        // Up again, then the interface deleted while up: down, then removed.
        ns.ip("link", "set", "d0", "up")
        #expect(eventually(timeout: 5) { (try? d.initctl("status", "web"))?.stdout.contains("start/running") == true })
        ns.ip("link", "del", "d0")
        #expect(eventually(timeout: 5) { lines(d, "added").contains("net-device-removed d0") }, "\(lines(d, "added"))")
        #expect(eventually(timeout: 5) { (try? d.initctl("status", "web"))?.stdout.contains("stop/waiting") == true })
        #expect(lines(d, "down").count == 2)
        #expect(lines(d, "web").count == 2)

        d.stop()
        ns.delete()
        #expect(!TestNetns.exists(ns.name), "the namespace is gone")
    }

    @Test func anIPv6AddressIsUpWithItsOwnFamily() throws {
        let ns = try TestNetns()
        defer { ns.delete() }
        let d = try TestDaemon(jobs: [:])
        defer { d.stop() }
        try d.job("v6", recorder(d, "v6", "net-device-up IFACE=d1 ADDRFAM=inet6 or net-device-down IFACE=d1 ADDRFAM=inet6", "$ADDRESS $PREFIX"))
        try d.job("net-bridge", "exec \(ipTool!) netns exec \(ns.name) \(NetBridge.bridge) --socket \(d.socket)\n")
        // Created, addressed and up before the bridge starts: announced at start.
        ns.addInterface("d1")
        ns.ip("-6", "addr", "add", "2001:db8::7/64", "dev", "d1", "nodad")
        ns.ip("link", "set", "d1", "addrgenmode", "none")
        ns.ip("link", "set", "d1", "up")
        #expect(try d.initctl("start", "net-bridge").status == 0)
        #expect(eventually(timeout: 5) { lines(d, "v6") == ["net-device-up 2001:db8::7 64"] }, "\(lines(d, "v6")) \(bridgeLog(d))")
        ns.ip("-6", "addr", "del", "2001:db8::7/64", "dev", "d1")
        #expect(eventually(timeout: 5) { lines(d, "v6").last == "net-device-down 2001:db8::7 64" }, "\(lines(d, "v6"))")
    }
}
