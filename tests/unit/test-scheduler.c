/* test-scheduler.c: the scheduler core on in-memory host sets: which hosts
 * each filter keeps for a mixed x86_64 / ppc64le fleet, NoValidHost
 * reasons, weighers (spread and stack), host_subset_size, claims that lose
 * races, alternates, and RequestSpec parsing. */
#include <string.h>

#include "rpc/rpc.h"
#include "scheduler/sched_cache.h"
#include "scheduler/sched_error.h"
#include "scheduler/sched_filter.h"
#include "scheduler/sched_select.h"
#include "scheduler/sched_selection.h"

static const TernCpuDb *cpudb;
static TernGuestOsRules *os_rules;   /* osinfo-db + etc/tern/guest-os-rules.ini */

/* ---- fleet --------------------------------------------------------------- */

static void
cpu_of(TernCpuArch arch, const char *model, const char *flag, TernCpuCompact *out)
{
    const char *flags[] = { flag, NULL };
    g_autoptr(GError) err = NULL;
    g_autoptr(TernCpu) cpu = tern_cpu_from_model(cpudb, arch, TERN_CPU_MODE_HOST, model,
                                                 flag ? flags : NULL, &err);
    g_assert_no_error(err);
    tern_cpu_compact(cpudb, cpu, out);
}

static TernSchedHost *
host(const char *name, TernCpuArch arch, const char *model, const char *flag, gboolean kvm,
     TernCpuArch emulates)
{
    TernSchedHost *h = tern_sched_host_new();
    h->host = g_strdup(name);
    h->nodename = g_strdup(name);
    h->uuid = g_strdup_printf("00000000-0000-4000-8000-%012x", g_str_hash(name) & 0xffffff);
    const char *mt[] = { arch == TERN_CPU_ARCH_X86_64 ? "pc-q35-10.0" : "pseries-10.0", NULL };
    h->machine_types = g_strdupv((char **) mt);
    h->arch = (guint8) arch;
    h->tcg_only = !kvm;
    h->has_service = TRUE;
    h->last_seen_up = g_get_real_time();
    h->triples = tern_sched_triple_bit(arch, TERN_SCHED_HV_QEMU, TERN_SCHED_VM_HVM);
    if (kvm)
        h->triples |= tern_sched_triple_bit(arch, TERN_SCHED_HV_KVM, TERN_SCHED_VM_HVM);
    if (emulates) {
        h->triples |= tern_sched_triple_bit(emulates, TERN_SCHED_HV_QEMU, TERN_SCHED_VM_HVM);
        /* What QEMU 10 emulates (tests/data/hosts/x86_64/domcapabilities-ppc64le-qemu.xml). */
        tern_sched_host_set_tcg_models(h, cpudb, "{\"tcg_models\": {\"ppc64le\": [\"POWER10\", "
                                       "\"POWER9\", \"POWER8\", \"POWER7\"]}}");
    }
    h->vcpus = 16;
    h->memory_mb = 32768;
    h->local_gb = 500;
    h->cpu_ratio = h->ram_ratio = h->disk_ratio = 1.0;
    tern_sched_host_finish(h);
    g_assert_cmpint(h->vcpus_cap, ==, 16);
    g_assert_cmpint(h->memory_cap, ==, 32768);
    g_assert_cmpint(h->disk_cap, ==, 500);
    cpu_of(arch, model, flag, &h->guest_cpu);
    h->host_cpu = h->guest_cpu;
    return h;
}

static TernSchedCache *
fleet(void)
{
    TernSchedCache *c = tern_sched_cache_new();
    const TernCpuArch X = TERN_CPU_ARCH_X86_64, P = TERN_CPU_ARCH_PPC64LE;
    tern_sched_cache_put(c, host("hsw", X, "Haswell-noTSX-IBRS", NULL, TRUE, 0), FALSE);
    tern_sched_cache_put(c, host("hsw-md", X, "Haswell-noTSX-IBRS", "md-clear", TRUE, 0), FALSE);
    tern_sched_cache_put(c, host("bdw", X, "Broadwell-noTSX-IBRS", NULL, TRUE, 0), FALSE);
    tern_sched_cache_put(c, host("bdw-md", X, "Broadwell-noTSX-IBRS", "md-clear", TRUE, 0), FALSE);
    tern_sched_cache_put(c, host("skl", X, "Skylake-Client-IBRS", NULL, TRUE, 0), FALSE);
    tern_sched_cache_put(c, host("skl-md", X, "Skylake-Client-IBRS", "md-clear", TRUE, 0), FALSE);
    tern_sched_cache_put(c, host("icl", X, "Icelake-Server", NULL, TRUE, 0), FALSE);
    tern_sched_cache_put(c, host("icl-md", X, "Icelake-Server", "md-clear", TRUE, 0), FALSE);
    tern_sched_cache_put(c, host("p8", P, "POWER8", NULL, TRUE, 0), FALSE);
    tern_sched_cache_put(c, host("p9", P, "POWER9", NULL, TRUE, 0), FALSE);
    tern_sched_cache_put(c, host("tcg", X, "qemu64", NULL, FALSE, P), FALSE);
    return c;
}

/* ---- requests ------------------------------------------------------------ */

static json_t *
obj(const char *name, const char *version, json_t *data)
{
    return json_pack("{s:s,s:s,s:s,s:o}", "nova_object.name", name, "nova_object.namespace",
                     "nova", "nova_object.version", version, "nova_object.data", data);
}

/* A RequestSpec: extra_specs and image props are JSON texts (may be NULL). */
static TernSchedRequest *
request(int vcpus, int ram, int disk, const char *extra_specs, const char *props,
        const char *more)
{
    json_t *es = extra_specs ? json_loads(extra_specs, 0, NULL) : json_object();
    json_t *pr = props ? json_loads(props, 0, NULL) : json_object();
    g_assert_nonnull(es);
    g_assert_nonnull(pr);
    json_t *flavor = obj("Flavor", "1.2", json_pack("{s:i,s:i,s:i,s:i,s:i,s:s,s:o}", "vcpus",
                                                     vcpus, "memory_mb", ram, "root_gb", disk,
                                                     "ephemeral_gb", 0, "swap", 0, "name", "f",
                                                     "extra_specs", es));
    json_t *image = obj("ImageMeta", "1.8",
                        json_pack("{s:o}", "properties", obj("ImageMetaProps", "1.34", pr)));
    json_t *data = json_pack("{s:o,s:o,s:i,s:s}", "flavor", flavor, "image", image,
                             "num_instances", 1, "instance_uuid",
                             "11111111-2222-4333-8444-555555555555");
    if (more) {
        json_t *m = json_loads(more, 0, NULL);
        g_assert_nonnull(m);
        json_object_update(data, m);
        json_decref(m);
    }
    g_autoptr(json_t) spec = obj("RequestSpec", "1.14", data);
    g_autoptr(GError) err = NULL;
    g_autoptr(TernObject) o = tern_object_from_primitive(spec, "RequestSpec", &err);
    g_assert_no_error(err);
    TernSchedRequest *r = tern_sched_request_from_spec(cpudb, o, &err);
    g_assert_no_error(err);
    tern_sched_request_set_guest_os(r, os_rules);
    return r;
}

