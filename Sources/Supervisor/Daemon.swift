import Control
import Engine
import JobFile
import JSON
import Platform
import SystemPackage

/// The daemon: the engine, and the shell that carries out its effects.
///
/// Single-threaded. Everything arrives through one epoll (`EventLoop.swift`):
/// signals (signalfd), the timer (timerfd), job directories (inotify), the
/// control socket and its clients, and job output (pty masters). Each
/// arrival becomes an engine input; each effect is carried out at once
/// (spawns are answered before the next input). No step blocks for long:
/// a spawn waits only for the child's exec.
public final class Daemon {
    let options: DaemonOptions
    var engine: Engine
    var log: DaemonLog
    var sources: JobSources
    let epoll: Epoll
    let signals: SignalDescriptor
    let timer: Platform.Timer
    var inotify: Inotify?
    var server: ControlServer
    /// What control clients may hold, from the descriptor limit (`ControlServer.swift`).
    var limits = ClientLimits.forDescriptorLimit(descriptorLimit())
    /// Descriptors held back for when the daemon runs out (`DescriptorReserve`).
    let reserve = DescriptorReserve(size: 8)
    /// Set when the reaper stopped at its share of a turn with children
    /// perhaps left to reap: the loop goes on reaping before it waits.
    var reapBacklog = false
    /// When clients' timeouts were last checked, and whether the timer is
    /// armed for the next check (only while some client holds bytes).
    var lastClientSweep: Int64 = 0
    var clientSweepArmed = false
    var logs: JobLogs?
    /// Armed engine timers and when they fire.
    var timers: [TimerID: EngineTime] = [:]
    /// Engine request ids to the client and protocol id awaiting the reply.
    var pending: [RequestID: (client: Int32, id: Int, method: Control.Method)] = [:]
    var nextRequestID: RequestID = 1
    /// `expect stop` main processes that have not raised SIGSTOP yet, and
    /// how long they have been waited for (`StopWait`).
    var expectStop: [Int32: StopWait] = [:]
    /// `expect fork|daemon` main processes being tracked, by their pid (`Tracking.swift`).
    var trackers: [Int32: Tracking] = [:]
    /// Traced tasks that stopped before the fork event naming them, and when.
    var strayStops: [Int32: Int64] = [:]
    /// Each instance's cgroup (`Containment.swift`).
    var containment: Containment
    /// `STATUS=` texts from sd_notify, by instance key.
    var notifyStatus: [String: String] = [:]
    /// `expect notify` sockets by instance key, and their descriptors (`Notify.swift`).
    var notifiers: [String: Notifier] = [:]
    var notifierByFD: [Int32: String] = [:]
    /// The `while` problems (cycles, unknown jobs) already logged, so that
    /// each is said once, when it appears.
    var reportedWhileProblems: Set<String> = []
    var nextNotifySocket = 0
    /// Each instance's last failure and transitions (`PostMortem.swift`).
    var postMortem = PostMortem()
    /// The boot history file and whether this boot is in it (`BootRecord.swift`).
    var bootRecord = BootRecordShell()
    /// `status --verbose` requests from privileged clients, answered with
    /// each variable's source (`EnvFiles.swift`).
    var verboseStatus: Set<RequestID> = []
    var shuttingDown = false
    /// How the shutdown is going, for the exit status (`Shutdown.swift`).
    var shutdown = ShutdownTally()
    var shutdownRequest: String?
    /// `initctl reboot|poweroff|halt`: what `daybreak` does once every job
    /// is stopped and `run()` has returned (PID 1 only).
    public internal(set) var powerAction: PowerAction?
    /// The reading of the job directories in progress, if one is
    /// (`reloadConfiguration`), and what follows it.
    var reload: Background<Reading>?
    var reloadAgain = false
    var reloadPasses = 0
    var missingBeforeReading: Set<String> = []
    /// Directories inotify watches (`applyReading`).
    var watchedDirectories: Set<String> = []
    /// Clients waiting for the next reading to start, and for the current one to end.
    var reloadWaiters: [(client: Int32, id: Int)] = []
    var answeredByReading: [(client: Int32, id: Int)] = []
    /// After a re-exec: when the job directories are read again (the
    /// reading is put off so that it does not compete with the first
    /// requests; `Reexec.swift`). Nil once a reading has started.
    var rereadAt: Int64?
    /// Set by a spawn that failed for want of descriptors.
    var outOfDescriptors = false
    /// Set after work that built large temporaries; the loop then trims the heap.
    var heavyWorkDone = false
    var exitStatus: Int32?
    /// The answer to `initctl reexec`, sent by the new daemon (`Reexec.swift`).
    var reexecReply: (client: Int32, frame: [UInt8])?
    /// A re-exec waiting for tracing to end (`Reexec.swift`): who asked, and until when.
    var deferredReexec: (client: Int32, id: Int, deadline: Int64)?
    /// pidfds of main processes taken back from a daemon that crashed (`Recovery.swift`).
    var adoptedPidfds: [Int32: Int32] = [:]
    /// The set of signals the daemon takes through its signalfd.
    static let handledSignals: [Int32] = [SignalNumber.child, SignalNumber.terminate, SignalNumber.interrupt, SignalNumber.hangup, SignalNumber.windowChange, SignalNumber.power, SignalNumber.user1]

