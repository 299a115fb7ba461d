/* test-cpu.c: table tests of cpu/ with expected answers: the cases of
 * issue 4 (Skylake-Client-IBRS +md-clear on Broadwell, Broadwell-noTSX on
 * Cascadelake, -pcid, unknown flags, POWER compat modes, x86 on ppc64le,
 * baselines), Nova's cpu_mode / cpu_models / cpu_model_extra_flags rules,
 * start-up validation, traits, the scheduler's compact form, bad input. */
#include <string.h>

#include "cpu/cpu.h"

static const TernCpuDb *db;

static TernCpuHost *
host_from_files(const char *caps, const char *domcaps)
{
    g_autofree char *cpath = g_build_filename(TERN_SRCDIR, "tests/data/cpu", caps, NULL);
    g_autofree char *ctext = NULL, *dtext = NULL;
    g_assert_true(g_file_get_contents(cpath, &ctext, NULL, NULL));
    if (domcaps) {
        g_autofree char *dpath = g_build_filename(TERN_SRCDIR, "tests/data/cpu", domcaps, NULL);
        g_assert_true(g_file_get_contents(dpath, &dtext, NULL, NULL));
    }
    g_autoptr(GError) err = NULL;
    TernCpuHost *host = tern_cpu_host_from_xml(db, ctext, dtext, &err);
    g_assert_no_error(err);
    return host;
}

static TernCpu *
guest_from(const TernCpuHost *host, const char *mode, const char *models, const char *flags,
           GError **error)
{
    g_auto(GStrv) m = models ? g_strsplit(models, ",", -1) : NULL;
    g_auto(GStrv) f = flags ? g_strsplit(flags, ",", -1) : NULL;
    TernCpuConfig cfg = { mode, (const char *const *) m, (const char *const *) f };
    return tern_cpu_guest_from_config(db, host, &cfg, NULL, error);
}

static char *
missing_of(const TernCpuComparison *c, TernCpuArch arch)
{
    return tern_cpu_feature_list(db, arch, &c->missing);
}

/* Skylake-Client-IBRS +md-clear guest on a Broadwell host: incompatible. */
static void
test_skylake_md_clear_on_broadwell(void)
{
    g_autoptr(TernCpuHost) host = host_from_files("caps-broadwell.xml", NULL);
    g_autoptr(GError) err = NULL;
    g_autoptr(TernCpu) guest = guest_from(host, "custom", "Skylake-Client-IBRS", "+md-clear", &err);
    g_assert_no_error(err);
    TernCpuComparison c;
    g_assert_cmpint(tern_cpu_compare(db, host->cpu, guest, &c, &err), ==, TERN_CPU_INCOMPATIBLE);
    g_autofree char *missing = missing_of(&c, TERN_CPU_ARCH_X86_64);
    g_assert_cmpstr(missing, ==, "md-clear, xgetbv1, xsavec");
    g_assert_nonnull(strstr(c.reason, "md-clear, xgetbv1, xsavec"));
    tern_cpu_comparison_clear(&c);

    /* Without md-clear the model alone still misses xgetbv1 and xsavec. */
    g_autoptr(TernCpu) plain = guest_from(host, "custom", "Skylake-Client-IBRS", NULL, &err);
    g_assert_cmpint(tern_cpu_compare(db, host->cpu, plain, &c, NULL), ==, TERN_CPU_INCOMPATIBLE);
    g_autofree char *missing2 = missing_of(&c, TERN_CPU_ARCH_X86_64);
    g_assert_cmpstr(missing2, ==, "xgetbv1, xsavec");
    tern_cpu_comparison_clear(&c);

    /* The guest XML that libvirt gets. */
    g_autofree char *xml = tern_cpu_guest_xml(db, guest, &err);
    g_assert_cmpstr(xml, ==,
                    "<cpu mode=\"custom\" match=\"exact\">\n"
                    "  <model fallback=\"forbid\">Skylake-Client-IBRS</model>\n"
                    "  <feature policy=\"require\" name=\"md-clear\"/>\n"
                    "</cpu>\n");
}

/* Broadwell-noTSX guest on a Cascadelake host: compatible (superset). */
static void
test_broadwell_notsx_on_cascadelake(void)
{
    g_autoptr(TernCpuHost) host = host_from_files("caps-cascadelake.xml", NULL);
    g_autoptr(GError) err = NULL;
    g_autoptr(TernCpu) guest = guest_from(host, "custom", "Broadwell-noTSX", NULL, &err);
    g_assert_no_error(err);
    TernCpuComparison c;
    g_assert_cmpint(tern_cpu_compare(db, host->cpu, guest, &c, NULL), ==, TERN_CPU_SUPERSET);
    g_assert_true(tern_cpu_set_is_empty(&c.missing));
    g_assert_null(c.reason);
    /* The other way round: a Cascadelake guest cannot go to a Broadwell. */
    g_autoptr(TernCpuHost) bdw = host_from_files("caps-broadwell.xml", NULL);
    g_autoptr(TernCpu) clx = guest_from(host, "custom", "Cascadelake-Server", NULL, &err);
    g_assert_cmpint(tern_cpu_compare(db, bdw->cpu, clx, &c, NULL), ==, TERN_CPU_INCOMPATIBLE);
    g_assert_nonnull(strstr(c.reason, "avx512f"));
    tern_cpu_comparison_clear(&c);
}

