import Testing
import JobFile
@testable import Engine

let sampleEnv = Environment(["A=1", "EMPTY=", "NAME=B", "B=bee"])

@Test(arguments: [
    ("plain", "plain"),
    ("$A", "1"),
    ("x${A}y", "x1y"),
    ("$A$A", "11"),
    ("${EMPTY}", ""),
    ("${UNSET:-dflt}", "dflt"),
    ("${EMPTY:-dflt}", "dflt"),
    ("${EMPTY-dflt}", ""),
    ("${UNSET-dflt}", "dflt"),
    ("${A:-dflt}", "1"),
    ("${A:+alt}", "alt"),
    ("${EMPTY:+alt}", ""),
    ("${EMPTY+alt}", "alt"),
    ("${UNSET+alt}", ""),
    ("${UNSET:-$A}", "1"),
    ("${${NAME}}", "bee"),
    ("${}", "$"),
    ("cost: $5", "cost: $5"),
    ("end$", "end$"),
    ("$$A", "$1"),
])
func expansionFollowsEnvironExpand(_ text: String, _ expected: String) throws {
    #expect(try Environment.expand(text, sampleEnv) == expected)
}

@Test(arguments: [
    ("$UNSET", ExpansionError.unknownParameter("UNSET")),
    ("${UNSET}", .unknownParameter("UNSET")),
    ("${A", .mismatchedBraces),
    ("${A:x}", .expectedOperator),
    ("${A?x}", .illegalParameter("A?x")),
    ("${1A}", .illegalParameter("1A")),
    ("${UNSET:-$ALSO}", .unknownParameter("ALSO")),
])
func expansionErrorsAreUpstarts(_ text: String, _ error: ExpansionError) {
    #expect(throws: error) { try Environment.expand(text, sampleEnv) }
}

@Test func setReplacesInPlaceAndAppendsNewNames() {
    var env = Environment(["A=1", "B=2"])
    env.set("A=3")
    env.set("C=4")
    #expect(env.entries == ["A=3", "B=2", "C=4"])
    #expect(env.value("B") == "2")
    #expect(env.value("Z") == nil)
}

/// Every process sees defaults, env stanzas, the event's variables,
/// UPSTART_EVENTS, UPSTART_JOB and UPSTART_INSTANCE.
@Test func processEnvironmentFromEventStart() {
    var h = Harness(daemonEnvironment: ["LANG=C.UTF-8"])
    h.add("svc", "start on net-up\nenv MODE=fast\nenv LANG\nenv ABSENT\nexec /bin/svc\n")
    let e = h.emit("net-up", ["IFACE=eth0"])
    #expect(e.spawns.first?.environment == [
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=linux",
        "MODE=fast", "LANG=C.UTF-8", "IFACE=eth0", "UPSTART_EVENTS=net-up",
        "UPSTART_JOB=svc", "UPSTART_INSTANCE=",
    ])
}

@Test func eventVariablesOverrideEnvStanzasAndUpstartEventsListsEveryEvent() {
    var h = Harness()
    h.add("svc", "start on a and b\nenv X=stanza\nexec /bin/svc\n")
    _ = h.emit("a", ["X=from-a", "Y=1"])
    let e = h.emit("b", ["Y=2"])
    let env = e.spawns.first!.environment
    #expect(env.contains("X=from-a"))
    #expect(env.contains("Y=2"))
    #expect(env.contains("UPSTART_EVENTS=a b"))
}

@Test func startRequestVariablesReachTheProcessesWithoutUpstartEvents() {
    var h = Harness()
    h.add("svc", "env A=1\nexec /bin/svc\n")
    let (_, e) = h.request(.start, "svc", ["A=2", "B=3"])
    let env = e.spawns.first!.environment
    #expect(env.contains("A=2"))
    #expect(env.contains("B=3"))
    #expect(!env.contains { $0.hasPrefix("UPSTART_EVENTS=") })
}

@Test func preStopAndPostStopSeeTheStopEventsButMainDoesNot() {
    var h = Harness()
    h.add("svc", "start on up\nstop on down\nexec /bin/svc\npre-stop exec /bin/a\npost-stop exec /bin/b\n")
    let e1 = h.emit("up")
    #expect(!e1.spawns[0].environment.contains { $0.hasPrefix("UPSTART_STOP_EVENTS") })
    let e2 = h.emit("down", ["WHY=maint"])
    let pre = e2.spawns.first { $0.process == .preStop }!
    #expect(pre.environment.contains("UPSTART_STOP_EVENTS=down"))
    #expect(pre.environment.contains("WHY=maint"))
    h.exit("svc", .preStop)
    let e3 = h.exit("svc", .main, .killed(.term))
    let post = e3.spawns.first { $0.process == .postStop }!
    #expect(post.environment.contains("UPSTART_STOP_EVENTS=down"))
    #expect(post.environment.contains("UPSTART_EVENTS=up"))
}

@Test func stopRequestVariablesReachPreStop() {
    var h = Harness()
    h.add("svc", "exec /bin/svc\npre-stop exec /bin/a\n")
    _ = h.request(.start, "svc")
    let (_, e) = h.request(.stop, "svc", ["REASON=upgrade"])
    #expect(e.spawns.first?.environment.contains("REASON=upgrade") == true)
}

@Test func invalidEmitEnvironmentIsRefused() {
    var h = Harness()
    let e = h.emit("ev", ["NOEQUALS"], waiter: 5)
    #expect(e.emitted.isEmpty)
    if case .error = e.reply(5) {} else { Issue.record("expected an error reply, got \(String(describing: e.reply(5)))") }
}
