import JobFile

/// Control requests: `initctl start|stop|restart|reload|status|usage`
/// (Upstart's job_class_start and kin). Every request is answered exactly
/// once: at once for errors, `--no-wait`, `reload`, `status` and `usage`;
/// otherwise when the instance settles (running or stopped; failed gives
/// an error).
extension Engine {
    /// Answers one request (see the verbs below for each one's rules).
    mutating func control(_ r: ControlRequest) {
        // A deleted job's instances can still be stopped, restarted,
        // reloaded and queried; only new starts are refused.
        guard let entry = state.classes[r.job], !(entry.removed && r.action == .start) else {
            out.append(.reply(r.id, .error("Unknown job: \(r.job)")))
            return
        }
        let def = entry.definition.job
        if r.action == .usage {
            out.append(.reply(r.id, .text("Usage: \(def.usage ?? "")")))
            return
        }
        guard Environment.allValid(r.environment) else {
            out.append(.reply(r.id, .error("Invalid environment for \(r.job): expected KEY=VALUE arguments")))
            return
        }
        var env = state.configuration.classEnvironment(def)
        env.merge(r.environment)
        let name: String
        do {
            name = try Environment.expand(def.instance ?? "", env)
        } catch {
            var message = "\(error)"
            if let usage = def.usage { message += "\nUsage: \(usage)" }
            out.append(.reply(r.id, .error(message)))
            return
        }
        let key = InstanceKey(job: r.job, instance: name)
        switch r.action {
        case .start:
            start(key, env, r)
        case .stop:
            stop(key, r)
        case .restart:
            restart(key, r)
        case .reload:
            reload(key, r)
        case .status:
            if let inst = state.instances[key] {
                out.append(.reply(r.id, .ok(inst.status)))
            } else if def.instance == nil {
                out.append(.reply(r.id, .ok(InstanceStatus(job: r.job, instance: "", goal: .stop, state: .waiting, processes: []))))
            } else {
                out.append(.reply(r.id, .error(Engine.unknownInstance(key))))
            }
        case .usage:
            break
        }
    }

    /// `start`: creates the instance if need be; an instance whose goal is
    /// already start is an error. The instance takes the class environment
    /// plus the request's variables when it next enters `starting`.
    mutating func start(_ key: InstanceKey, _ env: Environment, _ r: ControlRequest) {
        if let inst = state.instances[key], inst.awaitingRespawn {
            // Waiting out a `respawn delay`: start it now.
            state.instances[key]!.startEnvironment = env
            finished(key, failed: false)
            if r.wait { state.instances[key]!.blocking.append(.request(r.id, .start)) }
            recordStart(key, .request)
            respawnNow(key)
            if !r.wait { out.append(.reply(r.id, .ok(state.instances[key]?.status))) }
            return
        }
        if let inst = state.instances[key], inst.goal == .start {
            out.append(.reply(r.id, .error("Job is already running: \(key)")))
            return
        }
        if let why = whileReason(key.job) {
            out.append(.reply(r.id, .error("Job's while condition is false: \(why)")))
            return
        }
        if state.instances[key] == nil { createInstance(key) }
        state.instances[key]!.startEnvironment = env
        setStartDescriptors(key, nil)
        finished(key, failed: false)
        if r.wait { state.instances[key]!.blocking.append(.request(r.id, .start)) }
        recordStart(key, .request)
        changeGoal(key, to: .start)
        if !r.wait { out.append(.reply(r.id, .ok(state.instances[key]?.status))) }
    }

    /// `stop` and `restart` act only on an instance that exists and whose
    /// goal is start; otherwise they answer Upstart's error and return false.
    /// Upstart's UnknownInstance text names the instance alone (empty for
    /// a job without `instance`), as job_class_stop and
    /// job_class_get_instance do; scripts match it.
    static func unknownInstance(_ key: InstanceKey) -> String {
        "Unknown instance: \(key.instance)"
    }

    mutating func requireStarted(_ key: InstanceKey, _ r: ControlRequest) -> Bool {
        guard let inst = state.instances[key] else {
            out.append(.reply(r.id, .error(Engine.unknownInstance(key))))
            return false
        }
        guard inst.goal != .stop else {
            out.append(.reply(r.id, .error("Job has already been stopped: \(key)")))
            return false
        }
        return true
    }

    /// `stop`: the request's variables become the stop environment (seen by
    /// pre-stop and post-stop). Stopping an instance that does not exist,
    /// or whose goal is already stop, is an error.
    mutating func stop(_ key: InstanceKey, _ r: ControlRequest) {
        guard requireStarted(key, r) else { return }
        state.instances[key]!.stopEnvironment = Environment(r.environment)
        finished(key, failed: false)
        if r.wait { state.instances[key]!.blocking.append(.request(r.id, .stop)) }
        changeGoal(key, to: .stop)
        if !r.wait { out.append(.reply(r.id, .ok(state.instances[key]?.status))) }
    }

    /// `restart`: the goal goes to stop and straight back to start, as in
    /// Upstart; the instance keeps its environment. From `running` it first
    /// enters `pre-stop`: with a pre-stop process, that process runs and,
    /// the goal being start again when it ends, the instance returns to
    /// `running` (the main process is not restarted, as Upstart 1.13 does);
    /// without one, it goes through stopping, killed, post-stop and starts
    /// again.
    mutating func restart(_ key: InstanceKey, _ r: ControlRequest) {
        guard requireStarted(key, r) else { return }
        state.instances[key]!.startEnvironment = nil
        state.instances[key]!.stopEnvironment = nil
        finished(key, failed: false)
        if r.wait { state.instances[key]!.blocking.append(.request(r.id, .restart)) }
        if state.instances[key]!.awaitingRespawn {
            respawnNow(key)
            if !r.wait { out.append(.reply(r.id, .ok(state.instances[key]?.status))) }
            return
        }
        changeGoal(key, to: .stop)
        changeGoal(key, to: .start)
        if !r.wait { out.append(.reply(r.id, .ok(state.instances[key]?.status))) }
    }

    /// `reload`: sends the job's `reload signal` (default SIGHUP) to the
    /// main process alone, never its process group (Upstart's job_reload);
    /// an instance without a live main process is an error.
    mutating func reload(_ key: InstanceKey, _ r: ControlRequest) {
        guard let inst = state.instances[key] else {
            out.append(.reply(r.id, .error(Engine.unknownInstance(key))))
            return
        }
        guard let pid = inst.pids[.main] else {
            out.append(.reply(r.id, .error("Job is not running: \(key)")))
            return
        }
        let sig = definition(key.job).job.reloadSignal
        out.append(.reload(pid: pid, signal: sig))
        out.append(.reply(r.id, .ok(inst.status)))
    }
}
