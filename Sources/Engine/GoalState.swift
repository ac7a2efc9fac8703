import JobFile

/// The goal/state machine: Upstart's job_change_goal, job_next_state and
/// job_change_state. Each state has an `enter...` function named after it
/// that does what entering the state does.
///
///     state       | goal start   | goal stop
///     ------------+--------------+------------------------------
///     waiting     | starting     | (rest)
///     starting    | pre-start    | stopping
///     pre-start   | spawned      | stopping
///     spawned     | post-start   | stopping
///     post-start  | running      | stopping
///     running     | stopping (*) | pre-stop if the main process
///                 |              | is alive, else stopping
///     pre-stop    | running      | stopping
///     stopping    | killed       | killed
///     killed      | post-stop    | post-stop
///     post-stop   | starting     | waiting
///
/// (*) running with goal start moves only when the main process has died
/// and is to be respawned. Goal `respawn` (set while a post-start or
/// pre-stop process runs beside a main process that died) acts as stop,
/// and turns back into start on the way.
extension Engine {
    /// Changes the goal of an instance. Most states finish on their own
    /// (a process ends, an event finishes) and then follow the new goal;
    /// the resting states need a push: `waiting` toward start, `running`
    /// toward stop, and `spawned` toward stop once the main process is
    /// there. Upstart leaves `spawned` only when an `expect fork|daemon|
    /// stop` process becomes ready, so a daemon that never does could not
    /// be stopped at all; here a stop ends it at once, whatever `expect`
    /// waits for.
    mutating func changeGoal(_ key: InstanceKey, to goal: Goal) {
        guard let inst = state.instances[key], inst.goal != goal else { return }
        info("\(key) goal changed from \(inst.goal.rawValue) to \(goal.rawValue)")
        state.instances[key]!.goal = goal
        switch goal {
        case .start where inst.state == .waiting:
            changeState(key, to: nextState(key))
        case .stop where inst.state == .running:
            changeState(key, to: nextState(key))
        case .stop where inst.state == .spawned && inst.pids[.main] != nil && inst.pendingSpawns[.main] == nil:
            changeState(key, to: nextState(key))
        case .stop where inst.awaitingRespawn:
            cancelRespawnDelay(key)
            changeState(key, to: nextState(key))
        default:
            break
        }
        if goal == .stop { state.instances[key]?.respawnDelayDue = nil }
    }

    /// `respawn delay`: an instance that respawns with a delay due stops in
    /// `post-stop` (goal start, nothing running) and arms a timer instead
    /// of entering `starting`; returns true when it did.
    mutating func holdForRespawnDelay(_ key: InstanceKey) -> Bool {
        guard let ms = state.instances[key]?.respawnDelayDue else { return false }
        state.instances[key]!.respawnDelayDue = nil
        let t = state.nextTimerID
        state.nextTimerID += 1
        state.timers[t] = key
        let at = EngineTime(nanoseconds: now.nanoseconds + Int64(ms) * 1_000_000)
        state.instances[key]!.respawnTimer = t
        state.instances[key]!.respawnAt = at
        info("\(key) respawning in \(RespawnDelay.secondsText(ms)) seconds")
        out.append(.armTimer(t, at: at))
        return true
    }

    /// Forgets the respawn delay an instance waits out (the timer fired,
    /// or a control request acts at once).
    mutating func cancelRespawnDelay(_ key: InstanceKey) {
        guard let t = state.instances[key]?.respawnTimer else { return }
        state.timers[t] = nil
        out.append(.cancelTimer(t))
        state.instances[key]!.respawnTimer = nil
        state.instances[key]!.respawnAt = nil
    }

    /// Ends an instance's respawn delay now: it enters `starting`.
    mutating func respawnNow(_ key: InstanceKey) {
        cancelRespawnDelay(key)
        changeState(key, to: .starting)
    }

