/// One event for the daemon: a name and its variables, in order.
public struct NetEvent: Equatable, Sendable, CustomStringConvertible {
    public var name: String
    public var environment: [String]
    public var description: String { ([name] + environment).joined(separator: " ") }
}

/// What the net bridge knows of the machine's network, and the events a
/// change means (docs/net-and-power-events.md). Pure: rtnetlink messages in,
/// Upstart's events out.
///
/// - `net-device-added INTERFACE=d0` when a link appears, `net-device-removed`
///   when it goes (after `net-device-down` for each family that was up).
/// - `net-device-up IFACE=d0 LOGICAL=d0 ADDRFAM=inet METHOD=static
///   ADDRESS=10.1.2.3 PREFIX=24` when a link is up (IFF_UP) and has its first
///   usable address of that family; `net-device-down`, with the same
///   variables, when it goes down or loses its last address of the family.
/// - `default-route-up ADDRFAM=inet IFACE=d0 GATEWAY=10.1.2.1` when the main
///   table gets its first default route of a family, `default-route-down`
///   when it loses its last.
public struct NetState: Sendable {
    struct LinkState: Sendable {
        var name: String
        var up: Bool
        var loopback: Bool
        /// Usable addresses by family, in the order they came.
        var addresses: [String: [RouteMessage.Address]] = [:]
        /// The families announced up, with the variables they were announced with.
        var announced: [String: [String]] = [:]
    }

    var links: [Int32: LinkState] = [:]
    var defaults: [String: [RouteMessage.Route]] = [:]

    public init() {}

    /// Applies one message; returns the events it means, in order.
    public mutating func apply(_ m: RouteMessage) -> [NetEvent] {
        var out: [NetEvent] = []
        switch m {
        case .newLink(let l):
            if let old = links[l.index], old.name != l.name {
                // Renamed: to jobs that name interfaces, the old one went.
                out += remove(l.index)
            }
            if links[l.index] == nil {
                links[l.index] = LinkState(name: l.name, up: l.up, loopback: l.loopback)
                out.append(NetEvent(name: "net-device-added", environment: ["INTERFACE=\(l.name)"]))
            }
            links[l.index]?.up = l.up
            out += settle(l.index)
            if !l.up { out += dropRoutes(via: l.index) }
        case .deleteLink(let index):
            out += dropRoutes(via: index)
            out += remove(index)
        case .newAddress(let a):
            guard links[a.index] != nil else { break }
            var list = links[a.index]!.addresses[a.family, default: []].filter { $0.address != a.address }
            if !a.tentative { list.append(a) }
            links[a.index]!.addresses[a.family] = list
            out += settle(a.index)
        case .deleteAddress(let a):
            guard links[a.index] != nil else { break }
            links[a.index]!.addresses[a.family, default: []].removeAll { $0.address == a.address }
            out += settle(a.index)
        case .newRoute(let r) where r.isDefault:
            let had = !(defaults[r.family] ?? []).isEmpty
            if !(defaults[r.family] ?? []).contains(r) { defaults[r.family, default: []].append(r) }
            if !had { out.append(route("default-route-up", r)) }
        case .deleteRoute(let r) where r.isDefault:
            guard var list = defaults[r.family], let i = list.firstIndex(of: r) else { break }
            list.remove(at: i)
            defaults[r.family] = list
            if list.isEmpty { out.append(route("default-route-down", r)) }
        default: break
        }
        return out
    }

    func route(_ name: String, _ r: RouteMessage.Route) -> NetEvent {
        NetEvent(name: name, environment: ["ADDRFAM=\(r.family)", "IFACE=\(links[r.index]?.name ?? "")", "GATEWAY=\(r.gateway)"])
    }

    /// Compares what is (up, with addresses) with what was announced.
    mutating func settle(_ index: Int32) -> [NetEvent] {
        guard let l = links[index] else { return [] }
        var out: [NetEvent] = []
        for family in ["inet", "inet6"] {
            let first = l.up ? l.addresses[family]?.first : nil
            let was = l.announced[family]
            if let first, was == nil {
                let method = l.loopback ? "loopback" : first.permanent ? "static" : (family == "inet" ? "dhcp" : "auto")
                let env = ["IFACE=\(l.name)", "LOGICAL=\(l.name)", "ADDRFAM=\(family)", "METHOD=\(method)",
                           "ADDRESS=\(first.address)", "PREFIX=\(first.prefix)"]
                links[index]!.announced[family] = env
                out.append(NetEvent(name: "net-device-up", environment: env))
            } else if first == nil, let was {
                links[index]!.announced[family] = nil
                out.append(NetEvent(name: "net-device-down", environment: was))
            }
        }
        return out
    }

    /// The kernel drops a link's IPv4 routes when it goes down or away
    /// without a message for each; the bridge forgets them itself.
    mutating func dropRoutes(via index: Int32) -> [NetEvent] {
        var out: [NetEvent] = []
        for (family, list) in defaults.sorted(by: { $0.key < $1.key }) {
            let kept = list.filter { $0.index != index }
            guard kept.count != list.count else { continue }
            defaults[family] = kept
            if kept.isEmpty, let gone = list.first { out.append(route("default-route-down", gone)) }
        }
        return out
    }

    mutating func remove(_ index: Int32) -> [NetEvent] {
        guard var l = links[index] else { return [] }
        var out: [NetEvent] = []
        for family in ["inet", "inet6"] {
            if let was = l.announced[family] { out.append(NetEvent(name: "net-device-down", environment: was)) }
        }
        l.announced = [:]
        links[index] = nil
        out.append(NetEvent(name: "net-device-removed", environment: ["INTERFACE=\(l.name)"]))
        return out
    }
}
