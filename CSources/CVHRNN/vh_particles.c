// Particle-filter kernels: decoder hyper-scaling, ancestor gather, log-sum-exp, ESS.
#include "vh_internal.h"

uint64_t vh_splitmix64_next(uint64_t *state) {
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

void vh_fill_uniform(double *out, size_t count, uint64_t *state) {
    for (size_t i = 0; i < count; i++) out[i] = (double)(vh_splitmix64_next(state) >> 11) * 0x1.0p-53;
}

#define VH_TEMPLATE "vh_particles_impl.h"
#include "vh_instantiate.h"