/* -pcid removes a feature from the guest; identical CPUs compare identical. */
static void
test_minus_pcid(void)
{
    g_autoptr(GError) err = NULL;
    int pcid = tern_cpu_db_feature_index(db, TERN_CPU_ARCH_X86_64, "pcid");
    g_assert_cmpint(pcid, >=, 0);
    g_autoptr(TernCpu) model = tern_cpu_from_model(db, TERN_CPU_ARCH_X86_64, TERN_CPU_MODE_CUSTOM,
                                                   "Haswell-noTSX-IBRS", NULL, &err);
    g_assert_true(tern_cpu_set_has(&model->features, (guint) pcid));
    const char *flags[] = { "-PCID", NULL };
    g_autoptr(TernCpu) guest = tern_cpu_from_model(db, TERN_CPU_ARCH_X86_64, TERN_CPU_MODE_CUSTOM,
                                                   "haswell-notsx-ibrs", flags, &err);
    g_assert_no_error(err);
    g_assert_cmpstr(guest->model, ==, "Haswell-noTSX-IBRS");
    g_assert_false(tern_cpu_set_has(&guest->features, (guint) pcid));
    g_assert_true(tern_cpu_set_has(&guest->disabled, (guint) pcid));
    g_assert_cmpuint(tern_cpu_set_count(&guest->features) + 1, ==,
                     tern_cpu_set_count(&model->features));
    g_autofree char *xml = tern_cpu_guest_xml(db, guest, &err);
    g_assert_nonnull(strstr(xml, "<feature policy=\"disable\" name=\"pcid\"/>"));

    /* A host without pcid runs the -pcid guest (identical), not the model. */
    g_autoptr(TernCpu) host = tern_cpu_from_model(db, TERN_CPU_ARCH_X86_64, TERN_CPU_MODE_HOST,
                                                  "Haswell-noTSX-IBRS", flags, &err);
    TernCpuComparison c;
    g_assert_cmpint(tern_cpu_compare(db, host, guest, &c, NULL), ==, TERN_CPU_IDENTICAL);
    g_assert_cmpint(tern_cpu_compare(db, host, model, &c, NULL), ==, TERN_CPU_INCOMPATIBLE);
    g_autofree char *missing = missing_of(&c, TERN_CPU_ARCH_X86_64);
    g_assert_cmpstr(missing, ==, "pcid");
    tern_cpu_comparison_clear(&c);
}

/* An unknown flag is an error naming it; a Linux alias names libvirt's name. */
static void
test_unknown_flag(void)
{
    g_autoptr(TernCpuHost) host = host_from_files("caps-broadwell.xml", NULL);
    g_autoptr(GError) err = NULL;
    g_autoptr(TernCpu) g = guest_from(host, "custom", "Broadwell", "+no-such-flag", &err);
    g_assert_null(g);
    g_assert_error(err, TERN_CPU_ERROR, TERN_CPU_ERROR_UNKNOWN_FEATURE);
    g_assert_nonnull(strstr(err->message, "no-such-flag"));
    g_clear_error(&err);
    g_autoptr(TernCpu) g2 = guest_from(host, "host-model", NULL, "md_clear", &err);
    g_assert_null(g2);
    g_assert_error(err, TERN_CPU_ERROR, TERN_CPU_ERROR_UNKNOWN_FEATURE);
    g_assert_nonnull(strstr(err->message, "libvirt calls it 'md-clear'"));
    g_clear_error(&err);
    /* ppc64 has no flags at all. */
    g_autoptr(TernCpuHost) p9 = host_from_files("caps-power9.xml", NULL);
    g_autoptr(TernCpu) g3 = guest_from(p9, "host-model", NULL, "+ssbd", &err);
    g_assert_null(g3);
    g_assert_error(err, TERN_CPU_ERROR, TERN_CPU_ERROR_UNKNOWN_FEATURE);
}

