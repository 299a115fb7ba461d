/* test-cpu-libvirt.c: cpu/ against real libvirt, the final word.
 *  (a) every model of cpu_map (x86 and ppc64): tern's expanded feature set
 *      equals virConnectBaselineCPU(EXPAND_FEATURES) on test:///default;
 *  (b) the baseline of random host sets equals libvirt's (same model,
 *      vendor, required and disabled features);
 *  (c) every x86 model x each mitigation flag: tern's compare against this
 *      machine's hypervisor CPU (domain capabilities host-model, for kvm and
 *      for qemu/TCG) agrees with virConnectCompareHypervisorCPU on a real
 *      libvirtd (TERN_TEST_LIBVIRT_URI; skipped when unset);
 *  (d) every x86 model x feature policies (require, force, disable, forbid):
 *      tern_cpu_compare against the host CPU of that libvirtd's capabilities
 *      agrees with virConnectCompareCPU.
 * Every disagreement is printed with both answers and fails the test. */
#include <string.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "cpu/cpu.h"

static const TernCpuDb *db;

static void
quiet_errors(void *data, virErrorPtr err)
{
}

static virConnectPtr
open_test_driver(void)
{
    virConnectPtr conn = virConnectOpen("test:///default");
    g_assert_nonnull(conn);
    return conn;
}

/* The features libvirt's result enables (require), as a tern set. */
static TernCpu *
parse_libvirt(const char *xml, TernCpuArch arch)
{
    g_autoptr(GError) err = NULL;
    TernCpu *cpu = tern_cpu_from_xml(db, xml, arch, &err);
    if (!cpu)
        g_error("cannot read libvirt's answer (%s):\n%s", err->message, xml);
    return cpu;
}

static void
test_expand_models(void)
{
    virConnectPtr conn = open_test_driver();
    const TernCpuArch arches[] = { TERN_CPU_ARCH_X86_64, TERN_CPU_ARCH_PPC64LE };
    guint checked = 0, bad = 0;
    for (guint a = 0; a < G_N_ELEMENTS(arches); a++) {
        const char *const *models = tern_cpu_db_models(db, arches[a]);
        for (int i = 0; models[i]; i++) {
            g_autoptr(GError) err = NULL;
            g_autoptr(TernCpu) cpu = tern_cpu_from_model(db, arches[a], TERN_CPU_MODE_HOST,
                                                         models[i], NULL, &err);
            g_assert_no_error(err);
            const char *vendor = tern_cpu_db_model_vendor(db, arches[a], models[i]);
            cpu->vendor = g_strdup(vendor);
            g_autofree char *in = tern_cpu_host_xml(db, cpu, &err);
            g_assert_no_error(err);
            const char *xmls[] = { in };
            g_autofree char *out = virConnectBaselineCPU(conn, xmls, 1,
                                                         VIR_CONNECT_BASELINE_CPU_EXPAND_FEATURES);
            if (!out) {
                g_printerr("# %s: libvirt cannot expand it: %s\n", models[i],
                           virGetLastErrorMessage());
                bad++;
                continue;
            }
            g_autoptr(TernCpu) lv = parse_libvirt(out, arches[a]);
            checked++;
            if (!tern_cpu_set_equal(&lv->features, &cpu->features) ||
                (arches[a] != TERN_CPU_ARCH_X86_64 && g_strcmp0(lv->model, cpu->model) != 0)) {
                TernCpuFeatureSet only_lv, only_tern;
                tern_cpu_set_minus(&only_lv, &lv->features, &cpu->features);
                tern_cpu_set_minus(&only_tern, &cpu->features, &lv->features);
                g_autofree char *l = tern_cpu_feature_list(db, arches[a], &only_lv);
                g_autofree char *t = tern_cpu_feature_list(db, arches[a], &only_tern);
                g_printerr("# DISAGREE expand %s: libvirt (model %s) has [%s] tern lacks; "
                           "tern (model %s) has [%s] libvirt lacks\n", models[i], lv->model, l,
                           cpu->model, t);
                bad++;
            }
        }
    }
    g_printerr("# expanded %u models, %u disagreements\n", checked, bad);
    g_assert_cmpuint(checked, >, 150);
    g_assert_cmpuint(bad, ==, 0);
    virConnectClose(conn);
}

