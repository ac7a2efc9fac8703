import Platform

// The daemon is not built yet (see the open issue "The daemon and initctl").
// Until then it says so and fails, rather than pretending to supervise.
FileSystem.writeStandardError("daybreak: the daemon is not implemented yet; use init-checkconf to check job files\n")
Process.exit(1)
