/* object.c: the nova_object.* primitive codec, driven by the declarative
 * field tables of rpc/objects/ (docs/wire.md §5). Values are kept as json;
 * nested objects of known classes are decoded into TernObjects; unknown
 * fields and objects of classes tern has no table for are kept verbatim and
 * sent back unchanged. */
#include <string.h>
#include "rpc/objects/objects.h"
#include "rpc/rpc.h"

G_DEFINE_QUARK(tern-object-error-quark, tern_object_error)

#define P_NAME "nova_object.name"
#define P_NS "nova_object.namespace"
#define P_VERSION "nova_object.version"
#define P_DATA "nova_object.data"
#define P_CHANGES "nova_object.changes"

static const TernObjectClass *const classes[] = { TERN_OBJECT_CLASSES NULL };

struct _TernObject {
    const TernObjectClass *cls;
    char *namespace;
    char *version;
    json_t *data;                 /* field -> primitive; nested objects as placeholders */
    GHashTable *objects;          /* field -> TernObject* (known classes) */
    GHashTable *lists;            /* field -> GPtrArray of TernObject* */
    GPtrArray *changes;           /* field names, in order */
};

const TernObjectClass *
tern_object_class_find(const char *name)
{
    for (int i = 0; name && classes[i]; i++)
        if (strcmp(classes[i]->name, name) == 0)
            return classes[i];
    return NULL;
}

static const TernObjectField *
field_find(const TernObjectClass *cls, const char *name)
{
    for (const TernObjectField *f = cls->fields; f->name; f++)
        if (strcmp(f->name, name) == 0)
            return f;
    return NULL;
}

static TernObject *
object_alloc(const TernObjectClass *cls)
{
    TernObject *o = g_new0(TernObject, 1);
    o->cls = cls;
    o->namespace = g_strdup("nova");
    o->version = g_strdup(cls->version);
    o->data = json_object();
    o->objects = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                       (GDestroyNotify)tern_object_free);
    o->lists = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                     (GDestroyNotify)g_ptr_array_unref);
    o->changes = g_ptr_array_new_with_free_func(g_free);
    return o;
}

TernObject *
tern_object_new(const char *class_name)
{
    const TernObjectClass *cls = tern_object_class_find(class_name);
    if (!cls) {
        g_critical("tern_object_new: no object class %s", class_name);
        return NULL;
    }
    return object_alloc(cls);
}

void
tern_object_free(TernObject *o)
{
    if (!o)
        return;
    g_free(o->namespace);
    g_free(o->version);
    json_decref(o->data);
    g_hash_table_unref(o->objects);
    g_hash_table_unref(o->lists);
    g_ptr_array_unref(o->changes);
    g_free(o);
}

const char *
tern_object_name(const TernObject *o)
{
    return o->cls->name;
}

const char *
tern_object_version(const TernObject *o)
{
    return o->version;
}

static gboolean
parse_version(const char *v, guint64 *major, guint64 *minor)
{
    g_auto(GStrv) p = g_strsplit(v, ".", 3);
    *minor = 0;
    if (!p[0] || !g_ascii_string_to_unsigned(p[0], 10, 0, G_MAXUINT32, major, NULL))
        return FALSE;
    if (p[1] && !g_ascii_string_to_unsigned(p[1], 10, 0, G_MAXUINT32, minor, NULL))
        return FALSE;
    return TRUE;
}

static gboolean
valid_datetime(const char *s)
{
    g_autoptr(GTimeZone) utc = g_time_zone_new_utc();
    g_autoptr(GDateTime) dt = g_date_time_new_from_iso8601(s, utc);
    if (dt)
        return TRUE;
    /* Nova's strtime without a zone and with a space separator */
    g_autofree char *t = g_strdup(s);
    char *sp = strchr(t, ' ');
    if (sp)
        *sp = 'T';
    g_autoptr(GDateTime) dt2 = g_date_time_new_from_iso8601(t, utc);
    return dt2 != NULL;
}

static TernObject *decode(json_t *prim, const char *expected, int depth, GError **error);

