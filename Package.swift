// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "csgb",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "csgb", targets: ["csgb"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-atomics", from: "1.2.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.1.0"),
    ],
    targets: [
        // Everything Swift cannot call directly, plus the context-switch assembly.
        // Every symbol carries the `csgb_` prefix.
        .target(name: "CCSGB", linkerSettings: [.linkedLibrary("numa")]),
        // Green threads: stacks, the context switch, the per-worker scheduler.
        // Knows nothing about sockets or workloads.
        .target(
            name: "Fibers",
            dependencies: ["CCSGB", .product(name: "Atomics", package: "swift-atomics")]
        ),
        // A Swift TaskExecutor on one dedicated OS thread, and the one-permit notify.
        .target(
            name: "AsyncWorkers",
            dependencies: ["CCSGB", .product(name: "Atomics", package: "swift-atomics")]
        ),
        // Workloads, modes, measurement and reports. No printing here.
        .target(
            name: "CSGB",
            dependencies: [
                "CCSGB", "Fibers", "AsyncWorkers",
                .product(name: "Atomics", package: "swift-atomics"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            plugins: ["BuildCommit"]
        ),
        // Writes the git commit into CSGB at every build, for `csgb --version`.
        .plugin(name: "BuildCommit", capability: .buildTool()),
        // Argument parsing and wiring only.
        .executableTarget(
            name: "csgb",
            dependencies: ["CSGB", "Fibers", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .testTarget(name: "CSGBTests", dependencies: ["CSGB", "CCSGB", "csgb"]),
        .testTarget(name: "FibersTests", dependencies: ["Fibers", "CCSGB"]),
        .testTarget(name: "AsyncWorkersTests", dependencies: ["AsyncWorkers", "CCSGB"]),
    ]
)