static GPtrArray *
default_filters(void)
{
    const char *names[] = { "ComputeFilter", "AvailabilityZoneFilter", "ImagePropertiesFilter",
                            "RamFilter", "CoreFilter", "DiskFilter", "GuestOSArchFilter",
                            "CpuModelFilter", NULL };
    g_autoptr(GError) err = NULL;
    GPtrArray *f = tern_sched_filters_from_names(names, &err);
    g_assert_no_error(err);
    return f;
}

static gint
cmp_names(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *) a, *(const char *const *) b);
}

/* The sorted names of the hosts that pass, "a b c"; reason optional. */
static char *
passing(TernSchedCache *c, const TernSchedRequest *r, char **reason)
{
    g_autoptr(GPtrArray) filters = default_filters();
    tern_sched_cache_read_lock(c);
    guint nh;
    const TernSchedHost *hosts = tern_sched_cache_hosts(c, &nh);
    g_autofree guint *idx = g_new(guint, nh);
    for (guint i = 0; i < nh; i++)
        idx[i] = i;
    TernSchedFilterCtx *ctx = g_new(TernSchedFilterCtx, 1);
    tern_sched_filter_ctx_init(ctx, r, cpudb, g_get_real_time(), 60, "nova");
    g_autoptr(GString) why = g_string_new(NULL);
    guint n = tern_sched_filter_run(filters, hosts, idx, nh, ctx, why);
    g_free(ctx);
    g_autoptr(GPtrArray) names = g_ptr_array_new();
    for (guint i = 0; i < n; i++)
        g_ptr_array_add(names, hosts[idx[i]].host);
    g_ptr_array_sort(names, cmp_names);
    g_ptr_array_add(names, NULL);
    char *out = g_strjoinv(" ", (char **) names->pdata);
    tern_sched_cache_read_unlock(c);
    if (reason)
        *reason = g_string_free(g_steal_pointer(&why), FALSE);
    return out;
}

static void
check_set(TernSchedCache *c, TernSchedRequest *r, const char *expected)
{
    g_autofree char *reason = NULL;
    g_autofree char *got = passing(c, r, &reason);
    if (g_strcmp0(got, expected) != 0)
        g_test_message("reason: %s", reason);
    g_assert_cmpstr(got, ==, expected);
    tern_sched_request_free(r);
}

/* ---- filter tests -------------------------------------------------------- */

/* GuestOSArchFilter: osinfo-db says which arches an OS is built for. */
static void
test_guest_os(void)
{
    g_autoptr(TernSchedCache) c = fleet();
    const char *x86 = "bdw bdw-md hsw hsw-md icl icl-md skl skl-md tcg";
    /* Windows 10 is built for x86 only: the x86_64 hosts (tcg runs x86_64 guests). */
    check_set(c, request(1, 512, 1, NULL, "{\"os_distro\": \"win10\"}", NULL), x86);
    /* Debian 12 (guest-os-rules.ini adds ppc64le): every host; Nova's
     * os_distro + os_version spelling resolves to the same OS. */
    check_set(c, request(1, 512, 1, NULL, "{\"os_distro\": \"debian12\"}", NULL),
              "bdw bdw-md hsw hsw-md icl icl-md p8 p9 skl skl-md tcg");
    check_set(c, request(1, 512, 1, NULL, "{\"os_distro\": \"debian\", \"os_version\": \"12\"}",
                         NULL), "bdw bdw-md hsw hsw-md icl icl-md p8 p9 skl skl-md tcg");
    /* Windows 10 as a ppc64le guest: nowhere, the reason names the rule. */
    TernSchedRequest *r = request(1, 512, 1, NULL,
                                  "{\"os_distro\": \"win10\", \"hw_architecture\": \"ppc64le\"}",
                                  NULL);
    g_assert_cmpstr(r->os_id, ==, "win10");
    g_autofree char *why = NULL;
    g_autofree char *got = passing(c, r, &why);
    g_assert_cmpstr(got, ==, "");
    g_assert_nonnull(strstr(why, "GuestOSArchFilter removed 3 hosts: guest OS win10 is built "
                                 "for i686, x86_64 only, not for ppc64le (3)"));
    tern_sched_request_free(r);
    /* No arch asked: the guest would have the host's arch. */
    r = request(1, 512, 1, NULL, "{\"os_distro\": \"win10\"}", NULL);
    g_clear_pointer(&why, g_free);
    g_clear_pointer(&got, g_free);
    got = passing(c, r, &why);
    g_assert_nonnull(strstr(why, "GuestOSArchFilter removed 2 hosts: guest OS win10 is built "
                                 "for i686, x86_64 only, not for ppc64le (2)"));
    tern_sched_request_free(r);
    /* An OS neither source knows: no host, and the reason says so. */
    r = request(1, 512, 1, NULL, "{\"os_distro\": \"no-such-os\"}", NULL);
    g_assert_null(r->os_id);
    g_clear_pointer(&why, g_free);
    g_clear_pointer(&got, g_free);
    got = passing(c, r, &why);
    g_assert_cmpstr(got, ==, "");
    g_assert_nonnull(strstr(why, "GuestOSArchFilter removed 11 hosts: os_distro 'no-such-os' "
                                 "is unknown to osinfo-db"));
    tern_sched_request_free(r);
    /* Without rules (or without os_distro) the filter keeps every host. */
    r = request(1, 512, 1, NULL, "{\"os_distro\": \"no-such-os\"}", NULL);
    tern_sched_request_set_guest_os(r, NULL);
    check_set(c, r, "bdw bdw-md hsw hsw-md icl icl-md p8 p9 skl skl-md tcg");
}