/* Check one field value against its declaration; decode nested objects. */
static int
decode_field(TernObject *o, const TernObjectField *f, json_t *v, int depth, GError **error)
{
    const char *want = NULL;
    if (json_is_null(v)) {
        if (!f->nullable) {
            g_set_error(error, TERN_OBJECT_ERROR, TERN_OBJECT_ERROR_INVALID,
                        "%s.%s may not be null", o->cls->name, f->name);
            return -1;
        }
        json_object_set(o->data, f->name, v);
        return 0;
    }
    switch (f->type) {
    case TERN_FIELD_STRING:
    case TERN_FIELD_ENUM:
    case TERN_FIELD_UUID:
    case TERN_FIELD_IPADDR:
        if (!json_is_string(v))
            want = "a string";
        break;
    case TERN_FIELD_DATETIME:
        if (!json_is_string(v) || !valid_datetime(json_string_value(v)))
            want = "an ISO 8601 date-time";
        break;
    case TERN_FIELD_INT:
        if (!json_is_integer(v))
            want = "an integer";
        break;
    case TERN_FIELD_FLOAT:
        if (!json_is_number(v))
            want = "a number";
        break;
    case TERN_FIELD_BOOL:
        if (!json_is_boolean(v))
            want = "a boolean";
        break;
    case TERN_FIELD_DICT:
        if (!json_is_object(v))
            want = "an object";
        break;
    case TERN_FIELD_LIST:
        if (!json_is_array(v))
            want = "an array";
        break;
    case TERN_FIELD_JSON:
        break;
    case TERN_FIELD_OBJECT:
        if (tern_object_class_find(f->object)) {
            TernObject *child = decode(v, f->object, depth + 1, error);
            if (!child) {
                g_prefix_error(error, "%s.%s: ", o->cls->name, f->name);
                return -1;
            }
            g_hash_table_replace(o->objects, g_strdup(f->name), child);
            json_object_set_new(o->data, f->name, json_true());
            return 0;
        }
        if (!json_is_object(v) || !json_is_object(json_object_get(v, P_DATA)))
            want = "an object primitive";
        break;
    case TERN_FIELD_OBJECT_LIST:
        if (!json_is_array(v)) {
            want = "an array of object primitives";
            break;
        }
        if (tern_object_class_find(f->object)) {
            GPtrArray *arr = g_ptr_array_new_with_free_func((GDestroyNotify)tern_object_free);
            size_t i;
            json_t *e;
            json_array_foreach(v, i, e) {
                TernObject *child = decode(e, f->object, depth + 1, error);
                if (!child) {
                    g_prefix_error(error, "%s.%s[%zu]: ", o->cls->name, f->name, i);
                    g_ptr_array_unref(arr);
                    return -1;
                }
                g_ptr_array_add(arr, child);
            }
            g_hash_table_replace(o->lists, g_strdup(f->name), arr);
            json_object_set_new(o->data, f->name, json_true());
            return 0;
        }
        break;
    }
    if (want) {
        g_set_error(error, TERN_OBJECT_ERROR, TERN_OBJECT_ERROR_INVALID, "%s.%s must be %s",
                    o->cls->name, f->name, want);
        return -1;
    }
    json_object_set(o->data, f->name, v);
    return 0;
}

