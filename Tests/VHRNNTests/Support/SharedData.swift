import Foundation

/// Where the real datasets live: `$VHRNN_DATA_DIR`, else `../shared/data` beside the
/// repository. Tests that need a file call `SharedData.url(_:)`; when the file is missing it
/// throws, so the test fails loudly (under CI and locally alike) instead of skipping.
enum SharedData {
    struct Missing: Error, CustomStringConvertible {
        var path: String
        var description: String {
            "shared data file not found: \(path) (set VHRNN_DATA_DIR to the folder holding the datasets)"
        }
    }

    static var directory: URL {
        if let env = ProcessInfo.processInfo.environment["VHRNN_DATA_DIR"], !env.isEmpty {
            return URL(fileURLWithPath: env)
        }
        // #filePath is .../<repo>/Tests/VHRNNTests/Support/SharedData.swift
        return URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
            .appendingPathComponent("shared/data")
    }

    static func url(_ name: String) throws -> URL {
        let url = directory.appendingPathComponent(name)
        guard FileManager.default.fileExists(atPath: url.path) else { throw Missing(path: url.path) }
        return url
    }
}
