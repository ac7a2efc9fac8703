import Engine

/// The event loop that carries out the engine's effects (issue: the daemon).
///
/// Not built yet.
public enum Supervisor {
    public static let implemented = false
}