/* POWER8-compat guest on a POWER9 host: compatible; POWER9 on POWER8: not. */
static void
test_power_compat(void)
{
    g_autoptr(TernCpuHost) p8 = host_from_files("caps-power8.xml", NULL);
    g_autoptr(TernCpuHost) p9 = host_from_files("caps-power9.xml", NULL);
    g_autoptr(GError) err = NULL;
    g_assert_cmpuint(p9->cpu->generation, ==, 9);
    g_assert_cmpint(p9->cpu->arch, ==, TERN_CPU_ARCH_PPC64LE);

    g_autoptr(TernCpu) compat8 = guest_from(p9, "custom", "power8", NULL, &err);
    g_assert_no_error(err);
    g_assert_cmpuint(compat8->generation, ==, 8);
    TernCpuComparison c;
    g_assert_cmpint(tern_cpu_compare(db, p9->cpu, compat8, &c, NULL), ==, TERN_CPU_SUPERSET);
    g_assert_cmpint(tern_cpu_compare(db, p8->cpu, compat8, &c, NULL), ==, TERN_CPU_IDENTICAL);
    g_autofree char *xml = tern_cpu_guest_xml(db, compat8, &err);
    g_assert_cmpstr(xml, ==, "<cpu mode=\"host-model\">\n"
                             "  <model fallback=\"forbid\">power8</model>\n</cpu>\n");

    /* host-model on a POWER9 host is a POWER9 guest: not for a POWER8 host. */
    g_autoptr(TernCpu) p9guest = guest_from(p9, NULL, NULL, NULL, &err);
    g_assert_cmpuint(p9guest->generation, ==, 9);
    g_autofree char *xml9 = tern_cpu_guest_xml(db, p9guest, &err);
    g_assert_cmpstr(xml9, ==, "<cpu mode=\"host-model\"/>\n");
    g_assert_cmpint(tern_cpu_compare(db, p8->cpu, p9guest, &c, NULL), ==, TERN_CPU_INCOMPATIBLE);
    g_assert_nonnull(strstr(c.reason, "power9"));
    g_assert_nonnull(strstr(c.reason, "POWER8"));
    tern_cpu_comparison_clear(&c);
    g_autoptr(TernCpu) custom9 = guest_from(p9, "custom", "POWER9", NULL, &err);
    g_assert_cmpint(tern_cpu_compare(db, p8->cpu, custom9, &c, NULL), ==, TERN_CPU_INCOMPATIBLE);
    tern_cpu_comparison_clear(&c);

    /* Which compat modes each generation runs (from cpu_map: POWER6...). */
    g_autoptr(GPtrArray) m8 = tern_cpu_compat_modes(db, p8->cpu);
    g_ptr_array_add(m8, NULL);
    g_autofree char *l8 = g_strjoinv(",", (char **) m8->pdata);
    g_assert_cmpstr(l8, ==, "power6,power7,power8");
    g_autoptr(GPtrArray) m9 = tern_cpu_compat_modes(db, p9->cpu);
    g_assert_cmpuint(m9->len, ==, 4);
    g_autoptr(TernCpuHost) bdw = host_from_files("caps-broadwell.xml", NULL);
    g_autoptr(GPtrArray) none = tern_cpu_compat_modes(db, bdw->cpu);
    g_assert_cmpuint(none->len, ==, 0);

    /* host-passthrough needs the same generation. */
    g_autoptr(TernCpu) pt8 = guest_from(p8, "host-passthrough", NULL, NULL, &err);
    g_assert_cmpint(tern_cpu_compare(db, p9->cpu, pt8, &c, NULL), ==, TERN_CPU_INCOMPATIBLE);
    tern_cpu_comparison_clear(&c);

    /* Validation: a compat mode newer than the host is refused at start. */
    const char *models[] = { "POWER10", NULL };
    TernCpuConfig cfg = { "custom", models, NULL };
    g_assert_cmpint(tern_cpu_validate_config(db, p9, &cfg, &err), ==, -1);
    g_assert_error(err, TERN_CPU_ERROR, TERN_CPU_ERROR_INCOMPATIBLE);
    g_assert_nonnull(strstr(err->message, "power10"));
}

/* x86 guest on a ppc64le host, and the reverse: incompatible. */
static void
test_arch_mismatch(void)
{
    g_autoptr(TernCpuHost) p9 = host_from_files("caps-power9.xml", NULL);
    g_autoptr(TernCpuHost) bdw = host_from_files("caps-broadwell.xml", NULL);
    g_autoptr(GError) err = NULL;
    g_autoptr(TernCpu) x86 = guest_from(bdw, "custom", "Nehalem", NULL, &err);
    TernCpuComparison c;
    g_assert_cmpint(tern_cpu_compare(db, p9->cpu, x86, &c, NULL), ==, TERN_CPU_INCOMPATIBLE);
    g_assert_nonnull(strstr(c.reason, "x86_64"));
    tern_cpu_comparison_clear(&c);
    g_autoptr(TernCpu) ppc = guest_from(p9, NULL, NULL, NULL, &err);
    g_assert_cmpint(tern_cpu_compare(db, bdw->cpu, ppc, &c, NULL), ==, TERN_CPU_INCOMPATIBLE);
    tern_cpu_comparison_clear(&c);
    /* i686 guests run on x86_64 hosts (same driver, as libvirt). */
    x86->arch = TERN_CPU_ARCH_I686;
    g_assert_cmpint(tern_cpu_compare(db, bdw->cpu, x86, NULL, NULL), ==, TERN_CPU_SUPERSET);
}

static TernCpu *
intel_host(const char *model)
{
    g_autoptr(GError) err = NULL;
    TernCpu *cpu = tern_cpu_from_model(db, TERN_CPU_ARCH_X86_64, TERN_CPU_MODE_HOST, model, NULL,
                                       &err);
    g_assert_no_error(err);
    cpu->vendor = g_strdup("Intel");
    return cpu;
}

/* Baseline of {Haswell, Broadwell, Skylake-Client}: Haswell, nothing extra. */
static void
test_baseline(void)
{
    g_autoptr(GError) err = NULL;
    TernCpu *hosts[] = { intel_host("Haswell"), intel_host("Broadwell"),
                         intel_host("Skylake-Client") };
    g_autoptr(TernCpu) b = tern_cpu_baseline(db, (const TernCpu *const *) hosts, 3, &err);
    g_assert_no_error(err);
    g_assert_cmpstr(b->model, ==, "Haswell");
    g_assert_cmpstr(b->vendor, ==, "Intel");
    g_assert_true(tern_cpu_set_is_empty(&b->required));
    g_assert_true(tern_cpu_set_is_empty(&b->disabled));
    /* Every host runs the baseline. */
    for (int i = 0; i < 3; i++)
        g_assert_cmpint(tern_cpu_compare(db, hosts[i], b, NULL, NULL), !=, TERN_CPU_INCOMPATIBLE);
    /* Broadwell + Skylake-Client-noTSX-IBRS: Broadwell-noTSX-IBRS-like data. */
    TernCpu *two[] = { intel_host("Broadwell-IBRS"), intel_host("Skylake-Client-noTSX-IBRS") };
    g_autoptr(TernCpu) b2 = tern_cpu_baseline(db, (const TernCpu *const *) two, 2, &err);
    g_assert_no_error(err);
    g_assert_cmpstr(b2->model, ==, "Broadwell-noTSX-IBRS");
    for (int i = 0; i < 3; i++)
        tern_cpu_free(hosts[i]);
    for (int i = 0; i < 2; i++)
        tern_cpu_free(two[i]);

    /* ppc64: the oldest generation's compat mode. */
    g_autoptr(TernCpuHost) p8 = host_from_files("caps-power8.xml", NULL);
    g_autoptr(TernCpuHost) p9 = host_from_files("caps-power9.xml", NULL);
    const TernCpu *pp[] = { p9->cpu, p8->cpu };
    g_autoptr(TernCpu) pb = tern_cpu_baseline(db, pp, 2, &err);
    g_assert_no_error(err);
    g_assert_cmpuint(pb->generation, ==, 8);
    g_autofree char *pxml = tern_cpu_guest_xml(db, pb, &err);
    g_assert_nonnull(strstr(pxml, ">power8<"));
    /* Mixed arches have no baseline. */
    g_autoptr(TernCpuHost) bdw = host_from_files("caps-broadwell.xml", NULL);
    const TernCpu *mixed[] = { p9->cpu, bdw->cpu };
    g_assert_null(tern_cpu_baseline(db, mixed, 2, &err));
    g_assert_error(err, TERN_CPU_ERROR, TERN_CPU_ERROR_INCOMPATIBLE);
}