    /// The state an instance moves to next, from its state and goal (the
    /// table above). A `respawn` goal becomes `start` here.
    mutating func nextState(_ key: InstanceKey) -> JobState {
        let inst = state.instances[key]!
        switch (inst.state, inst.goal) {
        case (.waiting, _):
            return .starting
        case (.starting, .stop):
            return .stopping
        case (.starting, _):
            return .preStart
        case (.preStart, .stop):
            return .stopping
        case (.preStart, _):
            return .spawned
        case (.spawned, .stop):
            return .stopping
        case (.spawned, _):
            return .postStart
        case (.postStart, .stop):
            return .stopping
        case (.postStart, .start):
            return .running
        case (.postStart, .respawn):
            state.instances[key]!.goal = .start
            return .stopping
        case (.running, .stop):
            let hasMain = definition(key.job).job.main != nil
            return hasMain && inst.pids[.main] != nil ? .preStop : .stopping
        case (.running, .start):
            return .stopping
        case (.running, .respawn):
            state.instances[key]!.goal = .start
            return .stopping
        case (.preStop, .stop):
            return .stopping
        case (.preStop, .start):
            return .running
        case (.preStop, .respawn):
            state.instances[key]!.goal = .start
            return .stopping
        case (.stopping, _):
            return .killed
        case (.killed, _):
            return .postStop
        case (.postStop, .stop):
            return .waiting
        case (.postStop, _):
            return .starting
        }
    }

    /// Moves an instance to `target`, doing what entering each state does;
    /// a state with nothing to wait for passes straight on to the next, so
    /// the instance may end further along than `target`, or be gone (after
    /// `waiting`). Only called when the instance is not waiting for an event.
    mutating func changeState(_ key: InstanceKey, to target: JobState) {
        var target = target
        while let inst = state.instances[key], inst.state != target {
            let old = inst.state
            if target == .starting && old == .postStop && holdForRespawnDelay(key) { return }
            state.instances[key]!.state = target
            recordTransition(key, from: old, to: target)
            info("\(key) state changed from \(old.rawValue) to \(target.rawValue)")
            switch target {
            case .waiting:
                enterWaiting(key)
                return
            case .starting:
                enterStarting(key)
            case .preStart:
                if !runProcess(key, .preStart) { target = nextState(key) }
            case .spawned:
                if !runProcess(key, .main) { target = nextState(key) }
            case .postStart:
                if !runProcess(key, .postStart) { target = nextState(key) }
            case .running:
                enterRunning(key, from: old)
            case .preStop:
                if !runProcess(key, .preStop) { target = nextState(key) }
            case .stopping:
                enterStopping(key)
            case .killed:
                if state.instances[key]!.pids[.main] != nil {
                    killMain(key)
                } else {
                    target = nextState(key)
                }
            case .postStop:
                if !runProcess(key, .postStop) { target = nextState(key) }
            }
        }
    }

    /// Entering `starting`: the environment of the new start replaces the
    /// old one (a restart keeps the old), the stop environment and any old
    /// failure are forgotten, and the `starting` event is emitted; the
    /// instance waits for it to finish.
    mutating func enterStarting(_ key: InstanceKey) {
        if let env = state.instances[key]!.startEnvironment {
            state.instances[key]!.environment = env
            state.instances[key]!.startEnvironment = nil
            let old = state.instances[key]!.descriptors
            state.instances[key]!.descriptors = state.instances[key]!.startDescriptors ?? []
            state.instances[key]!.startDescriptors = nil
            releaseDescriptors(old.map(\.handle))
        }
        state.instances[key]!.stopEnvironment = nil
        state.instances[key]!.failure = nil
        releaseStopOn(key)
        let ev = emitJobEvent(key, JobEventName.starting, blocking: true)
        state.instances[key]!.blocker = ev
    }

    /// Entering `running`: from `pre-stop` the stop was cancelled, and what
    /// waited for the stop is released. Otherwise `started` is emitted, and
    /// a service (not a task) has reached its goal, which releases what
    /// started it; a task releases it only when it has stopped.
    mutating func enterRunning(_ key: InstanceKey, from old: JobState) {
        if old == .preStop {
            state.instances[key]!.stopEnvironment = nil
            finished(key, failed: false)
        } else {
            setLevel(key, .up, event: nil)
            _ = emitJobEvent(key, JobEventName.started, blocking: false)
            if !definition(key.job).job.task {
                finished(key, failed: false)
            }
        }
    }

    /// Entering `stopping`: the `stopping` event is emitted and the instance
    /// waits for it to finish before its main process is killed.
    mutating func enterStopping(_ key: InstanceKey) {
        let ev = emitJobEvent(key, JobEventName.stopping, blocking: true)
        state.instances[key]!.blocker = ev
    }

