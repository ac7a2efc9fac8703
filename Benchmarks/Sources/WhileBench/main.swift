// `while` benchmark: the cost of one state change, with 1,000 `while` jobs
// loaded and with 10.
//
// A change of a job's state must re-evaluate only the conditions that name
// that job (the engine's index by name), never every `while` job. Shapes
// loaded in the large engine (1,000 `while` jobs, all running):
//
// - w (below), and a chain of 399: ch-i `while ch-(i-1)`;
// - a fan-out of 300: out-i `while hub`;
// - a fan-in of 300: s-i `while root` (299), and sink `while s-0 and ... and s-298`.
//
// The change measured: `initctl stop x` then `initctl start x`, where x is
// a job with no process that exactly one `while` job (w) depends on; w has
// no process either, so the whole cycle (x stopping, w stopped, x stopped,
// x started, w started) happens inside the engine, with every job event.
// The small engine has the same x and w, and 9 other `while` jobs.
//
// Floor, measured in the same run: the same cycle of a job nobody depends
// on. Proportionality: the same cycle of `hub` (300 dependents), per
// dependent, against the cycle of x (1 dependent).
import BenchSupport
import Engine
import JobFile

let cyclesPerRound = 20_000
let rounds = 3

func job(_ name: String, _ text: String) -> JobClass {
    do {
        return try Parser.parse(name: name, text: text, file: name)
    } catch {
        fatalError("benchmark job \(name): \(error)")
    }
}

nonisolated(unsafe) var nextID: RequestID = 1
let clock = EngineTime.seconds(1)

func send(_ e: inout Engine, _ action: ControlAction, _ name: String) -> Int {
    nextID += 1
    return e.handle(.control(ControlRequest(id: nextID, action: action, job: name)), at: clock).count
}

func makeEngine(large: Bool) -> Engine {
    var e = Engine(configuration: EngineConfiguration(verbose: false))
    var add: [(String, String)] = [("x", ""), ("w", "while x\n"), ("lonely", "")]
    if large {
        add.append(("ch-0", ""))
        for i in 1...399 { add.append(("ch-\(i)", "while ch-\(i - 1)\n")) }
        add.append(("hub", ""))
        for i in 0..<300 { add.append(("out-\(i)", "while hub\n")) }
        add.append(("root", ""))
        for i in 0..<299 { add.append(("s-\(i)", "while root\n")) }
        add.append(("sink", "while " + (0..<299).map { "s-\($0)" }.joined(separator: " and ") + "\n"))
    } else {
        add.append(("hub", ""))
        for i in 0..<9 { add.append(("small-\(i)", "while hub\n")) }
    }
    for (name, text) in add { _ = e.handle(.jobClassAdded(job(name, text)), at: clock) }
    for name in ["x", "lonely", "ch-0", "hub", "root"] where e.jobClass(name) != nil { _ = send(&e, .start, name) }
    let whileJobs = e.state.classes.values.filter { $0.definition.job.whileCondition != nil }
    let running = whileJobs.filter { c in e.instances(of: c.definition.name).contains { $0.state == .running } }
    precondition(running.count == whileJobs.count, "every while job runs: \(running.count) of \(whileJobs.count)")
    precondition(whileJobs.count == (large ? 1000 : 10), "\(whileJobs.count) while jobs")
    return e
}

/// Best time, in nanoseconds, of one stop/start cycle of `name`.
func measureCycle(_ engine: Engine, _ name: String, cycles: Int = cyclesPerRound) -> Double {
    var e = engine
    var sink = 0
    let ns = bestOf(rounds) {
        for _ in 0..<cycles {
            sink &+= send(&e, .stop, name)
            sink &+= send(&e, .start, name)
        }
    }
    precondition(e.instances(of: "w").first?.state == .running)
    blackHole(sink)
    return Double(ns) / Double(cycles)
}

let small = makeEngine(large: false)
let large = makeEngine(large: true)

let floor = measureCycle(small, "lonely")
let smallOne = measureCycle(small, "x")
let largeOne = measureCycle(large, "x")
let largeFloor = measureCycle(large, "lonely")
let hub = measureCycle(large, "hub", cycles: cyclesPerRound / 100)

print("while: one state change (stop and start of a job), release build")
print("")
print("| measure | ns per cycle | ratio to floor |")
print("| --- | --- | --- |")
print("| floor: a job nobody depends on, 10 while jobs loaded | \(fixed(floor, 0)) | 1.00 |")
print("| the same, 1,000 while jobs loaded | \(fixed(largeFloor, 0)) | \(fixed(largeFloor / floor)) |")
print("| a job one while job depends on, 10 while jobs loaded | \(fixed(smallOne, 0)) | \(fixed(smallOne / floor)) |")
print("| the same, 1,000 while jobs loaded | \(fixed(largeOne, 0)) | \(fixed(largeOne / floor)) |")
print("| hub: 300 dependents, 1,000 while jobs loaded | \(fixed(hub, 0)) | \(fixed(hub / floor)) |")
print("")
print("1,000 against 10 while jobs, one dependent: \(fixed(largeOne / smallOne))x (target: at most 1.5x)")
let perDependentOne = largeOne - largeFloor
let perDependentHub = (hub - largeFloor) / 300
print("cost per dependent: \(fixed(perDependentOne, 0)) ns with 1, \(fixed(perDependentHub, 0)) ns each with 300 (ratio \(fixed(perDependentHub / perDependentOne)))")
