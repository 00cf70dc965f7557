// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "tagwatch",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "tagwatch", targets: ["tagwatch"]),
        .library(name: "TagwatchCore", targets: ["TagwatchCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    ],
    targets: [
        // System libraries: module maps plus typed inline wrappers for what Swift cannot call.
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CLibXML2", pkgConfig: "libxml-2.0", providers: [.apt(["libxml2-dev"])]),
        // UTS #46 (IDNA) through ICU, as browsers do; a C file so ICU's headers stay out of Swift.
        .target(name: "CIDNA", linkerSettings: [.linkedLibrary("icuuc")]),
        .target(name: "CCharset", linkerSettings: [.linkedLibrary("icuuc")]),
        .target(name: "CMalloc"),
        .systemLibrary(name: "CPSL", pkgConfig: "libpsl", providers: [.apt(["libpsl-dev", "publicsuffix"])]),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        .target(
            name: "TagwatchCore",
            dependencies: [
                "CCharset", "CCurl", "CIDNA", "CLibXML2", "CMalloc", "CPSL", "CSQLite", "CZlib", "CCrypto",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
            ],
            plugins: ["EmbedCatalog"]
        ),
        // Compiles rules/vendors/*.yaml into TagwatchCore (BuiltinCatalog), so the binary carries its catalog.
        .plugin(name: "EmbedCatalog", capability: .buildTool()),
        .executableTarget(
            name: "tagwatch",
            dependencies: [
                "TagwatchCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),
        // libFuzzer targets (scripts/fuzz), or a replayer of saved inputs in ordinary builds.
        .executableTarget(name: "tagwatch-fuzz", dependencies: ["TagwatchCore"]),
        // In-process measurements for bench/run (parse ceiling, extraction cost, catalog lookups).
        .executableTarget(name: "tagwatch-bench", dependencies: ["TagwatchCore", "CLibXML2"]),
        // Helpers the test targets share: the loopback test server, the built binary, fixtures.
        .target(name: "TagwatchTestSupport", path: "Tests/Support"),
        .testTarget(name: "TagwatchCoreTests", dependencies: ["TagwatchCore", "TagwatchTestSupport"]),
        .testTarget(name: "tagwatchTests", dependencies: ["TagwatchCore", "TagwatchTestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
