// GRU cells: plain and Hadamard-scaled (the GRU variant of VHRNN, paper appendix D).
#include "vh_internal.h"
#define VH_TEMPLATE "vh_gru_impl.h"
#include "vh_instantiate.h"
