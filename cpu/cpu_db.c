/* cpu_db.c: loads libvirt's cpu_map (index.xml and the files it includes)
 * into a TernCpuDb, once; lookups of models, features and vendors. The
 * arch-neutral parts (vendors, features, aliases) are read here; models go
 * to the arch's driver. After loading nothing is written: the db can be
 * shared by any number of threads. */
#include <string.h>
#include <libxml/parser.h>

#include "tern-config.h"
#include "cpu/cpu_db.h"

G_DEFINE_QUARK(tern-cpu-error-quark, tern_cpu_error)

char *
tern_cpu_xml_prop(xmlNode *node, const char *name)
{
    xmlChar *v = xmlGetProp(node, (const xmlChar *) name);
    if (!v)
        return NULL;
    char *s = g_strdup((const char *) v);
    xmlFree(v);
    return s;
}

static void
model_free(gpointer p)
{
    TernCpuModel *m = p;
    g_free(m->name);
    if (m->pvrs)
        g_array_unref(m->pvrs);
    g_free(m);
}

static void
map_init(TernCpuMap *map, const TernCpuArchDriver *driver)
{
    map->driver = driver;
    map->vendors = g_ptr_array_new_with_free_func(g_free);
    map->features = g_ptr_array_new_with_free_func(g_free);
    map->feature_index = g_hash_table_new(g_str_hash, g_str_equal);
    map->feature_alias = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    map->models = g_ptr_array_new_with_free_func(model_free);
    map->model_names = g_ptr_array_new();
    map->model_index = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
}

static void
map_clear(TernCpuMap *map)
{
    if (!map->vendors)
        return;
    g_hash_table_unref(map->feature_index);
    g_hash_table_unref(map->feature_alias);
    g_hash_table_unref(map->model_index);
    g_ptr_array_unref(map->model_names);
    g_ptr_array_unref(map->models);
    g_ptr_array_unref(map->features);
    g_ptr_array_unref(map->vendors);
    memset(map, 0, sizeof(*map));
}

void
tern_cpu_db_free(TernCpuDb *db)
{
    if (!db)
        return;
    for (int i = 0; i < TERN_CPU_N_FAMILIES; i++)
        map_clear(&db->maps[i]);
    g_free(db->dir);
    g_free(db);
}

const TernCpuModel *
tern_cpu_map_model(const TernCpuMap *map, const char *name)
{
    if (!name)
        return NULL;
    g_autofree char *lower = g_ascii_strdown(name, -1);
    guint i = GPOINTER_TO_UINT(g_hash_table_lookup(map->model_index, lower));
    return i ? g_ptr_array_index(map->models, i - 1) : NULL;
}

int
tern_cpu_map_feature(const TernCpuMap *map, const char *name)
{
    if (!name)
        return -1;
    return (int) GPOINTER_TO_UINT(g_hash_table_lookup(map->feature_index, name)) - 1;
}

int
tern_cpu_map_vendor(const TernCpuMap *map, const char *name)
{
    for (guint i = 0; name && i + 1 < map->vendors->len; i++)
        if (strcmp(g_ptr_array_index(map->vendors, i), name) == 0)
            return (int) i;
    return -1;
}

/* Keep the arrays NULL-terminated views: the last slot is NULL. */
static void
array_push(GPtrArray *a, gpointer item)
{
    if (a->len && g_ptr_array_index(a, a->len - 1) == NULL)
        g_ptr_array_index(a, a->len - 1) = item;
    else
        g_ptr_array_add(a, item);
    g_ptr_array_add(a, NULL);
}

void
tern_cpu_map_add_model(TernCpuMap *map, TernCpuModel *model)
{
    g_ptr_array_add(map->models, model);
    array_push(map->model_names, model->name);
    g_hash_table_insert(map->model_index, g_ascii_strdown(model->name, -1),
                        GUINT_TO_POINTER(map->models->len));
}

static int
parse_vendor(TernCpuMap *map, xmlNode *node, const char *file, GError **error)
{
    g_autofree char *name = tern_cpu_xml_prop(node, "name");
    if (!name) {
        g_set_error(error, TERN_CPU_ERROR, TERN_CPU_ERROR_LOAD,
                    "%s: a <vendor> has no name", file);
        return -1;
    }
    if (tern_cpu_map_vendor(map, name) < 0)
        array_push(map->vendors, g_steal_pointer(&name));
    return 0;
}

