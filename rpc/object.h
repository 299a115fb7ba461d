/* object.h: Nova's versioned objects (oslo.versionedobjects) in their wire
 * form, the "nova_object.*" primitive:
 *
 *   {"nova_object.name": "Flavor", "nova_object.namespace": "nova",
 *    "nova_object.version": "1.2", "nova_object.data": {...set fields...},
 *    "nova_object.changes": [...changed field names...]}
 *
 * Each object class is a declarative table of typed fields
 * (rpc/objects/<name>.c), with the version tern sends. Decoding checks every
 * known field against its type (nested objects and lists of objects are
 * decoded recursively) and keeps unknown fields as they are, so they are sent
 * back unchanged; a newer minor version than tern's is accepted, another
 * major is refused. Encoding sends only the fields that are set.
 *
 * A TernObject is not thread-safe; give each thread its own (or lock). */
#ifndef TERN_RPC_OBJECT_H
#define TERN_RPC_OBJECT_H

#include <glib.h>
#include <jansson.h>

#define TERN_OBJECT_ERROR (tern_object_error_quark())
GQuark tern_object_error_quark(void);
typedef enum {
    TERN_OBJECT_ERROR_INVALID,      /* not an object primitive / a field of the wrong type */
    TERN_OBJECT_ERROR_UNKNOWN,      /* an object name tern has no table for */
    TERN_OBJECT_ERROR_VERSION,      /* an incompatible (other major) version */
} TernObjectErrorCode;

typedef enum {
    TERN_FIELD_STRING,
    TERN_FIELD_INT,
    TERN_FIELD_FLOAT,
    TERN_FIELD_BOOL,
    TERN_FIELD_UUID,           /* string, canonical UUID form accepted loosely (as oslo) */
    TERN_FIELD_DATETIME,       /* ISO 8601 string; sent as YYYY-MM-DDTHH:MM:SSZ */
    TERN_FIELD_ENUM,           /* string (values not checked: newer peers add values) */
    TERN_FIELD_IPADDR,         /* string */
    TERN_FIELD_DICT,           /* json object */
    TERN_FIELD_LIST,           /* json array of scalars */
    TERN_FIELD_JSON,           /* any json (e.g. a field typed by its own code) */
    TERN_FIELD_OBJECT,         /* a nested object; .object names its class */
    TERN_FIELD_OBJECT_LIST,    /* json array of objects of class .object */
} TernFieldType;

typedef struct {
    const char *name;
    TernFieldType type;
    gboolean nullable;
    const char *object;        /* class name for TERN_FIELD_OBJECT / _OBJECT_LIST */
} TernObjectField;

typedef struct {
    const char *name;          /* "Instance" */
    const char *version;       /* what tern sends, e.g. "2.7" */
    const TernObjectField *fields;   /* ended by an entry whose name is NULL */
} TernObjectClass;

/* The class table for name (NULL if tern does not know it). */
const TernObjectClass *tern_object_class_find(const char *name);

typedef struct _TernObject TernObject;

/* An empty object of a known class (version = the class's). */
TernObject *tern_object_new(const char *class_name);
void tern_object_free(TernObject *o);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TernObject, tern_object_free)

/* Decode a primitive. expected may be NULL (any class) or a class name. */
TernObject *tern_object_from_primitive(json_t *primitive, const char *expected, GError **error);
/* Encode (new reference). */
json_t *tern_object_to_primitive(const TernObject *o);

const char *tern_object_name(const TernObject *o);
const char *tern_object_version(const TernObject *o);

/* Is the field set (present in nova_object.data)? */
gboolean tern_object_has(const TernObject *o, const char *field);
/* Is it set to null? */
gboolean tern_object_is_null(const TernObject *o, const char *field);
/* Typed getters: the default when the field is unset or null. */
const char *tern_object_get_string(const TernObject *o, const char *field);
gint64 tern_object_get_int(const TernObject *o, const char *field, gint64 dflt);
double tern_object_get_float(const TernObject *o, const char *field, double dflt);
gboolean tern_object_get_bool(const TernObject *o, const char *field, gboolean dflt);
/* A new GDateTime (UTC) or NULL. */
GDateTime *tern_object_get_datetime(const TernObject *o, const char *field);
/* Borrowed json of a dict/list/json field (or of any field's primitive value). */
json_t *tern_object_get_json(const TernObject *o, const char *field);
/* Borrowed nested object (NULL when unset/null). */
TernObject *tern_object_get_object(const TernObject *o, const char *field);
/* Borrowed array of borrowed TernObject* for an object list field (NULL when unset). */
GPtrArray *tern_object_get_objects(const TernObject *o, const char *field);

/* Setters mark the field changed. Type mismatches with the table are
 * programming errors (g_critical, -1). */
int tern_object_set_string(TernObject *o, const char *field, const char *value);  /* NULL = null */
int tern_object_set_int(TernObject *o, const char *field, gint64 value);
int tern_object_set_float(TernObject *o, const char *field, double value);
int tern_object_set_bool(TernObject *o, const char *field, gboolean value);
int tern_object_set_datetime(TernObject *o, const char *field, GDateTime *value); /* NULL = null */
int tern_object_set_json(TernObject *o, const char *field, json_t *value);        /* stolen */
int tern_object_set_object(TernObject *o, const char *field, TernObject *value);  /* stolen, NULL = null */
int tern_object_append_object(TernObject *o, const char *field, TernObject *value); /* stolen */
int tern_object_unset(TernObject *o, const char *field);

/* Names of changed fields (nova_object.changes); reset after a save. */
gboolean tern_object_is_changed(const TernObject *o, const char *field);
void tern_object_reset_changes(TernObject *o);

#endif
