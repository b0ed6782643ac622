import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The few POSIX file operations an atomic checkpoint save needs: write-and-fsync, directory
/// fsync, rename. Errors are ``DataFileError``s naming the path and `strerror(errno)`.
enum DurableFiles {
    static func errnoError(_ path: String, _ what: String) -> DataFileError {
        DataFileError(path: path, message: "\(what): \(String(cString: strerror(errno)))")
    }

    /// Creates `path` (which must not exist), writes `data`, fsyncs and closes it.
    static func writeFile(_ data: Data, to path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw errnoError(path, "cannot create") }
        var failure: DataFileError?
        data.withUnsafeBytes { raw in
            var done = 0
            while done < raw.count {
                let n = write(fd, raw.baseAddress! + done, raw.count - done)
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = errnoError(path, "cannot write")
                    return
                }
                done += n
            }
        }
        if failure == nil, fsync(fd) != 0 { failure = errnoError(path, "cannot fsync") }
        if close(fd) != 0, failure == nil { failure = errnoError(path, "cannot close") }
        if let failure { throw failure }
    }

    /// Flushes a directory's entries (new files, renames) to disk.
    static func syncDirectory(_ path: String) throws {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw errnoError(path, "cannot open directory") }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw errnoError(path, "cannot fsync directory") }
    }

    /// `rename(2)`: atomic within one file system.
    static func renameItem(_ from: String, to: String) throws {
        guard rename(from, to) == 0 else { throw errnoError(from, "cannot rename to \(to)") }
    }

    /// Random hex digits for temporary names (`randomSuffixLength` of them).
    static func randomSuffix() -> String {
        let v = UInt64.random(in: .min ... .max)
        let hex = String(v, radix: 16)
        return String(repeating: "0", count: randomSuffixLength - hex.count) + hex
    }
    static let randomSuffixLength = 16
}
