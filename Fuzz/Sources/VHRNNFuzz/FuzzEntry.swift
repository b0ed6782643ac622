import Foundation
import VHRNN

// libFuzzer's entry points. The target is chosen by VHRNN_FUZZ_TARGET (one binary, one build,
// every reader); VHRNN_FUZZ_WRITE_SEEDS=DIR writes the target's harness-made seeds into DIR and
// exits. scripts/fuzz.sh drives both.

/// The longest error description accepted: readers quote at most an excerpt of a hostile value.
let maximumErrorLength = 1500

nonisolated(unsafe) var selectedTarget: FuzzTarget!
nonisolated(unsafe) var scratch: ScratchDirectory!

@_cdecl("LLVMFuzzerInitialize")
public func fuzzerInitialize(_ argc: UnsafeMutablePointer<CInt>,
                             _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> CInt {
    let environment = ProcessInfo.processInfo.environment
    let names = FuzzTarget.all.map(\.name)
    guard let name = environment["VHRNN_FUZZ_TARGET"], let target = FuzzTarget.all.first(where: { $0.name == name }) else {
        FileHandle.standardError.write(Data("set VHRNN_FUZZ_TARGET to one of: \(names.joined(separator: ", "))\n".utf8))
        for t in FuzzTarget.all { FileHandle.standardError.write(Data("  \(t.name): \(t.summary)\n".utf8)) }
        exit(2)
    }
    selectedTarget = target
    scratch = ScratchDirectory()
    if let seedDirectory = environment["VHRNN_FUZZ_WRITE_SEEDS"] {
        do {
            try FileManager.default.createDirectory(atPath: seedDirectory, withIntermediateDirectories: true)
            for seed in try target.seeds(scratch) {
                try Data(seed.bytes).write(to: URL(fileURLWithPath: seedDirectory + "/harness-" + seed.name))
            }
        } catch {
            FileHandle.standardError.write(Data("cannot write seeds: \(error)\n".utf8))
            exit(1)
        }
        scratch = nil
        exit(0)
    }
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let bytes = count == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: count))
    do {
        try selectedTarget.run(bytes, scratch)
    } catch {
        // A refusal is fine; it must be one bounded line.
        let text = String(describing: error)
        if text.utf8.count > maximumErrorLength {
            fatalError("error message of \(text.utf8.count) bytes: \(text.prefix(300))…")
        }
        if text.contains("\n") {
            fatalError("error message spans lines: \(text.prefix(300))")
        }
    }
    return 0
}
