/// The data a pickle stream describes, as read by `SafePickleReader`: a plain value tree.
///
/// Only data survives: every value is one of Python's built-in data types, or an integer or
/// float decoded from an allowed numpy scalar. There are no object references, so shared
/// sub-objects in the stream come out as copies.
///
/// Python 2 `str` (pickled with BINSTRING / SHORT_BINSTRING) comes out as `.bytes`, since the
/// stream does not say which encoding it had; `matchesKey(_:)` treats ASCII bytes and strings
/// alike so callers can look up keys written by either Python version.
public enum PickleValue: Hashable, Sendable {
    /// Python's `None`.
    case none
    /// `True` or `False`.
    case bool(Bool)
    /// An integer (also a decoded numpy integer scalar); larger integers are refused by the reader.
    case int(Int64)
    /// A float (also a decoded numpy float scalar).
    case float(Double)
    /// `bytes`, or a Python 2 `str` (its encoding is not recorded in the stream).
    case bytes([UInt8])
    /// A unicode string.
    case string(String)
    /// A list, in order.
    case list([PickleValue])
    /// A tuple, in order.
    case tuple([PickleValue])
    /// Key/value pairs in stream order; a key set twice keeps its first position and last value,
    /// as a Python dict does.
    case dict([PickleDictEntry])
    /// A `numpy.dtype` left in the data itself (not consumed by a numpy scalar).
    case numpyDType(NumpyDType)

    /// The elements of a list or a tuple; nil for anything else.
    public var elements: [PickleValue]? {
        switch self {
        case .list(let items), .tuple(let items): return items
        default: return nil
        }
    }

    /// The value of an int or a bool (Python's bool is an int); nil for anything else.
    public var integerValue: Int64? {
        switch self {
        case .int(let value): return value
        case .bool(let value): return value ? 1 : 0
        default: return nil
        }
    }

    /// The pairs of a dict; nil for anything else.
    public var dictEntries: [PickleDictEntry]? {
        if case .dict(let entries) = self { return entries }
        return nil
    }

    /// True when this is the unicode string `key` or the Python 2 str (bytes) with its UTF-8.
    public func matchesKey(_ key: String) -> Bool {
        switch self {
        case .string(let text): return text == key
        case .bytes(let raw): return raw.elementsEqual(key.utf8)
        default: return false
        }
    }

    /// The value stored under `key` (unicode or Python 2 str) when this is a dict.
    public subscript(key: String) -> PickleValue? {
        dictEntries?.first(where: { $0.key.matchesKey(key) })?.value
    }

    /// A short name of the Python type, for error messages.
    public var typeName: String {
        switch self {
        case .none: return "None"
        case .bool: return "bool"
        case .int: return "int"
        case .float: return "float"
        case .bytes: return "bytes"
        case .string: return "str"
        case .list: return "list"
        case .tuple: return "tuple"
        case .dict: return "dict"
        case .numpyDType: return "numpy.dtype"
        }
    }
}

/// One key/value pair of a pickled dict.
public struct PickleDictEntry: Hashable, Sendable {
    /// The key (usually `.string` or `.bytes`).
    public var key: PickleValue
    /// The value stored under it.
    public var value: PickleValue

    /// A pair from its parts.
    public init(key: PickleValue, value: PickleValue) {
        self.key = key
        self.value = value
    }
}