    /// Sets up everything before the first event: signals, the socket, the
    /// jobs, inotify. Throws a message naming what failed.
    public init(options: DaemonOptions) throws(DaemonError) {
        self.options = options
        let minimum: DaemonLog.Priority = options.debug ? .debug : (options.verbose ? .info : .message)
        var kmsgError: String?
        var device: LogOutput?
        if let path = options.kernelLog {
            do {
                device = try LogOutput(path: path)
            } catch {
                kmsgError = "cannot open \(path) (\(error)); logging to standard error"
            }
        }
        if let device, let path = options.kernelLog {
            self.log = DaemonLog(minimum: minimum, output: device, destination: path)
            self.log.kernelPriorities = true
        } else {
            self.log = DaemonLog(minimum: minimum)
            self.log.timestamps = options.logTimestamps
        }
        do {
            _ = try SignalMask.block(SignalSet(Daemon.handledSignals))
            signals = try SignalDescriptor.open(SignalSet(Daemon.handledSignals))
        } catch {
            throw DaemonError("cannot take signals through signalfd: \(error)")
        }
        Platform.ignoreSignal(SignalNumber.pipe)
        do {
            epoll = try Epoll()
            timer = try Platform.Timer()
            if let document = options.restoring {
                // A re-exec: the listener was kept open across the exec.
                server = ControlServer(listener: document.shell.listener, path: document.shell.socketPath)
                ReexecSupport.closeOnExec(document.shell.listener)
            } else {
                server = try ControlServer.open(path: options.socketPath, userMode: options.userMode)
            }
        } catch {
            throw DaemonError(error.description)
        }
        if let kmsgError { log.write(.warn, kmsgError) }
        if options.userMode && !options.isPID1 {
            do {
                try Process.becomeChildSubreaper()
            } catch {
                log.write(.warn, "\(error); double-forked job processes will be reparented to PID 1")
            }
        }
        var environment = EngineConfiguration.upstartDefaults
        if options.userMode {
            environment.append("UPSTART_SESSION=" + SocketPath.sessionAddress(for: options.socketPath))
        }
        let own = Environment.current.map { "\($0.key)=\($0.value)" }.sorted()
        engine = options.restoring.map { Engine(state: $0.engine) }
            ?? Engine(configuration: EngineConfiguration(defaultEnvironment: environment, daemonEnvironment: own, verbose: options.verbose))
        sources = JobSources(directories: options.confDirectories)
        containment = options.useCgroups
            ? Containment.setUp(daemonPid: Process.currentID, isPID1: options.isPID1)
            : Containment.none(daemonPid: Process.currentID, isPID1: options.isPID1)
        if let h = containment.hierarchy, let base = containment.base {
            log.write(.info, "each job instance runs in its own cgroup under \(base) (\(h.name))")
        } else {
            let why = options.useCgroups ? "no usable cgroup hierarchy" : "cgroups are off (--no-cgroups)"
            log.write(.message, "\(why): stopping a job reaches its main process's process group only, and the cgroup stanza is ignored")
        }
        logs = options.logDirectory.map(JobLogs.init(directory:))
        // Job output on standard output: every job's (`--log-to-stdout`), or
        // only `console output` jobs', to stamp their lines (`--log-timestamps`).
        if options.logToStandardOutput || options.logTimestamps {
            logs?.stream = JobOutputStream(prefixed: options.prefixOutput, timestamps: options.logTimestamps)
        }
        do {
            try epoll.watch(signals.fileDescriptor.rawValue, for: .readable)
            try epoll.watch(timer.fd, for: .readable)
            try epoll.watch(server.listener, for: .readable)
        } catch {
            throw DaemonError(error.description)
        }
        if options.useInotify {
            do {
                let watcher = try Inotify()
                try epoll.watch(watcher.fd, for: .readable)
                inotify = watcher
            } catch {
                log.write(.warn, "\(error); job directories will be read again only on 'initctl reload-configuration' or SIGHUP")
            }
        }
    }

