// The check of the check. Every pure module of this package is compiled
// with the system's modules aliased to names that do not exist (see
// Package.swift), so that importing one fails the build. This file is
// compiled with the same settings: if the aliases ever stop hiding a module
// (a new toolchain, a changed flag), `canImport` sees it and this build
// fails here, instead of passing without proving anything.
//
// Only Swift modules are asked about: `canImport` does not apply an alias
// to a Clang module (`SwiftGlibc`, glibc's own module map), although
// `import SwiftGlibc` does fail under its alias. `Porting/run` also checks
// every import of the pure modules against the list of allowed ones.
#if canImport(Glibc) || canImport(Musl)
#error("the portable build can see the C library module: the -module-alias settings in Porting/Package.swift no longer hide it")
#endif
#if canImport(Foundation) || canImport(FoundationEssentials)
#error("the portable build can see Foundation: the -module-alias settings in Porting/Package.swift no longer hide it")
#endif

/// Nothing to call: the file's whole use is the checks above.
public enum PortabilityCanary {}