static void
test_arch(void)
{
    g_autoptr(TernSchedCache) c = fleet();
    /* No constraint: every host. */
    check_set(c, request(1, 512, 1, NULL, NULL, NULL),
              "bdw bdw-md hsw hsw-md icl icl-md p8 p9 skl skl-md tcg");
    /* ppc64le: the POWER hosts and the TCG-only x86 host that emulates it. */
    check_set(c, request(1, 512, 1, NULL, "{\"hw_architecture\": \"ppc64le\"}", NULL),
              "p8 p9 tcg");
    /* Emulation asked: hosts that offer ppc64le under qemu (TCG). */
    check_set(c, request(1, 512, 1, NULL, "{\"hw_emulation_architecture\": \"ppc64le\"}", NULL),
              "p8 p9 tcg");
    /* ppc64le on KVM only: not the TCG host. */
    check_set(c, request(1, 512, 1, NULL,
                         "{\"hw_architecture\": \"ppc64le\", \"img_hv_type\": \"kvm\"}", NULL),
              "p8 p9");
    check_set(c, request(1, 512, 1, NULL, "{\"hw_architecture\": \"x86_64\"}", NULL),
              "bdw bdw-md hsw hsw-md icl icl-md skl skl-md tcg");
}

static void
test_cpu(void)
{
    g_autoptr(TernSchedCache) c = fleet();
    check_set(c, request(1, 512, 1, "{\"tern:cpu_flags\": \"+md-clear\"}",
                         "{\"hw_architecture\": \"x86_64\"}", NULL),
              "bdw-md hsw-md icl-md skl-md");
    check_set(c, request(1, 512, 1, "{\"tern:cpu_model\": \"Skylake-Client-IBRS\"}", NULL, NULL),
              "icl icl-md skl skl-md");
    check_set(c, request(1, 512, 1, "{\"tern:cpu_model\": \"Broadwell-noTSX-IBRS\", "
                                    "\"tern:cpu_flags\": \"+md-clear\"}", NULL, NULL),
              "bdw-md icl-md skl-md");
    /* A CPU trait (AVX512F: Icelake-Server only). */
    check_set(c, request(1, 512, 1, "{\"trait:HW_CPU_X86_AVX512F\": \"required\"}", NULL, NULL),
              "icl icl-md");
    check_set(c, request(1, 512, 1, "{\"trait:HW_CPU_X86_AVX512F\": \"forbidden\", "
                                    "\"tern:cpu_flags\": \"+md-clear\"}", NULL, NULL),
              "bdw-md hsw-md skl-md");
    /* ppc64le POWER9 compat: not POWER8; TCG emulates it. */
    check_set(c, request(1, 512, 1, "{\"tern:cpu_model\": \"POWER9\"}",
                         "{\"hw_architecture\": \"ppc64le\"}", NULL),
              "p9 tcg");
}

/* A guest the host runs under TCG gets a model QEMU emulates there, not
 * the host's CPU: the request is compared with the host's TCG models. */
static void
test_cpu_tcg(void)
{
    g_autoptr(TernSchedCache) c = tern_sched_cache_new();
    const TernCpuArch X = TERN_CPU_ARCH_X86_64, P = TERN_CPU_ARCH_PPC64LE;
    /* tcg10 emulates POWER7..POWER10 (QEMU 10); tcg-old only up to POWER8;
     * tcg-unreported says nothing (a compute older than tcg_models). */
    tern_sched_cache_put(c, host("tcg10", X, "Icelake-Server", NULL, FALSE, P), FALSE);
    TernSchedHost *h = host("tcg-old", X, "Icelake-Server", NULL, FALSE, P);
    tern_sched_host_set_tcg_models(h, cpudb, "{\"arch\": \"x86_64\", \"tcg_models\": "
                                   "{\"ppc64le\": [\"POWER7\", \"POWER8\"], \"sparc\": [\"x\"]}}");
    g_assert_cmpuint(h->tcg_ncpus, ==, 2);
    tern_sched_cache_put(c, h, FALSE);
    h = host("tcg-unreported", X, "Icelake-Server", NULL, FALSE, P);
    tern_sched_host_set_tcg_models(h, cpudb, "{\"arch\": \"x86_64\"}");
    g_assert_cmpuint(h->tcg_ncpus, ==, 0);
    tern_sched_cache_put(c, h, FALSE);
    /* p9x: a TCG-only POWER9 host emulating x86_64 with what TCG can do there
     * (domain capabilities' usable models: no Skylake, no md-clear). */
    h = host("p9x", P, "POWER9", NULL, FALSE, X);
    tern_sched_host_set_tcg_models(h, cpudb, "{\"tcg_models\": {\"x86_64\": [\"qemu64\", "
                                   "\"Nehalem\", \"Westmere\", \"Conroe\", \"Penryn\"]}}");
    tern_sched_cache_put(c, h, FALSE);
    tern_sched_cache_put(c, host("p9", P, "POWER9", NULL, TRUE, 0), FALSE);

    const char *ppc = "{\"hw_architecture\": \"ppc64le\"}";
    check_set(c, request(1, 512, 1, NULL, ppc, NULL), "p9 p9x tcg-old tcg-unreported tcg10");
    check_set(c, request(1, 512, 1, "{\"tern:cpu_model\": \"POWER8\"}", ppc, NULL),
              "p9 p9x tcg-old tcg10");
    TernSchedRequest *r = request(1, 512, 1, "{\"tern:cpu_model\": \"POWER9\"}", ppc, NULL);
    g_autofree char *why = NULL;
    g_autofree char *got = passing(c, r, &why);
    g_assert_cmpstr(got, ==, "p9 p9x tcg10");
    g_assert_nonnull(strstr(why, "CpuModelFilter removed 2 hosts: POWER9: "
                                 "no CPU model QEMU emulates there under TCG gives it (1), "
                                 "emulates the arch but reported no TCG CPU models (1)"));
    tern_sched_request_free(r);
    /* x86_64 guests on p9x get TCG's models: Nehalem yes, Skylake or
     * md-clear no (never p9x's own CPU, whatever it is). */
    const char *x86 = "{\"hw_architecture\": \"x86_64\"}";
    check_set(c, request(1, 512, 1, "{\"tern:cpu_model\": \"Nehalem\"}", x86, NULL),
              "p9x tcg-old tcg-unreported tcg10");
    check_set(c, request(1, 512, 1, "{\"tern:cpu_model\": \"Skylake-Client-IBRS\"}", x86, NULL),
              "tcg-old tcg-unreported tcg10");
    check_set(c, request(1, 512, 1, "{\"tern:cpu_flags\": \"+md-clear\"}", x86, NULL), "");
    /* Emulation asked: TCG's models, not the Icelake host CPU of the x86
     * hosts (which reported no x86_64 TCG models). */
    const char *emu = "{\"hw_emulation_architecture\": \"x86_64\"}";
    check_set(c, request(1, 512, 1, "{\"tern:cpu_model\": \"Skylake-Client-IBRS\"}", emu, NULL),
              "");
    check_set(c, request(1, 512, 1, "{\"tern:cpu_model\": \"Nehalem\"}", emu, NULL), "p9x");
    check_set(c, request(1, 512, 1, "{\"tern:cpu_model\": \"POWER10\"}",
                         "{\"hw_emulation_architecture\": \"ppc64le\"}", NULL), "tcg10");
}

