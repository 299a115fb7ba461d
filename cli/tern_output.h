/* tern_output.h: how `tern` prints results, like the openstack client:
 * `-f table` (boxed table), `-f json`, `-f value` (bare values, one row per
 * line, for shell scripts), and `-c COLUMN` to keep only some columns.
 *
 * Lists print one row per object with the command's columns; `-f json`
 * gives an array of objects keyed by the column headers. A single object
 * ("show") prints as Field/Value rows, one per key; `-f json` gives the
 * object as the conductor sent it (plus derived fields such as status). */
#ifndef TERN_OUTPUT_H
#define TERN_OUTPUT_H

#include <glib.h>
#include <jansson.h>

#ifndef TERN_JSON_AUTOPTR_DEFINED
#define TERN_JSON_AUTOPTR_DEFINED
G_DEFINE_AUTOPTR_CLEANUP_FUNC(json_t, json_decref)
#endif

typedef enum {
    TERN_FORMAT_TABLE,
    TERN_FORMAT_JSON,
    TERN_FORMAT_VALUE,
} TernFormat;

typedef struct {
    TernFormat format;
    char **columns;            /* -c COLUMN...; NULL = all */
} TernOutput;

/* A column of a list: header, and either the key of the object whose value
 * is printed (formatted by tern_output_format_value) or a function that
 * computes the cell from the whole object (returns a new json value). */
typedef struct {
    const char *header;
    const char *key;
    json_t *(*derive)(json_t *obj);
} TernColumn;

/* Parse a -f argument ("table", "json", "value"); -1 if unknown. */
int tern_output_parse_format(const char *name, TernFormat *out);

/* One cell's text: strings as-is, null as "", numbers, True/False, lists of
 * scalars joined with ", ", objects as key='value' pairs (nested "xml" keys
 * left out: see -f json for them). */
char *tern_output_format_value(json_t *v);

/* Print rows (a json array of objects) with cols (ended by a NULL header). */
int tern_output_list(const TernOutput *o, const TernColumn *cols, json_t *rows, GError **error);

/* Print one object as Field/Value; fields are the object's keys in the
 * order the object has them (the conductor's), with first the derived
 * columns of extra (may be NULL). */
int tern_output_show(const TernOutput *o, const TernColumn *extra, json_t *obj, GError **error);

/* Render a table of cells (rows of char*, a cell may hold several lines)
 * into a string (exposed for tests and for the progress display). */
char *tern_output_table(const char *const *headers, guint ncols, GPtrArray *rows);

#define TERN_OUTPUT_ERROR (tern_output_error_quark())
GQuark tern_output_error_quark(void);

#endif
