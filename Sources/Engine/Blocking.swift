import JobFile

/// Blocking: who holds an event, and who waits for an instance to settle
/// (Upstart's blocked.c, event_block/event_unblock and job_finished).
///
/// An event is held once for each `start on`/`stop on` operand that has
/// matched it and not been reset, and once for each instance it started or
/// stopped until that instance settles. A `starting X` or `stopping X`
/// event is what X waits on, so a job started by `starting X` holds X back
/// until it is running (a service) or has stopped again (a task); chains
/// of such jobs hold each other in turn.
extension Engine {
    /// Adds one hold on an event.
    mutating func hold(_ id: EventID) {
        state.events[id]?.blockers += 1
    }

    /// Removes one hold; an event being handled with no hold left is ready
    /// to finish (in queue order).
    mutating func release(_ id: EventID) {
        guard let i = state.events.index(forKey: id) else { return }
        state.events.values[i].blockers -= 1
        if state.events.values[i].blockers <= 0 && state.events.values[i].progress == .handling {
            markReady(id)
        }
    }

    /// The instance has settled: reached its goal (running for a service,
    /// waiting for everything), failed, or been given a new command. Every
    /// event it held is released (marked failed first when it failed), and
    /// every control request waiting on it is answered.
    mutating func finished(_ key: InstanceKey, failed: Bool) {
        guard let list = state.instances[key]?.blocking, !list.isEmpty else { return }
        state.instances[key]!.blocking = []
        for b in list {
            switch b {
            case .event(let id):
                if failed { state.events[id]?.failed = true }
                release(id)
            case .request(let rid, let action):
                if failed {
                    out.append(.reply(rid, .error(Engine.failureMessage(action, key))))
                } else {
                    out.append(.reply(rid, .ok(state.instances[key]?.status)))
                }
            }
        }
    }

    /// Upstart's JobFailed messages (job_finished in init/job.c), word for
    /// word: they name nothing, and scripts match them whole. The daemon's
    /// log says which instance failed and why.
    static func failureMessage(_ action: ControlAction, _ key: InstanceKey) -> String {
        switch action {
        case .stop: return "Job failed while stopping"
        case .restart: return "Job failed to restart"
        default: return "Job failed to start"
        }
    }

    /// Records the first failure of an instance (later ones are ignored
    /// until it starts again) and releases what it held, as failed.
    mutating func markFailed(_ key: InstanceKey, _ process: FailedProcess, status: ProcessExit?, outOfMemory: Bool = false) {
        guard state.instances[key] != nil, state.instances[key]!.failure == nil else { return }
        state.instances[key]!.failure = Failure(process: process, status: status)
        if outOfMemory { state.instances[key]!.failure!.outOfMemory = true }
        finished(key, failed: true)
    }

    /// Makes the instance hold the events the active operands of an
    /// expression matched, until it settles.
    mutating func holdActive(_ key: InstanceKey, _ events: [EventID]) {
        for e in events {
            hold(e)
            state.instances[key]!.blocking.append(.event(e))
        }
    }

    /// Forgets which `stop on` operands of an instance have fired, releasing
    /// the events they held.
    mutating func releaseStopOn(_ key: InstanceKey) {
        guard let released = state.instances[key]?.stopOn?.reset(), !released.isEmpty else { return }
        for e in released { release(e) }
    }
}
