// swift-tools-version: 6.1
//
// Daybreak: an event-driven init daemon and service supervisor that runs
// Upstart job files unchanged. See README.md and docs/.
//
// Shape (docs/architecture.md): a pure core (JobFile, Engine), a thin shell
// (Supervisor, Control, Platform) and process spawning in a small C target
// (CSpawn). Executables are thin wrappers over those modules.
import PackageDescription

let strict: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
]

/// Test daemons under Sources/Fixtures, one C program each.
let fixtures = ["fork-once", "fork-twice", "fork-thrice", "parent-waits", "workers", "helpers-first", "fork-exec", "pidfile-writer", "never-forks", "notifier", "flood", "socket-server", "loopback"]

let package = Package(
    name: "Daybreak",
    products: [
        .executable(name: "daybreak", targets: ["Daybreak"]),
        .executable(name: "initctl", targets: ["Initctl"]),
        .executable(name: "init-checkconf", targets: ["InitCheckconf"]),
        .executable(name: "daybreak-time-bridge", targets: ["TimeBridgeTool"]),
        .executable(name: "daybreak-file-bridge", targets: ["FileBridgeTool"]),
        .executable(name: "daybreak-socket-bridge", targets: ["SocketBridgeTool"]),
        .executable(name: "daybreak-net-bridge", targets: ["NetBridgeTool"]),
        .executable(name: "daybreak-event-bridge", targets: ["EventBridgeTool"]),
        .library(name: "JobFile", targets: ["JobFile"]),
        .library(name: "Engine", targets: ["Engine"]),
        .library(name: "Control", targets: ["Control"]),
        .library(name: "Platform", targets: ["Platform"]),
        // For the fuzz targets (Fuzz/), which check the JSON they decode.
        .library(name: "JSON", targets: ["JSON"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.1"),
    ],
    targets: [
        // Pure: a small JSON value, printer and parser (no Foundation: the
        // daemon must stay small; see docs/architecture.md).
        .target(name: "JSON", swiftSettings: strict),
        // Pure: timer schedules (EVERY, cron SCHEDULE, AFTER/DELAY), time
        // zones from TZif bytes, and when a timer is due. No syscalls, no
        // Foundation; the clock is passed in.
        .target(name: "TimeSchedule", swiftSettings: strict),
        // Pure: `file` event watches (FILE, EVENT, MATCH): globs, what a
        // change means, which directories to watch. No syscalls.
        .target(name: "FileWatch", swiftSettings: strict),
        // Pure: the job-file language. No syscalls, no Foundation.
        .target(name: "JobFile", dependencies: ["JSON", "TimeSchedule", "FileWatch"], swiftSettings: strict),
        // Pure: events, goals and states. Depends only on JobFile.
        .target(name: "Engine", dependencies: ["JobFile", "JSON"], swiftSettings: strict),
        // The async-signal-safe child side of spawning, in C.
        .target(name: "CSpawn"),
        // Typed wrappers over the Linux calls the shell needs.
        .target(
            name: "Platform",
            dependencies: ["CSpawn", .product(name: "SystemPackage", package: "swift-system")],
            swiftSettings: strict),
        // The control protocol: frames and messages, shared by daemon and clients.
        .target(name: "Control", dependencies: ["JSON", "Platform"], swiftSettings: strict),
        // The event loop that carries out the engine's effects.
        .target(
            name: "Supervisor",
            dependencies: ["JobFile", "Engine", "Platform", "Control", .product(name: "SystemPackage", package: "swift-system")],
            swiftSettings: strict),
        .executableTarget(
            name: "Daybreak",
            dependencies: [
                "Supervisor",
                "Engine",
                "TimeBridge",
                "FileBridge",
                "SocketBridge",
                "NetBridge",
                "EventBridge",
                "Platform",
                "Control",
            ],
            swiftSettings: strict,
            linkerSettings: [.unsafeFlags(["-static-executable"], .when(platforms: [.linux], configuration: .release))]),
        // Static in release, as the daemon: a run loads no shared library,
        // which was most of what initctl cost before it did anything
        // (docs/PERFORMANCE.md, "initctl's start-up"); installed beside the
        // daemon, it runs where the daemon runs (docs/installing.md).
        .executableTarget(
            name: "Initctl",
            dependencies: [
                "Control",
                "Engine",
                "TimeSchedule",
                "Platform",
            ],
            swiftSettings: strict,
            linkerSettings: [.unsafeFlags(["-static-executable"], .when(platforms: [.linux], configuration: .release))]),
        // The time bridge: a client of the control socket that emits timer
        // events (docs/time-bridge.md). Static in release, as the daemon.
        .target(
            name: "TimeBridge",
            dependencies: ["TimeSchedule", "JobFile", "Engine", "Control", "Platform", "JSON"],
            swiftSettings: strict),
        .executableTarget(
            name: "TimeBridgeTool",
            dependencies: ["TimeBridge"],
            swiftSettings: strict,
            linkerSettings: [.unsafeFlags(["-static-executable"], .when(platforms: [.linux], configuration: .release))]),
        // The file bridge: a client of the control socket that emits `file`
        // events from inotify (docs/file-bridge.md). Static in release.
        .target(
            name: "FileBridge",
            dependencies: ["FileWatch", "JobFile", "Control", "Platform", "JSON"],
            swiftSettings: strict),
        .executableTarget(
            name: "FileBridgeTool",
            dependencies: ["FileBridge"],
            swiftSettings: strict,
            linkerSettings: [.unsafeFlags(["-static-executable"], .when(platforms: [.linux], configuration: .release))]),
        // The socket bridge: listens on the jobs' sockets and hands them
        // over in `socket` events (docs/socket-bridge.md).
        .target(
            name: "SocketBridge",
            dependencies: ["JobFile", "Control", "Platform", "JSON"],
            swiftSettings: strict),
        .executableTarget(
            name: "SocketBridgeTool",
            dependencies: ["SocketBridge"],
            swiftSettings: strict,
            linkerSettings: [.unsafeFlags(["-static-executable"], .when(platforms: [.linux], configuration: .release))]),
        // The net bridge: Upstart's network events from rtnetlink
        // (docs/net-and-power-events.md). Static in release.
        .target(
            name: "NetBridge",
            dependencies: ["Control", "Platform"],
            swiftSettings: strict),
        .executableTarget(
            name: "NetBridgeTool",
            dependencies: ["NetBridge"],
            swiftSettings: strict,
            linkerSettings: [.unsafeFlags(["-static-executable"], .when(platforms: [.linux], configuration: .release))]),
        // The event bridge: the system daemon's events in a session as
        // `:sys:NAME` (docs/net-and-power-events.md). Static in release.
        .target(
            name: "EventBridge",
            dependencies: ["Control", "Platform", "JSON"],
            swiftSettings: strict),
        .executableTarget(
            name: "EventBridgeTool",
            dependencies: ["EventBridge"],
            swiftSettings: strict,
            linkerSettings: [.unsafeFlags(["-static-executable"], .when(platforms: [.linux], configuration: .release))]),
        // The Swift runtime and Foundation linked statically in release:
        // installed, it must not need the toolchain's shared libraries
        // (docs/installing.md). Not -static-executable: FoundationEssentials,
        // which swift-argument-parser brings, does not link that way.
        .executableTarget(
            name: "InitCheckconf",
            dependencies: [
                "JobFile",
                "TimeSchedule",
                "Platform",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict,
            linkerSettings: [.unsafeFlags(["-static-stdlib", "-l_FoundationCShims", "-l_FoundationCollections"], .when(platforms: [.linux], configuration: .release))]),
        // Small C daemons that fork (or do not) in every way `expect` must
        // cope with; the tracking tests run them as jobs.
        .target(name: "FixtureSupport", path: "Sources/Fixtures/support"),
    ] + fixtures.map { Target.executableTarget(name: "fixture-\($0)", dependencies: ["FixtureSupport"], path: "Sources/Fixtures/\($0)") } + [
        .testTarget(
            name: "SupervisorTests",
            dependencies: ["Supervisor", "Platform"],
            swiftSettings: strict),
        .testTarget(
            name: "JobFileTests",
            dependencies: [
                "JobFile",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            swiftSettings: strict),
        .testTarget(
            name: "TimeScheduleTests",
            dependencies: ["TimeSchedule"],
            swiftSettings: strict),
        .testTarget(
            name: "FileWatchTests",
            dependencies: ["FileWatch"],
            swiftSettings: strict),
        .testTarget(
            name: "ControlTests",
            dependencies: ["Control", "JSON"],
            swiftSettings: strict),
        .testTarget(
            name: "EngineTests",
            dependencies: [
                "Engine",
                "JobFile",
                "JSON",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            swiftSettings: strict),
        .testTarget(
            name: "PlatformTests",
            dependencies: ["Platform", "CSpawn"],
            swiftSettings: strict),
        .testTarget(
            name: "SocketBridgeTests",
            dependencies: ["SocketBridge", "JobFile"],
            swiftSettings: strict),
        .testTarget(
            name: "NetBridgeTests",
            dependencies: ["NetBridge"],
            swiftSettings: strict),
        .testTarget(
            name: "IntegrationTests",
            dependencies: ["JobFile", "Platform"],
            swiftSettings: strict),
    ]
)
