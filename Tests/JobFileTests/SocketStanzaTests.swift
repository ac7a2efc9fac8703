import Testing
@testable import JobFile

/// `start on socket ...`: the variables the socket bridge understands,
/// checked when the file is parsed (docs/socket-bridge.md).
@Suite struct SocketStanzaTests {
    func spec(_ args: String) throws -> SocketSpec {
        let j = try parse("start on socket \(args)\n")
        return try SocketSpec(j.startOn!.matches[0].arguments)
    }

    @Test func wellFormedSocketsParseToTheirAddresses() throws {
        #expect(try spec("PROTO=inet PORT=8080 ADDR=127.0.0.1").address == .inet(address: "127.0.0.1", port: 8080))
        #expect(try spec("PROTO=inet6 PORT=80 ADDR=::1").address == .inet6(address: "::1", port: 80))
        #expect(try spec("PROTO=inet6 PORT=80 ADDR=fe80::1:2").address == .inet6(address: "fe80::1:2", port: 80))
        #expect(try spec("PROTO=inet6 PORT=80 ADDR=::ffff:127.0.0.1").address == .inet6(address: "::ffff:127.0.0.1", port: 80))
        #expect(try spec("PROTO=inet6 PORT=80 ADDR=1:2:3:4:5:6:7:8").address == .inet6(address: "1:2:3:4:5:6:7:8", port: 80))
        let u = try spec("PROTO=unix SOCKET_PATH=/run/foo.sock SOCKET_MODE=0660 SOCKET_OWNER=www:adm")
        #expect(u.address == .unix(path: "/run/foo.sock"))
        #expect(u.mode == 0o660)
        #expect(u.owner == "www:adm")
        #expect(u.variables == ["PROTO=unix", "SOCKET_PATH=/run/foo.sock", "SOCKET_MODE=0660", "SOCKET_OWNER=www:adm"])
        #expect(try spec("PROTO=unix SOCKET_PATH=@daybreak/test").address == .unix(path: "@daybreak/test"))
        // Two sockets joined by `and`: both are checked, in order.
        let j = try parse("start on socket PROTO=inet PORT=1 ADDR=127.0.0.1 and socket PROTO=unix SOCKET_PATH=/tmp/x\n")
        #expect(j.startOn!.matches.count == 2)
    }

    @Test func fdNamesHaveNoColon() throws {
        #expect(try spec("PROTO=inet6 PORT=80 ADDR=::1").fdName == "inet6-..1-80")
        #expect(try spec("PROTO=inet PORT=80 ADDR=127.0.0.1").fdName == "inet-127.0.0.1-80")
        #expect(try spec("PROTO=unix SOCKET_PATH=/run/a/b.sock").fdName == "unix-b.sock")
    }

    @Test func malformedSocketIsRejectedWithLineAndWhatWasExpected() {
        expectError("# web\nstart on socket PROTO=inet PORT=99999 ADDR=127.0.0.1\n", 2, 1, "socket in 'start on': PORT=99999: expected a port number from 1 to 65535")
        expectError("start on socket PROTO=inet PORT=0 ADDR=127.0.0.1\n", 1, 1, "socket in 'start on': PORT=0: expected a port number from 1 to 65535")
        expectError("start on socket PROTO=inet PORT=http ADDR=127.0.0.1\n", 1, 1, "socket in 'start on': PORT=http: expected a port number from 1 to 65535")
        expectError("start on socket PROTO=inet PORT=80 ADDR=256.0.0.1\n", 1, 1, "socket in 'start on': ADDR=256.0.0.1: expected an IPv4 address such as 127.0.0.1")
        expectError("start on socket PROTO=inet6 PORT=80 ADDR=1::2::3\n", 1, 1, "socket in 'start on': ADDR=1::2::3: expected an IPv6 address such as ::1")
        expectError("start on socket PROTO=inet PORT=80\n", 1, 1, "socket in 'start on': ADDR is missing; PROTO=inet needs PORT and ADDR")
        expectError("start on socket PROTO=tcp PORT=80 ADDR=127.0.0.1\n", 1, 1, "socket in 'start on': PROTO=tcp: expected inet, inet6 or unix")
        expectError("start on socket PORT=80\n", 1, 1, "socket in 'start on': PROTO is missing; expected PROTO=inet, inet6 or unix")
        expectError("start on socket PROTO=unix SOCKET_PATH=run/x\n", 1, 1, "socket in 'start on': SOCKET_PATH=run/x: expected an absolute path, or @NAME for the abstract namespace")
        expectError("start on socket PROTO=unix SOCKET_PATH=/x SOCKET_MODE=999\n", 1, 1, "socket in 'start on': SOCKET_MODE=999: expected an octal mode from 0 to 0777, such as 0660")
        expectError("start on socket PROTO=unix SOCKET_PATH=/x PORT=1\n", 1, 1, "socket in 'start on': PORT is for PROTO=inet and inet6, not PROTO=unix")
        expectError("start on socket PROTO=unix SOCKET_PATH=@x SOCKET_MODE=0600\n", 1, 1, "socket in 'start on': SOCKET_MODE is for a socket file, not an abstract name")
        expectError("start on socket PROTO=inet PORT=$P ADDR=127.0.0.1\n", 1, 1, "socket in 'start on': PORT=$P: a socket variable is a plain value (no $VAR, no globs)")
        expectError("start on socket PROTO=inet PORT=80 ADDR=127.0.0.1 COLOR=red\n", 1, 1, "socket in 'start on': unknown variable COLOR; expected PROTO, PORT, ADDR, SOCKET_PATH, SOCKET_MODE, SOCKET_OWNER")
    }

    @Test func addressLiteralsAreCheckedWithoutTheCLibrary() {
        for ok in ["::", "::1", "1::", "a:b:c:d:e:f:0:1", "fe80::", "::ffff:10.0.0.1", "2001:db8::ff00:42:8329"] {
            #expect(SocketSpec.isIPv6(ok), "\(ok)")
        }
        for bad in [":", "1:2:3:4:5:6:7:8:9", "12345::", "g::1", "1:::2", ":1:2:3:4:5:6:7", "1.2.3.4", "::1.2.3"] {
            #expect(!SocketSpec.isIPv6(bad), "\(bad)")
        }
        for bad in ["1.2.3", "01.2.3.4", "1.2.3.4.5", "a.b.c.d", ""] {
            #expect(!SocketSpec.isIPv4(bad), "\(bad)")
        }
    }
}
