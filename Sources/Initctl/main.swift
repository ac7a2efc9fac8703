import Platform

// initctl needs the daemon's control socket, which is not built yet.
// Until then it says so and fails, rather than pretending to work.
FileSystem.writeStandardError("initctl: not implemented yet: there is no daybreak daemon to talk to\n")
Process.exit(1)
