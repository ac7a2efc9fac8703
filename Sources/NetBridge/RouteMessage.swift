/// rtnetlink(7) messages, read from the bytes the kernel sends: the links,
/// addresses and routes the net bridge follows. Pure: no syscalls, so the
/// reading can be checked with bytes alone.
///
/// Only what the bridge needs is kept; every other message and attribute
/// is skipped by its length, so a newer kernel's additions do no harm.
public enum RouteMessage: Equatable, Sendable {
    case newLink(Link)
    case deleteLink(index: Int32)
    case newAddress(Address)
    case deleteAddress(Address)
    case newRoute(Route)
    case deleteRoute(Route)
    /// The end of a dump (NLMSG_DONE).
    case done
    /// An error reply (NLMSG_ERROR with a non-zero errno).
    case error(Int32)

    public struct Link: Equatable, Sendable {
        public var index: Int32
        public var name: String
        /// IFF_UP: the administrator (or ifupdown, or a DHCP client) brought it up.
        public var up: Bool
        public var loopback: Bool
    }

    public struct Address: Hashable, Sendable {
        public var index: Int32
        /// `inet` or `inet6`, as ifupdown's ADDRFAM.
        public var family: String
        public var address: String
        public var prefix: Int
        /// IFA_F_PERMANENT: configured, not leased (DHCP) or autoconfigured.
        public var permanent: Bool
        /// IFA_F_TENTATIVE or IFA_F_DADFAILED: not usable (yet).
        public var tentative: Bool
    }

    public struct Route: Hashable, Sendable {
        public var family: String
        public var index: Int32
        public var gateway: String
        /// In the main table, unicast, to 0.0.0.0/0 or ::/0.
        public var isDefault: Bool
    }

    static let doneType: UInt16 = 3, errorType: UInt16 = 2
    static let newLinkType: UInt16 = 16, delLinkType: UInt16 = 17
    static let newAddrType: UInt16 = 20, delAddrType: UInt16 = 21
    static let newRouteType: UInt16 = 24, delRouteType: UInt16 = 25

    /// Every message in one datagram, in order; what is not understood is skipped.
    public static func parse(_ bytes: [UInt8]) -> [RouteMessage] {
        var out: [RouteMessage] = []
        var at = 0
        while at + 16 <= bytes.count {
            let length = Int(u32(bytes, at))
            guard length >= 16, at + length <= bytes.count else { break }
            let type = u16(bytes, at + 4)
            let body = Array(bytes[(at + 16)..<(at + length)])
            if let m = message(type: type, body: body) { out.append(m) }
            at += align(length)
        }
        return out
    }

    static func message(type: UInt16, body b: [UInt8]) -> RouteMessage? {
        switch type {
        case doneType: return .done
        case errorType:
            guard b.count >= 4 else { return nil }
            let e = Int32(bitPattern: u32(b, 0))
            return e == 0 ? nil : .error(-e)
        case newLinkType, delLinkType:
            guard b.count >= 16 else { return nil }
            let index = Int32(bitPattern: u32(b, 4))
            if type == delLinkType { return .deleteLink(index: index) }
            let kind = u16(b, 2), flags = u32(b, 8)
            var name = ""
            for (t, v) in attributes(b, from: 16) where t == 3 { name = cString(v) }  // IFLA_IFNAME
            return .newLink(Link(index: index, name: name, up: flags & 1 != 0, loopback: kind == 772))
        case newAddrType, delAddrType:
            guard b.count >= 8 else { return nil }
            let fam = b[0], prefix = Int(b[1]), index = Int32(bitPattern: u32(b, 4))
            var flags = UInt32(b[2])
            var local: [UInt8]? = nil, address: [UInt8]? = nil
            for (t, v) in attributes(b, from: 8) {
                switch t {
                case 1: address = v  // IFA_ADDRESS
                case 2: local = v  // IFA_LOCAL
                case 8 where v.count >= 4: flags = u32(v, 0)  // IFA_FLAGS
                default: break
                }
            }
            guard let family = familyName(fam), let raw = local ?? address, let text = format(raw) else { return nil }
            let a = Address(index: index, family: family, address: text, prefix: prefix,
                            permanent: flags & 0x80 != 0, tentative: flags & (0x40 | 0x08) != 0)
            return type == newAddrType ? .newAddress(a) : .deleteAddress(a)
        case newRouteType, delRouteType:
            guard b.count >= 12 else { return nil }
            let fam = b[0], dstLength = b[1]
            var table = UInt32(b[4])
            let routeType = b[7]
            var index: Int32 = 0, gateway = ""
            for (t, v) in attributes(b, from: 12) {
                switch t {
                case 4 where v.count >= 4: index = Int32(bitPattern: u32(v, 0))  // RTA_OIF
                case 5: gateway = format(v) ?? ""  // RTA_GATEWAY
                case 15 where v.count >= 4: table = u32(v, 0)  // RTA_TABLE
                default: break
                }
            }
            guard let family = familyName(fam) else { return nil }
            let r = Route(family: family, index: index, gateway: gateway, isDefault: dstLength == 0 && table == 254 && routeType == 1)
            return type == newRouteType ? .newRoute(r) : .deleteRoute(r)
        default: return nil
        }
    }

