/* sched_error.c: the scheduler's error domain. */
#include "scheduler/sched_error.h"

G_DEFINE_QUARK(tern-sched-error-quark, tern_sched_error)
