#if canImport(Glibc)
import Glibc
#endif

/// Closes a descriptor, ignoring errors (there is nothing to do about them).
public func closeDescriptor(_ fd: Int32) {
    _ = close(fd)
}
