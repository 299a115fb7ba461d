/* compute_error.c: the GError domain of the compute layer. */
#include "compute/compute_error.h"

G_DEFINE_QUARK(tern-compute-error-quark, tern_compute_error)
