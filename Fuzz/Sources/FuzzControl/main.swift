import FuzzSupport

fuzzMain(fuzzControl)
