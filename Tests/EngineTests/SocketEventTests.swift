import Testing
import JobFile
@testable import Engine

/// Events that carry descriptors (the socket bridge's `socket`): who gets
/// them, in what order, and when the shell may close them.
@Suite struct SocketEventTests {
    func carry(_ h: inout Harness, _ env: [String], _ fds: [Int32]) -> [Effect] {
        h.send(.emitCarrying(name: "socket", environment: env, waiter: nil, descriptors: fds))
    }

    var closed: (([Effect]) -> [Int32]) {
        { effects in effects.flatMap { if case .closeDescriptors(let l) = $0 { return l } else { return [] } } }
    }

    @Test func theMainProcessGetsTheSocketAtThreeWithBothProtocolsVariables() {
        var h = Harness()
        h.add("web", "start on socket PROTO=inet PORT=8080 ADDR=127.0.0.1\npre-start exec true\nexec web\n")
        _ = carry(&h, ["PROTO=inet", "PORT=8080", "ADDR=127.0.0.1", "JOB=web", "FDNAME=http"], [42])
        let spawns = h.log.spawns
        let pre = spawns.first { $0.process == .preStart }!
        #expect(pre.descriptors.isEmpty)
        #expect(!pre.environment.contains { $0.hasPrefix("LISTEN_FDS=") })
        h.exit("web", .preStart)
        let main = h.log.spawns.first { $0.process == .main }!
        #expect(main.descriptors == [42])
        #expect(main.environment.contains("UPSTART_FDS=3"))
        #expect(main.environment.contains("LISTEN_FDS=1"))
        #expect(main.environment.contains("LISTEN_FDNAMES=http"))
        #expect(main.environment.contains("UPSTART_EVENTS=socket"))
        #expect(h.goalState("web") == "start/running")
        // The event is done, but the instance holds the socket.
        #expect(closed(h.log).isEmpty)
    }

    @Test func aRespawnedMainProcessGetsTheSameSocketAndItIsClosedWhenTheJobStops() {
        var h = Harness()
        h.add("web", "start on socket PROTO=unix SOCKET_PATH=/run/w\nrespawn\nexec web\n")
        _ = carry(&h, ["PROTO=unix", "SOCKET_PATH=/run/w", "JOB=web"], [7])
        h.exit("web", .main, .exited(1))
        let mains = h.log.spawns.filter { $0.process == .main }
        #expect(mains.count == 2)
        #expect(mains.allSatisfy { $0.descriptors == [7] && $0.environment.contains("LISTEN_FDNAMES=socket") })
        #expect(closed(h.log).isEmpty)
        let (_, e) = h.request(.stop, "web")
        _ = e
        h.exit("web")
        #expect(h.goalState("web") == nil)
        #expect(closed(h.log) == [7])
    }

    @Test func aJobWithTwoSocketsGetsBothInStartOnOrder() {
        var h = Harness()
        h.add("two", "start on socket PROTO=inet PORT=1 ADDR=127.0.0.1 and socket PROTO=unix SOCKET_PATH=/run/t\nexec two\n")
        // The unix one is emitted first; the order is the expression's.
        _ = carry(&h, ["PROTO=unix", "SOCKET_PATH=/run/t", "JOB=two", "FDNAME=b"], [11])
        #expect(h.goalState("two") == nil)
        _ = carry(&h, ["PROTO=inet", "PORT=1", "ADDR=127.0.0.1", "JOB=two", "FDNAME=a"], [10])
        let main = h.log.spawns.first { $0.process == .main }!
        #expect(main.descriptors == [10, 11])
        #expect(main.environment.contains("UPSTART_FDS=3 4"))
        #expect(main.environment.contains("LISTEN_FDS=2"))
        #expect(main.environment.contains("LISTEN_FDNAMES=a:b"))
    }

    @Test func aSocketEventIsOfferedOnlyToTheJobItNames() {
        var h = Harness()
        h.add("a", "start on socket PROTO=inet PORT=1 ADDR=127.0.0.1\nexec a\n")
        h.add("b", "start on socket PROTO=inet PORT=1 ADDR=127.0.0.1\nexec b\n")
        let e = carry(&h, ["PROTO=inet", "PORT=1", "ADDR=127.0.0.1", "JOB=b"], [5])
        #expect(h.goalState("a") == nil)
        #expect(h.goalState("b") == "start/running")
        #expect(closed(e).isEmpty)
    }

    @Test func anEventNoJobTakesHasItsDescriptorsClosedWhenItFinishes() {
        var h = Harness()
        h.add("a", "start on socket PROTO=inet PORT=1 ADDR=127.0.0.1\nexec a\n")
        let e = carry(&h, ["PROTO=inet", "PORT=2", "ADDR=127.0.0.1", "JOB=a"], [5, 6])
        #expect(closed(e) == [5, 6])
        // A job already running does not take a second socket event's descriptor.
        _ = carry(&h, ["PROTO=inet", "PORT=1", "ADDR=127.0.0.1", "JOB=a"], [8])
        let again = carry(&h, ["PROTO=inet", "PORT=1", "ADDR=127.0.0.1", "JOB=a"], [9])
        #expect(closed(again) == [9])
        // A refused event (bad variables) gives its descriptors back at once.
        let bad = h.send(.emitCarrying(name: "socket", environment: ["no-equals"], waiter: nil, descriptors: [12]))
        #expect(closed(bad) == [12])
    }

    @Test func aManualStartAfterASocketStartHasNoSocket() {
        var h = Harness()
        h.add("web", "start on socket PROTO=inet PORT=1 ADDR=127.0.0.1\nexec web\n")
        _ = carry(&h, ["PROTO=inet", "PORT=1", "ADDR=127.0.0.1", "JOB=web"], [5])
        _ = h.request(.stop, "web")
        h.exit("web")
        #expect(closed(h.log) == [5])
        _ = h.request(.start, "web")
        let mains = h.log.spawns.filter { $0.process == .main }
        #expect(mains.count == 2)
        #expect(mains[1].descriptors.isEmpty)
        #expect(!mains[1].environment.contains { $0.hasPrefix("LISTEN_FDS=") || $0.hasPrefix("UPSTART_FDS=") })
    }
}
