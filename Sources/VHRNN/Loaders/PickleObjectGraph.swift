/// The objects a pickle stream builds while it runs, before they become a `PickleValue` tree.
///
/// Lists, dicts and dtypes are classes because the stream mutates them after storing them in
/// the memo (EMPTY_LIST, BINPUT, ..., APPENDS; dtype REDUCE, BINPUT, BUILD): a later GET must
/// see the filled object, as in Python.
///
/// Safety rule: once a list or dict is placed inside another container it is *frozen* and can
/// no longer be modified. Python's pickler always finishes a container before its parent
/// adopts it, so real data never trips this; what it rules out is recursive structures
/// (cycles), which would make the tree infinite, and it keeps each container's recorded
/// `depth` exact, so the nesting cap bounds every recursion over the tree (conversion and
/// deallocation alike).
enum PickleStackItem {
    /// A scalar leaf: none, bool, int, float, bytes or string. Never a container.
    case value(PickleValue)
    /// Tuples are immutable, so they are stored inline with their nesting depth.
    case tuple([PickleStackItem], depth: Int)
    case list(PickleListBox)
    case dict(PickleDictBox)
    case dtype(PickleDTypeBox)
    /// One of the allowed callables, waiting for REDUCE.
    case global(PickleAllowedGlobal)

    /// How deeply containers nest inside this item (a scalar is 0, an empty list 1).
    var depth: Int {
        switch self {
        case .value, .dtype, .global: return 0
        case .tuple(_, let depth): return depth
        case .list(let box): return box.depth
        case .dict(let box): return box.depth
        }
    }

    /// A short description for error messages.
    var typeName: String {
        switch self {
        case .value(let value): return value.typeName
        case .tuple: return "tuple"
        case .list: return "list"
        case .dict: return "dict"
        case .dtype: return "numpy.dtype"
        case .global(let global): return "global \(global.qualifiedName)"
        }
    }
}

/// A list under construction.
final class PickleListBox {
    var items: [PickleStackItem] = []
    var depth = 1
    /// Set when the list is placed inside another container; see `PickleStackItem`.
    var frozen = false
}

/// A dict under construction. Keys are converted to values on insertion (Python requires them
/// hashable, hence immutable); `index` makes repeated keys replace in O(1), as in Python.
final class PickleDictBox {
    var keys: [PickleValue] = []
    var values: [PickleStackItem] = []
    var index: [PickleValue: Int] = [:]
    var depth = 1
    var frozen = false
}

/// A numpy dtype; a class because BUILD updates it after the memo has stored it.
final class PickleDTypeBox {
    var dtype: NumpyDType
    init(_ dtype: NumpyDType) { self.dtype = dtype }
}

/// The only globals a stream may name. Nothing is ever looked up or called: REDUCE on these
/// is interpreted by the reader itself.
enum PickleAllowedGlobal {
    /// `numpy.core.multiarray.scalar` (numpy 1) or `numpy._core.multiarray.scalar` (numpy 2).
    case numpyScalar
    /// `numpy.dtype`.
    case numpyDType

    /// Resolves a (module, name) pair from GLOBAL or STACK_GLOBAL; nil means refused.
    init?<M: Collection, N: Collection>(module: M, name: N)
    where M.Element == UInt8, N.Element == UInt8 {
        if name.elementsEqual("scalar".utf8),
           module.elementsEqual("numpy.core.multiarray".utf8)
            || module.elementsEqual("numpy._core.multiarray".utf8) {
            self = .numpyScalar
        } else if name.elementsEqual("dtype".utf8), module.elementsEqual("numpy".utf8) {
            self = .numpyDType
        } else {
            return nil
        }
    }

    var qualifiedName: String {
        switch self {
        case .numpyScalar: return "numpy.core.multiarray.scalar"
        case .numpyDType: return "numpy.dtype"
        }
    }
}