/* A random x86 host: a model of the vendor, maybe with features added
 * or dropped (real hosts are rarely exactly a model). */
static TernCpu *
random_host(GRand *rand, const char *vendor)
{
    const char *const *models = tern_cpu_db_models(db, TERN_CPU_ARCH_X86_64);
    const char *const *features = tern_cpu_db_features(db, TERN_CPU_ARCH_X86_64);
    guint nmodels = g_strv_length((char **) models), nfeat = g_strv_length((char **) features);
    for (;;) {
        const char *m = models[g_rand_int_range(rand, 0, (gint32) nmodels)];
        const char *mv = tern_cpu_db_model_vendor(db, TERN_CPU_ARCH_X86_64, m);
        if (g_strcmp0(mv, vendor) != 0)
            continue;
        g_autoptr(GError) err = NULL;
        TernCpu *cpu = tern_cpu_from_model(db, TERN_CPU_ARCH_X86_64, TERN_CPU_MODE_HOST, m,
                                           NULL, &err);
        g_assert_no_error(err);
        cpu->vendor = g_strdup(vendor);
        for (int k = g_rand_int_range(rand, 0, 4); k > 0; k--)
            tern_cpu_set_add(&cpu->features, (guint) g_rand_int_range(rand, 0, (gint32) nfeat));
        return cpu;
    }
}

static void
test_baseline_random(void)
{
    virConnectPtr conn = open_test_driver();
    guint32 seed = 20261122;
    if (g_getenv("TERN_TEST_SEED"))
        seed = (guint32) g_ascii_strtoull(g_getenv("TERN_TEST_SEED"), NULL, 10);
    g_printerr("# seed %u (TERN_TEST_SEED to repeat)\n", seed);
    GRand *rand = g_rand_new_with_seed(seed);
    const char *vendors[] = { "Intel", "AMD" };
    guint sets = 300, bad = 0, errors_agree = 0;
    for (guint s = 0; s < sets; s++) {
        guint n = (guint) g_rand_int_range(rand, 1, 5);
        const char *vendor = vendors[g_rand_int_range(rand, 0, 2)];
        g_autoptr(GPtrArray) hosts = g_ptr_array_new_with_free_func((GDestroyNotify) tern_cpu_free);
        g_autoptr(GPtrArray) xmls = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GString) desc = g_string_new(NULL);
        for (guint i = 0; i < n; i++) {
            TernCpu *h = random_host(rand, vendor);
            g_ptr_array_add(hosts, h);
            g_ptr_array_add(xmls, tern_cpu_host_xml(db, h, NULL));
            g_string_append_printf(desc, "%s%s", i ? " + " : "", h->model);
        }
        g_autoptr(GError) err = NULL;
        g_autoptr(TernCpu) ours = tern_cpu_baseline(db, (const TernCpu *const *) hosts->pdata, n,
                                                    &err);
        g_autofree char *out = virConnectBaselineCPU(conn, (const char **) xmls->pdata, n, 0);
        if (!out || !ours) {
            if (!out && !ours) {
                errors_agree++;
                continue;
            }
            g_printerr("# DISAGREE baseline %s: libvirt %s; tern %s\n", desc->str,
                       out ? out : virGetLastErrorMessage(), ours ? ours->model : err->message);
            bad++;
            continue;
        }
        g_autoptr(TernCpu) lv = parse_libvirt(out, TERN_CPU_ARCH_X86_64);
        if (g_strcmp0(lv->model, ours->model) != 0 || g_strcmp0(lv->vendor, ours->vendor) != 0 ||
            !tern_cpu_set_equal(&lv->required, &ours->required) ||
            !tern_cpu_set_equal(&lv->disabled, &ours->disabled)) {
            g_autofree char *lr = tern_cpu_feature_list(db, TERN_CPU_ARCH_X86_64, &lv->required);
            g_autofree char *ld = tern_cpu_feature_list(db, TERN_CPU_ARCH_X86_64, &lv->disabled);
            g_autofree char *tr = tern_cpu_feature_list(db, TERN_CPU_ARCH_X86_64, &ours->required);
            g_autofree char *td = tern_cpu_feature_list(db, TERN_CPU_ARCH_X86_64, &ours->disabled);
            g_printerr("# DISAGREE baseline %s:\n#   libvirt %s/%s +[%s] -[%s]\n"
                       "#   tern    %s/%s +[%s] -[%s]\n", desc->str, lv->model,
                       lv->vendor ? lv->vendor : "-", lr, ld, ours->model,
                       ours->vendor ? ours->vendor : "-", tr, td);
            bad++;
        }
    }
    g_printerr("# %u random baselines (%u refused by both), %u disagreements\n", sets,
               errors_agree, bad);
    g_assert_cmpuint(bad, ==, 0);
    g_rand_free(rand);
    virConnectClose(conn);
}

