import JobFile

/// The engine: Upstart's goal/state machine as pure code (issue: the engine).
///
/// Not built yet. It will take inputs (events, child exits, timers, control
/// requests) with the time, and return effects for the Supervisor to carry out.
public enum EngineStatus {
    public static let implemented = false
}