static void
test_host_lists(void)
{
    g_autoptr(TernSchedCache) c = fleet();
    check_set(c, request(1, 512, 1, NULL, "{\"hw_architecture\": \"ppc64le\"}",
                         "{\"ignore_hosts\": [\"p8\"]}"), "p9 tcg");
    check_set(c, request(1, 512, 1, NULL, NULL, "{\"force_hosts\": [\"skl\", \"p9\"]}"),
              "p9 skl");
    check_set(c, request(1, 512, 1, NULL, NULL,
                         "{\"requested_destination\": {\"nova_object.name\": \"Destination\", "
                         "\"nova_object.namespace\": \"nova\", \"nova_object.version\": \"1.4\", "
                         "\"nova_object.data\": {\"host\": \"icl\"}}}"), "icl");
    check_set(c, request(1, 512, 1, NULL, NULL, "{\"availability_zone\": \"nova\"}"),
              "bdw bdw-md hsw hsw-md icl icl-md p8 p9 skl skl-md tcg");
    check_set(c, request(1, 512, 1, NULL, NULL, "{\"availability_zone\": \"elsewhere\"}"), "");
}

static void
set_down(TernSchedHost *h, gpointer data)
{
    (void) data;
    h->last_seen_up = g_get_real_time() - 120 * G_USEC_PER_SEC;
}

static void
set_disabled(TernSchedHost *h, gpointer data)
{
    (void) data;
    h->svc_disabled = 1;
}

static void
set_used(TernSchedHost *h, gpointer data)
{
    h->memory_used = GPOINTER_TO_INT(data);
}

static void
test_compute_and_resources(void)
{
    g_autoptr(TernSchedCache) c = fleet();
    tern_sched_cache_update(c, "p8", set_down, NULL);
    tern_sched_cache_update(c, "tcg", set_disabled, NULL);
    check_set(c, request(1, 512, 1, NULL, "{\"hw_architecture\": \"ppc64le\"}", NULL), "p9");
    tern_sched_cache_update(c, "p9", set_used, GINT_TO_POINTER(32768 - 1024));
    g_autofree char *reason = NULL;
    g_autoptr(TernSchedRequest) r = request(1, 2048, 1, NULL, "{\"hw_architecture\": \"ppc64le\"}",
                                            NULL);
    g_autofree char *got = passing(c, r, &reason);
    g_assert_cmpstr(got, ==, "");
    g_assert_cmpstr(reason, ==, "ComputeFilter removed 2 hosts: 1 disabled, 1 down (no heartbeat "
                                "for 60 s); ImagePropertiesFilter removed 8 hosts: no ppc64le "
                                "guest support; RamFilter removed 1 host: less than 2048 MB RAM "
                                "free");
    /* Exactly full fits (used + asked == capacity). */
    check_set(c, request(16, 1024, 500, NULL, "{\"hw_architecture\": \"ppc64le\"}", NULL), "p9");
    check_set(c, request(17, 1024, 1, NULL, "{\"hw_architecture\": \"ppc64le\"}", NULL), "");
    check_set(c, request(1, 1024, 501, NULL, "{\"hw_architecture\": \"ppc64le\"}", NULL), "");
}

/* An x86_64 instance on host with a Skylake-Client-IBRS guest CPU (a
 * live migration's source). */
static TernDbInstance *
skylake_guest(const char *host, const char *image_properties)
{
    TernDbInstance *inst = tern_db_instance_new();
    inst->uuid = g_strdup("11111111-2222-4333-8444-555555555555");
    inst->host = g_strdup(host);
    inst->arch = g_strdup("x86_64");
    inst->guest_cpu = g_strdup("{\"arch\": \"x86_64\", \"mode\": \"custom\", "
                               "\"model\": \"Skylake-Client-IBRS\", \"features\": []}");
    inst->image_properties = g_strdup(image_properties);
    return inst;
}

/* The filter pass takes a branch-free route for the common filters
 * (sched_filter.c): on a random mixed fleet (disabled, down, full, unknown
 * CPUs) and a range of requests and filter orders it keeps the same hosts
 * in the same order, with the same weigher inputs, reasons and counts as
 * running each filter in turn. */
static void
run_pass(const GPtrArray *filters, const TernSchedHost *hosts, guint nh,
         const TernSchedRequest *r, gboolean generic, guint *idx, double *raw,
         TernSchedFilterCtx *ctx, GString *why, gint64 now)
{
    for (guint i = 0; i < nh; i++)
        idx[i] = i;
    memset(ctx, 0, sizeof(*ctx));
    tern_sched_filter_ctx_init(ctx, r, cpudb, now, 60, "nova");
    tern_sched_filter_generic = generic;
    guint n = tern_sched_filter_run_raw(filters, hosts, idx, nh, ctx, why, raw);
    tern_sched_filter_generic = FALSE;
    idx[nh] = n;   /* the count, after the survivors */
}