    /// Loads the jobs, emits the startup event and runs until shutdown.
    /// Returns the exit status.
    public func run() -> Int32 {
        log.write(.info, "listening on \(server.path)")
        if let document = options.restoring {
            // A re-exec: the state goes on; children that died during the
            // exec are reaped now; the job directories are read again on
            // the reading thread (an edit made meanwhile applies as after
            // any reading), so requests are answered meanwhile, once the
            // daemon has been back for `rereadDelayNanoseconds`.
            restore(document.shell)
            engine.timeline.daemonStart = now
            engine.timeline.reexecuted = true
            reapChildren()
            rereadAt = monotonicNanoseconds() + Daemon.rereadDelayNanoseconds
            armEarliestTimer()
        } else {
            startBootRecord()
            loadConfigurationNow()
            if let problem = exitWithProblem {
                log.write(.fatal, problem)
                exitStatus = 1
            } else {
                adoptOrphanedGroups()
                reportMissingDirectories()
                if let event = options.startupEvent {
                    feed(.emit(name: event, environment: [], waiter: nil))
                }
            }
        }
        let status = loop()
        containment.tearDown { while (try? Reaper.reap(-1)) ?? nil != nil {} }
        // Nothing answers there any more: a socket file left behind would
        // only make clients wait for a daemon that is gone.
        UnixSocket.closeListener(server.listener, path: server.path)
        ReexecSupport.removeFile(server.path + ".pid")
        return status
    }

    // MARK: Inputs and effects

    /// The current time, as the engine counts it.
    var now: EngineTime { EngineTime(nanoseconds: monotonicNanoseconds()) }

    /// Hands one input to the engine and carries out everything that follows.
    /// An input an effect produced (a spawn's result) carries the time the
    /// effect began, not the time its turn came: the boot record then says
    /// when each process was forked, though the effects before it took
    /// time (`Engine/Timeline.swift`).
    func feed(_ input: Input) {
        var queue = [(input, now)]
        while !queue.isEmpty {
            let (next, at) = queue.removeFirst()
            postMortem.observe(next, engine: engine)
            for effect in engine.handle(next, at: at) {
                let began = now
                for produced in apply(effect) { queue.append((produced, began)) }
            }
        }
        afterInput()
        saveBootOnce()
    }

    /// Carries out a list of effects (from `stopEverything`).
    func apply(_ effects: [Effect]) {
        var queue: [Input] = []
        for effect in effects { queue += apply(effect) }
        for input in queue { feed(input) }
        afterInput()
    }

