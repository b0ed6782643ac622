import Foundation

/// A small tmpfs mounted at a fresh directory, for tests of what happens when the disk fills up
/// or the output directory turns read-only. Mounting needs root (mount(8)); `canMount` says
/// whether this process may, so the tests that need it are enabled only then (and show as
/// skipped otherwise).
struct SmallFilesystem {
    let path: String

    static let canMount: Bool = {
        guard getuid() == 0, let fs = try? SmallFilesystem(kilobytes: 64) else { return false }
        fs.unmount()
        return true
    }()

    init(kilobytes: Int) throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("vhrnn-fs-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        try Self.mount(["-t", "tmpfs", "-o", "size=\(kilobytes)k", "tmpfs", path])
    }

    func remount(readOnly: Bool) throws {
        try Self.mount(["-o", "remount,\(readOnly ? "ro" : "rw")", path])
    }

    /// Writes zeros into `path/filler` until the file system is full.
    func fill() {
        let fd = open(path + "/filler", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { return }
        defer { close(fd) }
        let block = [UInt8](repeating: 0, count: 4096)
        while block.withUnsafeBytes({ write(fd, $0.baseAddress!, $0.count) }) > 0 {}
        // Fill the last partial block too.
        while block.withUnsafeBytes({ write(fd, $0.baseAddress!, 1) }) > 0 {}
    }

    func removeFiller() { try? FileManager.default.removeItem(atPath: path + "/filler") }

    func unmount() {
        _ = try? Self.mount(["-l", path], command: "/bin/umount")
        try? FileManager.default.removeItem(atPath: path)
    }

    private static func mount(_ arguments: [String], command: String = "/bin/mount") throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: command)
        p.arguments = arguments
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: "\(command) \(arguments) failed"])
        }
    }
}
