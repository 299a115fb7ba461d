/* cpu_compare.c: compare results and their names (the algorithms are per
 * arch, in the drivers; tern_cpu_compare in cpu.c dispatches). */
#include "cpu/cpu_db.h"

const char *
tern_cpu_compare_result_name(TernCpuCompareResult r)
{
    switch (r) {
    case TERN_CPU_INCOMPATIBLE: return "incompatible";
    case TERN_CPU_IDENTICAL: return "identical";
    case TERN_CPU_SUPERSET: return "superset";
    }
    return "?";
}

void
tern_cpu_comparison_clear(TernCpuComparison *c)
{
    g_clear_pointer(&c->reason, g_free);
}
