import Control
import FileWatch
import JobFile
import JSON
import Platform

/// One `file` match of one loaded job.
struct Watch: Hashable {
    var job: String
    var spec: FileSpec
}

/// A watch armed on a directory that exists: its entries are the job's.
struct ArmedWatch: Hashable {
    var watch: Watch
    var directory: String
}

/// An event waiting to be emitted: `file` with these variables (JOB last).
struct Emission: Hashable {
    var environment: [String]
}

/// The file bridge (docs/file-bridge.md): a client of the control socket
/// that learns the `file` watches from the loaded jobs (`show-config`),
/// follows the job set (`jobs-changed` on its subscription), watches the
/// directories with inotify, and emits `file` events addressed to one job
/// each (`JOB=`).
///
/// The deciding is FileWatch's (pure: what a change means, which
/// directories to watch); this is the thin shell: the socket, inotify,
/// the queue of events to emit and the log.
///
/// Memory is bounded: inotify is read one buffer a turn, events wait in a
/// `FairQueue` of at most `pendingLimit` distinct events (`perJobLimit` for
/// one job; a repeat of one that is waiting is the same event: a burst of
/// writes to a file is one `modify`), and beyond that they are counted and
/// dropped, as the kernel drops them when its own queue overflows
/// (IN_Q_OVERFLOW). The jobs' events are passed on in turn, so a flood for
/// one job does not hold up another's. The daemon is never asked for more
/// than `emitsPerTurn` events before the bridge reads its subscription and
/// inotify again.
final class Bridge {
    static let pendingLimit = 4096
    static let perJobLimit = 1024
    static let emitsPerTurn = 64

    let socket: String
    var requests: ControlClient
    var events: ControlClient
    let inotify: InotifyWatcher
    let epoll: Epoll

    var watches: [Watch] = []
    /// `watches`' specs, in the same order (what WatchPlan takes).
    var specs: [FileSpec] = []
    /// Target directory to the watches that care about its entries.
    var byTarget: [String: [Watch]] = [:]
    var armed: Set<ArmedWatch> = []
    var wdByDirectory: [String: Int32] = [:]
    var directoryByWd: [Int32: String] = [:]

    var queue = FairQueue<String, Emission>(limit: Bridge.pendingLimit, perKey: Bridge.perJobLimit)
    var overflows = 0
    var reported: Set<String> = []

    init(socket: String, inotify: InotifyWatcher) throws(PlatformError) {
        self.socket = socket
        self.inotify = inotify
        epoll = try Epoll()
        requests = try ControlClient(path: socket)
        events = try ControlClient(path: socket)
        try epoll.watch(inotify.fd, for: .readable)
    }

    func log(_ line: String) { FileSystem.writeStandardError("daybreak-file-bridge: \(line)\n") }

    /// Reports a problem once per distinct text (a reload re-reads every
    /// job, and a bad watch should not fill the log).
    func report(_ line: String) {
        if reported.insert(line).inserted { log(line) }
    }

    // MARK: the job set

    /// Subscribes (the events connection) and starts watching it.
    func subscribe() throws(ControlError) {
        _ = try events.call(.subscribe)
        do {
            try epoll.watch(events.descriptor, for: .readable)
        } catch {
            throw ControlError(id: nil, code: .internalError, message: "cannot wait on the socket: \(error)")
        }
    }

