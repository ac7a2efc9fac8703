/// One socket a job asks for in its `start on`: Upstart's socket event
/// (socket-event(7)), read from the match's variables.
///
/// ```
/// start on socket PROTO=inet PORT=8080 ADDR=127.0.0.1
/// start on socket PROTO=inet6 PORT=8080 ADDR=::1
/// start on socket PROTO=unix SOCKET_PATH=/run/foo.sock SOCKET_MODE=0660 SOCKET_OWNER=www:www
/// start on socket PROTO=unix SOCKET_PATH=@foo            (abstract namespace)
/// ```
///
/// Pure: no syscalls. The parser checks every `socket` match of a
/// `start on` with it (so `init-checkconf` and the daemon report a bad
/// PORT with the file and line), and the socket bridge turns each into a
/// listening socket (docs/socket-bridge.md).
public struct SocketSpec: Hashable, Sendable, CustomStringConvertible {
    public enum Address: Hashable, Sendable {
        /// IPv4: a dotted quad, and a port.
        case inet(address: String, port: UInt16)
        /// IPv6: a literal address (`::1`, `fe80::1`), and a port.
        case inet6(address: String, port: UInt16)
        /// A Unix stream socket: an absolute path, or `@name` for the
        /// abstract namespace.
        case unix(path: String)
    }

    public var address: Address
    /// `SOCKET_MODE`: the socket file's permissions (Unix paths only).
    public var mode: UInt32?
    /// `SOCKET_OWNER`: `USER` or `USER:GROUP` (Unix paths only).
    public var owner: String?
    /// The match's variables as written, `KEY=VALUE`: the `socket` event
    /// carries exactly these (so the match matches it), plus `JOB=`.
    public var variables: [String]

    /// The variables a `socket` match may use.
    public static let keys = ["PROTO", "PORT", "ADDR", "SOCKET_PATH", "SOCKET_MODE", "SOCKET_OWNER"]

    public struct Failure: Error, Hashable, Sendable, CustomStringConvertible {
        public var description: String
        init(_ text: String) { description = text }
    }

    /// Reads a `socket` match's arguments (`KEY=VALUE`, in order).
    public init(_ arguments: [EventArgument]) throws(Failure) {
        var values: [String: String] = [:]
        var written: [String] = []
        for a in arguments {
            guard let key = a.key, !a.negated else {
                throw Failure("expected KEY=VALUE variables (\(SocketSpec.keys.joined(separator: ", "))), got '\(a.key.map { "\($0)!=" } ?? "")\(a.value)'")
            }
            guard SocketSpec.keys.contains(key) else {
                throw Failure("unknown variable \(key); expected \(SocketSpec.keys.joined(separator: ", "))")
            }
            guard values[key] == nil else { throw Failure("\(key) given twice") }
            guard !a.value.contains("$") && !a.value.contains("*") && !a.value.contains("?") && !a.value.contains("[") else {
                throw Failure("\(key)=\(a.value): a socket variable is a plain value (no $VAR, no globs)")
            }
            values[key] = a.value
            written.append("\(key)=\(a.value)")
        }
        variables = written
        guard let proto = values["PROTO"] else { throw Failure("PROTO is missing; expected PROTO=inet, inet6 or unix") }
        switch proto {
        case "inet", "inet6":
            for k in ["SOCKET_PATH", "SOCKET_MODE", "SOCKET_OWNER"] where values[k] != nil {
                throw Failure("\(k) is for PROTO=unix, not PROTO=\(proto)")
            }
            guard let portText = values["PORT"] else { throw Failure("PORT is missing; PROTO=\(proto) needs PORT and ADDR") }
            guard let port = SocketSpec.port(portText) else {
                throw Failure("PORT=\(portText): expected a port number from 1 to 65535")
            }
            guard let addr = values["ADDR"] else { throw Failure("ADDR is missing; PROTO=\(proto) needs PORT and ADDR") }
            if proto == "inet" {
                guard SocketSpec.isIPv4(addr) else { throw Failure("ADDR=\(addr): expected an IPv4 address such as 127.0.0.1") }
                address = .inet(address: addr, port: port)
            } else {
                guard SocketSpec.isIPv6(addr) else { throw Failure("ADDR=\(addr): expected an IPv6 address such as ::1") }
                address = .inet6(address: addr, port: port)
            }
        case "unix":
            for k in ["PORT", "ADDR"] where values[k] != nil {
                throw Failure("\(k) is for PROTO=inet and inet6, not PROTO=unix")
            }
            guard let path = values["SOCKET_PATH"] else { throw Failure("SOCKET_PATH is missing; PROTO=unix needs it") }
            guard path.hasPrefix("/") || (path.hasPrefix("@") && path.utf8.count > 1) else {
                throw Failure("SOCKET_PATH=\(path): expected an absolute path, or @NAME for the abstract namespace")
            }
            guard path.utf8.count <= 107 else { throw Failure("SOCKET_PATH=\(path): longer than 107 bytes") }
            guard !path.hasSuffix("/") else { throw Failure("SOCKET_PATH=\(path): names a directory") }
            address = .unix(path: path)
            if let m = values["SOCKET_MODE"] {
                guard !path.hasPrefix("@") else { throw Failure("SOCKET_MODE is for a socket file, not an abstract name") }
                guard let mode = SocketSpec.mode(m) else { throw Failure("SOCKET_MODE=\(m): expected an octal mode from 0 to 0777, such as 0660") }
                self.mode = mode
            }
            if let o = values["SOCKET_OWNER"] {
                guard !path.hasPrefix("@") else { throw Failure("SOCKET_OWNER is for a socket file, not an abstract name") }
                let parts = o.split(separator: ":", omittingEmptySubsequences: false)
                guard parts.count <= 2, parts.allSatisfy({ !$0.isEmpty }) else {
                    throw Failure("SOCKET_OWNER=\(o): expected USER or USER:GROUP")
                }
                owner = o
            }
        default:
            throw Failure("PROTO=\(proto): expected inet, inet6 or unix")
        }
    }

