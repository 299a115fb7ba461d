/* cpu.h: tern's CPU layer, the public API (libtern_cpu.a).
 *
 * What it answers, without asking libvirt: which guest CPU a host gives
 * under its [libvirt] cpu_mode / cpu_models / cpu_model_extra_flags, and
 * whether a host can run (or receive by live migration) a guest CPU. The
 * compute and the scheduler both call it, so they always agree.
 *
 * Data: libvirt's own cpu_map (/usr/share/libvirt/cpu_map), loaded once
 * with libxml2 into a TernCpuDb that is read-only afterwards (share it
 * between threads freely). x86: vendors, features (one bit each), models
 * with inheritance (<model name='X'/> inside a model), `removed` features
 * and `added` ones (added='yes' marks a feature libvirt does not count as
 * part of the model, as libvirt does). ppc64: PVR-based models; POWER<n>
 * is generation n and compat mode "power<n>".
 *
 * Shape (as libvirt's src/cpu/): one driver table of function pointers per
 * arch family (cpu_x86.c, cpu_ppc64.c); cpu.c is the only place that picks
 * a driver by arch. Everything else is arch-neutral:
 *   cpu_db.c         load cpu_map, look up models and features
 *   cpu_featureset.c fixed-size feature bitsets
 *   cpu_host.c       host CPU from capabilities / domain capabilities XML
 *   cpu_guest.c      guest CPU from [libvirt] options (Nova Zed semantics)
 *   cpu_compare.c    compare results, the scheduler's compact form
 *   cpu_traits.c     os-traits names (HW_CPU_X86_*) <-> features
 *   cpu_xml.c        libvirt <cpu> XML out (libxml2) and guest <cpu> XML in
 *   cpu_info.c       Nova's ComputeNode.cpu_info JSON (jansson)
 *
 * Typical use:
 *   const TernCpuDb *db = tern_cpu_db_get(&err);                // once
 *   TernCpuHost *host = tern_cpu_host_from_xml(db, caps, domcaps, &err);
 *   TernCpu *guest = tern_cpu_guest_from_config(db, host, &cfg, NULL, &err);
 *   char *xml = tern_cpu_guest_xml(db, guest, &err);          // <cpu>...</cpu>
 *   TernCpuCompareResult r = tern_cpu_compare(db, host->cpu, guest, &cmp, &err);
 *   TernCpuCompact c; tern_cpu_compact(db, host->cpu, &c);      // scheduler
 *   tern_cpu_compact_satisfies(&c, &request)                    // ~ns
 *
 * All functions that can fail return 0 / -1 (or NULL) and set a GError in
 * TERN_CPU_ERROR with a message an operator can act on. */
#ifndef TERN_CPU_H
#define TERN_CPU_H

#include <glib.h>
#include "cpu/cpu_featureset.h"

#define TERN_CPU_ERROR (tern_cpu_error_quark())
GQuark tern_cpu_error_quark(void);
typedef enum {
    TERN_CPU_ERROR_LOAD,            /* cpu_map missing or malformed */
    TERN_CPU_ERROR_UNKNOWN_MODEL,   /* a model cpu_map does not define */
    TERN_CPU_ERROR_UNKNOWN_FEATURE, /* a feature cpu_map does not define */
    TERN_CPU_ERROR_XML,             /* input XML unreadable or incomplete */
    TERN_CPU_ERROR_CONFIG,          /* [libvirt] options that do not fit together */
    TERN_CPU_ERROR_INCOMPATIBLE,    /* the host cannot provide what is asked */
    TERN_CPU_ERROR_ARCH,            /* an arch tern has no CPU driver for */
} TernCpuErrorCode;

/* Architectures (the arch of a host or guest, as libvirt names them). */
typedef enum {
    TERN_CPU_ARCH_NONE = 0,
    TERN_CPU_ARCH_I686,
    TERN_CPU_ARCH_X86_64,
    TERN_CPU_ARCH_PPC64,
    TERN_CPU_ARCH_PPC64LE,
} TernCpuArch;

const char *tern_cpu_arch_name(TernCpuArch arch);
/* libvirt's name ("x86_64", "ppc64le", ...) -> arch; NONE if unknown. */
TernCpuArch tern_cpu_arch_from_name(const char *name);