static TernObject *
decode(json_t *prim, const char *expected, int depth, GError **error)
{
    if (depth > 32) {
        g_set_error(error, TERN_OBJECT_ERROR, TERN_OBJECT_ERROR_INVALID, "objects nest too deep");
        return NULL;
    }
    if (!json_is_object(prim)) {
        g_set_error(error, TERN_OBJECT_ERROR, TERN_OBJECT_ERROR_INVALID,
                    "not an object primitive (expected a JSON object with %s)", P_NAME);
        return NULL;
    }
    const char *name = json_string_value(json_object_get(prim, P_NAME));
    const char *version = json_string_value(json_object_get(prim, P_VERSION));
    json_t *data = json_object_get(prim, P_DATA);
    json_t *ns = json_object_get(prim, P_NS);
    json_t *changes = json_object_get(prim, P_CHANGES);
    if (!name || !version || !json_is_object(data) || (ns && !json_is_string(ns)) ||
        (changes && !json_is_array(changes))) {
        g_set_error(error, TERN_OBJECT_ERROR, TERN_OBJECT_ERROR_INVALID,
                    "not an object primitive: %s and %s must be strings, %s an object", P_NAME,
                    P_VERSION, P_DATA);
        return NULL;
    }
    if (expected && strcmp(name, expected) != 0) {
        g_set_error(error, TERN_OBJECT_ERROR, TERN_OBJECT_ERROR_INVALID,
                    "expected a %s object, got %s", expected, name);
        return NULL;
    }
    const TernObjectClass *cls = tern_object_class_find(name);
    if (!cls) {
        g_set_error(error, TERN_OBJECT_ERROR, TERN_OBJECT_ERROR_UNKNOWN,
                    "unknown object class %s", name);
        return NULL;
    }
    guint64 maj, min, omaj, omin;
    if (!parse_version(version, &maj, &min)) {
        g_set_error(error, TERN_OBJECT_ERROR, TERN_OBJECT_ERROR_INVALID,
                    "%s: bad version '%s'", name, version);
        return NULL;
    }
    parse_version(cls->version, &omaj, &omin);
    if (maj != omaj) {
        g_set_error(error, TERN_OBJECT_ERROR, TERN_OBJECT_ERROR_VERSION,
                    "%s version %s is not compatible with tern's %s", name, version, cls->version);
        return NULL;
    }
    TernObject *o = object_alloc(cls);
    g_free(o->version);
    o->version = g_strdup(version);
    if (ns) {
        g_free(o->namespace);
        o->namespace = g_strdup(json_string_value(ns));
    }
    const char *k;
    json_t *v;
    json_object_foreach(data, k, v) {
        const TernObjectField *f = field_find(cls, k);
        if (!f) {   /* a newer peer's field: kept as is */
            json_object_set(o->data, k, v);
            continue;
        }
        if (decode_field(o, f, v, depth, error) < 0) {
            tern_object_free(o);
            return NULL;
        }
    }
    if (changes) {
        size_t i;
        json_array_foreach(changes, i, v) {
            if (json_is_string(v))
                g_ptr_array_add(o->changes, g_strdup(json_string_value(v)));
        }
    }
    return o;
}

TernObject *
tern_object_from_primitive(json_t *primitive, const char *expected, GError **error)
{
    return decode(primitive, expected, 0, error);
}

json_t *
tern_object_to_primitive(const TernObject *o)
{
    json_t *data = json_object();
    const char *k;
    json_t *v;
    json_object_foreach(o->data, k, v) {
        TernObject *child = g_hash_table_lookup(o->objects, k);
        GPtrArray *arr = g_hash_table_lookup(o->lists, k);
        if (child)
            json_object_set_new(data, k, tern_object_to_primitive(child));
        else if (arr) {
            json_t *a = json_array();
            for (guint i = 0; i < arr->len; i++)
                json_array_append_new(a, tern_object_to_primitive(arr->pdata[i]));
            json_object_set_new(data, k, a);
        } else
            json_object_set(data, k, v);
    }
    json_t *p = json_object();
    json_object_set_new(p, P_NAME, json_string(o->cls->name));
    json_object_set_new(p, P_NS, json_string(o->namespace));
    json_object_set_new(p, P_VERSION, json_string(o->version));
    json_object_set_new(p, P_DATA, data);
    if (o->changes->len) {
        json_t *c = json_array();
        for (guint i = 0; i < o->changes->len; i++)
            json_array_append_new(c, json_string(o->changes->pdata[i]));
        json_object_set_new(p, P_CHANGES, c);
    }
    return p;
}

gboolean
tern_object_has(const TernObject *o, const char *field)
{
    return json_object_get(o->data, field) != NULL;
}

