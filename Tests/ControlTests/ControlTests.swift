import Testing
@testable import Control
import JSON

@Suite struct Framing {
    @Test func framesSurviveAnyChunking() throws {
        let bodies: [[UInt8]] = [Array("{\"a\":1}".utf8), Array(repeating: 120, count: 5000), [1]]
        let wire = bodies.flatMap(Frame.encode)
        for chunk in [1, 2, 3, 7, 4096, wire.count] {
            var reader = FrameReader(limit: Frame.maxRequest)
            var got: [[UInt8]] = []
            var i = 0
            while i < wire.count {
                reader.append(wire[i..<min(i + chunk, wire.count)])
                i += chunk
                while let body = try reader.next() { got.append(body) }
            }
            #expect(got == bodies, "chunk size \(chunk)")
            #expect(reader.pending == 0)
        }
    }

    @Test func oversizedOrEmptyFramesAreRefusedFromTheHeaderAlone() {
        var reader = FrameReader(limit: 1024)
        reader.append([0, 0, 4, 1])
        #expect(throws: FrameReader.Failure.badLength(1025)) { try reader.next() }
        var empty = FrameReader(limit: 1024)
        empty.append([0, 0, 0, 0])
        #expect(throws: FrameReader.Failure.badLength(0)) { try empty.next() }
        var huge = FrameReader(limit: Frame.maxRequest)
        huge.append([0xFF, 0xFF, 0xFF, 0xFF])
        #expect(throws: FrameReader.Failure.badLength(0xFFFF_FFFF)) { try huge.next() }
    }

    @Test func aPartialFrameWaitsForMoreBytes() throws {
        var reader = FrameReader(limit: 100)
        reader.append([0, 0, 0, 5, 1, 2])
        #expect(try reader.next() == nil)
        reader.append([3, 4, 5])
        #expect(try reader.next() == [1, 2, 3, 4, 5])
    }
}

@Suite struct Requests {
    func decode(_ text: String) -> Result<Request, ControlError> { Request.decode(Array(text.utf8)) }

    @Test func aRequestRoundTripsThroughItsJSON() throws {
        let r = Request(id: 7, method: .start, params: Request.Params(job: "web", instance: "a", env: ["PORT=80"], wait: false,
                                                                     event: "e", name: "N", global: true, retain: true, priority: "info", enumerate: true,
                                                                     events: ["timer", "file"]))
        #expect(try decode(r.json.compact).get() == r)
        let minimal = Request(id: 1, method: .list)
        #expect(try decode(minimal.json.compact).get() == minimal)
    }

    @Test func everyMethodNameDecodes() throws {
        for m in Method.allCases {
            #expect(try decode("{\"v\":1,\"id\":1,\"method\":\"\(m.rawValue)\"}").get().method == m)
        }
    }

    @Test func malformedRequestsGetCodedErrorsWithTheIdWhenKnown() {
        #expect(decode("not json").failureCode == .badRequest)
        #expect(decode("[1]").failure == ControlError(id: nil, code: .badRequest, message: "a request must be a JSON object"))
        #expect(decode("{\"v\":1,\"method\":\"list\"}").failure?.message == "a request needs a whole-number \"id\"")
        #expect(decode("{\"id\":3,\"method\":\"list\"}").failure == ControlError(id: 3, code: .badRequest, message: "a request needs a protocol version \"v\""))
        #expect(decode("{\"v\":2,\"id\":3,\"method\":\"list\"}").failure == ControlError(id: 3, code: .unsupportedVersion, message: "protocol version 2 is not supported; this daemon speaks version 1"))
        #expect(decode("{\"v\":1,\"id\":3,\"method\":\"reboot\"}").failure == ControlError(id: 3, code: .unknownMethod, message: "unknown method 'reboot'"))
        #expect(decode("{\"v\":1,\"id\":3,\"method\":\"start\",\"params\":{\"job\":5}}").failure?.message == "\"job\" must be a string")
        #expect(decode("{\"v\":1,\"id\":3,\"method\":\"start\",\"params\":{\"env\":[1]}}").failure?.message == "\"env\" must be an array of KEY=VALUE strings")
        #expect(decode("{\"v\":1,\"id\":3,\"method\":\"start\",\"params\":{\"wait\":\"no\"}}").failure?.message == "\"wait\" must be true or false")
        #expect(decode("{\"v\":1,\"id\":3,\"method\":\"show-config\",\"params\":{\"events\":\"timer\"}}").failure?.message == "\"events\" must be an array of event names")
        #expect(decode("{\"v\":1,\"id\":3,\"method\":\"start\",\"params\":[]}").failure?.message == "\"params\" must be an object")
    }

    @Test func onlyReadingMethodsAreReadOnly() {
        #expect(Method.list.isReadOnly && Method.status.isReadOnly && Method.version.isReadOnly && Method.showConfig.isReadOnly)
        #expect(!Method.start.isReadOnly && !Method.stop.isReadOnly && !Method.emit.isReadOnly && !Method.setEnv.isReadOnly)
        #expect(!Method.reloadConfiguration.isReadOnly && !Method.logPriority.isReadOnly)
    }
}

