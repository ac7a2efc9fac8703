import FuzzSupport

fuzzMain(fuzzReexec)