    /// Carries out one effect; returns the inputs it produced (spawn results).
    func apply(_ effect: Effect) -> [Input] {
        switch effect {
        case .spawn(let request):
            return [spawn(request)]
        case .signal(let pid, let signal):
            log.write(.debug, "sending SIG\(signal.name) to process \(pid)")
            if shuttingDown && signal == .kill && !stopsWithKill(pid) { shutdown.killed += 1 }
            _ = signalTracked(pid, signal.number)
            Process.signal(pid, signal.number)
        case .reload(let pid, let signal):
            // The main process alone: its children (a shell's commands, a
            // daemon's workers) are not the ones asked to reload.
            log.write(.debug, "sending SIG\(signal.name) to process \(pid) (reload)")
            Process.signalOne(pid, signal.number)
        case .armTimer(let id, let at):
            timers[id] = at
            armEarliestTimer()
        case .cancelTimer(let id):
            timers[id] = nil
            armEarliestTimer()
        case .eventEmitted(let record):
            postMortem.observe(record, engine: engine)
            if record.name == JobEventName.stopped { jobStopped(record.environment) }
            log.write(.info, "event \(record.name)" + (record.environment.isEmpty ? "" : " " + record.environment.joined(separator: " ")))
            broadcast(.object([("type", .string("event")), ("name", .string(record.name)),
                               ("env", .array(record.environment.map(JSONValue.string)))]))
        case .eventFinished(let record, let failed):
            log.write(.debug, "event \(record.name) finished\(failed ? " (failed)" : "")")
        case .reply(let id, let reply):
            deliver(id, reply)
        case .log(let line):
            log.write(.message, line)
        case .closeDescriptors(let handles):
            for h in handles { closeDescriptor(h) }
        }
        return []
    }

    /// Whether a job's output goes to the daemon's standard output: every
    /// job's with `--log-to-stdout`, `console output` jobs' with only
    /// `--log-timestamps`.
    func streamed(_ job: JobClass) -> Bool {
        logs?.stream != nil && (options.logToStandardOutput || job.console == .output)
    }

    /// Spawns one process; the result goes back to the engine.
    ///
    /// A spawn that fails for want of descriptors is tried once more with
    /// the descriptor reserve given back: running out costs a job its
    /// start only when even the reserve is not enough.
    func spawn(_ request: EngineSpawnRequest) -> Input {
        outOfDescriptors = false
        let first = spawnOnce(request)
        guard outOfDescriptors, case .spawnFailed = first else { return first }
        log.write(.warn, "out of file descriptors (\(descriptorLimit()) allowed) starting \(request.job); using the reserve")
        reserve.release()
        defer { reserve.refill() }
        return spawnOnce(request)
    }

