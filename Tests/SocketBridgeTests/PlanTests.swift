import Testing
@testable import SocketBridge

/// The socket bridge's pure parts: which sockets the jobs want, where each
/// is written, and how often a job may be activated.
@Suite struct PlanTests {
    @Test func socketsComeFromStartOnInExpressionOrderWithJobAndName() {
        let lines = ["  emits x", "  start on (socket PROTO=unix SOCKET_PATH=/run/b.sock and socket PROTO=inet PORT=8080 ADDR=127.0.0.1)", "  stop on socket PROTO=inet PORT=9 ADDR=127.0.0.1"]
        let (found, problems) = SocketPlan.sockets(job: "web", lines: lines, file: nil, text: nil)
        #expect(problems.isEmpty)
        #expect(found.map(\.spec.description) == ["unix /run/b.sock", "inet 127.0.0.1:8080"])
        #expect(found[1].eventEnvironment == ["PROTO=inet", "PORT=8080", "ADDR=127.0.0.1", "JOB=web", "FDNAME=inet-127.0.0.1-8080"])
    }

    @Test func aSocketIsLocatedOnTheLineThatNamesIt() {
        let text = """
        description "web"
        start on socket PROTO=inet PORT=1 ADDR=127.0.0.1
        # an older one above does not count
        start on (socket PROTO=inet PORT=8080 ADDR=127.0.0.1
                  and socket PROTO=unix SOCKET_PATH=/run/w.sock)
        exec web
        """
        #expect(SocketPlan.locate(file: "/etc/init/web.conf", text: text, variables: ["PROTO=inet", "PORT=8080", "ADDR=127.0.0.1"]) == "/etc/init/web.conf:4")
        #expect(SocketPlan.locate(file: "/etc/init/web.conf", text: text, variables: ["PROTO=unix", "SOCKET_PATH=/run/w.sock"]) == "/etc/init/web.conf:5")
        // PORT=80 is not PORT=8080.
        #expect(SocketPlan.locate(file: "/etc/init/web.conf", text: text, variables: ["PROTO=inet", "PORT=80", "ADDR=127.0.0.1"]) == "/etc/init/web.conf:4")
        #expect(SocketPlan.locate(file: "/x.conf", text: nil, variables: []) == "/x.conf")
    }

    @Test func aJobActivatedInABurstWaitsBeforeListeningAgain() {
        let p = SocketPlan.Pacing()
        #expect(p.listenAgain(after: [1000], now: 1000, failed: true) == 1000)
        let burst = (0..<10).map { Int64(1000 + $0 * 10) }
        #expect(p.listenAgain(after: burst, now: 1090, failed: true) == 1090 + p.pause)
        // Stops that were not failures get a larger allowance.
        #expect(p.listenAgain(after: burst, now: 1090, failed: false) == 1090)
        let many = (0..<100).map { Int64(1000 + $0) }
        #expect(p.listenAgain(after: many, now: 1099, failed: false) == 1099 + p.pause)
        // Old activations have left the window.
        #expect(p.listenAgain(after: burst, now: 1000 + p.window + 100, failed: true) == 1000 + p.window + 100)
    }
}