typedef enum {
    TERN_CPU_MODE_HOST = 0,          /* a host CPU, not a guest */
    TERN_CPU_MODE_HOST_MODEL,
    TERN_CPU_MODE_HOST_PASSTHROUGH,
    TERN_CPU_MODE_CUSTOM,
    TERN_CPU_MODE_NONE,              /* no <cpu>: the hypervisor's default CPU */
} TernCpuMode;

const char *tern_cpu_mode_name(TernCpuMode mode);

/* ---- model database -------------------------------------------------- */

typedef struct _TernCpuDb TernCpuDb;

/* Load a cpu_map folder (index.xml and what it includes). */
TernCpuDb *tern_cpu_db_load(const char *dir, GError **error);
void tern_cpu_db_free(TernCpuDb *db);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TernCpuDb, tern_cpu_db_free)
/* The process-wide db from TERN_CPU_MAP_DIR (env) or libvirt's folder,
 * loaded on first use (thread-safe); never freed. */
const TernCpuDb *tern_cpu_db_get(GError **error);
/* Where the db was loaded from. */
const char *tern_cpu_db_dir(const TernCpuDb *db);

/* Model names of an arch in cpu_map order (NULL-terminated, owned by db). */
const char *const *tern_cpu_db_models(const TernCpuDb *db, TernCpuArch arch);
/* Feature names of an arch; index i is bit i of a TernCpuFeatureSet. */
const char *const *tern_cpu_db_features(const TernCpuDb *db, TernCpuArch arch);
/* Bit index of a feature (exact cpu_map name), or -1. */
int tern_cpu_db_feature_index(const TernCpuDb *db, TernCpuArch arch, const char *name);
/* The canonical model name for a case-insensitive one, or NULL. */
const char *tern_cpu_db_model_name(const TernCpuDb *db, TernCpuArch arch, const char *name);
/* Full feature set of a model (inheritance applied); -1 if unknown. */
int tern_cpu_db_model_features(const TernCpuDb *db, TernCpuArch arch, const char *model,
                               TernCpuFeatureSet *out, GError **error);
/* The vendor cpu_map gives a model (NULL if none). */
const char *tern_cpu_db_model_vendor(const TernCpuDb *db, TernCpuArch arch, const char *model);

/* ---- CPUs ---------------------------------------------------------- */

/* One CPU, host or guest, fully expanded.
 * x86: `features` is everything the CPU has (model + require - disable);
 *      `required` / `disabled` are the features named explicitly on top of
 *      the model (they make up the <feature> elements of its XML).
 * ppc64: `generation` is the POWER generation (host) or the compat level
 *      the guest needs (8 = power8); features are empty. */
typedef struct {
    TernCpuArch arch;
    TernCpuMode mode;
    char *model;                 /* cpu_map name; NULL when none applies */
    char *vendor;                /* explicit vendor (hosts); NULL = any */
    guint generation;            /* ppc64 */
    TernCpuFeatureSet features;
    TernCpuFeatureSet required;
    TernCpuFeatureSet disabled;
    TernCpuFeatureSet forbidden;  /* policy='forbid': the host must not have them */
    TernCpuFeatureSet forced;     /* policy='force': the guest has them (in features)
                                   * whatever the host has, so a compare does not
                                   * ask the host for them (as libvirt) */
} TernCpu;

TernCpu *tern_cpu_new(TernCpuArch arch, TernCpuMode mode);
TernCpu *tern_cpu_copy(const TernCpu *cpu);
void tern_cpu_free(TernCpu *cpu);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TernCpu, tern_cpu_free)

/* A CPU from a model and explicit features (+name / -name / name), e.g.
 * ("Skylake-Client-IBRS", {"md-clear", NULL}). ppc64: model POWER9 or
 * compat mode power9. */
TernCpu *tern_cpu_from_model(const TernCpuDb *db, TernCpuArch arch, TernCpuMode mode,
                             const char *model, const char *const *flags, GError **error);

/* Sorted feature names of a set (for messages and tests). */
GPtrArray *tern_cpu_feature_names(const TernCpuDb *db, TernCpuArch arch,
                                  const TernCpuFeatureSet *set);
/* "a, b, c" */
char *tern_cpu_feature_list(const TernCpuDb *db, TernCpuArch arch, const TernCpuFeatureSet *set);

