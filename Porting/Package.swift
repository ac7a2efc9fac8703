// swift-tools-version: 6.1
//
// The portable core of Daybreak, built alone: the job-file parser
// (JobFile), the engine (Engine) and the pure modules they need (JSON,
// TimeSchedule, FileWatch), with the parser's and the engine's tests, and
// nothing of the Linux shell (Platform, CSpawn, Supervisor, Control, the
// bridges, the executables). TimeSchedule's and FileWatch's tests are left
// to the main package: CronYearTests alone takes most of a minute, and CI
// is near its limit. It is the first step of a port to FreeBSD or the Hurd
// (docs/porting.md): what builds and passes here needs no Linux call.
//
// The targets are the main package's source directories, not copies:
// `Porting/Sources/NAME` and `Porting/Tests/NAME` are symbolic links to
// `../../Sources/NAME` and `../../Tests/NAME` (SwiftPM takes no target path
// outside its package). `Porting/run`, which CI calls, builds this package,
// checks that the links and the list of targets still match the main
// package, and runs the tests.
//
// The proof is in the compiler, not only in a grep: every pure module is
// compiled with the Linux and system modules aliased to names that do not
// exist (`-module-alias Glibc=DaybreakPortingForbids_Glibc`), so an
// `import Glibc` (or Foundation, SystemPackage, Platform, CSpawn...) added to
// one of them fails this build with "no such module", naming the file and
// line. `#if canImport(Glibc)` is false there, as on a system without it.
import PackageDescription

/// Modules the portable core must not import: the C library and kernel
/// interfaces of each system, Foundation (the core stays small, see
/// docs/architecture.md), and Daybreak's own Linux shell.
let forbidden = [
    "Glibc", "SwiftGlibc", "Musl", "Darwin", "WinSDK", "Android", "Bionic", "WASILibc",
    "Foundation", "FoundationEssentials", "Dispatch",
    "SystemPackage", "System",
    "Platform", "CSpawn", "Control", "Supervisor",
]

/// The same Swift 6 language mode as the main package, plus the aliases.
let portable: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .unsafeFlags(forbidden.flatMap { ["-module-alias", "\($0)=DaybreakPortingForbids_\($0)"] }),
]

let tests: [SwiftSetting] = [.swiftLanguageMode(.v6)]

let package = Package(
    name: "DaybreakPorting",
    dependencies: [
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.1"),
    ],
    targets: [
        .target(name: "JSON", swiftSettings: portable),
        .target(name: "TimeSchedule", swiftSettings: portable),
        .target(name: "FileWatch", swiftSettings: portable),
        .target(name: "JobFile", dependencies: ["JSON", "TimeSchedule", "FileWatch"], swiftSettings: portable),
        .target(name: "Engine", dependencies: ["JobFile", "JSON"], swiftSettings: portable),
        // Fails the build if the aliases above stop hiding the system's
        // modules (Sources/PortabilityCanary/Canary.swift).
        .target(name: "PortabilityCanary", swiftSettings: portable),
        .testTarget(
            name: "JobFileTests",
            dependencies: ["JobFile", .product(name: "PropertyBased", package: "swift-property-based")],
            swiftSettings: tests),
        .testTarget(
            name: "EngineTests",
            dependencies: ["Engine", "JobFile", "JSON", .product(name: "PropertyBased", package: "swift-property-based")],
            exclude: ["Fixtures"],
            swiftSettings: tests),
    ]
)