static const char *const mitigations[] = {
    NULL, "pcid", "ssbd", "virt-ssbd", "amd-ssbd", "md-clear", "spec-ctrl", "stibp", "ibpb",
    "pdpe1gb",
};

static void
test_compare_hypervisor(void)
{
    const char *uri = g_getenv("TERN_TEST_LIBVIRT_URI");
    if (!uri || !*uri) {
        g_test_skip("TERN_TEST_LIBVIRT_URI is not set (scripts/services start libvirt)");
        return;
    }
    virConnectPtr conn = virConnectOpen(uri);
    g_assert_nonnull(conn);
    g_autofree char *caps = virConnectGetCapabilities(conn);
    g_assert_nonnull(caps);
    const char *virt_types[] = { "kvm", "qemu" };
    guint pairs = 0, bad = 0;
    for (guint v = 0; v < G_N_ELEMENTS(virt_types); v++) {
        g_autofree char *domcaps = virConnectGetDomainCapabilities(conn, NULL, "x86_64", NULL,
                                                                    virt_types[v], 0);
        if (!domcaps) {
            g_printerr("# no %s domain capabilities here: %s\n", virt_types[v],
                       virGetLastErrorMessage());
            continue;
        }
        g_autoptr(GError) err = NULL;
        g_autoptr(TernCpuHost) host = tern_cpu_host_from_xml(db, caps, domcaps, &err);
        g_assert_no_error(err);
        if (!host->host_model) {
            g_printerr("# %s: no usable host-model CPU in domain capabilities\n", virt_types[v]);
            continue;
        }
        g_printerr("# %s hypervisor CPU: %s + %u features\n", virt_types[v],
                   host->host_model->model, tern_cpu_set_count(&host->host_model->features));
        const char *const *models = tern_cpu_db_models(db, TERN_CPU_ARCH_X86_64);
        for (int i = 0; models[i]; i++) {
            for (guint f = 0; f < G_N_ELEMENTS(mitigations); f++) {
                const char *flags[] = { mitigations[f], NULL };
                g_autoptr(TernCpu) guest = tern_cpu_from_model(db, TERN_CPU_ARCH_X86_64,
                                                               TERN_CPU_MODE_CUSTOM, models[i],
                                                               flags, &err);
                g_assert_no_error(err);
                g_autofree char *xml = tern_cpu_guest_xml(db, guest, &err);
                g_assert_no_error(err);
                TernCpuComparison cmp;
                tern_cpu_compare_hypervisor(db, host, guest, &cmp, NULL);
                int lv = virConnectCompareHypervisorCPU(conn, NULL, "x86_64", NULL,
                                                        virt_types[v], xml, 0);
                pairs++;
                int ours = cmp.result == TERN_CPU_INCOMPATIBLE ? VIR_CPU_COMPARE_INCOMPATIBLE
                         : cmp.result == TERN_CPU_IDENTICAL ? VIR_CPU_COMPARE_IDENTICAL
                         : VIR_CPU_COMPARE_SUPERSET;
                if (lv != ours) {
                    g_printerr("# DISAGREE %s %s%s%s: libvirt %d (%s) tern %s (%s)\n",
                               virt_types[v], models[i], flags[0] ? " +" : "",
                               flags[0] ? flags[0] : "", lv,
                               lv < 0 ? virGetLastErrorMessage() : "", 
                               tern_cpu_compare_result_name(cmp.result),
                               cmp.reason ? cmp.reason : "");
                    bad++;
                }
                tern_cpu_comparison_clear(&cmp);
            }
        }
    }
    g_printerr("# %u model x flag pairs compared with libvirt, %u disagreements\n", pairs, bad);
    g_assert_cmpuint(pairs, >=, 200);
    g_assert_cmpuint(bad, ==, 0);
    virConnectClose(conn);
}