static int
parse_feature(TernCpuMap *map, xmlNode *node, const char *file, GError **error)
{
    g_autofree char *name = tern_cpu_xml_prop(node, "name");
    if (!name) {
        g_set_error(error, TERN_CPU_ERROR, TERN_CPU_ERROR_LOAD,
                    "%s: a <feature> has no name", file);
        return -1;
    }
    if (tern_cpu_map_feature(map, name) >= 0) {
        g_set_error(error, TERN_CPU_ERROR, TERN_CPU_ERROR_LOAD,
                    "%s: feature %s is defined twice", file, name);
        return -1;
    }
    guint index = map->features->len ? map->features->len - 1 : 0;
    if (index >= TERN_CPU_SET_MAX) {
        g_set_error(error, TERN_CPU_ERROR, TERN_CPU_ERROR_LOAD,
                    "%s: more than %d CPU features; raise TERN_CPU_SET_WORDS in "
                    "cpu/cpu_featureset.h", file, TERN_CPU_SET_MAX);
        return -1;
    }
    char *stored = g_steal_pointer(&name);
    array_push(map->features, stored);
    g_hash_table_insert(map->feature_index, stored, GUINT_TO_POINTER(index + 1));
    for (xmlNode *c = node->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE || strcmp((const char *) c->name, "alias") != 0)
            continue;
        char *alias = tern_cpu_xml_prop(c, "name");
        if (alias)
            g_hash_table_insert(map->feature_alias, alias, stored);
    }
    return 0;
}

static int load_file(TernCpuDb *db, TernCpuMap *map, const char *file, GError **error);

static int
load_children(TernCpuDb *db, TernCpuMap *map, xmlNode *parent, const char *file,
              GError **error)
{
    for (xmlNode *n = parent->children; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        const char *tag = (const char *) n->name;
        int rc = 0;
        if (strcmp(tag, "include") == 0) {
            g_autofree char *inc = tern_cpu_xml_prop(n, "filename");
            if (!inc || strchr(inc, '/')) {
                g_set_error(error, TERN_CPU_ERROR, TERN_CPU_ERROR_LOAD,
                            "%s: bad <include> filename", file);
                return -1;
            }
            rc = load_file(db, map, inc, error);
        } else if (strcmp(tag, "group") == 0) {
            rc = load_children(db, map, n, file, error);
        } else if (strcmp(tag, "vendor") == 0) {
            rc = parse_vendor(map, n, file, error);
        } else if (strcmp(tag, "feature") == 0) {
            rc = parse_feature(map, n, file, error);
        } else if (strcmp(tag, "model") == 0) {
            rc = map->driver->parse_model(map, n, file, error);
        }
        if (rc < 0)
            return -1;
    }
    return 0;
}

