import JobFile

/// Job classes coming and going: Upstart's job_class_reconsider, as inputs.
extension Engine {
    /// A job file appeared. A class that does not exist is registered and
    /// indexed by the event names of its `start on` and `stop on`; one that
    /// exists is changed (see `changeClass`).
    mutating func addClass(_ job: JobClass) {
        if state.classes[job.name] != nil {
            changeClass(job)
            return
        }
        install(job)
        info("Registered job \(job.name)")
    }

    /// A job file changed. With no instance, the new definition takes over
    /// at once (the `start on` memory starts afresh and the events it held
    /// are released). With instances, they keep running on the definition
    /// they started with; the new one waits and takes over when the last of
    /// them has stopped, as Upstart does. Changing a removed class revives it.
    mutating func changeClass(_ job: JobClass) {
        guard let entry = state.classes[job.name] else {
            install(job)
            info("Registered job \(job.name)")
            return
        }
        if entry.instances.isEmpty {
            replaceDefinition(job)
            info("Reloaded job \(job.name)")
        } else {
            state.unindexWhile(job.name)
            state.classes[job.name]!.replacement = ClassDefinition(job)
            state.indexWhile(job.name)
            state.whilePending.insert(job.name)
            if entry.removed {
                state.classes[job.name]!.removed = false
                state.index(entry.definition)
            }
            info("Job \(job.name) changed; running instances keep the old definition until they stop")
        }
    }

    /// A job file was deleted. With no instance the class goes at once; with
    /// instances it stays, marked removed, for their sake: they run to
    /// their end on its definition (their `stop on` still works) but nothing
    /// starts it again, and it goes when the last one has stopped.
    mutating func removeClass(_ name: String) {
        guard let entry = state.classes[name] else {
            warn("Ignored removal of unknown job \(name)")
            return
        }
        if entry.instances.isEmpty {
            dropClass(name)
            info("Deleted job \(name)")
        } else {
            state.unindexWhile(name)
            state.classes[name]!.removed = true
            state.classes[name]!.replacement = nil
            state.indexWhile(name)
            releaseStartOn(name)
            state.unindexStart(entry.definition)
            info("Job \(name) deleted; it goes when its instances stop")
        }
    }

    /// Called when an instance has gone: a class whose last instance went
    /// is dropped if removed, or takes its waiting replacement.
    mutating func reconsiderClass(_ name: String) {
        guard let entry = state.classes[name], entry.instances.isEmpty else { return }
        if entry.removed {
            dropClass(name)
            info("Deleted job \(name)")
        } else if let next = entry.replacement {
            replaceDefinition(next.job)
            info("Reloaded job \(name)")
        }
    }

    // MARK: Helpers

    mutating func install(_ job: JobClass) {
        var entry = ClassEntry(job)
        // A class that is replaced keeps what its condition last was, so
        // that an edit that leaves it true does not start the job again.
        if let old = state.classes[job.name], job.whileCondition != nil {
            entry.whileHolds = old.whileHolds
        }
        state.classes[job.name] = entry
        state.index(entry.definition)
        state.indexWhile(job.name)
        if job.whileCondition != nil { state.whilePending.insert(job.name) }
    }

    mutating func replaceDefinition(_ job: JobClass) {
        releaseStartOn(job.name)
        if let old = state.classes[job.name] {
            state.unindex(old.definition)
            state.unindexWhile(job.name)
        }
        install(job)
    }

    mutating func dropClass(_ name: String) {
        releaseStartOn(name)
        if let old = state.classes[name] {
            state.unindex(old.definition)
            state.unindexWhile(name)
        }
        state.classes[name] = nil
    }

    /// Forgets which `start on` operands of a class have fired, releasing
    /// the events they held.
    mutating func releaseStartOn(_ name: String) {
        guard let released = state.classes[name]?.startOn?.reset(), !released.isEmpty else { return }
        for e in released { release(e) }
    }
}
