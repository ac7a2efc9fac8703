import CSpawn

/// The process's own memory.
public enum Memory {
    /// Hands the C heap's free pages back to the kernel (malloc_trim(3)).
    /// A bridge calls it after reading the whole job set: the reply is
    /// large and short-lived, and without this its pages stay resident
    /// (counted in the process's Pss) until the heap happens to shrink.
    /// Returns whether any memory was released.
    @discardableResult
    public static func releaseFreeMemory() -> Bool { cplatform_release_free_memory() == 1 }
}
