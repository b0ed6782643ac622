/// A block of activations inside a per-step slab: `rows × width` scalars at `offset`.
struct Slot: Sendable, Equatable {
    var offset: Int
    var width: Int
    static let none = Slot(offset: -1, width: 0)

    /// The same slot seen from row `row` on: where a block of rows starting there reads and
    /// writes (a team region's block of particle rows runs a whole step on its rows).
    func fromRow(_ row: Int) -> Slot { Slot(offset: offset + row * width, width: width) }
}

/// Lays out the activations one filter step writes (and its backward reads) in a flat slab.
///
/// Every slot has the same number of rows (sequences × particles), so a slot is an offset and a
/// width; the gradient slab uses the same layout, so `gradient(slot)` is the same offset in it.
struct SlabLayout {
    let rows: Int
    private(set) var size = 0

    init(rows: Int) { self.rows = rows }

    mutating func add(width: Int) -> Slot {
        let slot = Slot(offset: size, width: width)
        size += rows * width
        return slot
    }
}

extension UnsafeMutablePointer {
    @inline(__always) func at(_ slot: Slot) -> UnsafeMutablePointer<Pointee> { self + slot.offset }
}

extension UnsafeMutablePointer where Pointee: KernelScalar {
    /// Sets `count` scalars to +0 with one memset. (Generic `update(repeating:count:)` runs an
    /// element-by-element value-witness loop when the caller is not specialised.)
    @inline(__always) func zero(count: Int) {
        UnsafeMutableRawPointer(self).initializeMemory(as: UInt8.self, repeating: 0,
                                                       count: count * MemoryLayout<Pointee>.stride)
    }
}