    private func spawnOnce(_ request: EngineSpawnRequest) -> Input {
        var request = request
        let job = request.jobClass
        if !job.envFiles.isEmpty {
            do {
                request.environment = try applyEnvFiles(job.envFiles, to: request.environment, fixed: request.fixedNames)
            } catch {
                return .spawnFailed(spawn: request.id, reason: error.description)
            }
        }
        let label = request.instance.isEmpty ? request.job : "\(request.job) (\(request.instance))"
        var notifyAddress: String?
        if request.process == .main, job.expect == .notify {
            do {
                notifyAddress = try notifySocket(job: request.job, instance: request.instance)
            } catch {
                return .spawnFailed(spawn: request.id, reason: error.description)
            }
        }
        if request.process == .main, job.apparmorLoad != nil || job.apparmorSwitch != nil {
            log.write(.warn, "\(label): the apparmor stanzas are not applied by this build; the job runs unconfined")
        }
        // expect fork|daemon: the main process is tracked until its daemon
        // is found, and every lifecycle script is followed while it runs.
        let traced = job.expect == .fork || job.expect == .daemon
        if !job.cgroups.isEmpty && containment.hierarchy == nil {
            log.write(.warn, "\(label): no cgroups; the cgroup stanza is ignored")
        }
        let groups: [String]
        do {
            groups = try containment.groups(job: request.job, instance: request.instance, settings: job.cgroups,
                                            environment: request.environment)
        } catch {
            return .spawnFailed(spawn: request.id, reason: error.description)
        }
        var pty: PseudoTerminal?
        // With job output on standard output (`--log-to-stdout`), `console
        // output` goes through the daemon too, for its prefix and time stamp.
        if job.console == .log || (job.console == .output && streamed(job)), logs != nil {
            do {
                pty = try PseudoTerminal.open()
            } catch {
                if error.errno == .tooManyOpenFiles || error.errno == .tooManyOpenFilesInSystem { outOfDescriptors = true }
                log.write(.warn, "\(label): cannot open a pty for its log (\(error)); its output is discarded")
            }
        }
        var platform = platformRequest(for: request, userMode: options.userMode, logSlave: pty?.slave.rawValue)
        platform.traceMe = traced
        if let notifyAddress { platform.environment.append("NOTIFY_SOCKET=" + notifyAddress) }
        // Descriptors from the events that started the job (a socket's
        // listener): at 3, 4, ... with LISTEN_PID set in the child.
        if !request.descriptors.isEmpty {
            platform.fileDescriptors += request.descriptors.enumerated().map {
                .init(from: FileDescriptor(rawValue: $0.element), to: FileDescriptor(rawValue: Int32(3 + $0.offset)))
            }
            platform.setsListenPID = true
        }
        if let first = groups.first {
            platform.cgroupProcsPath = first + "/cgroup.procs"
            platform.moreCgroupProcsPaths = groups.dropFirst().map { $0 + "/cgroup.procs" }
        }
        do {
            let pid = try Spawner.spawn(platform)
            if let pty {
                closeDescriptor(pty.slave.rawValue)
                logs!.attach(master: pty.master.rawValue, file: logFileName(job: request.job, instance: request.instance), pid: pid,
                             cap: logCap(for: job, options: options))
                if streamed(job) { logs!.stream?.attach(master: pty.master.rawValue, job: request.job, instance: request.instance) }
                Platform.setNonBlocking(pty.master.rawValue)
                try? epoll.watch(pty.master.rawValue, for: .readable)
            }
            if request.process == .main && job.expect == .stop {
                expectStop[pid] = StopWait(label: label, since: monotonicNanoseconds())
                armEarliestTimer()
            }
            if notifyAddress != nil { notifyMainSpawned(job: request.job, instance: request.instance, pid: pid) }
            if traced {
                let key = Containment.key(job: request.job, instance: request.instance)
                if request.process == .main {
                    beginTracking(root: pid, expect: job.expect, label: label, instanceKey: key)
                } else {
                    beginFollowing(script: pid, kind: request.process, label: label, instanceKey: key)
                }
            }
            return .processSpawned(spawn: request.id, pid: pid)
        } catch {
            if let pty {
                closeDescriptor(pty.slave.rawValue)
                closeDescriptor(pty.master.rawValue)
            }
            if error.errno == .tooManyOpenFiles || error.errno == .tooManyOpenFilesInSystem { outOfDescriptors = true }
            return .spawnFailed(spawn: request.id, reason: error.description)
        }
    }

    func armEarliestTimer() {
        // Clients holding bytes are checked for their timeouts once a second.
        let clientSweep = server.inputBytes > 0 || server.outputBytes > 0 ? lastClientSweep + 1_000_000_000 : nil
        clientSweepArmed = clientSweep != nil
        let earliest = [timers.values.min()?.nanoseconds, earliestTrackerTick, containment.nextDrain(now: monotonicNanoseconds()),
                        clientSweep, server.acceptAgainAt, rereadAt].compactMap { $0 }.min()
        timer.arm(at: earliest.map { max(1, ($0 + 999_999) / 1_000_000) })
    }

    /// Fires every engine timer that is due.
    func fireDueTimers() {
        let current = now
        for (id, at) in timers.sorted(by: { $0.value < $1.value }) where at <= current {
            timers[id] = nil
            feed(.timerFired(id))
        }
        tickTrackers()
        let ns = monotonicNanoseconds()
        containment.drain(now: ns)
        if ns >= lastClientSweep + 1_000_000_000 {
            lastClientSweep = ns
            sweepClients(now: ns)
        }
        if let at = server.acceptAgainAt, at <= ns { resumeAccepting() }
        if let at = rereadAt, at <= ns { reloadConfiguration() }
        armEarliestTimer()
    }