static void
test_branch_free_pass(void)
{
    g_autoptr(TernSchedCache) c = tern_sched_cache_new();
    const TernCpuArch X = TERN_CPU_ARCH_X86_64, P = TERN_CPU_ARCH_PPC64LE;
    const struct { TernCpuArch arch; const char *model, *flag; gboolean kvm; TernCpuArch emu; }
    kinds[] = {
        { X, "Haswell-noTSX-IBRS", NULL, TRUE, 0 }, { X, "Haswell-noTSX-IBRS", "md-clear", TRUE, 0 },
        { X, "Broadwell-noTSX-IBRS", "md-clear", TRUE, 0 }, { X, "Skylake-Client-IBRS", NULL, TRUE, 0 },
        { X, "Icelake-Server", "md-clear", TRUE, 0 }, { P, "POWER8", NULL, TRUE, 0 },
        { P, "POWER9", NULL, TRUE, 0 }, { X, "qemu64", NULL, FALSE, P },
    };
    g_autoptr(GRand) rnd = g_rand_new_with_seed(7);
    gint64 now = g_get_real_time();
    for (int i = 0; i < 3000; i++) {
        guint k = (guint) g_rand_int_range(rnd, 0, G_N_ELEMENTS(kinds));
        g_autofree char *name = g_strdup_printf("h%04d", i);
        TernSchedHost *h = host(name, kinds[k].arch, kinds[k].model, kinds[k].flag, kinds[k].kvm,
                                kinds[k].emu);
        int roll = g_rand_int_range(rnd, 0, 100);
        h->node_disabled = roll < 3;
        h->svc_disabled = roll >= 3 && roll < 6;
        h->has_service = roll != 6;
        if (roll >= 7 && roll < 12)
            h->last_seen_up = now - 120 * G_USEC_PER_SEC;
        if (roll >= 12 && roll < 14)   /* a CPU model cpu_map did not know */
            memset(&h->guest_cpu, 0, sizeof(h->guest_cpu));
        if (roll >= 14 && roll < 16)
            memset(&h->host_cpu, 0, sizeof(h->host_cpu));
        h->memory_used = g_rand_int_range(rnd, 0, 32769);
        h->vcpus_used = g_rand_int_range(rnd, 0, 17);
        h->disk_used = g_rand_int_range(rnd, 0, 501);
        tern_sched_cache_put(c, h, FALSE);
    }
    g_autoptr(TernDbInstance) inst = skylake_guest("h0001", "{}");
    g_autoptr(GPtrArray) reqs = g_ptr_array_new_with_free_func(
        (GDestroyNotify) tern_sched_request_free);
    g_ptr_array_add(reqs, request(1, 512, 1, NULL, NULL, NULL));
    g_ptr_array_add(reqs, request(1, 512, 1, "{\"tern:cpu_flags\": \"+md-clear\"}",
                                  "{\"hw_architecture\": \"x86_64\"}", NULL));
    g_ptr_array_add(reqs, request(1, 512, 1, "{\"tern:cpu_model\": \"POWER9\"}",
                                  "{\"hw_architecture\": \"ppc64le\"}", NULL));
    g_ptr_array_add(reqs, request(1, 512, 1, "{\"trait:HW_CPU_X86_AVX512F\": \"forbidden\", "
                                  "\"tern:cpu_flags\": \"+md-clear\"}", NULL, NULL));
    g_ptr_array_add(reqs, request(4, 20000, 100, "{\"tern:cpu_model\": \"Skylake-Client-IBRS\"}",
                                  NULL, NULL));
    g_ptr_array_add(reqs, request(1, 512, 1, NULL, "{\"os_distro\": \"win10\"}", NULL));
    g_ptr_array_add(reqs, request(1, 512, 1, NULL, "{\"os_distro\": \"win10\", "
                                  "\"hw_architecture\": \"ppc64le\"}", NULL));
    g_ptr_array_add(reqs, request(1, 512, 1, NULL, "{\"os_distro\": \"no-such-os\"}", NULL));
    g_ptr_array_add(reqs, request(1, 512, 1, NULL, "{\"hw_architecture\": \"ppc64le\", "
                                  "\"img_hv_type\": \"kvm\"}", NULL));
    g_ptr_array_add(reqs, request(2, 4096, 10, NULL, NULL,
                                  "{\"availability_zone\": \"elsewhere\"}"));
    g_ptr_array_add(reqs, request(1, 512, 1, NULL, "{\"hw_emulation_architecture\": \"ppc64le\"}",
                                  NULL));
    TernSchedRequest *mv = request(1, 512, 1, NULL, NULL, NULL);
    g_autoptr(GError) err = NULL;
    g_assert_cmpint(tern_sched_request_set_move(mv, cpudb, inst, NULL, &err), ==, 0);
    g_ptr_array_add(reqs, mv);

    const char *orders[][9] = {
        { "ComputeFilter", "AvailabilityZoneFilter", "ImagePropertiesFilter", "RamFilter",
          "CoreFilter", "DiskFilter", "GuestOSArchFilter", "CpuModelFilter", NULL },
        { "CpuModelFilter", "RamFilter", "GuestOSArchFilter", "ComputeFilter", "DiskFilter",
          "ImagePropertiesFilter", "CoreFilter", "AvailabilityZoneFilter", NULL },
        { "DiskFilter", "CpuModelFilter", "ComputeFilter", NULL },
    };
    tern_sched_cache_read_lock(c);
    guint nh;
    const TernSchedHost *hosts = tern_sched_cache_hosts(c, &nh);
    g_autofree guint *idx_a = g_new(guint, nh + 1), *idx_b = g_new(guint, nh + 1);
    g_autofree double *raw_a = g_new0(double, nh * 3), *raw_b = g_new0(double, nh * 3);
    g_autofree TernSchedFilterCtx *ca = g_new0(TernSchedFilterCtx, 1);
    g_autofree TernSchedFilterCtx *cb = g_new0(TernSchedFilterCtx, 1);
    guint distinct_counts = 0;
    for (guint o = 0; o < G_N_ELEMENTS(orders); o++) {
        g_autoptr(GPtrArray) filters = tern_sched_filters_from_names(orders[o], &err);
        g_assert_no_error(err);
        for (guint q = 0; q < reqs->len; q++) {
            const TernSchedRequest *r = reqs->pdata[q];
            g_autoptr(GString) wa = g_string_new(NULL), wb = g_string_new(NULL);
            run_pass(filters, hosts, nh, r, TRUE, idx_a, raw_a, ca, wa, now);
            run_pass(filters, hosts, nh, r, FALSE, idx_b, raw_b, cb, wb, now);
            g_test_message("order %u request %u: %u hosts; %s", o, q, idx_a[nh], wa->str);
            g_assert_cmpuint(idx_a[nh], ==, idx_b[nh]);
            g_assert_cmpmem(idx_a, idx_a[nh] * sizeof(guint), idx_b, idx_b[nh] * sizeof(guint));
            g_assert_cmpmem(raw_a, idx_a[nh] * 3 * sizeof(double), raw_b,
                            idx_b[nh] * 3 * sizeof(double));
            g_assert_cmpstr(wa->str, ==, wb->str);
            g_assert_cmpuint(ca->disabled, ==, cb->disabled);
            g_assert_cmpuint(ca->down, ==, cb->down);
            g_assert_cmpmem(ca->os_refused, sizeof(ca->os_refused), cb->os_refused,
                            sizeof(cb->os_refused));
            g_assert_cmpmem(ca->missing, sizeof(ca->missing), cb->missing, sizeof(cb->missing));
            g_assert_cmpuint(ca->cpu_other_family + ca->cpu_generation + ca->cpu_vendor +
                             ca->cpu_forbidden + ca->cpu_older + ca->cpu_tcg + ca->cpu_tcg_unknown,
                             ==, cb->cpu_other_family + cb->cpu_generation + cb->cpu_vendor +
                             cb->cpu_forbidden + cb->cpu_older + cb->cpu_tcg + cb->cpu_tcg_unknown);
            if (idx_a[nh] > 0 && idx_a[nh] < nh && strstr(wa->str, ";"))
                distinct_counts++;
        }
    }
    tern_sched_cache_read_unlock(c);
    /* the fleet and requests exercise more than one refusing filter at once */
    g_assert_cmpuint(distinct_counts, >, 10);
}

