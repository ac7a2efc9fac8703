import Platform

/// The daemon's own log: one line at a time on standard error, prefixed
/// `daybreak:`, at or above the priority `initctl log-priority` sets.
public struct DaemonLog {
    public enum Priority: Int, CaseIterable, Comparable {
        case debug, info, message, warn, error, fatal

        public var name: String { "\(self)" }

        public init?(name: String) {
            guard let p = Priority.allCases.first(where: { $0.name == name }) else { return nil }
            self = p
        }

        public static func < (a: Priority, b: Priority) -> Bool { a.rawValue < b.rawValue }
    }

    public var minimum: Priority

    public init(minimum: Priority) {
        self.minimum = minimum
    }

    public func write(_ priority: Priority, _ line: String) {
        guard priority >= minimum else { return }
        FileSystem.writeStandardError("daybreak: \(line)\n")
    }
}