/* The compat modes ("power8", ...) a host CPU can run guests in, oldest
 * first (ppc64: every POWER generation of cpu_map up to the host's; empty
 * for x86). */
GPtrArray *tern_cpu_compat_modes(const TernCpuDb *db, const TernCpu *host);

/* ---- host CPU -------------------------------------------------------- */

typedef struct {
    TernCpu *cpu;                /* the physical CPU (<host><cpu> of capabilities) */
    TernCpu *host_model;         /* domain capabilities' host-model CPU, or NULL */
    GPtrArray *usable_models;    /* domain capabilities' usable custom models */
    gboolean have_domcaps;
    guint cells, sockets, cores, threads;   /* capabilities' topology (0 = unknown) */
} TernCpuHost;

/* Parse libvirt capabilities XML (required) and domain capabilities XML
 * (optional, NULL if not available). */
TernCpuHost *tern_cpu_host_from_xml(const TernCpuDb *db, const char *caps_xml,
                                    const char *domcaps_xml, GError **error);
void tern_cpu_host_free(TernCpuHost *host);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TernCpuHost, tern_cpu_host_free)
/* The CPU a host-model guest gets: domcaps host-model, else the host CPU. */
const TernCpu *tern_cpu_host_model_cpu(const TernCpuHost *host);

/* ---- Nova's ComputeNode.cpu_info ------------------------------------- */

/* The JSON string Nova's libvirt driver stores in ComputeNode.cpu_info
 * (_get_cpu_info): {"arch", "model", "vendor", "topology": {"cells",
 * "sockets", "cores", "threads"}, "features": [expanded host features]}.
 * Features are sorted (Nova's are a set, in no order). */
char *tern_cpu_info_json(const TernCpuDb *db, const TernCpuHost *host);
/* A cpu_info JSON string (from tern or Nova) -> the host CPU it describes.
 * Unknown features are skipped, as for any host CPU. */
TernCpu *tern_cpu_from_info_json(const TernCpuDb *db, const char *json, GError **error);

/* ---- guest CPU from config ---------------------------------------------- */

/* The [libvirt] options, as strings from the config (tern_config_get_*). */
typedef struct {
    const char *cpu_mode;                      /* NULL = Nova's default (host-model) */
    const char *const *cpu_models;             /* NULL or NULL-terminated */
    const char *const *cpu_model_extra_flags;  /* NULL or NULL-terminated */
} TernCpuConfig;

/* The guest CPU this host gives (Nova's _get_guest_cpu_model_config):
 * `wanted` (may be NULL) are features a request needs (e.g. from traits);
 * with cpu_mode=custom the first of cpu_models that has them all is used. */
TernCpu *tern_cpu_guest_from_config(const TernCpuDb *db, const TernCpuHost *host,
                                    const TernCpuConfig *cfg, const TernCpuFeatureSet *wanted,
                                    GError **error);

/* Start-up validation (Nova's _check_cpu_compatibility, stricter): options
 * that do not fit together, unknown models or flags, and every configured
 * model + flags the host cannot provide are errors naming what is missing. */
int tern_cpu_validate_config(const TernCpuDb *db, const TernCpuHost *host,
                             const TernCpuConfig *cfg, GError **error);

/* ---- compare and baseline ---------------------------------------------- */

typedef enum {
    TERN_CPU_INCOMPATIBLE = 0,
    TERN_CPU_IDENTICAL,
    TERN_CPU_SUPERSET,            /* the host has more than the guest needs */
} TernCpuCompareResult;

const char *tern_cpu_compare_result_name(TernCpuCompareResult r);

typedef struct {
    TernCpuCompareResult result;
    TernCpuFeatureSet missing;   /* x86: features the guest needs and the host lacks */
    char *reason;                /* why incompatible (operator message), else NULL */
} TernCpuComparison;

void tern_cpu_comparison_clear(TernCpuComparison *c);

/* Can `host` run `guest` (libvirt's virCPUCompare semantics)? Returns the
 * result; fills *cmp (optional). -1 only on bad input (unknown model). */
int tern_cpu_compare(const TernCpuDb *db, const TernCpu *host, const TernCpu *guest,
                     TernCpuComparison *cmp, GError **error);