/* ---- selection ----------------------------------------------------------- */

typedef struct {
    GHashTable *free_mb;      /* host -> MB still free, the "database" */
    guint lose_first;         /* refuse this many claims as if another scheduler won */
    guint claims, released;
} Claims;

static int
claim_mem(const char *consumer, gboolean move, const char *host, const TernSchedRequest *r,
          gpointer data, GError **error)
{
    (void) consumer;
    (void) move;
    Claims *cl = data;
    gint64 *free_mb = g_hash_table_lookup(cl->free_mb, host);
    if (cl->lose_first) {
        cl->lose_first--;
        g_set_error(error, TERN_DB_ERROR, TERN_DB_ERROR_NO_CAPACITY, "host %s is full", host);
        return -1;
    }
    if (!free_mb || *free_mb < r->memory_mb) {
        g_set_error(error, TERN_DB_ERROR, TERN_DB_ERROR_NO_CAPACITY, "host %s is full", host);
        return -1;
    }
    *free_mb -= r->memory_mb;
    cl->claims++;
    return 0;
}

static void
release_mem(const char *consumer, gboolean move, const char *host, gpointer data)
{
    (void) consumer;
    (void) move;
    (void) host;
    ((Claims *) data)->released++;
}

static TernSchedPolicy
policy(GPtrArray *filters, Claims *cl, double ram_mult)
{
    return (TernSchedPolicy) {
        .filters = filters, .mult = { .ram = ram_mult }, .host_subset_size = 1,
        .max_attempts = 3, .down_time = 60, .default_az = "nova", .cpudb = cpudb,
        .claim = claim_mem, .release = release_mem, .claim_data = cl,
    };
}

static void
set_used_p9(TernSchedHost *h, gpointer data)
{
    h->memory_used = GPOINTER_TO_INT(data);
}

static void
test_select_spread_stack(void)
{
    g_autoptr(TernSchedCache) c = fleet();
    g_autoptr(GPtrArray) filters = default_filters();
    Claims cl = { g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free), 0, 0, 0 };
    const char *names[] = { "p8", "p9", "tcg" };
    for (guint i = 0; i < 3; i++)
        g_hash_table_insert(cl.free_mb, (gpointer) names[i], g_memdup2(&(gint64) { 32768 }, 8));
    tern_sched_cache_update(c, "p9", set_used_p9, GINT_TO_POINTER(8192));
    tern_sched_cache_update(c, "tcg", set_used_p9, GINT_TO_POINTER(4096));
    g_autoptr(TernSchedRequest) r = request(1, 1024, 1, NULL, "{\"hw_architecture\": \"ppc64le\"}",
                                            NULL);
    const char *uuid[] = { "11111111-2222-4333-8444-555555555555" };
    /* Spread: the most free RAM first (p8), alternates in weight order. */
    TernSchedPolicy p = policy(filters, &cl, 1.0);
    g_autoptr(GPtrArray) out = NULL;
    g_autoptr(GError) err = NULL;
    g_assert_cmpint(tern_sched_select(c, &p, r, uuid, 1, TRUE, &out, &err), ==, 0);
    g_assert_no_error(err);
    GPtrArray *l = out->pdata[0];
    g_assert_cmpuint(l->len, ==, 3);
    g_assert_cmpstr(((TernSchedPick *) l->pdata[0])->host, ==, "p8");
    g_assert_cmpstr(((TernSchedPick *) l->pdata[1])->host, ==, "tcg");
    g_assert_cmpstr(((TernSchedPick *) l->pdata[2])->host, ==, "p9");
    /* Nova's normalisation: free RAM 32768 (p8), 28672 (tcg), 24576 (p9) -> 1, 0.5, 0. */
    g_assert_cmpfloat(((TernSchedPick *) l->pdata[0])->weight, ==, 1.0);
    g_assert_cmpfloat(((TernSchedPick *) l->pdata[2])->weight, ==, 0.0);
    g_assert_cmpfloat_with_epsilon(((TernSchedPick *) l->pdata[1])->weight,
                                   (28672.0 - 24576.0) / (32768.0 - 24576.0), 1e-9);
    g_clear_pointer(&out, g_ptr_array_unref);
    /* Stack: the fullest first (p9); no alternates asked. */
    p = policy(filters, &cl, -1.0);
    g_assert_cmpint(tern_sched_select(c, &p, r, uuid, 1, FALSE, &out, &err), ==, 0);
    l = out->pdata[0];
    g_assert_cmpuint(l->len, ==, 1);
    g_assert_cmpstr(((TernSchedPick *) l->pdata[0])->host, ==, "p9");
    g_clear_pointer(&out, g_ptr_array_unref);

    /* A lost claim moves on to the next host; the loser is no alternate. */
    cl.lose_first = 1;
    p = policy(filters, &cl, 1.0);
    g_assert_cmpint(tern_sched_select(c, &p, r, uuid, 1, TRUE, &out, &err), ==, 0);
    l = out->pdata[0];
    g_assert_cmpstr(((TernSchedPick *) l->pdata[0])->host, !=, "p8");
    for (guint i = 0; i < l->len; i++)
        g_assert_cmpstr(((TernSchedPick *) l->pdata[i])->host, !=, "p8");

    /* The wire form: Selection 1.1 objects. */
    g_autoptr(json_t) wire = tern_sched_selections_to_json(out, TRUE, "nova");
    json_t *s0 = json_array_get(json_array_get(wire, 0), 0);
    g_assert_cmpstr(json_string_value(json_object_get(s0, "nova_object.name")), ==, "Selection");
    json_t *d = json_object_get(s0, "nova_object.data");
    g_assert_cmpstr(json_string_value(json_object_get(d, "service_host")), ==,
                    ((TernSchedPick *) l->pdata[0])->host);
    g_autoptr(json_t) ar = json_loads(json_string_value(json_object_get(d, "allocation_request")),
                                      0, NULL);
    json_t *res = json_object_get(json_object_get(json_object_get(ar, "allocations"),
                                                  ((TernSchedPick *) l->pdata[0])->uuid),
                                  "resources");
    g_assert_cmpint(json_integer_value(json_object_get(res, "MEMORY_MB")), ==, 1024);
    g_clear_pointer(&out, g_ptr_array_unref);
    g_hash_table_unref(cl.free_mb);
}

