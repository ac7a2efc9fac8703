import Testing
@testable import NetBridge

/// The pure half of the net bridge: rtnetlink bytes read, and what a
/// change means in Upstart's events.
@Suite struct NetStateTests {
    typealias M = RouteMessage

    func link(_ index: Int32, _ name: String, up: Bool) -> M { .newLink(.init(index: index, name: name, up: up, loopback: false)) }
    func addr(_ index: Int32, _ family: String, _ a: String, permanent: Bool = true, tentative: Bool = false) -> M.Address {
        .init(index: index, family: family, address: a, prefix: family == "inet" ? 24 : 64, permanent: permanent, tentative: tentative)
    }

    @Test func addressesAreWrittenAsIpWritesThem() {
        #expect(M.format([10, 9, 8, 7]) == "10.9.8.7")
        #expect(M.format([0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [7]) == "2001:db8::7")
        #expect(M.format([UInt8](repeating: 0, count: 16)) == "::")
        #expect(M.format([0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 2]) == "fe80::1:0:0:2")
        #expect(M.format([1, 2, 3]) == nil)
    }

    @Test func upNeedsTheLinkUpAndAnAddressAndDownRepeatsUpsVariables() {
        var s = NetState()
        #expect(s.apply(link(2, "eth0", up: false)).map(\.description) == ["net-device-added INTERFACE=eth0"])
        #expect(s.apply(.newAddress(addr(2, "inet", "10.0.0.5"))).isEmpty)
        #expect(s.apply(link(2, "eth0", up: true)).map(\.description)
                == ["net-device-up IFACE=eth0 LOGICAL=eth0 ADDRFAM=inet METHOD=static ADDRESS=10.0.0.5 PREFIX=24"])
        #expect(s.apply(.newAddress(addr(2, "inet", "10.0.0.6"))).isEmpty, "a second address is not a second up")
        #expect(s.apply(.newAddress(addr(2, "inet6", "2001:db8::5", permanent: false, tentative: true))).isEmpty, "tentative")
        #expect(s.apply(.newAddress(addr(2, "inet6", "2001:db8::5", permanent: false))).map(\.description)
                == ["net-device-up IFACE=eth0 LOGICAL=eth0 ADDRFAM=inet6 METHOD=auto ADDRESS=2001:db8::5 PREFIX=64"])
        #expect(s.apply(.deleteAddress(addr(2, "inet", "10.0.0.5"))).isEmpty, "10.0.0.6 is left")
        #expect(s.apply(.deleteLink(index: 2)).map(\.name) == ["net-device-down", "net-device-down", "net-device-removed"])
    }

    @Test func theDefaultRouteIsUpOnceAndDownWhenItsLinkGoesDown() {
        var s = NetState()
        _ = s.apply(link(3, "wlan0", up: true))
        let r = M.Route(family: "inet", index: 3, gateway: "192.168.1.1", isDefault: true)
        #expect(s.apply(.newRoute(r)).map(\.description) == ["default-route-up ADDRFAM=inet IFACE=wlan0 GATEWAY=192.168.1.1"])
        #expect(s.apply(.newRoute(r)).isEmpty)
        #expect(s.apply(.newRoute(.init(family: "inet", index: 3, gateway: "", isDefault: false))).isEmpty)
        #expect(s.apply(link(3, "wlan0", up: false)).map(\.description) == ["default-route-down ADDRFAM=inet IFACE=wlan0 GATEWAY=192.168.1.1"])
        #expect(s.apply(.deleteRoute(r)).isEmpty, "already gone")
    }

    @Test func aDumpRequestAndALinkMessageRoundTheKernelsLayout() {
        let req = M.dumpRequest(type: 18, headerSize: 16, sequence: 1)
        #expect(req.count == 32 && req[0] == 32 && req[4] == 18 && req[6] == 0x01 && req[7] == 0x03)
        // RTM_NEWLINK, index 4, IFF_UP, IFLA_IFNAME "d0".
        var b: [UInt8] = [40, 0, 0, 0, 16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
        b += [0, 0, 1, 0, 4, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]
        b += [7, 0, 3, 0, 0x64, 0x30, 0, 0]
        #expect(M.parse(b) == [.newLink(.init(index: 4, name: "d0", up: true, loopback: false))])
    }
}
