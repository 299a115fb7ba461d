/* cpu_db.h: the in-memory model database (internal to cpu/): one map per
 * arch family, as loaded from libvirt's cpu_map, plus the arch driver
 * table type that cpu_x86.c and cpu_ppc64.c fill. */
#ifndef TERN_CPU_DB_H
#define TERN_CPU_DB_H

#include <libxml/tree.h>
#include "cpu/cpu.h"

typedef struct {
    guint32 value, mask;
} TernCpuPvr;

typedef struct {
    char *name;
    int vendor;                  /* index into map->vendors; -1 = none */
    TernCpuFeatureSet features;  /* what libvirt counts as the model */
    TernCpuFeatureSet removed;   /* removed='yes': disabled explicitly in guests */
    gboolean decode_guest;       /* <decode guest='on'>: a baseline may pick it */
    gboolean check_compat;       /* <check partial='compat'/> (not inherited) */
    guint generation;            /* ppc64: n of POWER<n>; 0 otherwise */
    GArray *pvrs;                /* ppc64: TernCpuPvr */
} TernCpuModel;

typedef struct _TernCpuArchDriver TernCpuArchDriver;

/* One row of Nova's CPU_TRAITS_MAPPING (nova/virt/libvirt/utils.py). */
typedef struct {
    const char *feature;         /* libvirt/Nova feature name */
    const char *trait;           /* os-traits name */
} TernCpuTrait;

typedef struct {
    const TernCpuArchDriver *driver;   /* NULL: family absent from cpu_map */
    GPtrArray *vendors;          /* char *, NULL-terminated */
    GPtrArray *features;         /* char *, NULL-terminated; index = bit */
    GHashTable *feature_index;   /* name -> index + 1 */
    GHashTable *feature_alias;   /* alias (any source) -> canonical name */
    GPtrArray *models;           /* TernCpuModel * */
    GPtrArray *model_names;      /* char * (borrowed), NULL-terminated */
    GHashTable *model_index;     /* lower-case name -> index + 1 */
} TernCpuMap;

#define TERN_CPU_N_FAMILIES 3    /* 0 unused, 1 x86, 2 ppc64 */

struct _TernCpuDb {
    char *dir;
    TernCpuMap maps[TERN_CPU_N_FAMILIES];
};

/* One arch family's behaviour (libvirt's struct cpuArchDriver). */
struct _TernCpuArchDriver {
    const char *name;            /* the <arch name=...> of index.xml */
    guint family;
    const TernCpuArch *archs;
    guint narchs;
    /* Parse one <model> of a cpu_map file into map->models. */
    int (*parse_model)(TernCpuMap *map, xmlNode *node, const char *file, GError **error);
    /* Fill cpu (arch, mode set) from a model name and +/- features. */
    int (*from_model)(const TernCpuMap *map, TernCpu *cpu, const char *model,
                      const TernCpuFeatureSet *req, const TernCpuFeatureSet *dis, GError **error);
    /* Can host run guest (same family)? Fills cmp. */
    int (*compare)(const TernCpuMap *map, const TernCpu *host, const TernCpu *guest,
                   TernCpuComparison *cmp);
    /* Hypervisor compare of a guest whose model QEMU reports usable
     * (domain capabilities); TRUE if decided, FALSE for a full compare. */
    gboolean (*compare_usable)(const TernCpuMap *map, const TernCpu *hv, const TernCpu *guest,
                               TernCpuComparison *cmp);
    TernCpu *(*baseline)(const TernCpuMap *map, const TernCpu *const *hosts, guint n,
                         GError **error);
    /* The guest CPU for a mode; `host` may be NULL for custom and none. */
    TernCpu *(*guest)(const TernCpuMap *map, const TernCpuHost *host, TernCpuMode mode,
                      const char *const *models, const TernCpuFeatureSet *req,
                      const TernCpuFeatureSet *dis, const TernCpuFeatureSet *wanted,
                      GError **error);
    /* Add mode-specific content to a guest <cpu> element. */
    void (*format_guest)(const TernCpuMap *map, const TernCpu *cpu, xmlNode *node);
    /* Compat mode names (g_free'd strings) a host can run, or NULL. */
    void (*compat_modes)(const TernCpuMap *map, const TernCpu *host, GPtrArray *out);
    /* Nova's feature -> trait rows for this arch (NULL-terminated), or NULL. */
    const TernCpuTrait *traits;
    /* Arch-specific fields of the scheduler's compact form. */
    void (*compact)(const TernCpuMap *map, const TernCpu *cpu, TernCpuCompact *out);
};

/* Dispatcher (cpu.c): the driver of an arch, or of a cpu_map arch name. */
const TernCpuArchDriver *tern_cpu_driver_for_arch(TernCpuArch arch);
const TernCpuArchDriver *tern_cpu_driver_for_map_name(const char *name);
/* The map of an arch's family, or NULL with an error. */
const TernCpuMap *tern_cpu_db_map(const TernCpuDb *db, TernCpuArch arch, GError **error);

/* Lookups inside one map. */
const TernCpuModel *tern_cpu_map_model(const TernCpuMap *map, const char *name);
int tern_cpu_map_feature(const TernCpuMap *map, const char *name);
int tern_cpu_map_vendor(const TernCpuMap *map, const char *name);
void tern_cpu_map_add_model(TernCpuMap *map, TernCpuModel *model);

/* cpu.c helpers shared by the arch-neutral files. */
int tern_cpu_parse_flags(const TernCpuMap *map, TernCpuArch arch, const char *const *flags,
                         TernCpuFeatureSet *req, TernCpuFeatureSet *dis, GError **error);
TernCpu *tern_cpu_guest_for_mode(const TernCpuDb *db, TernCpuArch arch, const TernCpuHost *host,
                                 TernCpuMode mode, const char *const *models,
                                 const char *const *flags, const TernCpuFeatureSet *wanted,
                                 GError **error);
void tern_cpu_format_guest(const TernCpuDb *db, const TernCpu *cpu, xmlNode *node);
/* Add <feature policy=... name=...> children for a set, sorted by name. */
void tern_cpu_xml_add_features(const TernCpuMap *map, xmlNode *node, const char *policy,
                               const TernCpuFeatureSet *set);

/* A <cpu> (or domain capabilities <mode>) element -> TernCpu (cpu_xml.c). */
TernCpu *tern_cpu_from_node(const TernCpuDb *db, xmlNode *node, TernCpuArch arch,
                            TernCpuMode mode, GError **error);

/* A string attribute of a node (g_free it), or NULL. */
char *tern_cpu_xml_prop(xmlNode *node, const char *name);

extern const TernCpuArchDriver tern_cpu_driver_x86;
extern const TernCpuArchDriver tern_cpu_driver_ppc64;
extern const TernCpuTrait tern_cpu_traits_x86[];

#endif
