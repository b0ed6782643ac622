import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Reads a whole file with POSIX calls: one `open`, `fstat` and `read` loop, one allocation of
/// the file's size. Every reader of outside bytes goes through here, so they share one set of
/// errors (not found, a directory, not a regular file, unreadable — each naming the file) and
/// none of Foundation's file paths (whose empty-file read leaks a 4 KiB buffer, found by
/// fuzzing with LeakSanitizer).
enum FileBytes {
    static func read(path: String) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let code = errno
            throw DataFileError(path: path, message: code == ENOENT ? "file not found" : "cannot read: \(String(cString: strerror(code)))")
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            throw DataFileError(path: path, message: "cannot read: \(String(cString: strerror(errno)))")
        }
        switch info.st_mode & S_IFMT {
        case S_IFREG: break
        case S_IFDIR: throw DataFileError(path: path, message: "is a directory, expected a file")
        default: throw DataFileError(path: path, message: "is not a regular file")
        }
        let size = Int(info.st_size)
        var bytes = [UInt8](repeating: 0, count: size)
        var filled = 0
        try bytes.withUnsafeMutableBytes { buffer in
            while filled < size {
                let n = Glibc.read(fd, buffer.baseAddress! + filled, size - filled)
                if n < 0, errno == EINTR { continue }
                guard n >= 0 else {
                    throw DataFileError(path: path, message: "cannot read: \(String(cString: strerror(errno)))")
                }
                guard n > 0 else {
                    throw DataFileError(path: path, message: "cannot read: the file shrank from \(size) to \(filled) bytes while being read")
                }
                filled += n
            }
        }
        return bytes
    }

    static func readData(path: String) throws -> Data { Data(try read(path: path)) }
}