    /// Entering `waiting`: `stopped` is emitted, whatever waited for the
    /// instance is released, and the instance is removed; its class may
    /// then take a changed definition or go, if deleted.
    mutating func enterWaiting(_ key: InstanceKey) {
        // Its descriptors go first, before `stopped` is out: the socket
        // bridge, told `stopped`, binds the socket again at once.
        let passed = state.instances[key]!.descriptors.map(\.handle) + (state.instances[key]!.startDescriptors ?? []).map(\.handle)
        state.instances[key]!.descriptors = []
        state.instances[key]!.startDescriptors = nil
        releaseDescriptors(passed)
        _ = emitJobEvent(key, JobEventName.stopped, blocking: false)
        finished(key, failed: false)
        releaseStopOn(key)
        if let inst = state.instances.removeValue(forKey: key) {
            for (_, id) in inst.pendingSpawns { state.spawnIndex[id] = nil }
            for (_, pid) in inst.pids { state.pidIndex[pid] = nil }
            for t in [inst.killTimer, inst.respawnTimer].compactMap({ $0 }) {
                state.timers[t] = nil
                out.append(.cancelTimer(t))
            }
        }
        if let i = state.classes[key.job]?.instances.firstIndex(of: key.instance) {
            state.classes[key.job]!.instances.remove(at: i)
        }
        info("\(key) instance removed")
        whileChanged(key.job)
        reconsiderClass(key.job)
    }

    /// The definition an instance runs on (its class's current one).
    func definition(_ job: String) -> ClassDefinition {
        state.classes[job]!.definition
    }

    /// Creates the instance `key` at rest (stop/waiting), with its own copy
    /// of the class's `stop on` memory.
    mutating func createInstance(_ key: InstanceKey) {
        var inst = JobInstance(key: key)
        if let stopOn = definition(key.job).stopOn {
            inst.stopOn = OperatorState(leaves: stopOn.matches.count)
        }
        state.instances[key] = inst
        EngineState.sortedInsert(key.instance, into: &state.classes[key.job]!.instances)
    }

    /// Builds and queues the event an instance emits on a state change.
    ///
    /// Every job event carries `JOB` and `INSTANCE` first (so that `start on
    /// started apache` matches by position). `stopping` and `stopped` add
    /// `RESULT=ok`, or `RESULT=failed` with `PROCESS` (the failed process,
    /// or `respawn` when the respawn limit stopped it) and `EXIT_STATUS` or
    /// `EXIT_SIGNAL` (absent when the process could not be spawned at all),
    /// and `KILLED_BY=oom` after `EXIT_SIGNAL=KILL` when the OOM killer
    /// killed it inside the job's memory limit (a Daybreak addition).
    /// Then come the instance's values of the variables the job `export`s.
    /// A blocking event (`starting`, `stopping`) wakes the instance when it
    /// finishes.
    mutating func emitJobEvent(_ key: InstanceKey, _ name: String, blocking: Bool) -> EventID {
        let inst = state.instances[key]!
        var env = ["JOB=\(key.job)", "INSTANCE=\(key.instance)"]
        if name == JobEventName.stopping || name == JobEventName.stopped {
            if let failure = inst.failure {
                env.append("RESULT=failed")
                switch failure.process {
                case .respawn:
                    env.append("PROCESS=respawn")
                case .process(let kind):
                    env.append("PROCESS=\(kind.rawValue)")
                    if let s = failure.exitSignal {
                        env.append("EXIT_SIGNAL=\(Signal(number: s).name)")
                        if failure.outOfMemory == true { env.append("KILLED_BY=oom") }
                    } else if let s = failure.exitStatus {
                        env.append("EXIT_STATUS=\(s)")
                    }
                }
            } else {
                env.append("RESULT=ok")
            }
        }
        // Exported variables never replace the engine's own (environ_add
        // without replace, as Upstart does).
        for name in definition(key.job).job.export {
            if let e = inst.environment.entry(name), Environment(env).entry(name) == nil { env.append(e) }
        }
        let id = queueEvent(name: name, environment: env, waiter: nil)
        if blocking {
            state.events[id]!.blockedJobs.append(key)
        }
        return id
    }
}
