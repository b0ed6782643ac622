// Linear layer (OpenBLAS GEMMs), activations, elementwise helpers and Adam.
#include "vh_internal.h"
#define VH_TEMPLATE "vh_linear_impl.h"
#include "vh_instantiate.h"
