import JobFile

/// Processes of instances: asking for spawns, hearing how they went, and
/// what an exit means (Upstart's job_process_run, job_process_terminated,
/// job_process_kill and its kill timer).
extension Engine {
    /// Asks the shell to spawn the process `kind` of an instance, if the job
    /// defines one; returns false when it does not (the state passes on).
    ///
    /// The environment is the instance's, plus for pre-stop and post-stop
    /// what stopped it (`UPSTART_STOP_EVENTS` and the stop events' or stop
    /// request's variables), plus `UPSTART_JOB` and `UPSTART_INSTANCE`.
    /// The state does not move on until the shell answers.
    mutating func runProcess(_ key: InstanceKey, _ kind: ProcessKind) -> Bool {
        let def = definition(key.job).job
        guard let spec = def.process(kind), let inst = state.instances[key] else { return false }
        var env = inst.environment
        if kind == .preStop || kind == .postStop, let stop = inst.stopEnvironment {
            env.merge(stop.entries)
        }
        env.set("UPSTART_JOB", key.job)
        env.set("UPSTART_INSTANCE", key.instance)
        // The main process gets the events' descriptors at 3, 4, ... and
        // both protocols' variables (docs/socket-bridge.md).
        let passed = kind == .main ? inst.descriptors : []
        if !passed.isEmpty {
            env.set("UPSTART_FDS", passed.indices.map { String(3 + $0) }.joined(separator: " "))
            env.set("LISTEN_FDS", String(passed.count))
            env.set("LISTEN_FDNAMES", passed.map(\.name).joined(separator: ":"))
        }
        let id = state.nextSpawnID
        state.nextSpawnID += 1
        state.instances[key]!.pendingSpawns[kind] = id
        state.spawnIndex[id] = ProcessOwner(key: key, kind: kind)
        var request = SpawnRequest(id: id, job: key.job, instance: key.instance, process: kind,
                                   spec: spec, environment: env.entries, jobClass: def,
                                   descriptors: passed.map(\.handle))
        if !def.envFiles.isEmpty {
            // What the job's class gives (`env`, the daemon's defaults) may
            // be replaced by its env-files; what differs came from later.
            let base = state.configuration.classEnvironment(def)
            request.fixedNames = env.entries.compactMap { e in
                guard let eq = e.firstIndex(of: "=") else { return nil }
                return base.entry(e[..<eq]) == e ? nil : String(e[..<eq])
            }
        }
        out.append(.spawn(request))
        return true
    }

    /// The shell spawned a process. Its pid is recorded; a main process
    /// with `expect none` is running at once (the instance moves on from
    /// `spawned`); with `expect fork|daemon|stop` the instance waits for
    /// `mainProcessReady`, unless it is to stop already: then it moves on
    /// to `stopping` at once.
    mutating func processSpawned(_ id: SpawnID, pid: Int32) {
        guard let owner = state.spawnIndex.removeValue(forKey: id), state.instances[owner.key] != nil else {
            warn("Ignored spawn \(id) (process \(pid)): no instance is waiting for it")
            return
        }
        let key = owner.key
        state.instances[key]!.pendingSpawns[owner.kind] = nil
        state.instances[key]!.pids[owner.kind] = pid
        state.pidIndex[pid] = owner
        if owner.kind == .main { state.instances[key]!.mainStartedAt = now }
        timeline.processStarted(key, owner.kind, at: now)
        info("\(key) \(owner.kind.rawValue) process (\(pid))")
        if owner.kind == .main && state.instances[key]!.state == .spawned
            && (definition(key.job).job.expect == .none || state.instances[key]!.goal == .stop) {
            changeState(key, to: nextState(key))
        }
    }

    /// `expect fork|daemon|stop`: the shell saw the main process become
    /// ready, now known by `finalPid`. The instance moves on from `spawned`.
    mutating func mainProcessReady(pid: Int32, finalPid: Int32) {
        guard let owner = state.pidIndex[pid], owner.kind == .main else {
            warn("Ignored readiness of unknown process \(pid)")
            return
        }
        let key = owner.key
        if finalPid != pid {
            state.pidIndex[pid] = nil
            state.pidIndex[finalPid] = owner
            state.instances[key]!.pids[.main] = finalPid
            info("\(key) main process (\(pid)) became new process (\(finalPid))")
        }
        if state.instances[key]!.state == .spawned {
            changeState(key, to: nextState(key))
        }
    }