/* Nova's option rules for cpu_mode / cpu_models / cpu_model_extra_flags. */
static void
test_config_rules(void)
{
    g_autoptr(TernCpuHost) bdw = host_from_files("caps-broadwell.xml", NULL);
    g_autoptr(GError) err = NULL;
    /* Unset cpu_mode = host-model; extra flags still apply. */
    g_autoptr(TernCpu) hm = guest_from(bdw, NULL, NULL, "+PDPE1GB,-vme", &err);
    g_assert_no_error(err);
    g_assert_cmpint(hm->mode, ==, TERN_CPU_MODE_HOST_MODEL);
    g_autofree char *xml = tern_cpu_guest_xml(db, hm, &err);
    g_assert_cmpstr(xml, ==, "<cpu mode=\"host-model\">\n"
                             "  <feature policy=\"require\" name=\"pdpe1gb\"/>\n"
                             "  <feature policy=\"disable\" name=\"vme\"/>\n</cpu>\n");
    int vme = tern_cpu_db_feature_index(db, TERN_CPU_ARCH_X86_64, "vme");
    g_assert_true(tern_cpu_set_has(&bdw->cpu->features, (guint) vme));
    g_assert_false(tern_cpu_set_has(&hm->features, (guint) vme));
    /* cpu_models without custom, custom without cpu_models: errors. */
    g_assert_null(guest_from(bdw, "host-model", "Haswell", NULL, &err));
    g_assert_error(err, TERN_CPU_ERROR, TERN_CPU_ERROR_CONFIG);
    g_clear_error(&err);
    g_assert_null(guest_from(bdw, "custom", NULL, NULL, &err));
    g_assert_error(err, TERN_CPU_ERROR, TERN_CPU_ERROR_CONFIG);
    g_clear_error(&err);
    g_assert_null(guest_from(bdw, "bogus", NULL, NULL, &err));
    g_assert_error(err, TERN_CPU_ERROR, TERN_CPU_ERROR_CONFIG);
    g_clear_error(&err);
    /* Unknown model. */
    g_assert_null(guest_from(bdw, "custom", "Pentium9000", NULL, &err));
    g_assert_error(err, TERN_CPU_ERROR, TERN_CPU_ERROR_UNKNOWN_MODEL);
    g_clear_error(&err);
    /* mode none: no <cpu>, QEMU's default qemu64 for traits and compare. */
    g_autoptr(TernCpu) none = guest_from(bdw, "none", NULL, "+pcid", &err);
    g_assert_no_error(err);
    g_assert_cmpstr(none->model, ==, "qemu64");
    g_assert_null(tern_cpu_guest_xml(db, none, &err));
    g_assert_no_error(err);
    /* host-passthrough: the physical CPU. */
    g_autoptr(TernCpu) pt = guest_from(bdw, "host-passthrough", NULL, NULL, &err);
    g_assert_true(tern_cpu_set_equal(&pt->features, &bdw->cpu->features));
    g_autofree char *ptxml = tern_cpu_guest_xml(db, pt, &err);
    g_assert_cmpstr(ptxml, ==, "<cpu mode=\"host-passthrough\"/>\n");

    /* The first of cpu_models with every wanted feature (traits). */
    const char *models[] = { "Nehalem", "Haswell-noTSX", NULL };
    TernCpuConfig cfg = { "custom", models, NULL };
    TernCpuFeatureSet wanted;
    const char *traits[] = { "HW_CPU_X86_AVX2", "CUSTOM_GOLD", NULL };
    g_assert_cmpint(tern_cpu_features_for_traits(db, TERN_CPU_ARCH_X86_64, traits, &wanted, &err),
                    ==, 0);
    g_autoptr(TernCpu) g1 = tern_cpu_guest_from_config(db, bdw, &cfg, NULL, &err);
    g_assert_cmpstr(g1->model, ==, "Nehalem");
    g_autoptr(TernCpu) g2 = tern_cpu_guest_from_config(db, bdw, &cfg, &wanted, &err);
    g_assert_cmpstr(g2->model, ==, "Haswell-noTSX");
    const char *t512[] = { "HW_CPU_X86_AVX512F", NULL };
    g_assert_cmpint(tern_cpu_features_for_traits(db, TERN_CPU_ARCH_X86_64, t512, &wanted, &err),
                    ==, 0);
    g_assert_null(tern_cpu_guest_from_config(db, bdw, &cfg, &wanted, &err));
    g_assert_error(err, TERN_CPU_ERROR, TERN_CPU_ERROR_INCOMPATIBLE);
    g_assert_nonnull(strstr(err->message, "avx512f"));
}