static int
load_file(TernCpuDb *db, TernCpuMap *map, const char *file, GError **error)
{
    g_autofree char *path = g_build_filename(db->dir, file, NULL);
    xmlDoc *doc = xmlReadFile(path, NULL, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (!doc) {
        g_set_error(error, TERN_CPU_ERROR, TERN_CPU_ERROR_LOAD,
                    "cannot read libvirt's CPU map file %s (is libvirt0 installed?)", path);
        return -1;
    }
    xmlNode *root = xmlDocGetRootElement(doc);
    int rc = root ? load_children(db, map, root, path, error) : 0;
    xmlFreeDoc(doc);
    return rc;
}

TernCpuDb *
tern_cpu_db_load(const char *dir, GError **error)
{
    g_autoptr(TernCpuDb) db = g_new0(TernCpuDb, 1);
    db->dir = g_strdup(dir);
    g_autofree char *index = g_build_filename(dir, "index.xml", NULL);
    xmlDoc *doc = xmlReadFile(index, NULL, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (!doc) {
        g_set_error(error, TERN_CPU_ERROR, TERN_CPU_ERROR_LOAD,
                    "cannot read libvirt's CPU map %s (install libvirt0, or set "
                    "TERN_CPU_MAP_DIR)", index);
        return NULL;
    }
    int rc = 0;
    xmlNode *root = xmlDocGetRootElement(doc);
    for (xmlNode *n = root ? root->children : NULL; n && rc == 0; n = n->next) {
        if (n->type != XML_ELEMENT_NODE || strcmp((const char *) n->name, "arch") != 0)
            continue;
        g_autofree char *name = tern_cpu_xml_prop(n, "name");
        const TernCpuArchDriver *drv = tern_cpu_driver_for_map_name(name);
        if (!drv)
            continue;           /* arm etc.: no tern driver */
        TernCpuMap *map = &db->maps[drv->family];
        map_init(map, drv);
        rc = load_children(db, map, n, index, error);
    }
    xmlFreeDoc(doc);
    if (rc < 0)
        return NULL;
    for (int i = 1; i < TERN_CPU_N_FAMILIES; i++) {
        if (!db->maps[i].driver) {
            g_set_error(error, TERN_CPU_ERROR, TERN_CPU_ERROR_LOAD,
                        "%s defines no CPU models for one of tern's arch families", index);
            return NULL;
        }
    }
    return g_steal_pointer(&db);
}

static gpointer
load_default(gpointer data)
{
    GError **error = data;
    const char *dir = g_getenv("TERN_CPU_MAP_DIR");
    return tern_cpu_db_load(dir && *dir ? dir : TERN_CPU_MAP_DIR, error);
}

const TernCpuDb *
tern_cpu_db_get(GError **error)
{
    static GMutex lock;
    static TernCpuDb *db;
    /* Retry after a failed load (e.g. the package was installed meanwhile). */
    g_mutex_lock(&lock);
    if (!db)
        db = load_default(error);
    TernCpuDb *ret = db;
    g_mutex_unlock(&lock);
    return ret;
}

const char *
tern_cpu_db_dir(const TernCpuDb *db)
{
    return db->dir;
}

const TernCpuMap *
tern_cpu_db_map(const TernCpuDb *db, TernCpuArch arch, GError **error)
{
    const TernCpuArchDriver *drv = tern_cpu_driver_for_arch(arch);
    if (!drv) {
        g_set_error(error, TERN_CPU_ERROR, TERN_CPU_ERROR_ARCH,
                    "no CPU support for arch %s (tern knows x86_64, i686, ppc64, ppc64le)",
                    tern_cpu_arch_name(arch));
        return NULL;
    }
    return &db->maps[drv->family];
}

const char *const *
tern_cpu_db_models(const TernCpuDb *db, TernCpuArch arch)
{
    const TernCpuMap *map = tern_cpu_db_map(db, arch, NULL);
    return map ? (const char *const *) map->model_names->pdata : NULL;
}

const char *const *
tern_cpu_db_features(const TernCpuDb *db, TernCpuArch arch)
{
    const TernCpuMap *map = tern_cpu_db_map(db, arch, NULL);
    static const char *const none[] = { NULL };
    if (!map)
        return NULL;
    return map->features->len ? (const char *const *) map->features->pdata : none;
}

int
tern_cpu_db_feature_index(const TernCpuDb *db, TernCpuArch arch, const char *name)
{
    const TernCpuMap *map = tern_cpu_db_map(db, arch, NULL);
    return map ? tern_cpu_map_feature(map, name) : -1;
}

const char *
tern_cpu_db_model_name(const TernCpuDb *db, TernCpuArch arch, const char *name)
{
    const TernCpuMap *map = tern_cpu_db_map(db, arch, NULL);
    const TernCpuModel *m = map ? tern_cpu_map_model(map, name) : NULL;
    return m ? m->name : NULL;
}

int
tern_cpu_db_model_features(const TernCpuDb *db, TernCpuArch arch, const char *model,
                           TernCpuFeatureSet *out, GError **error)
{
    const TernCpuMap *map = tern_cpu_db_map(db, arch, error);
    if (!map)
        return -1;
    const TernCpuModel *m = tern_cpu_map_model(map, model);
    if (!m) {
        g_set_error(error, TERN_CPU_ERROR, TERN_CPU_ERROR_UNKNOWN_MODEL,
                    "unknown CPU model %s for %s (see `virsh cpu-models %s`)",
                    model, tern_cpu_arch_name(arch), tern_cpu_arch_name(arch));
        return -1;
    }
    *out = m->features;
    return 0;
}

const char *
tern_cpu_db_model_vendor(const TernCpuDb *db, TernCpuArch arch, const char *model)
{
    const TernCpuMap *map = tern_cpu_db_map(db, arch, NULL);
    const TernCpuModel *m = map ? tern_cpu_map_model(map, model) : NULL;
    return m && m->vendor >= 0 ? g_ptr_array_index(map->vendors, m->vendor) : NULL;
}
