// Emission and latent densities: diagonal Gaussian and Bernoulli.
#include "vh_internal.h"
#define VH_TEMPLATE "vh_density_impl.h"
#include "vh_instantiate.h"