/* Start-up validation names what the host lacks. */
static void
test_validate(void)
{
    g_autoptr(TernCpuHost) bdw = host_from_files("caps-broadwell.xml", NULL);
    g_autoptr(TernCpuHost) clx = host_from_files("caps-cascadelake.xml", NULL);
    g_autoptr(GError) err = NULL;
    const char *skl[] = { "Broadwell-noTSX", "Skylake-Client-IBRS", NULL };
    const char *md[] = { "+md-clear", NULL };
    TernCpuConfig cfg = { "custom", skl, md };
    g_assert_cmpint(tern_cpu_validate_config(db, clx, &cfg, &err), ==, 0);
    g_assert_no_error(err);
    g_assert_cmpint(tern_cpu_validate_config(db, bdw, &cfg, &err), ==, -1);
    g_assert_error(err, TERN_CPU_ERROR, TERN_CPU_ERROR_INCOMPATIBLE);
    g_assert_nonnull(strstr(err->message, "Broadwell-noTSX"));   /* first model fails */
    g_assert_nonnull(strstr(err->message, "md-clear"));
    g_clear_error(&err);
    const char *avx512[] = { "+avx512f", NULL };
    TernCpuConfig hm = { NULL, NULL, avx512 };
    g_assert_cmpint(tern_cpu_validate_config(db, bdw, &hm, &err), ==, -1);
    g_assert_nonnull(strstr(err->message, "avx512f"));
    g_clear_error(&err);
    g_assert_cmpint(tern_cpu_validate_config(db, clx, &hm, &err), ==, 0);
    TernCpuConfig none = { "none", NULL, NULL };
    g_assert_cmpint(tern_cpu_validate_config(db, bdw, &none, &err), ==, 0);
}

/* Traits as Nova reports them, and back. */
static void
test_traits(void)
{
    g_autoptr(TernCpuHost) bdw = host_from_files("caps-broadwell.xml", NULL);
    g_autoptr(GHashTable) t = tern_cpu_traits(db, bdw->cpu);
    g_assert_true(GPOINTER_TO_INT(g_hash_table_lookup(t, "HW_CPU_X86_AVX2")));
    g_assert_true(GPOINTER_TO_INT(g_hash_table_lookup(t, "HW_CPU_X86_AESNI")));
    g_assert_true(GPOINTER_TO_INT(g_hash_table_lookup(t, "HW_CPU_X86_VMX")));
    g_assert_true(GPOINTER_TO_INT(g_hash_table_lookup(t, "HW_CPU_X86_INTEL_VMX")));
    g_assert_true(g_hash_table_contains(t, "HW_CPU_X86_AVX512F"));
    g_assert_false(GPOINTER_TO_INT(g_hash_table_lookup(t, "HW_CPU_X86_AVX512F")));
    g_assert_false(GPOINTER_TO_INT(g_hash_table_lookup(t, "HW_CPU_X86_SVM")));
    /* Nova's 'sse3' key never matches libvirt's 'pni': never set. */
    g_assert_false(GPOINTER_TO_INT(g_hash_table_lookup(t, "HW_CPU_X86_SSE3")));
    g_assert_cmpstr(tern_cpu_trait_feature("HW_CPU_X86_CLMUL"), ==, "pclmuldq");
    g_assert_null(tern_cpu_trait_feature("HW_CPU_HYPERTHREADING"));
    g_autoptr(TernCpuHost) p9 = host_from_files("caps-power9.xml", NULL);
    g_autoptr(GHashTable) pt = tern_cpu_traits(db, p9->cpu);
    g_assert_cmpuint(g_hash_table_size(pt), ==, 0);

    /* What a compute reports under its config, as Nova does. */
    g_autoptr(GError) err = NULL;
    const char *models[] = { "Nehalem", "Haswell-noTSX", NULL };
    const char *flags[] = { "-avx2", "+sse4a", NULL };
    TernCpuConfig custom = { "custom", models, flags };
    g_autoptr(GHashTable) ct = tern_cpu_config_traits(db, bdw, &custom, &err);
    g_assert_no_error(err);
    /* union of the models: avx2 from Haswell-noTSX; "-avx2" still named */
    g_assert_true(GPOINTER_TO_INT(g_hash_table_lookup(ct, "HW_CPU_X86_AVX2")));
    g_assert_true(GPOINTER_TO_INT(g_hash_table_lookup(ct, "HW_CPU_X86_SSE4A")));
    g_assert_false(GPOINTER_TO_INT(g_hash_table_lookup(ct, "HW_CPU_X86_VMX")));
    TernCpuConfig none = { "none", NULL, NULL };
    g_autoptr(GHashTable) nt = tern_cpu_config_traits(db, bdw, &none, &err);
    g_assert_true(GPOINTER_TO_INT(g_hash_table_lookup(nt, "HW_CPU_X86_SVM")));  /* qemu64 */
    g_assert_false(GPOINTER_TO_INT(g_hash_table_lookup(nt, "HW_CPU_X86_AVX")));
    TernCpuConfig hm = { NULL, NULL, NULL };
    g_autoptr(GHashTable) ht = tern_cpu_config_traits(db, bdw, &hm, &err);
    g_assert_true(GPOINTER_TO_INT(g_hash_table_lookup(ht, "HW_CPU_X86_VMX")));
    g_assert_true(GPOINTER_TO_INT(g_hash_table_lookup(ht, "HW_CPU_X86_AVX2")));
}

