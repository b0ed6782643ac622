// Particle-filter kernels: decoder hyper-scaling, ancestor gather, log-sum-exp, ESS.
#include "vh_internal.h"
#define VH_TEMPLATE "vh_particles_impl.h"
#include "vh_instantiate.h"