    // MARK: Children

    /// Reaps the children that changed, at most `reapsPerTurn` in one turn
    /// of the loop (`reapBacklog` then says to go on next turn): a job that
    /// crashes as fast as it is respawned gets its share of the loop, no
    /// more. Known ones go to the engine; orphans (PID 1, or a subreaper)
    /// are reaped and forgotten. A dead process's log pty is read to its
    /// end and closed at once.
    func reapChildren() {
        reapBacklog = false
        for reaped in 0... {
            if reaped == Daemon.reapsPerTurn {
                reapBacklog = true
                return
            }
            let child: ReapedChild?
            do {
                child = try Reaper.reap(-1, reportStopped: !expectStop.isEmpty || !trackers.isEmpty)
            } catch {
                return
            }
            guard let child else { return }
            if child.status.isTerminal { releaseLog(of: child.pid) }
            if trackingTakes(child) { continue }
            switch child.status {
            case .exited(let status):
                expectStop[child.pid] = nil
                mainExited(child.pid, .exited(status))
            case .signaled(let signal, _):
                expectStop[child.pid] = nil
                mainExited(child.pid, .killed(JobFile.Signal(number: signal)))
            case .stopped(let signal, _):
                if signal == SignalNumber.stop, let wait = expectStop.removeValue(forKey: child.pid) {
                    // Taken as ready already (it stopped late): only let it go on.
                    if !wait.takenAsReady { feed(.mainProcessReady(pid: child.pid, finalPid: child.pid)) }
                    Process.signal(child.pid, SignalNumber.continue)
                }
            case .continued:
                break
            }
        }
    }

    static let reapsPerTurn = 16

    /// Reads what a reaped process left in its log pty and closes the
    /// pty, unless another process (one it forked) still writes to it.
    func releaseLog(of pid: Int32) {
        guard let master = logs?.master(of: pid) else { return }
        if logs?.read(master: master, reads: 64) == false {
            epoll.unwatch(master)
            closeDescriptor(master)
        }
        forwardFollowedOutput()
    }

    // MARK: Configuration

    /// One reading of the job directories: what it found, and the
    /// sources as they are after it.
    struct Reading: Sendable {
        var sources: JobSources
        var inputs: [Input]
        var problems: [String]
    }

    /// Reads the job directories again and tells the engine what changed.
    ///
    /// The reading runs on a thread of its own (`Background`): reading and
    /// parsing only, on copies of what it needs, so a huge job file never
    /// holds the loop; the loop applies the result when the thread is done
    /// (`finishReload`). One reading at a time: asked for another while one
    /// runs, one more follows it. `waiter` is a client's request to answer
    /// once a reading that began after it has been applied.
    func reloadConfiguration(waiter: (client: Int32, id: Int)? = nil) {
        rereadAt = nil
        if let waiter { reloadWaiters.append(waiter) }
        if reload != nil {
            reloadAgain = true
            return
        }
        reloadPasses = 0
        startReading()
    }

    private func startReading() {
        reloadPasses += 1
        missingBeforeReading = Set(sources.missingDirectories().map(\.directory))
        let work = readingWork()
        do {
            let job = try Background(work)
            try epoll.watch(job.fd, for: .readable)
            reload = job
            answeredByReading = reloadWaiters
            reloadWaiters = []
        } catch {
            // No thread to be had: read here and now.
            log.write(.warn, "\(error); reading the job directories in the loop")
            answeredByReading = reloadWaiters
            reloadWaiters = []
            applyReading(work())
        }
    }

