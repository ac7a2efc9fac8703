import Foundation
import Testing

/// The NetworkManager and networkd-dispatcher scripts (extra/network/), run
/// with the arguments and environment their dispatchers give them, against
/// a test daemon's socket.
@Suite struct DispatcherScripts {
    func script(_ name: String) -> String { repoRoot.appendingPathComponent("extra/network/\(name)").path }

    func runScript(_ d: TestDaemon, _ name: String, _ args: [String], _ env: [String: String]) throws -> RunResult {
        var e = ["PATH": "/usr/bin:/bin:/usr/sbin:/sbin", "DAYBREAK_SOCKET": d.socket,
                 "DAYBREAK_INITCTL": binDirectory.appendingPathComponent("initctl").path]
        e.merge(env) { $1 }
        return try runProgram("/bin/sh", [script(name)] + args, environment: e)
    }

    /// A task appending what it sees to out/NAME, one instance per family.
    func recorder(_ d: TestDaemon, _ name: String, _ on: String) -> String {
        "env OUT=\(d.out.path)\ninstance $ADDRFAM\ntask\nstart on \(on)\nexec /bin/sh -c 'echo \"$UPSTART_EVENTS $IFACE $LOGICAL $ADDRFAM $METHOD $ADDRESS $PREFIX $CONNECTION\" >> $OUT/\(name)'\n"
    }

    func lines(_ d: TestDaemon, _ name: String) -> [String] {
        d.output(name).split(separator: "\n").map(String.init).sorted()
    }

    @Test func networkManagerUpAndDownEmitNetDeviceEventsWithTheConnectionsName() throws {
        let d = try TestDaemon(jobs: [:])
        defer { d.stop() }
        try d.job("home", recorder(d, "home", "net-device-up IFACE=wlan0 CONNECTION=\"my home wifi\""))
        try d.job("down", recorder(d, "down", "net-device-down IFACE=wlan0"))
        try d.job("other", recorder(d, "other", "net-device-up CONNECTION=work"))
        let env = ["CONNECTION_ID": "my home wifi", "CONNECTION_UUID": "0b6c8b4e-1111-2222-3333-444455556666",
                   "DEVICE_IFACE": "wlan0", "DEVICE_IP_IFACE": "wlan0",
                   "IP4_NUM_ADDRESSES": "1", "IP4_ADDRESS_0": "192.168.1.23/24 192.168.1.1",
                   "IP6_NUM_ADDRESSES": "1", "IP6_ADDRESS_0": "2001:db8::23/64 fe80::1"]
        #expect(try runScript(d, "daybreak-nm-dispatcher", ["wlan0", "up"], env).status == 0)
        #expect(eventually(timeout: 5) { lines(d, "home").count == 2 }, "\(lines(d, "home"))")
        #expect(lines(d, "home") == ["net-device-up wlan0 wlan0 inet NetworkManager 192.168.1.23 24 my home wifi",
                                     "net-device-up wlan0 wlan0 inet6 NetworkManager 2001:db8::23 64 my home wifi"])
        #expect(try runScript(d, "daybreak-nm-dispatcher", ["wlan0", "down"], env).status == 0)
        #expect(eventually(timeout: 5) { lines(d, "down").count == 2 }, "\(lines(d, "down"))")
        // Other actions emit nothing; nor is "work" started by "my home wifi".
        #expect(try runScript(d, "daybreak-nm-dispatcher", ["wlan0", "dhcp4-change"], env).status == 0)
        #expect(try runScript(d, "daybreak-nm-dispatcher", ["", "hostname"], [:]).status == 0)
        Thread.sleep(forTimeInterval: 0.3)
        #expect(lines(d, "other").isEmpty)
        #expect(lines(d, "home").count == 2 && lines(d, "down").count == 2)
    }

    @Test func networkdDispatcherRoutableAndOffEmitNetDeviceEventsWithTheEssid() throws {
        let d = try TestDaemon(jobs: [:])
        defer { d.stop() }
        try d.job("up", recorder(d, "up", "net-device-up IFACE=wlp2s0 CONNECTION=cafe"))
        try d.job("down", recorder(d, "down", "net-device-down IFACE=wlp2s0"))
        let env = ["IFACE": "wlp2s0", "STATE": "routable", "AdministrativeState": "configured", "OperationalState": "routable",
                   "ADDR": "10.4.5.6 10.4.5.7", "IP_ADDRS": "10.4.5.6 10.4.5.7", "IP6_ADDRS": "", "ESSID": "cafe"]
        #expect(try runScript(d, "daybreak-networkd-dispatcher", [], env).status == 0)
        #expect(eventually(timeout: 5) { lines(d, "up") == ["net-device-up wlp2s0 wlp2s0 inet networkd 10.4.5.6  cafe"] }, "\(lines(d, "up"))")
        var off = env
        off["STATE"] = "off"
        #expect(try runScript(d, "daybreak-networkd-dispatcher", [], off).status == 0)
        #expect(eventually(timeout: 5) { lines(d, "down").count == 1 }, "\(lines(d, "down"))")
        var degraded = env
        degraded["STATE"] = "degraded"
        #expect(try runScript(d, "daybreak-networkd-dispatcher", [], degraded).status == 0)
        Thread.sleep(forTimeInterval: 0.3)
        #expect(lines(d, "up").count == 1 && lines(d, "down").count == 1)
    }
}