    /// `inet 127.0.0.1:8080`, `inet6 [::1]:8080`, `unix /run/foo.sock`.
    public var description: String {
        switch address {
        case .inet(let a, let p): return "inet \(a):\(p)"
        case .inet6(let a, let p): return "inet6 [\(a)]:\(p)"
        case .unix(let path): return "unix \(path)"
        }
    }

    /// The name the job sees in `LISTEN_FDNAMES` (no `:`, as systemd
    /// requires): `inet-127.0.0.1-8080`, `inet6-..1-8080`, `unix-foo.sock`.
    public var fdName: String {
        let raw: String
        switch address {
        case .inet(let a, let p): raw = "inet-\(a)-\(p)"
        case .inet6(let a, let p): raw = "inet6-\(a)-\(p)"
        case .unix(let path): raw = "unix-" + (path.split(separator: "/").last.map(String.init) ?? path)
        }
        return String(raw.map { $0 == ":" || $0 == " " || $0 == "=" ? "." : $0 })
    }

    static func port(_ s: String) -> UInt16? {
        guard !s.isEmpty, s.utf8.count <= 5, s.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), let n = Int(s), n >= 1, n <= 65535 else { return nil }
        return UInt16(n)
    }

    static func mode(_ s: String) -> UInt32? {
        guard !s.isEmpty, s.utf8.count <= 4, s.utf8.allSatisfy({ $0 >= 48 && $0 <= 55 }), let n = UInt32(s, radix: 8), n <= 0o777 else { return nil }
        return n
    }

    /// A dotted quad: four decimal numbers 0-255, no leading zeros.
    public static func isIPv4(_ s: String) -> Bool {
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return false }
        return parts.allSatisfy { p in
            guard !p.isEmpty, p.count <= 3, p.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), let n = Int(p), n <= 255 else { return false }
            return p.count == 1 || p.first != "0"
        }
    }

    /// An IPv6 literal (RFC 4291 text form): eight groups of 1-4 hex
    /// digits, at most one `::` standing for one or more zero groups, and
    /// optionally a dotted quad as the last 32 bits.
    public static func isIPv6(_ s: String) -> Bool {
        guard s.utf8.count >= 2, s.utf8.count <= 45 else { return false }
        let halves = s.components(separatedBy: "::")
        guard halves.count <= 2 else { return false }
        func groups(_ text: String, last: Bool) -> Int? {
            if text.isEmpty { return 0 }
            var n = 0
            let parts = text.split(separator: ":", omittingEmptySubsequences: false)
            for (i, p) in parts.enumerated() {
                if last && i == parts.count - 1 && p.contains(".") {
                    guard isIPv4(String(p)) else { return nil }
                    n += 2
                    continue
                }
                guard !p.isEmpty, p.count <= 4, p.allSatisfy({ $0.isHexDigit }) else { return nil }
                n += 1
            }
            return n
        }
        if halves.count == 1 {
            return groups(s, last: true) == 8
        }
        guard let a = groups(halves[0], last: false), let b = groups(halves[1], last: true) else { return false }
        return a + b <= 7
    }
}

extension String {
    /// Splits on a separator string (no Foundation in the pure modules).
    fileprivate func components(separatedBy separator: String) -> [String] {
        var result: [String] = []
        var rest = Substring(self)
        while let r = rest.firstRange(of: separator) {
            result.append(String(rest[..<r.lowerBound]))
            rest = rest[r.upperBound...]
        }
        result.append(String(rest))
        return result
    }
}
