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

    /// The float code path this machine takes, e.g. "x86-64-v4 (AVX-512), OpenBLAS Cooperlake":
    /// the kernels' run-time-dispatched instruction-set level and OpenBLAS's GEMM core. Two
    /// machines with different paths train to slightly different numbers (README).
    public static var floatPath: String {
        let isa: String
        switch vh_isa_level() {
        case 4: isa = "x86-64-v4 (AVX-512)"
        case 3: isa = "x86-64-v3 (AVX2+FMA)"
        default: isa = "baseline"
        }
        return "\(isa), OpenBLAS \(String(cString: vh_blas_core()))"
    }
}
