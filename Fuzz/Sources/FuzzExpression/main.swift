import FuzzSupport

fuzzMain(fuzzExpression)