gboolean
tern_object_is_null(const TernObject *o, const char *field)
{
    return json_is_null(json_object_get(o->data, field));
}

const char *
tern_object_get_string(const TernObject *o, const char *field)
{
    return json_string_value(json_object_get(o->data, field));
}

gint64
tern_object_get_int(const TernObject *o, const char *field, gint64 dflt)
{
    json_t *v = json_object_get(o->data, field);
    return json_is_integer(v) ? json_integer_value(v) : dflt;
}

double
tern_object_get_float(const TernObject *o, const char *field, double dflt)
{
    json_t *v = json_object_get(o->data, field);
    return json_is_number(v) ? json_number_value(v) : dflt;
}

gboolean
tern_object_get_bool(const TernObject *o, const char *field, gboolean dflt)
{
    json_t *v = json_object_get(o->data, field);
    return json_is_boolean(v) ? json_is_true(v) : dflt;
}

GDateTime *
tern_object_get_datetime(const TernObject *o, const char *field)
{
    const char *s = tern_object_get_string(o, field);
    if (!s)
        return NULL;
    g_autoptr(GTimeZone) utc = g_time_zone_new_utc();
    GDateTime *dt = g_date_time_new_from_iso8601(s, utc);
    if (!dt) {
        g_autofree char *t = g_strdup(s);
        char *sp = strchr(t, ' ');
        if (sp)
            *sp = 'T';
        dt = g_date_time_new_from_iso8601(t, utc);
    }
    if (!dt)
        return NULL;
    GDateTime *u = g_date_time_to_utc(dt);
    g_date_time_unref(dt);
    return u;
}

json_t *
tern_object_get_json(const TernObject *o, const char *field)
{
    if (g_hash_table_contains(o->objects, field) || g_hash_table_contains(o->lists, field))
        return NULL;
    return json_object_get(o->data, field);
}

TernObject *
tern_object_get_object(const TernObject *o, const char *field)
{
    return g_hash_table_lookup(o->objects, field);
}

GPtrArray *
tern_object_get_objects(const TernObject *o, const char *field)
{
    return g_hash_table_lookup(o->lists, field);
}

static void
mark_changed(TernObject *o, const char *field)
{
    for (guint i = 0; i < o->changes->len; i++)
        if (strcmp(o->changes->pdata[i], field) == 0)
            return;
    g_ptr_array_add(o->changes, g_strdup(field));
}

/* Check the declared type for a setter; unknown names are accepted only for
 * TERN_FIELD_JSON-like use through set_json. */
static const TernObjectField *
setter_field(TernObject *o, const char *field, const TernFieldType *ok, int n)
{
    const TernObjectField *f = field_find(o->cls, field);
    if (!f) {
        g_critical("%s has no field %s", o->cls->name, field);
        return NULL;
    }
    for (int i = 0; i < n; i++)
        if (f->type == ok[i])
            return f;
    g_critical("%s.%s: setter of the wrong type", o->cls->name, field);
    return NULL;
}

static void
set_value(TernObject *o, const char *field, json_t *v)
{
    g_hash_table_remove(o->objects, field);
    g_hash_table_remove(o->lists, field);
    json_object_set_new(o->data, field, v);
    mark_changed(o, field);
}

int
tern_object_set_string(TernObject *o, const char *field, const char *value)
{
    static const TernFieldType ok[] = { TERN_FIELD_STRING, TERN_FIELD_ENUM, TERN_FIELD_UUID,
                                        TERN_FIELD_IPADDR, TERN_FIELD_DATETIME };
    if (!setter_field(o, field, ok, G_N_ELEMENTS(ok)))
        return -1;
    set_value(o, field, value ? json_string(value) : json_null());
    return 0;
}

int
tern_object_set_int(TernObject *o, const char *field, gint64 value)
{
    static const TernFieldType ok[] = { TERN_FIELD_INT, TERN_FIELD_FLOAT };
    if (!setter_field(o, field, ok, G_N_ELEMENTS(ok)))
        return -1;
    set_value(o, field, json_integer(value));
    return 0;
}

