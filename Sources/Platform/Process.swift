#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The current process.
public enum Process {
    /// Ends the process at once with `status`.
    public static func exit(_ status: Int32) -> Never {
        Glibc.exit(status)
    }
}
