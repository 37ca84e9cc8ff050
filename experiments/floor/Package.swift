// swift-tools-version: 6.1
// The Swift runtime floor of csgb's async mode: a program doing only continuation
// resume + enqueue + run on one thread (no sockets), to compare with tokio_notify.
// A separate package, so `swift build` of csgb and CI do not build it; `make floor`
// does. No dependency beyond the toolchain.
import PackageDescription

let package = Package(
    name: "swift-floor",
    targets: [
        // The global-enqueue hook and the one-thread job ring, pinning.
        .target(name: "CFloor"),
        .executableTarget(
            name: "swift-floor",
            dependencies: ["CFloor"],
            swiftSettings: [
                .swiftLanguageMode(.v5),
                // The floor: no dynamic exclusivity checks on the notify's fields.
                .unsafeFlags(["-enforce-exclusivity=unchecked"]),
            ]
        ),
    ]
)
