// swift-tools-version: 6.1
//
// Daybreak's benchmarks, kept out of the main package so that `swift build`
// and CI do not compile them. Run them with `Benchmarks/run` (release builds).
// Every benchmark prints its figure beside a floor measured in the same run,
// and the ratio between them; docs/PERFORMANCE.md holds the table.
import PackageDescription

// A path dependency's identity is its directory's name, which is whatever the
// checkout is called (`main`, `daybreak`, a CI clone...): derive it.
let root = String(#filePath.split(separator: "/").dropLast(2).last ?? "daybreak").lowercased()

let v6: [SwiftSetting] = [.swiftLanguageMode(.v6)]

let package = Package(
    name: "DaybreakBenchmarks",
    dependencies: [
        .package(path: ".."),
    ],
    targets: [
        .target(name: "BenchSupport", swiftSettings: v6),
        .executableTarget(
            name: "ParseBench",
            dependencies: ["BenchSupport", .product(name: "JobFile", package: root)],
            swiftSettings: v6),
        .executableTarget(
            name: "EngineBench",
            dependencies: ["BenchSupport", .product(name: "JobFile", package: root), .product(name: "Engine", package: root)],
            swiftSettings: v6),
        .executableTarget(
            name: "WhileBench",
            dependencies: ["BenchSupport", .product(name: "JobFile", package: root), .product(name: "Engine", package: root)],
            swiftSettings: v6),
        .executableTarget(
            name: "ReexecBench",
            dependencies: ["BenchSupport", .product(name: "JobFile", package: root), .product(name: "Engine", package: root),
                           .product(name: "JSON", package: root)],
            swiftSettings: v6),
        .executableTarget(
            name: "DaemonBench",
            dependencies: ["BenchSupport", .product(name: "Control", package: root), .product(name: "Platform", package: root)],
            swiftSettings: v6),
        .executableTarget(
            name: "StartBench",
            dependencies: ["BenchSupport", .product(name: "Control", package: root)],
            swiftSettings: v6),
    ]
)