/* The scheduler's compact form agrees with compare. */
static void
test_compact(void)
{
    g_autoptr(TernCpuHost) bdw = host_from_files("caps-broadwell.xml", NULL);
    g_autoptr(TernCpuHost) clx = host_from_files("caps-cascadelake.xml", NULL);
    g_autoptr(TernCpuHost) p8 = host_from_files("caps-power8.xml", NULL);
    g_autoptr(TernCpuHost) p9 = host_from_files("caps-power9.xml", NULL);
    g_autoptr(GError) err = NULL;
    const TernCpuHost *hosts[] = { bdw, clx, p8, p9 };
    const char *shapes[][3] = {
        { "custom", "Skylake-Client-IBRS", "+md-clear" }, { "custom", "Broadwell-noTSX", NULL },
        { "custom", "Haswell-noTSX-IBRS", "-pcid" }, { "custom", "Cascadelake-Server", NULL },
        { "custom", "qemu64", "+ssbd" },
    };
    g_assert_cmpuint(sizeof(TernCpuCompact), <=, 72);
    for (guint h = 0; h < G_N_ELEMENTS(hosts); h++) {
        TernCpuCompact hc;
        tern_cpu_compact(db, hosts[h]->cpu, &hc);
        /* x86 requests */
        for (guint s = 0; s < G_N_ELEMENTS(shapes); s++) {
            g_autoptr(TernCpu) g = guest_from(bdw, shapes[s][0], shapes[s][1], shapes[s][2], &err);
            g_assert_no_error(err);
            TernCpuCompact rc;
            tern_cpu_compact(db, g, &rc);
            gboolean fits = tern_cpu_compare(db, hosts[h]->cpu, g, NULL, NULL) != TERN_CPU_INCOMPATIBLE;
            g_assert_cmpint(tern_cpu_compact_satisfies(&hc, &rc), ==, fits);
        }
        /* ppc64 requests */
        const char *compat[] = { "power8", "power9", "power10" };
        for (guint s = 0; s < G_N_ELEMENTS(compat); s++) {
            g_autoptr(TernCpu) g = guest_from(p9, "custom", compat[s], NULL, &err);
            TernCpuCompact rc;
            tern_cpu_compact(db, g, &rc);
            gboolean fits = tern_cpu_compare(db, hosts[h]->cpu, g, NULL, NULL) != TERN_CPU_INCOMPATIBLE;
            g_assert_cmpint(tern_cpu_compact_satisfies(&hc, &rc), ==, fits);
        }
    }
    /* A request for a vendor. */
    g_autoptr(TernCpu) amd = tern_cpu_from_model(db, TERN_CPU_ARCH_X86_64, TERN_CPU_MODE_CUSTOM,
                                                 "qemu64", NULL, &err);
    amd->vendor = g_strdup("AMD");
    TernCpuCompact hc, rc;
    tern_cpu_compact(db, bdw->cpu, &hc);
    tern_cpu_compact(db, amd, &rc);
    g_assert_false(tern_cpu_compact_satisfies(&hc, &rc));
    g_assert_cmpint(tern_cpu_compare(db, bdw->cpu, amd, NULL, NULL), ==, TERN_CPU_INCOMPATIBLE);
}

/* The model database: inheritance, added/removed features, ppc64 PVRs. */
static void
test_db(void)
{
    g_autoptr(GError) err = NULL;
    TernCpuFeatureSet a, b;
    g_assert_cmpint(tern_cpu_db_model_features(db, TERN_CPU_ARCH_X86_64, "Broadwell-v2", &a, &err), ==, 0);
    g_assert_cmpint(tern_cpu_db_model_features(db, TERN_CPU_ARCH_X86_64, "Broadwell-noTSX", &b, &err), ==, 0);
    g_assert_true(tern_cpu_set_equal(&a, &b));
    int ept = tern_cpu_db_feature_index(db, TERN_CPU_ARCH_X86_64, "vmx-ept");
    int mpx = tern_cpu_db_feature_index(db, TERN_CPU_ARCH_X86_64, "mpx");
    g_assert_false(tern_cpu_set_has(&b, (guint) ept));            /* added='yes' */
    g_assert_cmpint(tern_cpu_db_model_features(db, TERN_CPU_ARCH_X86_64, "Skylake-Client-v4", &a, &err), ==, 0);
    g_assert_true(tern_cpu_set_has(&a, (guint) ept));             /* plain in -v4 */
    g_assert_cmpint(tern_cpu_db_model_features(db, TERN_CPU_ARCH_X86_64, "Skylake-Client-IBRS", &a, &err), ==, 0);
    g_assert_false(tern_cpu_set_has(&a, (guint) mpx));            /* removed='yes' */
    g_assert_cmpstr(tern_cpu_db_model_vendor(db, TERN_CPU_ARCH_X86_64, "EPYC-Milan"), ==, "AMD");
    g_assert_cmpstr(tern_cpu_db_model_vendor(db, TERN_CPU_ARCH_X86_64, "qemu64"), ==, NULL);
    g_assert_cmpstr(tern_cpu_db_model_name(db, TERN_CPU_ARCH_PPC64LE, "power10"), ==, "POWER10");
    g_assert_cmpint(tern_cpu_db_model_features(db, TERN_CPU_ARCH_X86_64, "Nope", &a, &err), ==, -1);
    g_assert_error(err, TERN_CPU_ERROR, TERN_CPU_ERROR_UNKNOWN_MODEL);
    g_clear_error(&err);
    g_autoptr(TernCpuDb) missing = tern_cpu_db_load("/nonexistent", &err);
    g_assert_null(missing);
    g_assert_error(err, TERN_CPU_ERROR, TERN_CPU_ERROR_LOAD);
}