    static func familyName(_ f: UInt8) -> String? { f == 2 ? "inet" : f == 10 ? "inet6" : nil }

    static func attributes(_ b: [UInt8], from start: Int) -> [(UInt16, [UInt8])] {
        var out: [(UInt16, [UInt8])] = []
        var at = start
        while at + 4 <= b.count {
            let length = Int(u16(b, at)), type = u16(b, at + 2) & 0x3fff
            guard length >= 4, at + length <= b.count else { break }
            out.append((type, Array(b[(at + 4)..<(at + length)])))
            at += align(length)
        }
        return out
    }

    static func align(_ n: Int) -> Int { (n + 3) & ~3 }
    static func u16(_ b: [UInt8], _ i: Int) -> UInt16 { UInt16(b[i]) | UInt16(b[i + 1]) << 8 }
    static func u32(_ b: [UInt8], _ i: Int) -> UInt32 {
        UInt32(b[i]) | UInt32(b[i + 1]) << 8 | UInt32(b[i + 2]) << 16 | UInt32(b[i + 3]) << 24
    }
    static func cString(_ v: [UInt8]) -> String { String(decoding: v.prefix { $0 != 0 }, as: UTF8.self) }

    /// An address as `ip` prints it: dotted quad, or RFC 5952 IPv6 (the
    /// longest run of two or more zero groups written `::`).
    public static func format(_ v: [UInt8]) -> String? {
        if v.count == 4 { return v.map(String.init).joined(separator: ".") }
        guard v.count == 16 else { return nil }
        let groups = (0..<8).map { UInt16(v[2 * $0]) << 8 | UInt16(v[2 * $0 + 1]) }
        var best = (start: -1, length: 0), i = 0
        while i < 8 {
            if groups[i] == 0 {
                var j = i
                while j < 8 && groups[j] == 0 { j += 1 }
                if j - i > best.length && j - i >= 2 { best = (i, j - i) }
                i = j
            } else { i += 1 }
        }
        let hex = groups.map { String($0, radix: 16) }
        if best.start < 0 { return hex.joined(separator: ":") }
        let head = hex[..<best.start].joined(separator: ":")
        let tail = hex[(best.start + best.length)...].joined(separator: ":")
        return head + "::" + tail
    }

    /// A dump request (NLM_F_REQUEST | NLM_F_DUMP) for links (18), addresses
    /// (22) or routes (26), with an empty family header of `headerSize` bytes.
    public static func dumpRequest(type: UInt16, headerSize: Int, sequence: UInt32) -> [UInt8] {
        let length = UInt32(16 + headerSize)
        var b: [UInt8] = []
        func put32(_ v: UInt32) { b += [UInt8(v & 0xff), UInt8(v >> 8 & 0xff), UInt8(v >> 16 & 0xff), UInt8(v >> 24)] }
        func put16(_ v: UInt16) { b += [UInt8(v & 0xff), UInt8(v >> 8)] }
        put32(length)
        put16(type)
        put16(0x1 | 0x300)
        put32(sequence)
        put32(0)
        b += [UInt8](repeating: 0, count: headerSize)
        return b
    }
    public static let dumps: [(type: UInt16, headerSize: Int)] = [(18, 16), (22, 8), (26, 12)]
}