/* Can this host's hypervisor run `guest` (libvirt's
 * virConnectCompareHypervisorCPU): against the host-model CPU of domain
 * capabilities, taking into account the models QEMU reports usable, as
 * libvirt 11 does (docs/cpu.md). Without domain capabilities this is
 * tern_cpu_compare against the host CPU. */
int tern_cpu_compare_hypervisor(const TernCpuDb *db, const TernCpuHost *host,
                                const TernCpu *guest, TernCpuComparison *cmp, GError **error);

/* The best common CPU of hosts (libvirt's virCPUBaseline): x86 a model +
 * required/disabled features; ppc64 the oldest generation's compat mode. */
TernCpu *tern_cpu_baseline(const TernCpuDb *db, const TernCpu *const *hosts, guint n,
                           GError **error);

/* ---- XML ---------------------------------------------------------------- */

/* Guest <cpu> element for domain XML (mode, model, features). NULL and no
 * error for mode none (no element). */
char *tern_cpu_guest_xml(const TernCpuDb *db, const TernCpu *guest, GError **error);
/* Host-style <cpu><arch/><model/><vendor/><feature/></cpu>, as
 * virConnectBaselineCPU takes it. */
char *tern_cpu_host_xml(const TernCpuDb *db, const TernCpu *cpu, GError **error);
/* A CPU from libvirt <cpu> XML (guest or host style; arch needed when the
 * XML has none). */
TernCpu *tern_cpu_from_xml(const TernCpuDb *db, const char *xml, TernCpuArch arch,
                           GError **error);

/* ---- traits ------------------------------------------------------------- */

/* Every CPU trait Nova knows for this arch -> TRUE/FALSE (as Nova's
 * cpu_features_to_traits: a dict of trait name -> whether set). Keys and
 * the table are static strings. */
GHashTable *tern_cpu_traits(const TernCpuDb *db, const TernCpu *cpu);
/* The CPU traits a compute reports to placement under its config, exactly
 * as Nova's _get_cpu_feature_traits: host-model and host-passthrough
 * report the host CPU's features, custom the union of every cpu_models
 * entry's features, none QEMU's default model; the names of all
 * cpu_model_extra_flags are added (Nova adds "-flag" names too). */
GHashTable *tern_cpu_config_traits(const TernCpuDb *db, const TernCpuHost *host,
                                   const TernCpuConfig *cfg, GError **error);
/* Features named by CPU traits (HW_CPU_X86_AVX2 -> avx2); traits that are
 * not CPU-feature traits are ignored, as in Nova. */
int tern_cpu_features_for_traits(const TernCpuDb *db, TernCpuArch arch,
                                 const char *const *traits, TernCpuFeatureSet *out,
                                 GError **error);
/* The feature behind one trait, or NULL. */
const char *tern_cpu_trait_feature(const char *trait);

/* ---- compact form for the scheduler -------------------------------------- */

/* What one host offers (or one request needs), flat: 72 bytes, no pointers.
 * Check a request against a host with tern_cpu_compact_satisfies: a few
 * word ANDs, no allocation. */
typedef struct {
    guint8 family;               /* arch family: 1 = x86, 2 = ppc64; 0 = unset */
    guint8 arch;                 /* TernCpuArch */
    guint8 gen_max;              /* ppc64 host: its generation; request: level needed */
    guint8 gen_exact;            /* ppc64 request: 1 = passthrough, needs exactly gen_max */
    guint16 vendor;              /* 1-based vendor index; 0 = any */
    guint16 model;               /* 1-based model index (information only) */
    TernCpuFeatureSet features;  /* host: offered; request: needed */
} TernCpuCompact;

void tern_cpu_compact(const TernCpuDb *db, const TernCpu *cpu, TernCpuCompact *out);

static inline gboolean
tern_cpu_compact_satisfies(const TernCpuCompact *host, const TernCpuCompact *req)
{
    if (req->family != host->family)
        return FALSE;
    if (req->vendor && req->vendor != host->vendor)
        return FALSE;
    if (req->gen_max > host->gen_max || (req->gen_exact && req->gen_max != host->gen_max))
        return FALSE;
    return tern_cpu_set_is_subset(&req->features, &host->features);
}

#endif
