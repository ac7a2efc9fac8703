#if canImport(Glibc)
import Glibc
#endif

/// The process environment.
public enum Environment {
    /// The current environment as a dictionary (the first of duplicate names wins).
    public static var current: [String: String] {
        var out: [String: String] = [:]
        var p = environ
        while let entry = p.pointee {
            let s = String(cString: entry)
            if let eq = s.firstIndex(of: "=") {
                let k = String(s[..<eq])
                if out[k] == nil { out[k] = String(s[s.index(after: eq)...]) }
            }
            p += 1
        }
        return out
    }

    /// One variable (getenv(3)), without building the whole dictionary:
    /// what initctl needs on every run.
    public static func value(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }
}

/// Who this process is.
public enum Identity {
    public static var realUserID: UInt32 { getuid() }
    /// The real user's home directory from the password database (jobs
    /// get no HOME from the daemon), or nil.
    public static var homeDirectory: String? { Credentials.homeDirectory(of: getuid()) }
    public static var effectiveUserID: UInt32 { geteuid() }
    public static var processID: Int32 { getpid() }
}
