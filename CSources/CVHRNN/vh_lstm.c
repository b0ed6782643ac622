// LSTM cells: plain and Hadamard-scaled (VHRNN's g; see docs: VHRNN.docc/ModelArchitecture.md).
#include "vh_internal.h"
#define VH_TEMPLATE "vh_lstm_impl.h"
#include "vh_instantiate.h"