static void
test_select_capacity(void)
{
    /* Three instances of 20 GB on two hosts of 32 GB: the third has no
     * host; the first two claims are released. */
    g_autoptr(TernSchedCache) c = fleet();
    g_autoptr(GPtrArray) filters = default_filters();
    Claims cl = { g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free), 0, 0, 0 };
    g_hash_table_insert(cl.free_mb, "p8", g_memdup2(&(gint64) { 32768 }, 8));
    g_hash_table_insert(cl.free_mb, "p9", g_memdup2(&(gint64) { 32768 }, 8));
    g_autoptr(TernSchedRequest) r = request(1, 20480, 1, NULL,
                                            "{\"hw_architecture\": \"ppc64le\", "
                                            "\"img_hv_type\": \"kvm\"}", NULL);
    const char *uuids[] = { "11111111-2222-4333-8444-000000000001",
                            "11111111-2222-4333-8444-000000000002",
                            "11111111-2222-4333-8444-000000000003" };
    TernSchedPolicy p = policy(filters, &cl, 1.0);
    g_autoptr(GPtrArray) out = NULL;
    g_autoptr(GError) err = NULL;
    g_assert_cmpint(tern_sched_select(c, &p, r, uuids, 3, TRUE, &out, &err), ==, -1);
    g_assert_error(err, TERN_SCHED_ERROR, TERN_SCHED_ERROR_NO_VALID_HOST);
    g_assert_nonnull(strstr(err->message, "RamFilter removed 2 hosts"));
    g_assert_cmpuint(cl.claims, ==, 2);
    g_assert_cmpuint(cl.released, ==, 2);
    g_hash_table_unref(cl.free_mb);
}

static void
test_no_valid_host_reason(void)
{
    g_autoptr(TernSchedCache) c = fleet();
    g_autoptr(GPtrArray) filters = default_filters();
    g_autoptr(TernSchedRequest) r = request(1, 512, 1, "{\"tern:cpu_model\": \"Skylake-Client-IBRS\", "
                                            "\"tern:cpu_flags\": \"+md-clear\"}",
                                            "{\"hw_architecture\": \"x86_64\"}",
                                            "{\"ignore_hosts\": [\"skl-md\", \"icl-md\"]}");
    TernSchedPolicy p = policy(filters, NULL, 1.0);
    p.claim = NULL;
    g_autoptr(GPtrArray) out = NULL;
    g_autoptr(GError) err = NULL;
    g_assert_cmpint(tern_sched_select(c, &p, r, NULL, 0, TRUE, &out, &err), ==, -1);
    g_assert_error(err, TERN_SCHED_ERROR, TERN_SCHED_ERROR_NO_VALID_HOST);
    g_assert_cmpstr(err->message, ==,
                    "ignore_hosts removed 2 hosts; ImagePropertiesFilter removed 2 hosts: no "
                    "x86_64 guest support; CpuModelFilter removed 7 hosts: Skylake-Client-IBRS "
                    "+md-clear: missing md-clear (5), CPU without all features of "
                    "Skylake-Client-IBRS (5)");
}

static void
test_bad_requests(void)
{
    g_autoptr(GError) err = NULL;
    const char *bad[] = { "{\"tern:cpu_model\": \"Pentium-9000\"}",
                          "{\"tern:cpu_flags\": \"+no-such-flag\"}" };
    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        json_t *es = json_loads(bad[i], 0, NULL);
        json_t *flavor = obj("Flavor", "1.2", json_pack("{s:i,s:i,s:i,s:o}", "vcpus", 1,
                                                         "memory_mb", 1, "root_gb", 1,
                                                         "extra_specs", es));
        g_autoptr(json_t) spec = obj("RequestSpec", "1.14", json_pack("{s:o}", "flavor", flavor));
        g_autoptr(TernObject) o = tern_object_from_primitive(spec, NULL, &err);
        g_assert_no_error(err);
        TernSchedRequest *r = tern_sched_request_from_spec(cpudb, o, &err);
        g_assert_null(r);
        g_assert_error(err, TERN_SCHED_ERROR, TERN_SCHED_ERROR_INVALID);
        g_test_message("%s", err->message);
        g_clear_error(&err);
    }
    const char *names[] = { "ComputeFilter", "NoSuchFilter", NULL };
    g_assert_null(tern_sched_filters_from_names(names, &err));
    g_assert_error(err, TERN_SCHED_ERROR, TERN_SCHED_ERROR_CONFIG);
}