    /// The reading, as a function of copies: the sources, the loaded
    /// classes and the files still open for writing.
    private func readingWork() -> @Sendable () -> Reading {
        let before = sources
        var loaded: [String: JobClass] = [:]
        for name in engine.jobNames { loaded[name] = engine.loadedClass(name) }
        let classes = loaded
        let writing = inotify?.beingWritten ?? []
        return {
            var sources = before
            let (inputs, problems) = sources.rescan(current: { classes[$0] }, beingWritten: { writing.contains($0) })
            return Reading(sources: sources, inputs: inputs, problems: problems)
        }
    }

    /// Reads the job directories at once, in the loop: at start-up, before
    /// anything else is served.
    func loadConfigurationNow() {
        reloadPasses = 0
        repeat {
            reloadPasses += 1
            missingBeforeReading = Set(sources.missingDirectories().map(\.directory))
            answeredByReading = []
            applyReading(readingWork()())
        } while reloadAgain && { reloadAgain = false; return true }()
    }

    /// Applies a finished reading (the reading thread's descriptor became readable).
    func finishReload(waiting: Bool = false) {
        guard let job = reload, let reading = waiting ? job.wait() : job.take() else { return }
        epoll.unwatch(job.fd)
        reload = nil
        applyReading(reading)
        if reloadAgain {
            reloadAgain = false
            startReading()
        }
    }

    private func applyReading(_ reading: Reading) {
        heavyWorkDone = true
        sources = reading.sources
        for p in reading.problems { log.write(.error, p) }
        var changed: [JSONValue] = []
        for input in reading.inputs {
            switch input {
            case .jobClassAdded(let job):
                log.write(.debug, "loaded job \(job.name)")
                changed.append(.string(job.name))
            case .jobClassChanged(let job): changed.append(.string(job.name))
            case .jobClassRemoved(let name): changed.append(.string(name))
            default: break
            }
            feed(input)
        }
        // Subscribers (the time bridge) learn that the job set changed, so
        // they read it again instead of polling.
        if !changed.isEmpty { broadcast(.object([("type", .string("jobs-changed")), ("jobs", .array(changed))])) }
        if let inotify {
            var newlyWatched = false
            for dir in sources.watchDirectories() {
                do {
                    try inotify.watch(directory: dir)
                    if watchedDirectories.insert(dir).inserted { newlyWatched = true }
                } catch {
                    log.write(.warn, error.description)
                }
            }
            for (_, parent) in sources.missingDirectories() {
                try? inotify.watch(directory: parent, forSubdirectory: true)
            }
            // A directory that appeared while the watches were set up is
            // read by one more pass, so `mkdir -p a/b/jobs` is never half
            // seen (at most four passes).
            // So is a directory watched for the first time: files written
            // into it after the reading walked it and before the watch was
            // set are seen by no event.
            let still = Set(sources.missingDirectories().map(\.directory))
            if (still != missingBeforeReading || newlyWatched) && reloadPasses < 4 {
                reloadAgain = true
            }
        }
        reportWhileProblems()
        for (fd, id) in answeredByReading {
            if let client = server.clients[fd] { send(replyJSON(id: id, result: .object([])), to: client) }
        }
        answeredByReading = []
    }

    /// Logs each `while` problem (a cycle, a job that is not loaded) once,
    /// with the file and line of the `while` stanza, after a reading of the
    /// job directories; the jobs concerned simply wait, nothing hangs.
    func reportWhileProblems() {
        var now = Set<String>()
        for p in engine.whileProblems() {
            let line = "\(sources.whileLocation(of: p.job)): \(p.message)"
            now.insert(line)
            if !reportedWhileProblems.contains(line) { log.write(.warn, line) }
        }
        reportedWhileProblems = now
    }

    /// Says at start-up which job directories do not exist, and how they
    /// will be read once they do.
    func reportMissingDirectories() {
        for (dir, parent) in sources.missingDirectories() {
            let how = inotify != nil ? "; watching \(parent) for it to appear" : "; 'initctl reload-configuration' reads it once it exists"
            log.write(.message, "job directory \(dir) does not exist\(how)")
        }
    }
}

/// A failure to start the daemon, with the message to print.
public struct DaemonError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
