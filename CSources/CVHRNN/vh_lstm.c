// LSTM cells: plain and Hadamard-scaled (VHRNN's g, DESIGN §3).
#include "vh_internal.h"
#define VH_TEMPLATE "vh_lstm_impl.h"
#include "vh_instantiate.h"