    /// Reads every job's `start on` and `stop on` and keeps their `file`
    /// matches; then the directories are planned again.
    func refresh() throws(ControlError) {
        // Only the jobs that name `file`, and only their conditions: the
        // reply stays small with thousands of other jobs loaded.
        let result = try requests.call(.showConfig, Request.Params(events: ["file"]))
        var found: [Watch] = []
        var seen: Set<Watch> = []
        for job in result["jobs"]?.array ?? [] {
            guard let name = job["name"]?.string else { continue }
            for line in job["lines"]?.array ?? [] {
                guard let text = line.string else { continue }
                let trimmed = text.drop { $0 == " " }
                guard trimmed.hasPrefix("start on ") || trimmed.hasPrefix("stop on ") else { continue }
                guard trimmed.contains("file") else { continue }
                let parsed: JobClass
                do {
                    parsed = try Parser.parse(name: name, text: String(trimmed) + "\n", file: name)
                } catch {
                    // The daemon loaded the job, so its own parser took the
                    // line; say so if this one does not (a newer daemon).
                    report("job \(name): cannot read '\(trimmed)': \(error.description); its file events are off")
                    continue
                }
                let expr = trimmed.hasPrefix("start on ") ? parsed.startOn : parsed.stopOn
                for m in expr?.matches ?? [] where m.name == "file" {
                    let spec: FileSpec
                    do {
                        spec = try FileSpec(m.arguments.map { ($0.negated ? $0.key.map { $0 + "!" } : $0.key, $0.value) })
                    } catch {
                        report("job \(name): file: \(error.description); ignored")
                        continue
                    }
                    let w = Watch(job: name, spec: spec)
                    if seen.insert(w).inserted { found.append(w) }
                }
            }
        }
        let before = Set(watches), after = Set(found)
        let added = found.filter { !before.contains($0) }, removed = watches.filter { !after.contains($0) }
        watches = found
        specs = found.map(\.spec)
        var targets: [String: [Watch]] = [:]
        for w in watches { for t in w.spec.targets { targets[t, default: []].append(w) } }
        byTarget = targets
        // Watches no job wants any more are disarmed; a new one is armed
        // (and finds what is already there) by the plan.
        let live = Set(watches)
        armed = armed.filter { live.contains($0.watch) }
        replan()
        // Said once the inotify watches are in place.
        for w in added { log("job \(w.job): watching \(w.spec.variables.joined(separator: " "))") }
        for w in removed { log("job \(w.job): no longer watching \(w.spec.variables.joined(separator: " "))") }
        // The job set was a large reply, now garbage: give its pages back.
        Memory.releaseFreeMemory()
    }

    // MARK: watching

    func isDirectory(_ path: String) -> Bool { FileSystem.kind(of: path) == .directory }

    /// Makes the inotify watches what the plan says, until the plan stops
    /// changing (a directory made while the watches were being added is
    /// seen by the next pass), and reads each newly armed directory once
    /// for entries already there.
    func replan() {
        for _ in 0..<16 {
            let plan = WatchPlan(specs, isDirectory: isDirectory)
            var added = false
            for dir in plan.directories where wdByDirectory[dir] == nil {
                do {
                    let wd = try inotify.add(directory: dir)
                    if let old = directoryByWd[wd], old != dir { wdByDirectory[old] = nil }
                    wdByDirectory[dir] = wd
                    directoryByWd[wd] = dir
                    added = true
                } catch {
                    if error.errno != .noSuchFileOrDirectory && error.errno != .notDirectory {
                        let who = (byTarget[dir] ?? []).map(\.job)
                        report("cannot watch \(dir)\(who.isEmpty ? "" : " (for \(Set(who).sorted().joined(separator: ", ")))"): \(error.errno)")
                    }
                }
            }
            for (dir, wd) in wdByDirectory where !plan.directories.contains(dir) {
                inotify.remove(wd)
                wdByDirectory[dir] = nil
                directoryByWd[wd] = nil
            }
            var now: Set<ArmedWatch> = []
            for a in plan.armed where wdByDirectory[a.directory] != nil {
                now.insert(ArmedWatch(watch: watches[a.watch], directory: a.directory))
            }
            let fresh = now.subtracting(armed)
            armed = now
            // Entries already there when a watch is armed are created, for
            // this job (Upstart's rule, and what covers a file made in a
            // directory in the moment before its watch was added).
            var freshByDirectory: [String: [Watch]] = [:]
            for a in fresh { freshByDirectory[a.directory, default: []].append(a.watch) }
            for (dir, ws) in freshByDirectory {
                FileSystem.forEachEntry(of: dir) { name, isDirectory in
                    var known: Bool? = nil
                    for w in ws {
                        // Whether it is a directory matters only to a directory watch.
                        let d: Bool
                        if case .directory = w.spec.kind { d = known ?? isDirectory(); known = d } else { d = false }
                        if let r = w.spec.existing(directory: dir, entry: name, isDirectory: d) {
                            enqueue(w, r.event, r.match)
                        }
                    }
                }
            }
            if !added { return }
        }
    }

