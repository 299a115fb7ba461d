/* tern_output.c: table / json / value output of `tern` (see tern_output.h). */
#include <stdio.h>
#include <string.h>

#include "cli/tern_output.h"

G_DEFINE_QUARK(tern-output-error-quark, tern_output_error)

/* Cells of Field/Value tables are wrapped at this many characters. */
#define WRAP_WIDTH 72

int
tern_output_parse_format(const char *name, TernFormat *out)
{
    if (g_strcmp0(name, "table") == 0)
        *out = TERN_FORMAT_TABLE;
    else if (g_strcmp0(name, "json") == 0)
        *out = TERN_FORMAT_JSON;
    else if (g_strcmp0(name, "value") == 0)
        *out = TERN_FORMAT_VALUE;
    else
        return -1;
    return 0;
}

static void
append_value(GString *s, json_t *v, gboolean nested)
{
    switch (json_typeof(v)) {
    case JSON_STRING:
        if (nested)
            g_string_append_printf(s, "'%s'", json_string_value(v));
        else
            g_string_append(s, json_string_value(v));
        break;
    case JSON_INTEGER:
        g_string_append_printf(s, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        break;
    case JSON_REAL:
        g_string_append_printf(s, "%g", json_real_value(v));
        break;
    case JSON_TRUE:
        g_string_append(s, "True");
        break;
    case JSON_FALSE:
        g_string_append(s, "False");
        break;
    case JSON_NULL:
        g_string_append(s, nested ? "None" : "");
        break;
    case JSON_ARRAY: {
        size_t i;
        json_t *e;
        gboolean scalars = TRUE;
        json_array_foreach(v, i, e)
            if (json_is_object(e) || json_is_array(e))
                scalars = FALSE;
        if (nested || !scalars)
            g_string_append_c(s, '[');
        json_array_foreach(v, i, e) {
            if (i)
                g_string_append(s, ", ");
            append_value(s, e, nested || !scalars);
        }
        if (nested || !scalars)
            g_string_append_c(s, ']');
        break;
    }
    case JSON_OBJECT: {
        const char *k;
        json_t *e;
        gboolean first = TRUE;
        if (nested)
            g_string_append_c(s, '{');
        json_object_foreach(v, k, e) {
            if (strcmp(k, "xml") == 0)
                continue;
            if (!first)
                g_string_append(s, ", ");
            first = FALSE;
            g_string_append_printf(s, "%s=", k);
            append_value(s, e, TRUE);
        }
        if (nested)
            g_string_append_c(s, '}');
        break;
    }
    }
}

char *
tern_output_format_value(json_t *v)
{
    GString *s = g_string_new(NULL);
    if (v)
        append_value(s, v, FALSE);
    return g_string_free(s, FALSE);
}

/* Break a long cell into lines at ", " (or spaces) so tables stay readable. */
static char *
wrap(const char *text, guint width)
{
    GString *out = g_string_new(NULL);
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    for (int l = 0; lines[l]; l++) {
        if (l)
            g_string_append_c(out, '\n');
        const char *p = lines[l];
        while (g_utf8_strlen(p, -1) > width) {
            /* the last break point within width */
            const char *cut = NULL, *q = p;
            for (guint n = 0; *q && n <= width; q = g_utf8_next_char(q), n++)
                if (*q == ' ')
                    cut = q;
            if (!cut || cut == p)
                break;
            g_string_append_len(out, p, cut - p);
            g_string_append_c(out, '\n');
            p = cut + 1;
        }
        g_string_append(out, p);
    }
    return g_string_free(out, FALSE);
}

static void
rule(GString *s, const guint *widths, guint n)
{
    g_string_append_c(s, '+');
    for (guint c = 0; c < n; c++) {
        for (guint i = 0; i < widths[c] + 2; i++)
            g_string_append_c(s, '-');
        g_string_append_c(s, '+');
    }
    g_string_append_c(s, '\n');
}

static void
row_lines(GString *s, const guint *widths, guint n, const char *const *cells)
{
    g_autofree GStrv *split = g_new0(GStrv, n);
    guint height = 1;
    for (guint c = 0; c < n; c++) {
        split[c] = g_strsplit(cells[c] ? cells[c] : "", "\n", -1);
        height = MAX(height, g_strv_length(split[c]));
    }
    for (guint l = 0; l < height; l++) {
        g_string_append_c(s, '|');
        for (guint c = 0; c < n; c++) {
            const char *t = l < g_strv_length(split[c]) ? split[c][l] : "";
            g_string_append_printf(s, " %s", t);
            for (glong pad = (glong) widths[c] - g_utf8_strlen(t, -1); pad > 0; pad--)
                g_string_append_c(s, ' ');
            g_string_append(s, " |");
        }
        g_string_append_c(s, '\n');
    }
    for (guint c = 0; c < n; c++)
        g_strfreev(split[c]);
}

char *
tern_output_table(const char *const *headers, guint ncols, GPtrArray *rows)
{
    g_autofree guint *widths = g_new0(guint, ncols);
    for (guint c = 0; c < ncols; c++)
        widths[c] = g_utf8_strlen(headers[c], -1);
    for (guint r = 0; r < rows->len; r++) {
        char **cells = g_ptr_array_index(rows, r);
        for (guint c = 0; c < ncols; c++) {
            g_auto(GStrv) lines = g_strsplit(cells[c] ? cells[c] : "", "\n", -1);
            for (int l = 0; lines[l]; l++)
                widths[c] = MAX(widths[c], (guint) g_utf8_strlen(lines[l], -1));
        }
    }
    GString *s = g_string_new(NULL);
    rule(s, widths, ncols);
    row_lines(s, widths, ncols, headers);
    rule(s, widths, ncols);
    for (guint r = 0; r < rows->len; r++)
        row_lines(s, widths, ncols, g_ptr_array_index(rows, r));
    if (rows->len)
        rule(s, widths, ncols);
    return g_string_free(s, FALSE);
}

static gboolean
wanted(const TernOutput *o, const char *header)
{
    return !o->columns || g_strv_contains((const char *const *) o->columns, header);
}

/* -c names that match no column are a usage error (as in openstack). */
static int
check_columns(const TernOutput *o, GPtrArray *known, GError **error)
{
    for (int i = 0; o->columns && o->columns[i]; i++) {
        gboolean found = FALSE;
        for (guint k = 0; k < known->len; k++)
            if (strcmp(o->columns[i], g_ptr_array_index(known, k)) == 0)
                found = TRUE;
        if (!found) {
            g_autoptr(GString) names = g_string_new(NULL);
            for (guint k = 0; k < known->len; k++)
                g_string_append_printf(names, "%s'%s'", k ? ", " : "",
                                       (const char *) g_ptr_array_index(known, k));
            g_set_error(error, TERN_OUTPUT_ERROR, 0, "no column '%s'; the columns are %s",
                        o->columns[i], names->str);
            return -1;
        }
    }
    return 0;
}

static json_t *
cell_value(const TernColumn *col, json_t *obj)
{
    if (col->derive)
        return col->derive(obj);
    json_t *v = json_object_get(obj, col->key);
    return v ? json_incref(v) : json_null();
}

static void
print_json(json_t *v)
{
    g_autofree char *text = json_dumps(v, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
    printf("%s\n", text);
}

int
tern_output_list(const TernOutput *o, const TernColumn *cols, json_t *rows, GError **error)
{
    g_autoptr(GPtrArray) known = g_ptr_array_new();
    g_autoptr(GPtrArray) shown = g_ptr_array_new();
    for (const TernColumn *c = cols; c->header; c++) {
        g_ptr_array_add(known, (gpointer) c->header);
        if (wanted(o, c->header))
            g_ptr_array_add(shown, (gpointer) c);
    }
    if (check_columns(o, known, error) < 0)
        return -1;
    if (!json_is_array(rows)) {
        g_set_error(error, TERN_OUTPUT_ERROR, 0, "the conductor answered a %s, not a list",
                    json_is_object(rows) ? "object" : "scalar");
        return -1;
    }
    size_t i;
    json_t *obj;
    if (o->format == TERN_FORMAT_JSON) {
        g_autoptr(json_t) out = json_array();
        json_array_foreach(rows, i, obj) {
            json_t *item = json_object();
            for (guint c = 0; c < shown->len; c++) {
                const TernColumn *col = g_ptr_array_index(shown, c);
                json_object_set_new(item, col->header, cell_value(col, obj));
            }
            json_array_append_new(out, item);
        }
        print_json(out);
        return 0;
    }
    g_autoptr(GPtrArray) table = g_ptr_array_new_with_free_func((GDestroyNotify) g_strfreev);
    json_array_foreach(rows, i, obj) {
        char **cells = g_new0(char *, shown->len + 1);
        for (guint c = 0; c < shown->len; c++) {
            g_autoptr(json_t) v = cell_value(g_ptr_array_index(shown, c), obj);
            cells[c] = tern_output_format_value(v);
        }
        g_ptr_array_add(table, cells);
    }
    if (o->format == TERN_FORMAT_VALUE) {
        for (guint r = 0; r < table->len; r++) {
            char **cells = g_ptr_array_index(table, r);
            g_autofree char *line = g_strjoinv(" ", cells);
            printf("%s\n", line);
        }
        return 0;
    }
    g_autofree const char **headers = g_new0(const char *, shown->len + 1);
    for (guint c = 0; c < shown->len; c++)
        headers[c] = ((const TernColumn *) g_ptr_array_index(shown, c))->header;
    g_autofree char *text = tern_output_table(headers, shown->len, table);
    fputs(text, stdout);
    return 0;
}

int
tern_output_show(const TernOutput *o, const TernColumn *extra, json_t *obj, GError **error)
{
    if (!json_is_object(obj)) {
        g_set_error(error, TERN_OUTPUT_ERROR, 0, "the conductor answered a %s, not an object",
                    json_is_array(obj) ? "list" : "scalar");
        return -1;
    }
    /* the fields: derived ones first, then the object's own */
    g_autoptr(json_t) all = json_object();
    for (const TernColumn *c = extra; c && c->header; c++)
        json_object_set_new(all, c->header, cell_value(c, obj));
    json_object_update_missing(all, obj);
    g_autoptr(GPtrArray) known = g_ptr_array_new();
    const char *k;
    json_t *v;
    json_object_foreach(all, k, v)
        g_ptr_array_add(known, (gpointer) k);
    if (check_columns(o, known, error) < 0)
        return -1;

    if (o->format == TERN_FORMAT_JSON) {
        g_autoptr(json_t) out = json_object();
        json_object_foreach(all, k, v)
            if (wanted(o, k))
                json_object_set(out, k, v);
        print_json(out);
        return 0;
    }
    g_autoptr(GPtrArray) table = g_ptr_array_new_with_free_func((GDestroyNotify) g_strfreev);
    json_object_foreach(all, k, v) {
        if (!wanted(o, k))
            continue;
        g_autofree char *text = tern_output_format_value(v);
        if (o->format == TERN_FORMAT_VALUE) {
            printf("%s\n", text);
            continue;
        }
        char **cells = g_new0(char *, 3);
        cells[0] = g_strdup(k);
        cells[1] = wrap(text, WRAP_WIDTH);
        g_ptr_array_add(table, cells);
    }
    if (o->format == TERN_FORMAT_TABLE) {
        const char *headers[] = { "Field", "Value" };
        g_autofree char *text = tern_output_table(headers, 2, table);
        fputs(text, stdout);
    }
    return 0;
}
