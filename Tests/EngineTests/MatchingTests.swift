import Testing
import JobFile
@testable import Engine

/// One row: a `start on` expression, events in order (`name K=V ...`),
/// and whether the expression has fired after the last one.
struct MatchRow: Sendable, CustomStringConvertible {
    var expression: String
    var events: [String]
    var fires: Bool
    var description: String { "\(expression) <- \(events.joined(separator: "; ")) => \(fires)" }
}

let matchTable: [MatchRow] = [
    // Names.
    .init(expression: "a", events: ["a"], fires: true),
    .init(expression: "a", events: ["b"], fires: false),
    .init(expression: "a", events: ["A"], fires: false),
    .init(expression: "a*", events: ["ab"], fires: false), // names are not globs
    // Positional arguments match the event's entries by position.
    .init(expression: "started apache", events: ["started JOB=apache INSTANCE="], fires: true),
    .init(expression: "started apache", events: ["started JOB=nginx INSTANCE="], fires: false),
    .init(expression: "net IFACE=eth0", events: ["net IFACE=eth0"], fires: true),
    .init(expression: "net eth0", events: ["net IFACE=eth0"], fires: true),
    .init(expression: "net eth0 up", events: ["net IFACE=eth0"], fires: false), // too few entries
    .init(expression: "net eth0 up", events: ["net IFACE=eth0 STATE=up"], fires: true),
    // Named arguments look the name up, in any position.
    .init(expression: "net STATE=up", events: ["net IFACE=eth0 STATE=up"], fires: true),
    .init(expression: "net STATE=up", events: ["net IFACE=eth0"], fires: false),
    .init(expression: "net STATE=up IFACE=eth0", events: ["net IFACE=eth0 STATE=up"], fires: true),
    // Globs.
    .init(expression: "net IFACE=eth*", events: ["net IFACE=eth1"], fires: true),
    .init(expression: "net IFACE=eth?", events: ["net IFACE=eth10"], fires: false),
    .init(expression: "net IFACE=[ew]*", events: ["net IFACE=wlan0"], fires: true),
    .init(expression: "net IFACE=[!ew]*", events: ["net IFACE=wlan0"], fires: false),
    .init(expression: "net IFACE=lo", events: ["net IFACE=lo0"], fires: false),
    // Negation.
    .init(expression: "net IFACE!=lo", events: ["net IFACE=eth0"], fires: true),
    .init(expression: "net IFACE!=lo", events: ["net IFACE=lo"], fires: false),
    .init(expression: "net IFACE!=e*", events: ["net IFACE=eth0"], fires: false),
    .init(expression: "net IFACE!=lo", events: ["net OTHER=x"], fires: false), // missing never matches
    // `$VAR` in start on has no environment to expand from.
    .init(expression: "net IFACE=$X", events: ["net IFACE=$X"], fires: false),
    .init(expression: "net IFACE=${X:-eth0}", events: ["net IFACE=eth0"], fires: true),
    // and / or, remembered operands.
    .init(expression: "a and b", events: ["a"], fires: false),
    .init(expression: "a and b", events: ["a", "b"], fires: true),
    .init(expression: "a and b", events: ["b", "a"], fires: true),
    .init(expression: "a and b", events: ["a", "a"], fires: false),
    .init(expression: "a and a", events: ["a"], fires: true), // one event, both operands
    .init(expression: "a or b", events: ["b"], fires: true),
    .init(expression: "a or b", events: ["c"], fires: false),
    // Equal precedence, grouped from the left: a or b and c = (a or b) and c.
    .init(expression: "a or b and c", events: ["a"], fires: false),
    .init(expression: "a or b and c", events: ["b", "c"], fires: true),
    .init(expression: "a or b and c", events: ["a", "c"], fires: true),
    .init(expression: "a or (b and c)", events: ["a"], fires: true),
    .init(expression: "(a and b) or (c and d)", events: ["a", "c", "d"], fires: true),
    .init(expression: "(a and b) or (c and d)", events: ["a", "c"], fires: false),
    .init(expression: "a and (b or c) and d", events: ["c", "d", "a"], fires: true),
    .init(expression: "runlevel [2345]", events: ["runlevel RUNLEVEL=3 PREVLEVEL=N"], fires: true),
    .init(expression: "runlevel [!2345]", events: ["runlevel RUNLEVEL=0 PREVLEVEL=2"], fires: true),
    .init(expression: "runlevel [!2345]", events: ["runlevel RUNLEVEL=2 PREVLEVEL=N"], fires: false),
]

