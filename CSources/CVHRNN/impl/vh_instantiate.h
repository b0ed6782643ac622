// vh_instantiate.h — stamps out a kernel family for both precisions.
// Usage in a .c file:   #define VH_TEMPLATE "vh_lstm_impl.h"
//                       #include "vh_instantiate.h"
// The template is written once against VH_REAL, VH_FN(name) and the math macros below;
// VH_HOT marks the functions worth cloning per instruction set (float only).
#ifndef VH_TEMPLATE
#error "define VH_TEMPLATE before including vh_instantiate.h"
#endif

// float (speed): the branch-free vectorisable functions of vh_fastmath.h, and the hot loops
// cloned for AVX-512 / AVX2+FMA / baseline, picked at load time (VH_HOT, vh_internal.h).
#define VH_REAL float
#define VH_FN(name) name##_f32
#define VH_FASTMATH 1
#define VH_HOT VH_TARGET_CLONES
#define VH_SIMD_MATH _Pragma("clang loop vectorize(assume_safety) vectorize_predicate(enable)")
#define VH_EXP vh_fast_expf
#define VH_LOG vh_fast_logf
#define VH_TANH vh_fast_tanhf
#define VH_SQRT vh_fast_sqrtf
#define VH_FABS fabsf
#define VH_GEMM cblas_sgemm
#define VH_LOG_2PI 1.8378770664093453f
#include VH_TEMPLATE
#undef VH_REAL
#undef VH_FN
#undef VH_FASTMATH
#undef VH_HOT
#undef VH_SIMD_MATH
#undef VH_EXP
#undef VH_LOG
#undef VH_TANH
#undef VH_SQRT
#undef VH_FABS
#undef VH_GEMM
#undef VH_LOG_2PI

// double (verification): libm, one code path.
#define VH_REAL double
#define VH_FN(name) name##_f64
#define VH_FASTMATH 0
#define VH_HOT
#define VH_SIMD_MATH
#define VH_EXP exp
#define VH_LOG log
#define VH_LOG1P log1p
#define VH_TANH tanh
#define VH_SQRT sqrt
#define VH_FABS fabs
#define VH_GEMM cblas_dgemm
#define VH_LOG_2PI 1.8378770664093453
#include VH_TEMPLATE
#undef VH_REAL
#undef VH_FN
#undef VH_FASTMATH
#undef VH_HOT
#undef VH_SIMD_MATH
#undef VH_EXP
#undef VH_LOG
#undef VH_LOG1P
#undef VH_TANH
#undef VH_SQRT
#undef VH_FABS
#undef VH_GEMM
#undef VH_LOG_2PI

#undef VH_TEMPLATE
