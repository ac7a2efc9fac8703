import FuzzSupport

fuzzMain(fuzzJobFile)