/// Splits `name K=V K=V` into an event.
func parseEvent(_ text: String, id: EventID) -> Event {
    let words = text.split(separator: " ").map(String.init)
    return Event(id: id, name: words[0], environment: Array(words.dropFirst()))
}

@Test(arguments: matchTable)
func startOnExpressionFiresExactlyWhenItsEventsHaveCome(_ row: MatchRow) {
    let job = Harness.job("j", "start on \(row.expression)\n")
    let expr = CompiledExpression(job.startOn!)
    var state = OperatorState(leaves: expr.matches.count)
    var fired = false
    for (i, text) in row.events.enumerated() {
        _ = state.offer(parseEvent(text, id: EventID(i + 1)), to: expr, env: nil)
        fired = expr.holds(state)
    }
    #expect(fired == row.fires)
}

/// The same table through the whole engine: the job starts exactly when the
/// expression fires.
@Test(arguments: matchTable)
func engineStartsTheJobExactlyWhenTheExpressionFires(_ row: MatchRow) {
    var h = Harness()
    h.add("j", "start on \(row.expression)\n")
    for text in row.events {
        let ev = parseEvent(text, id: 0)
        h.send(.emit(name: ev.name, environment: ev.environment, waiter: nil))
    }
    #expect((h.goalState("j") != nil) == row.fires)
}

@Test func firedExpressionForgetsItsOperandsAndStartsAfresh() {
    var h = Harness()
    h.add("j", "start on a and b\nstop on c\n")
    _ = h.emit("a")
    _ = h.emit("b")
    #expect(h.goalState("j") == "start/running")
    _ = h.emit("c")
    #expect(h.goalState("j") == nil)
    _ = h.emit("b")
    #expect(h.goalState("j") == nil, "the first a was used up")
    _ = h.emit("a")
    #expect(h.goalState("j") == "start/running")
}

@Test func stopOnExpandsVariablesFromTheInstanceEnvironment() {
    var h = Harness()
    h.add("tty", "instance $TTY\nstart on go\nstop on hangup DEV=$TTY\n")
    _ = h.emit("go", ["TTY=tty1"])
    _ = h.emit("go", ["TTY=tty2"])
    #expect(h.engine.instances(of: "tty").map(\.instance) == ["tty1", "tty2"])
    _ = h.emit("hangup", ["DEV=tty2"])
    #expect(h.engine.instances(of: "tty").map(\.instance) == ["tty1"])
    _ = h.emit("hangup", ["DEV=tty9"])
    #expect(h.engine.instances(of: "tty").map(\.instance) == ["tty1"])
}

/// The first `and` operand's event stays held by each instance's stop on.
@Test func stopOnRemembersOperandsPerInstance() {
    var h = Harness()
    h.add("w", "instance $N\nstart on go\nstop on a N=$N and b\n")
    _ = h.emit("go", ["N=1"])
    _ = h.emit("go", ["N=2"])
    _ = h.emit("a", ["N=1"])
    #expect(h.engine.instances(of: "w").count == 2)
    _ = h.emit("b")
    #expect(h.engine.instances(of: "w").map(\.instance) == ["2"])
}