static void
test_move(void)
{
    g_autoptr(TernSchedCache) c = fleet();
    /* A guest booted on skl with a Skylake-Client-IBRS guest CPU. */
    g_autoptr(TernDbInstance) inst = skylake_guest("skl", "{\"hw_machine_type\": \"q35\"}");
    TernSchedRequest *r = request(1, 512, 1, NULL, NULL, NULL);
    g_autoptr(GError) err = NULL;
    g_assert_cmpint(tern_sched_request_set_move(r, cpudb, inst, NULL, &err), ==, 0);
    g_assert_no_error(err);
    /* Never Broadwell or Haswell, not the source, not POWER, not the
     * TCG host's qemu64. */
    check_set(c, r, "icl icl-md skl-md");
    /* Booted with +md-clear: only md-clear hosts. */
    g_free(inst->guest_cpu);
    inst->guest_cpu = g_strdup("{\"arch\": \"x86_64\", \"mode\": \"custom\", "
                               "\"model\": \"Skylake-Client-IBRS\", \"features\": [\"md-clear\"]}");
    r = request(1, 512, 1, NULL, NULL, NULL);
    g_assert_cmpint(tern_sched_request_set_move(r, cpudb, inst, NULL, &err), ==, 0);
    check_set(c, r, "icl-md skl-md");
    /* A POWER8 compat guest on p9 moves to p8, never to x86 (not even TCG). */
    g_free(inst->host);
    inst->host = g_strdup("p9");
    g_free(inst->arch);
    inst->arch = g_strdup("ppc64le");
    g_free(inst->guest_cpu);
    inst->guest_cpu = g_strdup("{\"arch\": \"ppc64le\", \"mode\": \"host-model\", "
                               "\"model\": \"POWER8\"}");
    g_free(inst->image_properties);
    inst->image_properties = g_strdup("{}");
    r = request(1, 512, 1, NULL, NULL, NULL);
    g_assert_cmpint(tern_sched_request_set_move(r, cpudb, inst, NULL, &err), ==, 0);
    check_set(c, r, "p8");
}

static void
test_cache(void)
{
    g_autoptr(TernSchedCache) c = fleet();
    g_assert_cmpuint(tern_sched_cache_size(c), ==, 11);
    g_assert_true(tern_sched_cache_remove(c, "hsw"));
    g_assert_false(tern_sched_cache_remove(c, "hsw"));
    g_assert_true(tern_sched_cache_remove(c, "tcg"));   /* the last one */
    g_assert_cmpuint(tern_sched_cache_size(c), ==, 9);
    check_set(c, request(1, 512, 1, NULL, NULL, NULL), "bdw bdw-md hsw-md icl icl-md p8 p9 skl skl-md");
    /* Replacing keeps the service fields when asked. */
    tern_sched_cache_update(c, "p8", set_down, NULL);
    tern_sched_cache_put(c, host("p8", TERN_CPU_ARCH_PPC64LE, "POWER8", NULL, TRUE, 0), TRUE);
    check_set(c, request(1, 512, 1, NULL, "{\"hw_architecture\": \"ppc64le\"}", NULL), "p9");
    tern_sched_cache_put(c, host("p8", TERN_CPU_ARCH_PPC64LE, "POWER8", NULL, TRUE, 0), FALSE);
    check_set(c, request(1, 512, 1, NULL, "{\"hw_architecture\": \"ppc64le\"}", NULL), "p8 p9");
}

/* Nova's soft server-group weighers: with equal resources, soft-affinity
 * prefers the host with the most members, soft-anti-affinity the fewest;
 * the multiplier scales against the resource weighers. */
static void
test_soft_group_weighers(void)
{
    /* 3 hosts, equal free RAM/vCPUs/disk except host 2 has more RAM. */
    const double raw[9] = { 1000, 8, 100, 1000, 8, 100, 2000, 8, 100 };
    const guint idx[3] = { 0, 1, 2 };
    const double members[3] = { 2, 0, 1 };
    double anti[3];
    for (int i = 0; i < 3; i++)
        anti[i] = -members[i];
    TernSchedMultipliers m = { .ram = 1.0, .soft_affinity = 1.0, .soft_anti_affinity = 1.0 };
    TernSchedWeighed out[3];
    g_assert_cmpuint(tern_sched_weigh_top_extra(&m, raw, NULL, 0.0, idx, 3, out, 3), ==, 3);
    g_assert_cmpuint(out[0].idx, ==, 2);                      /* RAM alone: host 2 */
    /* soft-affinity x 2: host 0 (2 members: 0 + 2*1.0) beats host 2 (1 + 2*0.5). */
    tern_sched_weigh_top_extra(&m, raw, members, 2.0, idx, 3, out, 3);
    g_assert_cmpuint(out[0].idx, ==, 0);
    g_assert_cmpfloat_with_epsilon(out[0].weight, 2.0, 1e-9);
    g_assert_cmpfloat_with_epsilon(out[1].weight, 2.0, 1e-9);   /* host 2: 1 + 1 (tie kept in order) */
    /* soft-anti-affinity: host 1 (no member) gets 1.0, host 2 gets 1 + 0.5. */
    tern_sched_weigh_top_extra(&m, raw, anti, 1.0, idx, 3, out, 3);
    g_assert_cmpuint(out[0].idx, ==, 2);
    g_assert_cmpfloat_with_epsilon(out[0].weight, 1.5, 1e-9);
    g_assert_cmpuint(out[1].idx, ==, 1);
    g_assert_cmpuint(out[2].idx, ==, 0);
    /* multiplier 0: the group does not count. */
    tern_sched_weigh_top_extra(&m, raw, anti, 0.0, idx, 3, out, 3);
    g_assert_cmpfloat_with_epsilon(out[0].weight, 1.0, 1e-9);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_autoptr(GError) err = NULL;
    cpudb = tern_cpu_db_get(&err);
    g_assert_no_error(err);
    g_autofree char *rules_path = g_build_filename(g_getenv("TERN_SRCDIR"), "etc", "tern",
                                                   "guest-os-rules.ini", NULL);
    os_rules = tern_guest_os_rules_load(rules_path, &err);
    g_assert_no_error(err);
    g_test_add_func("/scheduler/filter/arch", test_arch);
    g_test_add_func("/scheduler/filter/cpu", test_cpu);
    g_test_add_func("/scheduler/filter/guest-os", test_guest_os);
    g_test_add_func("/scheduler/filter/cpu-tcg", test_cpu_tcg);
    g_test_add_func("/scheduler/filter/host-lists", test_host_lists);
    g_test_add_func("/scheduler/filter/compute-resources", test_compute_and_resources);
    g_test_add_func("/scheduler/filter/move", test_move);
    g_test_add_func("/scheduler/filter/branch-free-pass", test_branch_free_pass);
    g_test_add_func("/scheduler/select/spread-stack-lost-claim", test_select_spread_stack);
    g_test_add_func("/scheduler/select/capacity", test_select_capacity);
    g_test_add_func("/scheduler/select/no-valid-host-reason", test_no_valid_host_reason);
    g_test_add_func("/scheduler/request/bad", test_bad_requests);
    g_test_add_func("/scheduler/cache", test_cache);
    g_test_add_func("/scheduler/weigh/soft-server-group", test_soft_group_weighers);
    int rc = g_test_run();
    tern_guest_os_rules_free(os_rules);
    return rc;
}
