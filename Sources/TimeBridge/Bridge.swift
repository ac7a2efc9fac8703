import Control
import Engine
import JobFile
import JSON
import Platform
import TimeSchedule

/// One timer the loaded jobs want: the job, its `timer` match made a spec,
/// and the zone its SCHEDULE runs in.
struct WantedTimer {
    var key: BridgeState.Key
    var spec: TimerSpec
    var zone: Zone
    /// For AFTER: the event to wait for, as a `start on` match.
    var after: EventMatch?
}

/// The time bridge (docs/time-bridge.md): a client of the control socket
/// that learns the timers from the loaded jobs (`show-config`), follows the
/// job set (`jobs-changed` on its subscription), sleeps on a wall-clock
/// timerfd until the next due time (waking also when the clock is set),
/// and emits `timer` events addressed to one job each (`JOB=`).
///
/// The computing is TimeSchedule's (pure); this is the thin shell: the
/// socket, the timer, the state file and the log.
final class Bridge {
    let socket: String
    let statePath: String
    let zoneDirectory: String
    let daemonIdentity: String
    let requests: ControlClient
    let events: ControlClient
    let timer: WallClockTimer
    let epoll: Epoll
    var wanted: [WantedTimer] = []
    var state = BridgeState()
    var savedText = ""
    var reported: Set<String> = []
    var zones: [String: Zone] = [:]
    /// Each timer's due time as last computed (nil inside: never). Valid
    /// until it passes, its record changes, the job set is read again or
    /// the clock is set: a wake-up recomputes only the timers that fell
    /// due, not all of them (a thousand cron timers cost about 30 ms).
    var dueCache: [BridgeState.Key: Int64?] = [:]

    init(socket: String, statePath: String, zoneDirectory: String, daemonIdentity: String) throws {
        self.socket = socket
        self.statePath = statePath
        self.zoneDirectory = zoneDirectory
        self.daemonIdentity = daemonIdentity
        requests = try ControlClient(path: socket)
        events = try ControlClient(path: socket)
        timer = try WallClockTimer()
        epoll = try Epoll()
        _ = try events.call(.subscribe)
        try epoll.watch(events.descriptor, for: .readable)
        try epoll.watch(timer.fd, for: .readable)
    }

    func log(_ line: String) { FileSystem.writeStandardError("daybreak-time-bridge: \(line)\n") }

    /// Reports a problem once per distinct text (a reload re-reads every
    /// job, and a bad timer should not fill the log).
    func report(_ line: String) {
        if reported.insert(line).inserted { log(line) }
    }

    // MARK: state file

    func loadState(now: Int64) {
        let bytes: [UInt8]
        do {
            bytes = try FileSystem.readFile(statePath)
        } catch {
            if error.errno != .noSuchFileOrDirectory { log("cannot read \(statePath): \(error.errno); starting afresh") }
            return
        }
        do {
            state = try BridgeState.decode(String(decoding: bytes, as: UTF8.self))
            savedText = state.encoded()
        } catch {
            log("\(statePath) is damaged (\(error.description)); replacing it")
            state = BridgeState()
            saveState()
        }
    }

    func saveState() {
        let text = state.encoded()
        guard text != savedText else { return }
        let dir = String(statePath[..<(statePath.lastIndex(of: "/") ?? statePath.startIndex)])
        if !dir.isEmpty { FileSystem.makeDirectories(dir, mode: 0o755) }
        if let e = FileSystem.writeAtomically(Array(text.utf8), to: statePath, mode: 0o644) {
            report("cannot write \(statePath): \(e)")
            return
        }
        savedText = text
    }

    // MARK: the job set

    func zone(_ name: String?) -> Zone? {
        let n = name ?? "localtime"
        if let z = zones[n] { return z }
        let path = name == nil ? "/etc/localtime" : zoneDirectory + "/" + n
        guard let bytes = try? FileSystem.readFile(path), let z = try? Zone(tzif: bytes, name: n) else {
            if name == nil { return .utc }
            return nil
        }
        zones[n] = z
        return z
    }

    /// Reads every job's `start on` and `stop on` and keeps their timers.
    func refresh(now: Int64) throws(ControlError) {
        // Only the jobs that name `timer`, and only their conditions.
        let result = try requests.call(.showConfig, Request.Params(events: ["timer"]))
        var found: [WantedTimer] = []
        var seen: Set<BridgeState.Key> = []
        for job in result["jobs"]?.array ?? [] {
            guard let name = job["name"]?.string else { continue }
            for line in job["lines"]?.array ?? [] {
                guard let text = line.string else { continue }
                let trimmed = text.drop { $0 == " " }
                guard trimmed.hasPrefix("start on ") || trimmed.hasPrefix("stop on ") else { continue }
                guard let parsed = try? Parser.parse(name: name, text: String(trimmed) + "\n", file: name) else { continue }
                let expr = trimmed.hasPrefix("start on ") ? parsed.startOn : parsed.stopOn
                for m in expr?.matches ?? [] where m.name == "timer" {
                    let pairs = m.arguments.map { (key: $0.key, value: $0.value) }
                    let spec: TimerSpec
                    do {
                        spec = try TimerSpec(pairs, isValidZone: { self.zone($0) != nil })
                    } catch {
                        report("job \(name): timer: \(error.description); ignored")
                        continue
                    }
                    var after: EventMatch? = nil
                    if case .after(let event, let args, _) = spec.kind {
                        let words = ([event] + args).map { $0.contains(" ") ? "\"\($0)\"" : $0 }.joined(separator: " ")
                        after = (try? Parser.parse(name: name, text: "start on \(words)\n", file: name))?.startOn?.matches.first
                    }
                    let key = BridgeState.Key(job: name, variables: spec.variables)
                    guard seen.insert(key).inserted else { continue }
                    found.append(WantedTimer(key: key, spec: spec, zone: zone(spec.timeZone) ?? .utc, after: after))
                }
            }
        }
        wanted = found
        dueCache = [:]
        // Records follow the timers: a new (or edited) timer starts afresh,
        // one no job wants any more is forgotten.
        var kept: [BridgeState.Key: TimerRecord] = [:]
        for w in wanted { kept[w.key] = state.timers[w.key] ?? TimerRecord(anchor: now) }
        state.timers = kept
        // The job set was a large reply, now garbage: give its pages back.
        Memory.releaseFreeMemory()
    }