@Test(arguments: [
    ("abc", "abc", true), ("abc", "abd", false), ("a*", "abc", true), ("*c", "abc", true),
    ("a*c", "ac", true), ("a*c", "ab", false), ("*", "", true), ("?", "", false),
    ("a?c", "abc", true), ("[a-c]x", "bx", true), ("[a-c]x", "dx", false),
    ("[]]", "]", true), ("[!a]", "b", true), ("[^a]", "a", false), ("\\*", "*", true),
    ("\\*", "a", false), ("[ab", "[ab", true), ("*/*", "a/b", true), ("*.conf", ".conf", true),
    ("a**b", "ab", true), ("é?", "éx", true),
])
func globMatchesAsFnmatchWithoutFlags(_ pattern: String, _ text: String, _ expected: Bool) {
    #expect(Glob.matches(pattern: pattern, text) == expected)
}

/// Only the operands that made the expression true are held by the job:
/// with `(a and b) or c`, an `a` that came first is released when `c` fires.
@Test func onlyEventsInTrueSubtreesAreHeldByTheStartedJob() {
    var h = Harness(autoSpawn: false)
    h.add("j", "start on (a and b) or c\nexec /bin/j\n")
    let e1 = h.emit("a", waiter: 1)
    #expect(e1.reply(1) == nil, "a is held by the half-fired and")
    let e2 = h.emit("c", waiter: 2)
    #expect(e2.reply(1) == .ok(nil), "a took no part in firing, so it is released")
    #expect(e2.reply(2) == nil, "c waits for j to be running")
    let e3 = h.answerSpawn()
    #expect(e3.reply(2) == .ok(nil))
}

/// A new run starts with its `stop on` memory cleared.
@Test func stopOnMemoryIsClearedWhenTheInstanceStartsAgain() {
    var h = Harness()
    h.add("j", "start on go\nstop on a and b\nexec /bin/j\n")
    _ = h.emit("go")
    let e1 = h.emit("a", waiter: 1)
    #expect(e1.reply(1) == nil, "a is held by j's stop on")
    let (_, e2) = h.request(.restart, "j")
    #expect(e2.reply(1) == nil, "still held while the old run stops")
    let e3 = h.exit("j", .main, .killed(.term))
    #expect(e3.reply(1) == .ok(nil), "entering starting cleared the memory and released it")
    #expect(h.goalState("j") == "start/running")
    _ = h.emit("b")
    #expect(h.goalState("j") == "start/running", "the old a no longer counts")
}

@Test func aTimerEventNamingAJobIsOfferedToThatJobAlone() {
    var h = Harness()
    h.add("every", "start on timer EVERY=1s\ntask\nexec true\n")
    h.add("twice", "start on timer EVERY=1s COUNT=2\ntask\nexec true\n")
    _ = h.emit("timer", ["EVERY=1s", "COUNT=2", "JOB=twice"])
    #expect(h.goalState("every") == nil, "another job's timer does not start it")
    #expect(h.goalState("twice") != nil)
    // Without JOB=, a timer event is an ordinary event.
    _ = h.emit("timer", ["EVERY=1s"])
    #expect(h.goalState("every") != nil)
}

@Test func aFileEventNamingAJobIsOfferedToThatJobAloneSoAGlobJobAlwaysGetsItsMatch() {
    var h = Harness()
    h.add("glob", "start on file FILE=/tmp/* EVENT=create\ntask\nexec true\n")
    h.add("one", "start on file FILE=/tmp/a EVENT=create\ntask\nexec true\n")
    // The glob's FILE=/tmp/* also matches the value /tmp/a: addressed to
    // `one`, the event must not start `glob` (which would lack MATCH).
    _ = h.emit("file", ["FILE=/tmp/a", "EVENT=create", "JOB=one"])
    #expect(h.goalState("glob") == nil, "another job's file event does not start it")
    #expect(h.goalState("one") != nil)
    // Without JOB=, a file event is an ordinary event, as in Upstart.
    _ = h.emit("file", ["FILE=/tmp/a", "EVENT=create"])
    #expect(h.goalState("glob") != nil)
}
