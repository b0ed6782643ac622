import Foundation

/// The per-process folder the path-based readers read from: each fuzz input is written into it
/// as the file(s) a user would hand the reader, then read back through the public API.
/// Lives in /dev/shm when it exists, so the write is a memory copy, not disk traffic.
final class ScratchDirectory {
    let path: String

    init() {
        let base = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
        path = base + "/vhrnn-fuzz-\(getpid())"
        try? FileManager.default.removeItem(atPath: path)
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// `path/name`.
    func file(_ name: String) -> String { path + "/" + name }

    /// An empty folder `path/name` (removed and recreated), for readers that take a directory.
    func emptyFolder(_ name: String) -> String {
        let folder = file(name)
        try? FileManager.default.removeItem(atPath: folder)
        try! FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        return folder
    }

    func write(_ bytes: [UInt8], to path: String) {
        guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else {
            fatalError("fuzz harness: cannot write \(path)")
        }
    }
}

/// Several files in one fuzz input: the parts are separated by ``marker``. Seeds are written
/// joined by it, so mutations mostly keep the split and reach each part's reader; an input
/// with fewer markers leaves the later parts empty.
enum MultiPart {
    static let marker: [UInt8] = Array("\u{0}VHFUZZ\u{0}".utf8)

    static func split(_ bytes: [UInt8], parts: Int) -> [[UInt8]] {
        var result: [[UInt8]] = []
        var start = 0, i = 0
        while result.count < parts - 1, i + marker.count <= bytes.count {
            if bytes[i] == marker[0], bytes[i..<(i + marker.count)].elementsEqual(marker) {
                result.append(Array(bytes[start..<i]))
                i += marker.count
                start = i
            } else {
                i += 1
            }
        }
        result.append(Array(bytes[start...]))
        while result.count < parts { result.append([]) }
        return result
    }

    static func join(_ parts: [[UInt8]]) -> [UInt8] {
        var out: [UInt8] = []
        for (i, p) in parts.enumerated() {
            if i > 0 { out += marker }
            out += p
        }
        return out
    }
}