/* Domain capabilities of a real libvirt (TCG, this machine's kind). */
static void
test_domcaps(void)
{
    g_autoptr(TernCpuHost) host = host_from_files("caps-this-host.xml", "domcaps-qemu-x86_64.xml");
    g_assert_true(host->have_domcaps);
    g_assert_nonnull(host->host_model);
    g_assert_cmpstr(host->host_model->model, ==, "EPYC");
    g_assert_cmpstr(host->host_model->vendor, ==, "AMD");
    int vme = tern_cpu_db_feature_index(db, TERN_CPU_ARCH_X86_64, "vme");
    g_assert_false(tern_cpu_set_has(&host->host_model->features, (guint) vme));
    g_assert_true(g_ptr_array_find_with_equal_func(host->usable_models, "Nehalem", g_str_equal, NULL));
    g_assert_false(g_ptr_array_find_with_equal_func(host->usable_models, "Haswell", g_str_equal, NULL));
    /* host-model guests get the domcaps CPU, passthrough the physical one. */
    g_autoptr(GError) err = NULL;
    g_autoptr(TernCpu) hm = guest_from(host, NULL, NULL, NULL, &err);
    g_assert_cmpstr(hm->model, ==, "EPYC");
    g_autoptr(TernCpu) pt = guest_from(host, "host-passthrough", NULL, NULL, &err);
    g_assert_cmpstr(pt->model, ==, host->cpu->model);
    /* libvirt 11's usable-model rule: Nehalem-v1 +hle misses only hle. */
    const char *hle[] = { "+hle", NULL };
    g_autoptr(TernCpu) n1 = tern_cpu_from_model(db, TERN_CPU_ARCH_X86_64, TERN_CPU_MODE_CUSTOM,
                                                "486-v1", hle, &err);
    TernCpuComparison c;
    g_assert_cmpint(tern_cpu_compare_hypervisor(db, host, n1, &c, NULL), ==, TERN_CPU_INCOMPATIBLE);
    g_assert_cmpstr(c.reason, ==, "Host CPU does not provide required features: hle");
    tern_cpu_comparison_clear(&c);
    g_autoptr(TernCpu) p486 = tern_cpu_from_model(db, TERN_CPU_ARCH_X86_64, TERN_CPU_MODE_CUSTOM,
                                                  "486", hle, &err);
    g_assert_cmpint(tern_cpu_compare_hypervisor(db, host, p486, &c, NULL), ==, TERN_CPU_INCOMPATIBLE);
    g_assert_cmpstr(c.reason, ==, "Host CPU does not provide required features: hle, vme");
    tern_cpu_comparison_clear(&c);
}

/* Bad input gets a clear error and nothing crashes. */
static void
test_bad_input(void)
{
    g_autoptr(GError) err = NULL;
    const char *bad[] = {
        "", "<capabilities>", "<capabilities/>", "<foo/>",
        "<capabilities><host><cpu><arch>sparc</arch></cpu></host></capabilities>",
        "<capabilities><host><cpu><arch>x86_64</arch></cpu></host></capabilities>",
        "<capabilities><host><cpu><arch>x86_64</arch><model>No'<Such</model></cpu></host></capabilities>",
    };
    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(TernCpuHost) h = tern_cpu_host_from_xml(db, bad[i], NULL, &err);
        g_assert_null(h);
        g_assert_nonnull(err);
        g_clear_error(&err);
    }
    g_assert_null(tern_cpu_from_xml(db, "<cpu mode='custom'><model>Haswell</model>"
                                        "<feature policy='require' name='x\"&lt;y'/></cpu>",
                                    TERN_CPU_ARCH_X86_64, &err));
    g_assert_error(err, TERN_CPU_ERROR, TERN_CPU_ERROR_UNKNOWN_FEATURE);
    g_clear_error(&err);
    g_autoptr(TernCpuHost) bdw = host_from_files("caps-broadwell.xml", NULL);
    g_assert_null(tern_cpu_host_from_xml(db, "<capabilities><host><cpu><arch>x86_64</arch>"
                                             "<model>Haswell</model></cpu></host></capabilities>",
                                         "<domainCapabilities><cpu><mode name='host-model' "
                                         "supported='yes'><model>Bogus</model></mode></cpu>"
                                         "</domainCapabilities>", &err));
    g_assert_error(err, TERN_CPU_ERROR, TERN_CPU_ERROR_UNKNOWN_MODEL);
    g_clear_error(&err);
    /* A round trip through XML keeps the CPU. */
    g_autoptr(TernCpu) g = guest_from(bdw, "custom", "Skylake-Client-IBRS", "+md-clear,-pcid", &err);
    g_autofree char *xml = tern_cpu_guest_xml(db, g, &err);
    g_autoptr(TernCpu) back = tern_cpu_from_xml(db, xml, TERN_CPU_ARCH_X86_64, &err);
    g_assert_no_error(err);
    g_assert_true(tern_cpu_set_equal(&back->features, &g->features));
    g_assert_cmpstr(back->model, ==, g->model);
}

