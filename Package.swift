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
        .package(url: "https://github.com/apple/swift-system", from: "1.4.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.1.0"),
    ],
    targets: [
        // Everything Swift cannot call directly, plus the context-switch assembly.
        // Every symbol carries the `csgb_` prefix.
        .target(name: "CCSGB"),
        // libnuma's mbind for `--numa`: its own target so that only what places
        // memory links libnuma.
        .target(name: "CCSGBNUMA", linkerSettings: [.linkedLibrary("numa")]),
        // liburing for `--io uring`: thin shims, linked only here.
        .target(name: "CCSGBURing", linkerSettings: [.linkedLibrary("uring")]),
        // The one system layer: descriptors, errno and the typed error, futex words,
        // OS threads, CPU sets, limits, /proc reading, NUMA policy. Every errno is
        // read here and nowhere above.
        .target(
            name: "CSGBSystem",
            dependencies: [
                "CCSGB", "CCSGBNUMA", "CCSGBURing",
                .product(name: "Atomics", package: "swift-atomics"),
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        // Green threads: stacks, the context switch, the per-worker scheduler.
        // Knows nothing about sockets or workloads.
        .target(
            name: "Fibers",
            dependencies: ["CCSGB", "CSGBSystem", .product(name: "Atomics", package: "swift-atomics")]
        ),
        // A Swift TaskExecutor on one dedicated OS thread, and the one-permit notify.
        .target(
            name: "AsyncWorkers",
            dependencies: ["CCSGB", "CSGBSystem", .product(name: "Atomics", package: "swift-atomics")]
        ),
        // Workloads, modes, measurement and reports. No printing here.
        .target(
            name: "CSGB",
            dependencies: [
                "CSGBSystem", "Fibers", "AsyncWorkers",
                .product(name: "Atomics", package: "swift-atomics"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            plugins: ["BuildCommit"]
        ),
        // Writes the git commit into CSGB at every build, for `csgb --version`.
        .plugin(name: "BuildCommit", capability: .buildTool()),
        // csgb stat and csgb explain: perf around a child csgb run, its output parsed,
        // the run's claims checked, time attributed. Reads reports; never runs actors.
        .target(
            name: "Analysis",
            dependencies: ["CSGB", "CSGBSystem"]
        ),
        // Argument parsing and wiring only.
        .executableTarget(
            name: "csgb",
            dependencies: ["CSGB", "Analysis", "CSGBSystem", "Fibers", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        // Assembly checks of the context switch; linked into the tests only.
        .target(name: "CCSGBTestSupport", dependencies: ["CCSGB"], path: "Tests/Support/CCSGBTestSupport"),
        .testTarget(name: "CSGBTests", dependencies: ["CSGB", "Analysis", "CSGBSystem", "CCSGB", "csgb"]),
        .testTarget(name: "FibersTests", dependencies: ["Fibers", "CSGBSystem", "CCSGB", "CCSGBTestSupport"]),
        .testTarget(name: "AsyncWorkersTests", dependencies: ["AsyncWorkers", "CCSGB"]),
    ]
)
