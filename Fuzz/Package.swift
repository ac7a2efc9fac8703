// swift-tools-version: 6.1
//
// Daybreak's libFuzzer targets, kept out of the main package so that
// `swift build` and `swift test` never compile them. Build and run them with
// `Fuzz/run TARGET` (docs/RELIABILITY.md says how, and what the long runs
// found). Each target is an executable whose entry point is libFuzzer's
// `LLVMFuzzerTestOneInput`, handed to libFuzzer's driver by the target's
// main.swift (SwiftPM gives every executable its own `main`, so libFuzzer's
// cannot be used; see Sources/CFuzzer). `Fuzz/run` builds them with
// `-sanitize=fuzzer,address`.
//
// Every target checks a property of what it decodes, not only that decoding
// returns: a crash is a trap (`fuzzCheck`) that libFuzzer saves as an input.
import PackageDescription

// A path dependency's identity is its directory's name, which is whatever the
// checkout is called (`main`, `daybreak`, a CI clone...): derive it.
let root = String(#filePath.split(separator: "/").dropLast(2).last ?? "daybreak").lowercased()

let v6: [SwiftSetting] = [.swiftLanguageMode(.v6)]

let package = Package(
    name: "DaybreakFuzz",
    dependencies: [
        .package(path: ".."),
    ],
    targets: [
        // libFuzzer's driver entry point, declared for Swift.
        .target(name: "CFuzzer"),
        .target(name: "FuzzSupport", dependencies: ["CFuzzer"], swiftSettings: v6),
        // The job-file parser: any bytes as a job file.
        .executableTarget(
            name: "FuzzJobFile",
            dependencies: ["FuzzSupport", .product(name: "JobFile", package: root)],
            swiftSettings: v6),
        // The expression parsers: `start on`, `stop on` and `while`.
        .executableTarget(
            name: "FuzzExpression",
            dependencies: ["FuzzSupport", .product(name: "JobFile", package: root)],
            swiftSettings: v6),
        // The control protocol: FrameReader, the JSON parser, Request.decode.
        .executableTarget(
            name: "FuzzControl",
            dependencies: ["FuzzSupport", .product(name: "Control", package: root), .product(name: "JSON", package: root)],
            swiftSettings: v6),
        // The re-exec state document: ReexecDocument.decode (docs/running.md),
        // against the Codable conformances (the JSON module's coder).
        .executableTarget(
            name: "FuzzReexec",
            dependencies: ["FuzzSupport", .product(name: "Engine", package: root), .product(name: "JSON", package: root)],
            swiftSettings: v6),
    ]
)
