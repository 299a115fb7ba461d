/* scheduler-core.c: the scheduler core alone (no RabbitMQ, no database):
 * filters + weighers of one request (x86_64 + md-clear, 1 vCPU, 512 MB)
 * over an in-memory fleet of N hosts built like sched-fleet bulk.
 *
 *   scheduler-core N [DECISIONS]
 * prints wall-clock and thread CPU time per decision (p50, p99). */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "scheduler/sched_select.h"

/* CPU time of this thread, µs: the machine is shared, wall time is not
 * ours alone. */
static double
cpu_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double) ts.tv_sec * 1e6 + (double) ts.tv_nsec / 1e3;
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: scheduler-core N [DECISIONS]\n");
        return 2;
    }
    guint n = (guint) atoi(argv[1]);
    guint reps = argc > 2 ? (guint) atoi(argv[2]) : 200;
    g_autoptr(GError) err = NULL;
    const TernCpuDb *cpudb = tern_cpu_db_get(&err);
    if (!cpudb) {
        fprintf(stderr, "%s\n", err->message);
        return 1;
    }
    const char *x86[] = { "Haswell-noTSX-IBRS", "Broadwell-noTSX-IBRS", "Skylake-Client-IBRS",
                          "Skylake-Server-IBRS", "Cascadelake-Server", "Icelake-Server" };
    const char *ppc[] = { "POWER8", "POWER9" };
    TernCpuCompact cx[6][2], cp[2];
    for (guint i = 0; i < 6; i++)
        for (int m = 0; m < 2; m++) {
            const char *flags[] = { m ? "md-clear" : NULL, NULL };
            g_autoptr(TernCpu) c = tern_cpu_from_model(cpudb, TERN_CPU_ARCH_X86_64,
                                                       TERN_CPU_MODE_HOST, x86[i], flags, &err);
            tern_cpu_compact(cpudb, c, &cx[i][m]);
        }
    for (guint i = 0; i < 2; i++) {
        g_autoptr(TernCpu) c = tern_cpu_from_model(cpudb, TERN_CPU_ARCH_PPC64LE,
                                                   TERN_CPU_MODE_HOST, ppc[i], NULL, &err);
        tern_cpu_compact(cpudb, c, &cp[i]);
    }
    g_autoptr(TernSchedCache) cache = tern_sched_cache_new();
    g_autoptr(GPtrArray) hosts = g_ptr_array_new_with_free_func((GDestroyNotify) tern_sched_host_free);
    GRand *rnd = g_rand_new_with_seed(42);
    gint64 now = g_get_real_time();
    for (guint i = 0; i < n; i++) {
        TernSchedHost *h = tern_sched_host_new();
        h->host = g_strdup_printf("b%06u", i);
        h->nodename = g_strdup(h->host);
        h->uuid = g_uuid_string_random();
        gboolean power = g_rand_int_range(rnd, 0, 8) == 0;
        TernCpuArch arch = power ? TERN_CPU_ARCH_PPC64LE : TERN_CPU_ARCH_X86_64;
        h->arch = (guint8) arch;
        h->triples = tern_sched_triple_bit(arch, TERN_SCHED_HV_QEMU, TERN_SCHED_VM_HVM) |
                     tern_sched_triple_bit(arch, TERN_SCHED_HV_KVM, TERN_SCHED_VM_HVM);
        h->guest_cpu = h->host_cpu = power ? cp[g_rand_int_range(rnd, 0, 2)]
                                           : cx[g_rand_int_range(rnd, 0, 6)][g_rand_int_range(rnd, 0, 2)];
        h->has_service = TRUE;
        h->last_seen_up = now;
        h->vcpus = 16 << g_rand_int_range(rnd, 0, 3);
        h->memory_mb = 65536 << g_rand_int_range(rnd, 0, 3);
        h->local_gb = 500 + g_rand_int_range(rnd, 0, 1500);
        h->cpu_ratio = 16.0;
        h->ram_ratio = 1.5;
        h->disk_ratio = 1.0;
        tern_sched_host_finish(h);
        g_ptr_array_add(hosts, h);
    }
    g_rand_free(rnd);
    tern_sched_cache_replace_all(cache, hosts);

    g_autoptr(TernSchedRequest) r = tern_sched_request_new();
    r->vcpus = 1;
    r->memory_mb = 512;
    r->disk_gb = 1;
    r->arch_name = g_strdup("x86_64");
    r->arch = TERN_CPU_ARCH_X86_64;
    r->triples_mask = tern_sched_request_triples_mask("x86_64", FALSE, NULL, NULL);
    const char *flags[] = { "md-clear", NULL };
    g_autoptr(TernCpu) want = tern_cpu_new(TERN_CPU_ARCH_X86_64, TERN_CPU_MODE_CUSTOM);
    int bit = tern_cpu_db_feature_index(cpudb, TERN_CPU_ARCH_X86_64, flags[0]);
    tern_cpu_set_add(&want->features, (guint) bit);
    tern_cpu_set_add(&r->cpu_extra, (guint) bit);
    tern_cpu_compact(cpudb, want, &r->cpu);
    r->has_cpu = TRUE;

    const char *names[] = { "ComputeFilter", "AvailabilityZoneFilter", "ImagePropertiesFilter",
                            "RamFilter", "CoreFilter", "DiskFilter", "CpuModelFilter", NULL };
    g_autoptr(GPtrArray) filters = tern_sched_filters_from_names(names, &err);
    TernSchedPolicy p = { .filters = filters, .mult = { .ram = 1.0, .cpu = 1.0, .disk = 1.0 }, .host_subset_size = 1,
                          .max_attempts = 3, .down_time = 60, .default_az = "nova",
                          .cpudb = cpudb };
    double *t = g_new(double, reps);
    double *c = g_new(double, reps);
    for (guint i = 0; i < reps; i++) {
        g_autoptr(GPtrArray) out = NULL;
        gint64 t0 = g_get_monotonic_time();
        double c0 = cpu_us();
        if (tern_sched_select(cache, &p, r, NULL, 0, TRUE, &out, &err) < 0) {
            fprintf(stderr, "%s\n", err->message);
            return 1;
        }
        t[i] = (double) (g_get_monotonic_time() - t0);
        c[i] = cpu_us() - c0;
    }
    qsort(t, reps, sizeof(double), cmp_double);
    qsort(c, reps, sizeof(double), cmp_double);
    printf("hosts=%u decisions=%u wall_p50_us=%.1f wall_p99_us=%.1f cpu_p50_us=%.1f "
           "cpu_p99_us=%.1f cpu_ns_per_host=%.1f\n", n, reps, t[reps / 2],
           t[(guint) ((reps - 1) * 0.99)], c[reps / 2], c[(guint) ((reps - 1) * 0.99)],
           c[reps / 2] * 1000.0 / n);
    g_free(t);
    g_free(c);
    return 0;
}
