internal import CVHRNN

/// The kernels' threading: which parallel backend was compiled in and how many threads the
/// parallel-for and OpenBLAS use.
public enum KernelRuntime {
    /// "openmp" (built with VHRNN_OPENMP=1) or "dispatch" (the default, libdispatch).
    public static var parallelBackend: String { String(cString: vh_parallel_backend()) }

    /// Threads the kernels' parallel-for uses. Setting 0 restores the default
    /// (`VHRNN_THREADS`, else OpenMP's default or the number of online cores).
    public static var threadCount: Int {
        get { Int(vh_thread_count()) }
        set { vh_set_thread_count(Int32(newValue)) }
    }

    /// Threads OpenBLAS uses for GEMMs.
    public static var blasThreadCount: Int {
        get { Int(vh_blas_thread_count()) }
        set { vh_set_blas_threads(Int32(newValue)) }
    }
}