static const char *const policies[][2] = {
    { NULL, NULL }, { "require", "md-clear" }, { "force", "pcid" }, { "disable", "avx512f" },
    { "forbid", "vme" }, { "require", "ssbd" }, { "disable", "pcid" },
};

static void
test_compare_host_cpu(void)
{
    const char *uri = g_getenv("TERN_TEST_LIBVIRT_URI");
    if (!uri || !*uri) {
        g_test_skip("TERN_TEST_LIBVIRT_URI is not set (scripts/services start libvirt)");
        return;
    }
    virConnectPtr conn = virConnectOpen(uri);
    g_assert_nonnull(conn);
    g_autofree char *caps = virConnectGetCapabilities(conn);
    g_autoptr(GError) err = NULL;
    g_autoptr(TernCpuHost) host = tern_cpu_host_from_xml(db, caps, NULL, &err);
    g_assert_no_error(err);
    g_printerr("# host CPU: %s %s + %u features\n", host->cpu->vendor, host->cpu->model,
               tern_cpu_set_count(&host->cpu->features));
    const char *const *models = tern_cpu_db_models(db, TERN_CPU_ARCH_X86_64);
    guint pairs = 0, bad = 0;
    for (int i = 0; models[i]; i++) {
        for (guint p = 0; p < G_N_ELEMENTS(policies); p++) {
            g_autoptr(GString) xml = g_string_new(NULL);
            g_string_append_printf(xml, "<cpu mode='custom' match='exact'><model>%s</model>",
                                   models[i]);
            if (policies[p][0])
                g_string_append_printf(xml, "<feature policy='%s' name='%s'/>", policies[p][0],
                                       policies[p][1]);
            g_string_append(xml, "</cpu>");
            g_autoptr(TernCpu) guest = tern_cpu_from_xml(db, xml->str, TERN_CPU_ARCH_X86_64, &err);
            g_assert_no_error(err);
            TernCpuComparison cmp;
            tern_cpu_compare(db, host->cpu, guest, &cmp, NULL);
            int lv = virConnectCompareCPU(conn, xml->str, 0);
            int ours = cmp.result == TERN_CPU_INCOMPATIBLE ? VIR_CPU_COMPARE_INCOMPATIBLE
                     : cmp.result == TERN_CPU_IDENTICAL ? VIR_CPU_COMPARE_IDENTICAL
                     : VIR_CPU_COMPARE_SUPERSET;
            pairs++;
            if (lv != ours) {
                g_printerr("# DISAGREE %s: libvirt %d (%s) tern %s (%s)\n", xml->str, lv,
                           lv < 0 ? virGetLastErrorMessage() : "",
                           tern_cpu_compare_result_name(cmp.result), cmp.reason ? cmp.reason : "");
                bad++;
            }
            tern_cpu_comparison_clear(&cmp);
        }
    }
    g_printerr("# %u model x policy pairs compared with virConnectCompareCPU, %u disagreements\n",
               pairs, bad);
    g_assert_cmpuint(bad, ==, 0);
    virConnectClose(conn);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    virSetErrorFunc(NULL, quiet_errors);
    g_autoptr(GError) err = NULL;
    db = tern_cpu_db_get(&err);
    g_assert_no_error(err);
    g_test_add_func("/cpu/libvirt/expand-every-model", test_expand_models);
    g_test_add_func("/cpu/libvirt/baseline-random-hosts", test_baseline_random);
    g_test_add_func("/cpu/libvirt/compare-hypervisor-cpu", test_compare_hypervisor);
    g_test_add_func("/cpu/libvirt/compare-host-cpu", test_compare_host_cpu);
    return g_test_run();
}
