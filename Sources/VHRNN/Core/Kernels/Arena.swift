/// A typed region of an ``Arena``: `count` values of `T` at a fixed byte offset.
struct ArenaSlot<T>: Sendable {
    let byteOffset: Int
    let count: Int
}

/// Where a workspace's buffers live inside its one allocation, computed once from the
/// configuration and capacity. The same layout answers "how many bytes" without allocating
/// (the memory checks) and places the buffers when the ``Arena`` is made.
///
/// Every slot starts on a 64-byte boundary (a cache line; also the alignment of any vector
/// width the kernels use), so buffers never share a line.
struct ArenaLayout: Sendable {
    static let alignment = 64
    private(set) var byteCount = 0

    /// Reserves `count` values of `T` (at least one, so every slot has a distinct address).
    mutating func reserve<T>(_: T.Type, count: Int) -> ArenaSlot<T> {
        precondition(count >= 0, "negative buffer size")
        let offset = (byteCount + Self.alignment - 1) / Self.alignment * Self.alignment
        byteCount = offset + max(count, 1) * MemoryLayout<T>.stride
        return ArenaSlot(byteOffset: offset, count: count)
    }

    /// Reserves `count` values of `T` if `present`, else nothing.
    mutating func reserve<T>(_ type: T.Type, count: Int, if present: Bool) -> ArenaSlot<T>? {
        present ? reserve(type, count: count) : nil
    }
}

/// One zero-filled allocation for all of a workspace's buffers, freed in one piece when the
/// arena goes away: no per-buffer allocations and no free lists to keep in step.
///
/// Access is scoped to the arena's lifetime: ``pointer(_:)`` hands out a pointer into the
/// arena for the kernels (valid while the arena is alive, which its owner guarantees by
/// holding it), ``withBuffer(_:_:)`` a buffer pointer for the duration of a closure.
final class Arena: @unchecked Sendable {
    let byteCount: Int
    private let base: UnsafeMutableRawPointer

    init(_ layout: ArenaLayout) {
        byteCount = max(layout.byteCount, 1)
        base = UnsafeMutableRawPointer.allocate(byteCount: byteCount, alignment: ArenaLayout.alignment)
        base.initializeMemory(as: UInt8.self, repeating: 0, count: byteCount)
    }

    deinit { base.deallocate() }

    /// The first value of `slot`. Trivial types only (scalars, indices, flags), so the
    /// zero-filled memory is a valid value of every slot.
    @inline(__always) func pointer<T>(_ slot: ArenaSlot<T>) -> UnsafeMutablePointer<T> {
        // Binding is free at run time; each region is only ever bound to its slot's type.
        (base + slot.byteOffset).bindMemory(to: T.self, capacity: max(slot.count, 1))
    }

    /// `slot` as a buffer for the duration of `body`.
    func withBuffer<T, R>(_ slot: ArenaSlot<T>, _ body: (UnsafeMutableBufferPointer<T>) throws -> R) rethrows -> R {
        try body(UnsafeMutableBufferPointer(start: pointer(slot), count: slot.count))
    }
}