    /// The shell could not spawn a process. A failed pre-start, main or
    /// post-stop fails the job (`RESULT=failed PROCESS=...` with no exit
    /// variables) and stops it; a failed post-start or pre-stop is passed
    /// over, as if it had run.
    mutating func spawnFailed(_ id: SpawnID, reason: String) {
        guard let owner = state.spawnIndex.removeValue(forKey: id), state.instances[owner.key] != nil else {
            warn("Ignored failure of spawn \(id): no instance is waiting for it")
            return
        }
        let key = owner.key
        state.instances[key]!.pendingSpawns[owner.kind] = nil
        warn("\(key) \(owner.kind.rawValue) process failed to start: \(reason)")
        switch owner.kind {
        case .preStart, .main, .postStop:
            markFailed(key, .process(owner.kind), status: nil)
            changeGoal(key, to: .stop)
            changeState(key, to: nextState(key))
        case .postStart, .preStop:
            changeState(key, to: nextState(key))
        }
    }

    /// A process ended: Upstart's job_process_terminated.
    ///
    /// - main: in `killed` this is the kill working; in `stopping` it is
    ///   noted and nothing else (the `stopping` event decides). Otherwise,
    ///   with goal start, a non-zero exit (or any exit of a respawning
    ///   service) not listed in `normal exit` is a failure; a respawning job
    ///   is respawned instead (unless over its limit, which fails it with
    ///   `PROCESS=respawn`), and any other exit stops the job. While a
    ///   post-start or pre-stop process runs beside it, the state waits for
    ///   that to end (a respawn is remembered as goal `respawn`).
    /// - pre-start and post-stop: a non-zero exit fails and stops the job.
    /// - post-start and pre-stop: the exit status is ignored; the state
    ///   moves on (pre-stop back to running if the goal returned to start).
    mutating func processExited(pid: Int32, status: ProcessExit) {
        let outOfMemory = state.outOfMemory.remove(pid) != nil
        guard let owner = state.pidIndex.removeValue(forKey: pid),
              let inst = state.instances[owner.key] else {
            info("Ignored exit of unknown process \(pid) (\(status))")
            return
        }
        let key = owner.key
        let kind = owner.kind
        state.instances[key]!.pids[kind] = nil
        if inst.killPid == pid {
            if let t = inst.killTimer {
                state.timers[t] = nil
                out.append(.cancelTimer(t))
            }
            state.instances[key]!.killTimer = nil
            state.instances[key]!.killPid = nil
        }
        let def = definition(key.job).job
        // Routine ends go to the verbose log only: a main process killed by
        // the signal sent to stop it, and an exit listed in `normal exit`.
        // The default log keeps what a person should act on.
        let stopping = inst.goal == .stop && [.killed, .stopping, .preStop].contains(inst.state)
        let routine: Bool
        switch status {
        case .killed(let sig): routine = (kind == .main && stopping && (sig == def.killSignal || sig == .kill)) || def.isNormalExit(status)
        case .exited: routine = def.isNormalExit(status)
        }
        if status.isFailure && !routine {
            warn("\(key) \(kind.rawValue) process (\(pid)) \(status.exitText)")
        } else if status.isFailure {
            info("\(key) \(kind.rawValue) process (\(pid)) \(status.exitText)")
        } else {
            info("\(key) \(kind.rawValue) process (\(pid)) exited normally")
        }

        var failed = false
        var stop = false
        var moveState = true
        switch kind {
        case .main:
            let allowed: Set<JobState> = [.running, .spawned, .killed, .stopping, .postStart, .preStop]
            guard allowed.contains(inst.state) else { return }
            if inst.state == .postStart && inst.isLive(.postStart) {
                moveState = false
            } else if inst.state == .preStop && inst.isLive(.preStop) {
                moveState = false
            }
            if inst.state == .killed { break }
            if inst.state == .stopping {
                moveState = false
                break
            }
            var respawning = false
            if (status.isFailure || (def.respawn && !def.task)) && inst.goal == .start {
                failed = !def.isNormalExit(status)
                if failed && def.respawn {
                    failed = false
                    if respawnLimitExceeded(key) {
                        warn("\(key) respawning too fast, stopped")
                        markFailed(key, .respawn, status: nil)
                    } else {
                        warn("\(key) \(kind.rawValue) process ended, respawning")
                        respawning = true
                        if let d = def.respawnDelay { scheduleRespawnDelay(key, d) }
                        if !moveState {
                            changeGoal(key, to: .respawn)
                        }
                    }
                }
            }
            if !respawning { stop = true }
        case .preStart:
            guard inst.state == .preStart else { return }
            if status.isFailure {
                failed = true
                stop = true
            }
        case .postStart:
            guard inst.state == .postStart else { return }
        case .preStop:
            guard inst.state == .preStop else { return }
        case .postStop:
            guard inst.state == .postStop else { return }
            if status.isFailure {
                failed = true
                stop = true
            }
        }

        if failed {
            markFailed(key, .process(kind), status: status, outOfMemory: outOfMemory)
        }
        if stop {
            if state.instances[key]?.state == .running { moveState = false }
            changeGoal(key, to: .stop)
        }
        if moveState, state.instances[key] != nil, state.instances[key]!.blocker == nil {
            changeState(key, to: nextState(key))
        }
    }