    /// A new daemon run is a new `startup`: AFTER=startup timers count
    /// their delay from the bridge's first start under it (the daemon
    /// starts the bridge on `startup`). A respawned bridge finds the same
    /// daemon in its state file and does not count again.
    func noteStartup(now: Int64) {
        guard state.startup?.daemon != daemonIdentity else { return }
        state.startup = .init(daemon: daemonIdentity, at: now)
        for w in wanted {
            if case .after(let event, _, _) = w.spec.kind, event == "startup" {
                state.timers[w.key] = Due.eventSeen(w.spec, state.timers[w.key]!, now: now)
            }
        }
    }

    // MARK: running timers

    /// Whether the job has an instance whose goal is start: then the run
    /// is skipped (a job is never started twice).
    func isRunning(_ job: String) -> Bool {
        guard let r = try? requests.call(.status, .init(job: job)) else { return false }
        return (r["instances"]?.array ?? []).contains { $0["goal"]?.string == "start" }
    }

    /// Runs every due timer; returns the earliest due time still ahead.
    func runDue(now: Int64) -> Int64? {
        var earliest: Int64? = nil
        state.next = [:]
        for w in wanted {
            if let cached = dueCache[w.key] {
                guard let due = cached else { continue }
                if due > now {
                    earliest = min(earliest ?? due, due)
                    state.next[w.key] = due
                    continue
                }
            }
            var rec = Due.settle(w.spec, state.timers[w.key]!, now: now)
            guard let due = Due.next(w.spec, rec, now: now, zone: w.zone) else {
                state.timers[w.key] = rec
                dueCache[w.key] = .some(nil)
                continue
            }
            if due <= now {
                if isRunning(w.key.job) {
                    log("\(w.key.job) is still running; its timer \(w.spec.variables.joined(separator: " ")) skips this run")
                    rec = Due.skipped(w.spec, rec, due: due, now: now)
                } else {
                    do {
                        _ = try requests.call(.emit, .init(env: w.spec.variables + ["JOB=\(w.key.job)"], wait: false, event: "timer"))
                        rec = Due.ran(w.spec, rec, due: due, now: now)
                    } catch {
                        report("cannot emit the timer of \(w.key.job): \(error.message)")
                        rec = Due.skipped(w.spec, rec, due: due, now: now)
                    }
                }
                state.timers[w.key] = rec
                let again = Due.next(w.spec, rec, now: now, zone: w.zone)
                dueCache[w.key] = .some(again)
                if let again {
                    earliest = min(earliest ?? again, again)
                    state.next[w.key] = again
                }
            } else {
                state.timers[w.key] = rec
                dueCache[w.key] = .some(due)
                earliest = min(earliest ?? due, due)
                state.next[w.key] = due
            }
        }
        return earliest
    }

    /// An event from the subscription.
    func handle(_ event: JSONValue, now: Int64) throws(ControlError) {
        switch event["type"]?.string {
        case "jobs-changed":
            try refresh(now: now)
        case "event":
            guard let name = event["name"]?.string else { return }
            let env = (event["env"]?.array ?? []).compactMap(\.string)
            for w in wanted {
                guard let m = w.after, m.matches(name: name, environment: env, env: nil) else { continue }
                state.timers[w.key] = Due.eventSeen(w.spec, state.timers[w.key]!, now: now)
                dueCache[w.key] = nil
            }
        default:
            break
        }
    }

    /// The loop: run what is due, save, sleep until the next due time (at
    /// most a day: the timer stays armed so a clock change still wakes it).
    func run() throws(ControlError) -> Never {
        var now = wallClockMilliseconds()
        loadState(now: now)
        try refresh(now: now)
        noteStartup(now: now)
        while true {
            now = wallClockMilliseconds()
            var next = runDue(now: now)
            // Running may take a moment: run again what fell due meanwhile.
            while let n = next, n <= wallClockMilliseconds() { next = runDue(now: wallClockMilliseconds()) }
            saveState()
            timer.arm(at: next ?? (now + 86_400_000))
            var woke = false
            while !woke {
                for (fd, _) in epoll.wait(timeout: -1) {
                    if fd == timer.fd {
                        if timer.acknowledge() == .clockSet {
                            log("the clock was set; timers recomputed")
                            dueCache = [:]
                        }
                        woke = true
                    } else if fd == events.descriptor {
                        repeat {
                            guard let e = try events.nextEvent() else {
                                saveState()
                                log("the daemon closed the connection")
                                Process.exit(1)
                            }
                            try handle(e, now: wallClockMilliseconds())
                        } while events.hasBuffered
                        woke = true
                    }
                }
            }
        }
    }
}
