import VHRNN
print("backend \(KernelRuntime.parallelBackend) threads \(KernelRuntime.threadCount)")
