package runtime

// openFileLimit is 0, unknown: Windows has no per-process limit on open
// files or sockets like RLIMIT_NOFILE.
func openFileLimit() uint64 { return 0 }
