/* bench/cpu.c: how fast the scheduler can check one guest CPU request
 * against 10,000 hosts with cpu/'s compact form, and how much memory a
 * host costs; against the alternatives: tern_cpu_compare on full TernCpu
 * values, and asking libvirt (virConnectCompareHypervisorCPU, one call per
 * host, when TERN_TEST_LIBVIRT_URI names a libvirtd).
 *
 *   bench/cpu [HOSTS]        (default 10000) */
#include <stdio.h>
#include <stdlib.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "cpu/cpu.h"

static double
median(double *v, int n)
{
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && v[j - 1] > v[j]; j--) {
            double t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    return v[n / 2];
}

static void
quiet(void *data, virErrorPtr err)
{
}

int
main(int argc, char **argv)
{
    int nhosts = argc > 1 ? atoi(argv[1]) : 10000;
    if (nhosts <= 0)
        nhosts = 10000;
    g_autoptr(GError) err = NULL;
    const TernCpuDb *db = tern_cpu_db_get(&err);
    if (!db) {
        fprintf(stderr, "bench/cpu: %s\n", err->message);
        return 1;
    }
    /* Hosts: random cpu_map x86 models with a few extra features, one in
     * eight a POWER host, as a mixed cloud. */
    const char *const *models = tern_cpu_db_models(db, TERN_CPU_ARCH_X86_64);
    guint nmodels = g_strv_length((char **) models);
    guint nfeat = g_strv_length((char **) tern_cpu_db_features(db, TERN_CPU_ARCH_X86_64));
    const char *powers[] = { "POWER8", "POWER9", "POWER10" };
    GRand *rand = g_rand_new_with_seed(42);
    TernCpu **full = g_new0(TernCpu *, nhosts);
    TernCpuCompact *hosts = g_new0(TernCpuCompact, nhosts);
    for (int i = 0; i < nhosts; i++) {
        if (i % 8 == 7) {
            full[i] = tern_cpu_from_model(db, TERN_CPU_ARCH_PPC64LE, TERN_CPU_MODE_HOST,
                                          powers[g_rand_int_range(rand, 0, 3)], NULL, &err);
        } else {
            full[i] = tern_cpu_from_model(db, TERN_CPU_ARCH_X86_64, TERN_CPU_MODE_HOST,
                                          models[g_rand_int_range(rand, 0, (gint32) nmodels)],
                                          NULL, &err);
            for (int k = 0; k < 6; k++)
                tern_cpu_set_add(&full[i]->features,
                                 (guint) g_rand_int_range(rand, 0, (gint32) nfeat));
        }
        g_assert_no_error(err);
        tern_cpu_compact(db, full[i], &hosts[i]);
    }
    const char *flags[] = { "+md-clear", NULL };
    g_autoptr(TernCpu) guest = tern_cpu_from_model(db, TERN_CPU_ARCH_X86_64, TERN_CPU_MODE_CUSTOM,
                                                   "Skylake-Client-IBRS", flags, &err);
    g_assert_no_error(err);
    TernCpuCompact req;
    tern_cpu_compact(db, guest, &req);

    enum { RUNS = 31 };
    double t_compact[RUNS], t_full[RUNS];
    int fits = 0, fits_full = 0;
    for (int r = 0; r < RUNS; r++) {
        gint64 t0 = g_get_monotonic_time();
        int n = 0;
        for (int i = 0; i < nhosts; i++)
            n += tern_cpu_compact_satisfies(&hosts[i], &req);
        gint64 t1 = g_get_monotonic_time();
        int m = 0;
        for (int i = 0; i < nhosts; i++)
            m += tern_cpu_compare(db, full[i], guest, NULL, NULL) != TERN_CPU_INCOMPATIBLE;
        gint64 t2 = g_get_monotonic_time();
        t_compact[r] = (double) (t1 - t0);
        t_full[r] = (double) (t2 - t1);
        fits = n;
        fits_full = m;
    }
    double mc = median(t_compact, RUNS), mf = median(t_full, RUNS);
    printf("cpu bench: one request (Skylake-Client-IBRS +md-clear) against %d hosts "
           "(median of %d runs)\n", nhosts, RUNS);
    printf("  compact check (tern_cpu_compact_satisfies): %.1f us per scan, %.1f ns per host, "
           "%d hosts fit\n", mc, mc * 1000.0 / nhosts, fits);
    printf("  full compare (tern_cpu_compare):            %.1f us per scan, %.1f ns per host, "
           "%d hosts fit (%s)\n", mf, mf * 1000.0 / nhosts, fits_full,
           fits == fits_full ? "same answer" : "DIFFERENT ANSWER");
    printf("  ratio full/compact: %.1fx\n", mc > 0 ? mf / mc : 0.0);
    printf("  memory per host: %zu bytes compact (%.2f MB for 100,000 hosts); %zu bytes as "
           "TernCpu + model name\n", sizeof(TernCpuCompact),
           sizeof(TernCpuCompact) * 100000.0 / 1e6, sizeof(TernCpu) + 24);

    const char *uri = g_getenv("TERN_TEST_LIBVIRT_URI");
    if (uri && *uri) {
        virSetErrorFunc(NULL, quiet);
        virConnectPtr conn = virConnectOpen(uri);
        g_autofree char *xml = tern_cpu_guest_xml(db, guest, NULL);
        if (conn && xml) {
            enum { CALLS = 200 };
            gint64 t0 = g_get_monotonic_time();
            for (int i = 0; i < CALLS; i++)
                virConnectCompareHypervisorCPU(conn, NULL, "x86_64", NULL, "qemu", xml, 0);
            double per = (double) (g_get_monotonic_time() - t0) / CALLS;
            printf("  libvirt virConnectCompareHypervisorCPU: %.1f us per call, %.2f s for %d "
                   "hosts (%.0fx the compact scan)\n", per, per * nhosts / 1e6, nhosts,
                   mc > 0 ? per * nhosts / mc : 0.0);
        }
        if (conn)
            virConnectClose(conn);
    } else {
        printf("  libvirt comparison skipped (set TERN_TEST_LIBVIRT_URI)\n");
    }
    for (int i = 0; i < nhosts; i++)
        tern_cpu_free(full[i]);
    g_free(full);
    g_free(hosts);
    g_rand_free(rand);
    return fits == fits_full ? 0 : 1;
}