    /// Reads one buffer of inotify events and queues what they mean.
    func readChanges() {
        var again = false
        for ev in inotify.read() {
            if ev.mask & InotifyMask.overflow != 0 {
                overflows += 1
                if overflows == 1 { log("the kernel's inotify queue overflowed: some file events were lost") }
                again = true
                continue
            }
            guard let dir = directoryByWd[ev.watch] else { continue }
            if ev.mask & InotifyMask.ignored != 0 {
                directoryByWd[ev.watch] = nil
                if wdByDirectory[dir] == ev.watch { wdByDirectory[dir] = nil }
                again = true
                continue
            }
            if ev.mask & (InotifyMask.deleteSelf | InotifyMask.moveSelf) != 0 {
                // Gone, or moved away (the watch would follow it): watch
                // whatever the plan says now.
                if ev.mask & InotifyMask.moveSelf != 0 {
                    inotify.remove(ev.watch)
                    directoryByWd[ev.watch] = nil
                    wdByDirectory[dir] = nil
                }
                again = true
                continue
            }
            let change: FileChange
            if ev.mask & (InotifyMask.create | InotifyMask.movedTo) != 0 {
                change = .create
            } else if ev.mask & (InotifyMask.delete | InotifyMask.movedFrom) != 0 {
                change = .delete
            } else if ev.mask & InotifyMask.modify != 0 {
                // Written to. (Not IN_CLOSE_WRITE, as Upstart also took:
                // `touch` closes a file it opened for writing without
                // writing, and that is no modification.)
                change = .modify
            } else {
                continue
            }
            let isDir = ev.mask & InotifyMask.isDirectory != 0
            if isDir, change != .modify, WatchPlan.matters(Path.child(dir, ev.name), to: specs) {
                again = true
            }
            for w in byTarget[dir] ?? [] where armed.contains(ArmedWatch(watch: w, directory: dir)) {
                if let r = w.spec.interpret(directory: dir, entry: ev.name, isDirectory: isDir, change: change) {
                    enqueue(w, r.event, r.match)
                }
            }
        }
        if again { replan() }
    }

    // MARK: emitting

    func enqueue(_ w: Watch, _ event: FileChange, _ match: String?) {
        let e = Emission(environment: w.spec.environment(event: event, match: match) + ["JOB=\(w.job)"])
        let before = queue.dropped
        queue.push(e, for: w.job)
        if before == 0 && queue.dropped > 0 {
            log("file events come faster than the daemon takes them; dropping some")
        }
    }

    /// Emits up to `emitsPerTurn` waiting events, the jobs in turn, without
    /// waiting for the jobs they start.
    func emitSome() throws(ControlError) {
        var n = 0
        while n < Bridge.emitsPerTurn, let (job, e) = queue.pop() {
            n += 1
            do {
                _ = try requests.call(.emit, .init(env: e.environment, wait: false, event: "file"))
            } catch where error.message == "the daemon closed the connection" || error.message.hasPrefix("cannot write") {
                queue.push(e, for: job)
                throw error
            } catch {
                report("cannot emit file \(e.environment.joined(separator: " ")): \(error.message)")
            }
        }
        if queue.isEmpty && (queue.dropped > 0 || overflows > 0) {
            log("\(queue.dropped) file events dropped\(overflows > 0 ? ", and the kernel's queue overflowed \(overflows == 1 ? "once" : "\(overflows) times")" : ""); watching on")
            queue.dropped = 0
            overflows = 0
        }
    }

    // MARK: the loop

    /// Reads the subscription: `jobs-changed` means the job set is read
    /// again. Returns false when the daemon hung up.
    func readSubscription() throws(ControlError) -> Bool {
        repeat {
            guard let e = try events.nextEvent() else { return false }
            if e["type"]?.string == "jobs-changed" { try refresh() }
        } while events.hasBuffered
        return true
    }

    /// The daemon went away (restarted, or re-executed): connect again for
    /// a while; a bridge that cannot exits (its job respawns it).
    func reconnect() {
        log("the daemon closed the connection; connecting again")
        epoll.unwatch(events.descriptor)
        for _ in 0..<100 {
            sleepMilliseconds(100)
            do {
                let r = try ControlClient(path: socket)
                let e = try ControlClient(path: socket)
                requests = r
                events = e
                try subscribe()
                try refresh()
                log("connected again")
                return
            } catch {
                continue
            }
        }
        log("cannot connect to \(socket); exiting")
        Process.exit(1)
    }

    func run() -> Never {
        do {
            try subscribe()
            try refresh()
        } catch {
            log("\(error.message)")
            Process.exit(1)
        }
        while true {
            do {
                for (fd, _) in epoll.wait(timeout: queue.isEmpty ? -1 : 0) {
                    if fd == inotify.fd {
                        readChanges()
                    } else if fd == events.descriptor {
                        if try !readSubscription() { reconnect() }
                    }
                }
                try emitSome()
            } catch {
                reconnect()
            }
        }
    }
}