extension Result where Failure == ControlError {
    var failure: ControlError? { if case .failure(let e) = self { return e }; return nil }
    var failureCode: ErrorCode? { failure?.code }
}

@Suite struct StatusLines {
    @Test func singleInstanceRunningWithMainProcess() {
        let s = InstanceStatus(job: "job", goal: "start", state: "running", processes: [ProcessStatus(kind: "main", pid: 1234)])
        #expect(s.upstartText == "job start/running, process 1234")
    }

    @Test func preStartStateShowsThePreStartProcess() {
        let s = InstanceStatus(job: "job", goal: "start", state: "pre-start", processes: [ProcessStatus(kind: "pre-start", pid: 902)])
        #expect(s.upstartText == "job start/pre-start, process 902")
        let stopping = InstanceStatus(job: "job", goal: "stop", state: "post-stop",
                                      processes: [ProcessStatus(kind: "main", pid: 7), ProcessStatus(kind: "post-stop", pid: 903)])
        #expect(stopping.upstartText == "job stop/post-stop, process 903\n\tmain process 7")
    }

    @Test func extraProcessesFollowOnTabIndentedLines() {
        let s = InstanceStatus(job: "job", instance: "tty1", goal: "start", state: "post-start",
                               processes: [ProcessStatus(kind: "main", pid: 1234), ProcessStatus(kind: "post-start", pid: 1357)])
        #expect(s.upstartText == "job (tty1) start/post-start, process 1234\n\tpost-start process 1357")
    }

    @Test func withoutAMainProcessTheOtherIsNamedInParentheses() {
        let s = InstanceStatus(job: "job", goal: "start", state: "post-start", processes: [ProcessStatus(kind: "post-start", pid: 1357)])
        #expect(s.upstartText == "job start/post-start, (post-start) process 1357")
    }

    @Test func noProcessIsJustGoalAndState() {
        #expect(InstanceStatus(job: "job", goal: "stop", state: "waiting").upstartText == "job stop/waiting")
    }

    @Test func statusSurvivesItsJSON() {
        let s = InstanceStatus(job: "a/b", instance: "x y", goal: "stop", state: "killed",
                               processes: [ProcessStatus(kind: "main", pid: 4), ProcessStatus(kind: "pre-stop", pid: 5)], statusText: "ready")
        #expect(InstanceStatus(json: s.json) == s)
        #expect(InstanceStatus(json: (try? JSONValue.parse(s.json.compact)) ?? .null) == s)
    }
}

@Suite struct SocketPaths {
    @Test func userSocketPrefersXDGRuntimeDir() {
        #expect(SocketPath.user(environment: ["XDG_RUNTIME_DIR": "/run/user/1000"], uid: 1000) == "/run/user/1000/daybreak/control")
        #expect(SocketPath.user(environment: [:], uid: 1000) == "/tmp/daybreak-1000/control")
        #expect(SocketPath.user(environment: ["XDG_RUNTIME_DIR": "relative"], uid: 5) == "/tmp/daybreak-5/control")
    }

    @Test func sessionAddressRoundTrips() {
        let addr = SocketPath.sessionAddress(for: "/run/user/1000/daybreak/control")
        #expect(addr == "unix:path=/run/user/1000/daybreak/control")
        #expect(SocketPath.path(fromSession: addr) == "/run/user/1000/daybreak/control")
        #expect(SocketPath.path(fromSession: "unix:abstract=/com/ubuntu/upstart-session/1000/99") == nil)
        #expect(SocketPath.path(fromSession: "/tmp/x") == "/tmp/x")
    }
}

@Suite struct JSONParsing {
    @Test func parsesEveryKindOfValue() throws {
        let v = try JSONValue.parse(#" {"a": [1, -2, true, false, null, "x\"y\\n\u00e9\ud83d\ude00"], "b": {}, "c": []} "#)
        #expect(v["a"]?.array?.count == 6)
        #expect(v["a"]?.array?[1].int == -2)
        #expect(v["a"]?.array?[5].string == "x\"y\\n\u{e9}\u{1F600}")
        #expect(v["b"] == .object([]))
    }

    @Test func printedValuesParseBackEqual() throws {
        let v = JSONValue.object([("s", .string("a\u{1}\n\"\\é")), ("n", .number(-5)), ("u", .unsigned(UInt64.max)),
                                  ("l", .array([.null, .bool(true)])), ("o", .object([("k", .string(""))]))])
        #expect(try JSONValue.parse(v.compact) == v)
        #expect(try JSONValue.parse(v.pretty) == v)
    }

    @Test func rejectsMalformedText() {
        for bad in ["", "{", "[1,]", "{\"a\" 1}", "tru", "01", "1.5", "1e3", "\"\\x\"", "\"a", "\"\u{1}\"", "{} {}", "\"\\ud800\"", "[1 2]", "{1:2}"] {
            #expect(throws: JSONParseError.self, "\(bad)") { try JSONValue.parse(bad) }
        }
    }

    @Test func nestingIsBounded() {
        let deep = String(repeating: "[", count: 65) + String(repeating: "]", count: 65)
        #expect(throws: JSONParseError.self) { try JSONValue.parse(deep) }
        let ok = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        #expect((try? JSONValue.parse(ok)) != nil)
    }
}