/* Nova's ComputeNode.cpu_info JSON, both ways. */
static void
test_cpu_info(void)
{
    g_autoptr(TernCpuHost) bdw = host_from_files("caps-broadwell.xml", NULL);
    g_autoptr(GError) err = NULL;
    g_autofree char *json = tern_cpu_info_json(db, bdw);
    g_assert_true(g_str_has_prefix(json, "{\"arch\":\"x86_64\",\"model\":\"Broadwell-IBRS\","
                                         "\"vendor\":\"Intel\",\"topology\":{\"cells\":1,"
                                         "\"sockets\":1,\"cores\":8,\"threads\":2},\"features\":["));
    g_assert_nonnull(strstr(json, "\"avx2\""));   /* from the model */
    g_assert_nonnull(strstr(json, "\"vmx\""));    /* listed in capabilities */
    g_autoptr(TernCpu) back = tern_cpu_from_info_json(db, json, &err);
    g_assert_no_error(err);
    g_assert_true(tern_cpu_set_equal(&back->features, &bdw->cpu->features));
    g_assert_cmpstr(back->vendor, ==, "Intel");
    /* A source host's cpu_info as the guest of a migration (Nova's
     * _compare_cpu with no vcpu_model): Broadwell -> Cascadelake fails
     * only on what Cascadelake lacks. */
    g_autoptr(TernCpuHost) clx = host_from_files("caps-cascadelake.xml", NULL);
    TernCpuComparison c;
    tern_cpu_compare(db, clx->cpu, back, &c, NULL);
    g_assert_cmpint(c.result, ==, TERN_CPU_INCOMPATIBLE);
    g_autofree char *missing = missing_of(&c, TERN_CPU_ARCH_X86_64);
    g_assert_cmpstr(missing, ==, "invtsc");
    tern_cpu_comparison_clear(&c);
    /* Nova-written, unordered, with a feature this cpu_map lacks. */
    g_autoptr(TernCpu) nova = tern_cpu_from_info_json(db,
        "{\"arch\": \"ppc64le\", \"model\": \"POWER9\", \"vendor\": \"IBM\", "
        "\"topology\": {\"cells\": 2, \"sockets\": 2, \"cores\": 10, \"threads\": 4}, "
        "\"features\": [\"future-flag\"]}", &err);
    g_assert_no_error(err);
    g_assert_cmpuint(nova->generation, ==, 9);
    const char *bad[] = { "", "[]", "{\"arch\": \"sparc\"}", "{\"arch\": \"x86_64\", "
                          "\"model\": \"Nope\"}", "{\"arch\": \"x86_64\", \"features\": 3}" };
    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_assert_null(tern_cpu_from_info_json(db, bad[i], &err));
        g_assert_nonnull(err);
        g_clear_error(&err);
    }
}

/* The db is shared read-only: threads get the same answers at once. */
static gpointer
thread_work(gpointer data)
{
    g_autoptr(GError) err = NULL;
    const TernCpuDb *mine = tern_cpu_db_get(&err);
    g_assert_true(mine == db);
    const char *const *models = tern_cpu_db_models(mine, TERN_CPU_ARCH_X86_64);
    g_autoptr(TernCpu) host = tern_cpu_from_model(mine, TERN_CPU_ARCH_X86_64, TERN_CPU_MODE_HOST,
                                                  "Cascadelake-Server", NULL, &err);
    guint fits = 0;
    for (int round = 0; round < 20; round++)
        for (int i = 0; models[i]; i++) {
            g_autoptr(TernCpu) g = tern_cpu_from_model(mine, TERN_CPU_ARCH_X86_64,
                                                       TERN_CPU_MODE_CUSTOM, models[i], NULL, &err);
            TernCpuComparison c;
            fits += tern_cpu_compare(mine, host, g, &c, NULL) != TERN_CPU_INCOMPATIBLE;
            tern_cpu_comparison_clear(&c);
        }
    return GUINT_TO_POINTER(fits);
}

static void
test_threads(void)
{
    GThread *t[4];
    for (int i = 0; i < 4; i++)
        t[i] = g_thread_new("cpu", thread_work, NULL);
    guint first = GPOINTER_TO_UINT(g_thread_join(t[0]));
    g_assert_cmpuint(first, >, 0);
    for (int i = 1; i < 4; i++)
        g_assert_cmpuint(GPOINTER_TO_UINT(g_thread_join(t[i])), ==, first);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_autoptr(GError) err = NULL;
    db = tern_cpu_db_get(&err);
    g_assert_no_error(err);
    g_test_add_func("/cpu/skylake-md-clear-on-broadwell", test_skylake_md_clear_on_broadwell);
    g_test_add_func("/cpu/broadwell-notsx-on-cascadelake", test_broadwell_notsx_on_cascadelake);
    g_test_add_func("/cpu/minus-pcid", test_minus_pcid);
    g_test_add_func("/cpu/unknown-flag", test_unknown_flag);
    g_test_add_func("/cpu/power-compat", test_power_compat);
    g_test_add_func("/cpu/arch-mismatch", test_arch_mismatch);
    g_test_add_func("/cpu/baseline", test_baseline);
    g_test_add_func("/cpu/config-rules", test_config_rules);
    g_test_add_func("/cpu/validate", test_validate);
    g_test_add_func("/cpu/traits", test_traits);
    g_test_add_func("/cpu/compact", test_compact);
    g_test_add_func("/cpu/db", test_db);
    g_test_add_func("/cpu/domcaps", test_domcaps);
    g_test_add_func("/cpu/bad-input", test_bad_input);
    g_test_add_func("/cpu/cpu-info-json", test_cpu_info);
    g_test_add_func("/cpu/threads", test_threads);
    return g_test_run();
}