int
tern_object_set_float(TernObject *o, const char *field, double value)
{
    static const TernFieldType ok[] = { TERN_FIELD_FLOAT };
    if (!setter_field(o, field, ok, G_N_ELEMENTS(ok)))
        return -1;
    set_value(o, field, json_real(value));
    return 0;
}

int
tern_object_set_bool(TernObject *o, const char *field, gboolean value)
{
    static const TernFieldType ok[] = { TERN_FIELD_BOOL };
    if (!setter_field(o, field, ok, G_N_ELEMENTS(ok)))
        return -1;
    set_value(o, field, json_boolean(value));
    return 0;
}

int
tern_object_set_datetime(TernObject *o, const char *field, GDateTime *value)
{
    static const TernFieldType ok[] = { TERN_FIELD_DATETIME };
    if (!setter_field(o, field, ok, G_N_ELEMENTS(ok)))
        return -1;
    if (!value) {
        set_value(o, field, json_null());
        return 0;
    }
    g_autoptr(GDateTime) u = g_date_time_to_utc(value);
    g_autofree char *s = g_date_time_format(u, "%Y-%m-%dT%H:%M:%SZ");
    set_value(o, field, json_string(s));
    return 0;
}

int
tern_object_set_json(TernObject *o, const char *field, json_t *value)
{
    static const TernFieldType ok[] = { TERN_FIELD_DICT, TERN_FIELD_LIST, TERN_FIELD_JSON,
                                        TERN_FIELD_OBJECT, TERN_FIELD_OBJECT_LIST };
    if (!setter_field(o, field, ok, G_N_ELEMENTS(ok))) {
        json_decref(value);
        return -1;
    }
    set_value(o, field, value ? value : json_null());
    return 0;
}

int
tern_object_set_object(TernObject *o, const char *field, TernObject *value)
{
    static const TernFieldType ok[] = { TERN_FIELD_OBJECT };
    const TernObjectField *f = setter_field(o, field, ok, G_N_ELEMENTS(ok));
    if (!f || (value && strcmp(value->cls->name, f->object) != 0)) {
        if (f)
            g_critical("%s.%s holds %s objects, not %s", o->cls->name, field, f->object,
                       value->cls->name);
        tern_object_free(value);
        return -1;
    }
    set_value(o, field, value ? json_true() : json_null());
    if (value)
        g_hash_table_replace(o->objects, g_strdup(field), value);
    return 0;
}

int
tern_object_append_object(TernObject *o, const char *field, TernObject *value)
{
    static const TernFieldType ok[] = { TERN_FIELD_OBJECT_LIST };
    const TernObjectField *f = setter_field(o, field, ok, G_N_ELEMENTS(ok));
    if (!f || strcmp(value->cls->name, f->object) != 0) {
        tern_object_free(value);
        return -1;
    }
    GPtrArray *arr = g_hash_table_lookup(o->lists, field);
    if (!arr) {
        arr = g_ptr_array_new_with_free_func((GDestroyNotify)tern_object_free);
        json_object_set_new(o->data, field, json_true());
        g_hash_table_replace(o->lists, g_strdup(field), arr);
    }
    g_ptr_array_add(arr, value);
    mark_changed(o, field);
    return 0;
}

int
tern_object_unset(TernObject *o, const char *field)
{
    g_hash_table_remove(o->objects, field);
    g_hash_table_remove(o->lists, field);
    json_object_del(o->data, field);
    for (guint i = 0; i < o->changes->len; i++)
        if (strcmp(o->changes->pdata[i], field) == 0) {
            g_ptr_array_remove_index(o->changes, i);
            break;
        }
    return 0;
}

gboolean
tern_object_is_changed(const TernObject *o, const char *field)
{
    for (guint i = 0; i < o->changes->len; i++)
        if (strcmp(o->changes->pdata[i], field) == 0)
            return TRUE;
    return FALSE;
}

void
tern_object_reset_changes(TernObject *o)
{
    g_ptr_array_set_size(o->changes, 0);
}