    /// Sends the job's `kill signal` to the main process and arms the kill
    /// timer: if the process has not exited `kill timeout` seconds later,
    /// it gets SIGKILL.
    mutating func killMain(_ key: InstanceKey) {
        guard let pid = state.instances[key]?.pids[.main] else { return }
        let def = definition(key.job).job
        info("Sending \(def.killSignal.fullName) signal to \(key) main process (\(pid))")
        out.append(.signal(pid: pid, signal: def.killSignal))
        let t = state.nextTimerID
        state.nextTimerID += 1
        state.timers[t] = key
        state.instances[key]!.killTimer = t
        state.instances[key]!.killPid = pid
        out.append(.armTimer(t, at: now.adding(seconds: def.killTimeout)))
    }

    /// `respawn delay`: the wait the respawn under way takes once it
    /// reaches `post-stop`. A main process that stayed up for the delay's
    /// reset time (the longer of MAX and ten seconds) starts the doubling
    /// again from SECONDS.
    mutating func scheduleRespawnDelay(_ key: InstanceKey, _ d: RespawnDelay) {
        let inst = state.instances[key]!
        var previous = inst.lastRespawnDelay
        if let started = inst.mainStartedAt,
           now.nanoseconds - started.nanoseconds >= Int64(d.resetMilliseconds) * 1_000_000 {
            previous = nil
        }
        let ms = d.next(after: previous)
        state.instances[key]!.lastRespawnDelay = ms
        state.instances[key]!.respawnDelayDue = ms
    }

    /// A timer fired. For a kill timer whose process is still alive, that
    /// process gets SIGKILL; a respawn delay's timer starts the instance
    /// again; a timer the engine no longer knows is ignored.
    mutating func timerFired(_ id: TimerID) {
        if let key = state.timers[id], state.instances[key]?.respawnTimer == id {
            state.timers[id] = nil
            state.instances[key]!.respawnTimer = nil
            state.instances[key]!.respawnAt = nil
            changeState(key, to: .starting)
            return
        }
        guard let key = state.timers.removeValue(forKey: id),
              let inst = state.instances[key], inst.killTimer == id else {
            info("Ignored timer \(id)")
            return
        }
        state.instances[key]!.killTimer = nil
        guard let pid = inst.killPid, state.pidIndex[pid] != nil else { return }
        let def = definition(key.job).job
        warn("\(key) main process (\(pid)) killed by \(Signal.kill.name) signal after \(def.killTimeout) seconds")
        out.append(.signal(pid: pid, signal: .kill))
    }
}

extension ProcessExit {
    /// How Upstart words an abnormal end in its log.
    var exitText: String {
        switch self {
        case .exited(let s): return "terminated with status \(s)"
        case .killed(let sig): return "killed by \(sig.name) signal"
        }
    }
}
