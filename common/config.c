/* config.c: load nova.conf-style INI files into typed option values.
 *
 * Files are parsed with GLib's GKeyFile (after turning oslo.config's ';'
 * comment lines into '#'), each value is checked against its declaration at
 * load time, and errors name the file, the section and the key. */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/log.h"
#include "common/mask.h"

#define G_LOG_DOMAIN_CONFIG "tern.config"

G_DEFINE_QUARK(tern-config-error-quark, tern_config_error)

typedef struct {
    const TernOpt *opt;
    char *raw;          /* NULL = unset */
    char *origin;
    gint64 i;
    double f;
    gboolean b;
    char **list;
} TernConfigValue;

struct _TernConfig {
    GHashTable *values;   /* "section/name" -> TernConfigValue */
    GPtrArray *warnings;
};

static char *
value_key(const char *section, const char *name)
{
    char *key = g_strdup_printf("%s/%s", section, name);
    /* oslo.config accepts dashes for underscores in option names */
    for (char *p = strchr(key, '/'); p && *p; p++)
        if (*p == '-')
            *p = '_';
    return key;
}

static void
value_free(gpointer data)
{
    TernConfigValue *v = data;
    g_free(v->raw);
    g_free(v->origin);
    g_strfreev(v->list);
    g_free(v);
}

static const char *
type_name(TernOptType type)
{
    switch (type) {
    case TERN_OPT_STRING: return "string";
    case TERN_OPT_INT: return "integer";
    case TERN_OPT_BOOL: return "boolean";
    case TERN_OPT_FLOAT: return "floating point";
    case TERN_OPT_LIST: return "list";
    case TERN_OPT_ENUM: return "string";
    }
    return "unknown";
}

const TernOpt *
tern_config_find_opt(const char *section, const char *name)
{
    g_autofree char *norm = g_strdup(name);
    for (char *p = norm; *p; p++)
        if (*p == '-')
            *p = '_';
    for (size_t t = 0; tern_opt_tables[t]; t++)
        for (const TernOpt *o = tern_opt_tables[t]; o->name; o++)
            if (strcmp(o->section, section) == 0 && strcmp(o->name, norm) == 0)
                return o;
    return NULL;
}

static gboolean
section_known(const char *section)
{
    for (size_t t = 0; tern_opt_tables[t]; t++)
        for (const TernOpt *o = tern_opt_tables[t]; o->name; o++)
            if (strcmp(o->section, section) == 0)
                return TRUE;
    return FALSE;
}

gboolean
tern_config_is_secret(const char *section, const char *name)
{
    const TernOpt *o = tern_config_find_opt(section, name);
    return o && o->secret;
}

/* Parse raw into v according to opt. On error, *why says what is wrong. */
static gboolean
parse_value(const TernOpt *opt, const char *raw, TernConfigValue *v, char **why)
{
    g_autofree char *s = g_strstrip(g_strdup(raw));

    switch (opt->type) {
    case TERN_OPT_STRING:
        return TRUE;
    case TERN_OPT_INT: {
        char *end = NULL;
        errno = 0;
        gint64 n = g_ascii_strtoll(s, &end, 10);
        if (*s == '\0' || errno || !end || *end != '\0') {
            *why = g_strdup("must be an integer");
            return FALSE;
        }
        if (opt->min < opt->max && (n < opt->min || n > opt->max)) {
            *why = g_strdup_printf("must be an integer between %" G_GINT64_FORMAT
                                   " and %" G_GINT64_FORMAT, opt->min, opt->max);
            return FALSE;
        }
        v->i = n;
        return TRUE;
    }
    case TERN_OPT_FLOAT: {
        char *end = NULL;
        errno = 0;
        double d = g_ascii_strtod(s, &end);
        if (*s == '\0' || errno || !end || *end != '\0' || !isfinite(d)) {
            *why = g_strdup("must be a number");
            return FALSE;
        }
        if (opt->fmin < opt->fmax && (d < opt->fmin || d > opt->fmax)) {
            *why = g_strdup_printf("must be a number between %g and %g", opt->fmin, opt->fmax);
            return FALSE;
        }
        v->f = d;
        return TRUE;
    }
    case TERN_OPT_BOOL: {
        static const char *const yes[] = { "true", "yes", "on", "1", NULL };
        static const char *const no[] = { "false", "no", "off", "0", NULL };
        for (int k = 0; yes[k]; k++) {
            if (g_ascii_strcasecmp(s, yes[k]) == 0) { v->b = TRUE; return TRUE; }
            if (g_ascii_strcasecmp(s, no[k]) == 0) { v->b = FALSE; return TRUE; }
        }
        *why = g_strdup("must be a boolean (true/false, yes/no, on/off, 1/0)");
        return FALSE;
    }
    case TERN_OPT_LIST: {
        g_auto(GStrv) parts = g_strsplit(s, ",", -1);
        GPtrArray *items = g_ptr_array_new();
        for (int k = 0; parts[k]; k++) {
            char *item = g_strstrip(parts[k]);
            if (*item)
                g_ptr_array_add(items, g_strdup(item));
        }
        g_ptr_array_add(items, NULL);
        g_strfreev(v->list);
        v->list = (char **) g_ptr_array_free(items, FALSE);
        return TRUE;
    }
    case TERN_OPT_ENUM:
        for (int k = 0; opt->choices && opt->choices[k]; k++)
            if (strcmp(s, opt->choices[k]) == 0)
                return TRUE;
        {
            g_autofree char *all = g_strjoinv(", ", (char **) opt->choices);
            *why = g_strdup_printf("must be one of: %s", all);
        }
        return FALSE;
    }
    return FALSE;
}

static TernConfigValue *
lookup(const TernConfig *conf, const char *section, const char *name, TernOptType type)
{
    g_autofree char *key = value_key(section, name);
    TernConfigValue *v = g_hash_table_lookup(conf->values, key);
    if (!v) {
        g_critical("config option [%s] %s is not declared", section, name);
        return NULL;
    }
    if (v->opt->type != type && !(type == TERN_OPT_STRING && v->opt->type == TERN_OPT_ENUM)) {
        g_critical("config option [%s] %s is a %s option, read as %s", section, name,
                   type_name(v->opt->type), type_name(type));
        return NULL;
    }
    return v;
}

/* Store a value for opt; on a bad value, report origin/section/key. */
/* Text from a file as shown in an error or warning: at most head + tail
 * characters, the middle replaced by its size (a 1 MiB line stays out of
 * the logs). Text must be UTF-8 (tern_config_load_data checks). */
static char *
shorten(const char *text, glong head, glong tail)
{
    glong n = g_utf8_strlen(text, -1);
    if (n <= head + tail + 32)
        return g_strdup(text);
    g_autofree char *a = g_utf8_substring(text, 0, head);
    g_autofree char *b = g_utf8_substring(text, n - tail, n);
    return g_strdup_printf("%s...(%zu bytes in all)...%s", a, strlen(text), b);
}

static int
store(TernConfig *conf, const TernOpt *opt, const char *raw, const char *origin, GError **error)
{
    g_autofree char *key = value_key(opt->section, opt->name);
    TernConfigValue *v = g_hash_table_lookup(conf->values, key);
    TernConfigValue tmp = { .opt = opt };
    g_autofree char *why = NULL;

    if (!parse_value(opt, raw, &tmp, &why)) {
        g_autofree char *shown = opt->secret ? g_strdup("****") : shorten(raw, 60, 20);
        g_set_error(error, TERN_CONFIG_ERROR, TERN_CONFIG_ERROR_VALUE,
                    "%s: [%s] %s = \"%s\": %s", origin, opt->section, opt->name,
                    shown, why);
        g_strfreev(tmp.list);
        return -1;
    }
    g_free(v->raw);
    g_free(v->origin);
    g_strfreev(v->list);
    v->raw = g_strstrip(g_strdup(raw));
    v->origin = g_strdup(origin);
    v->i = tmp.i;
    v->f = tmp.f;
    v->b = tmp.b;
    v->list = tmp.list;
    if (opt->secret && *v->raw)
        tern_mask_add_secret(v->raw);
    return 0;
}

TernConfig *
tern_config_new(void)
{
    TernConfig *conf = g_new0(TernConfig, 1);
    conf->values = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, value_free);
    conf->warnings = g_ptr_array_new_with_free_func(g_free);

    for (size_t t = 0; tern_opt_tables[t]; t++) {
        for (const TernOpt *o = tern_opt_tables[t]; o->name; o++) {
            TernConfigValue *v = g_new0(TernConfigValue, 1);
            v->opt = o;
            v->origin = g_strdup("<default>");
            g_hash_table_insert(conf->values, value_key(o->section, o->name), v);
            if (o->type == TERN_OPT_LIST)
                v->list = g_new0(char *, 1);
            if (o->default_value) {
                g_autoptr(GError) err = NULL;
                if (store(conf, o, o->default_value, "<default>", &err) < 0)
                    g_error("bad default in option table: %s", err->message);
            }
        }
    }
    return conf;
}

void
tern_config_free(TernConfig *conf)
{
    if (!conf)
        return;
    g_hash_table_destroy(conf->values);
    g_ptr_array_free(conf->warnings, TRUE);
    g_free(conf);
}

static void
warn(TernConfig *conf, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static void
warn(TernConfig *conf, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    tern_log(TERN_LOG_WARNING, G_LOG_DOMAIN_CONFIG, "%s", msg);
    g_ptr_array_add(conf->warnings, msg);
}

/* The number (from 1) of the first line GKeyFile cannot take: neither
 * blank, comment, [section] nor key = value, or a key before any section;
 * 0 if none (GKeyFile refused the file for another reason). */
static int
syntax_error_line(char **lines)
{
    gboolean in_group = FALSE;
    for (int k = 0; lines[k]; k++) {
        const char *p = lines[k];
        while (g_ascii_isspace(*p))
            p++;
        if (*p == '\0' || *p == '#' || *p == ';')
            continue;
        g_autofree char *line = g_strchomp(g_strdup(p));
        if (*line == '[') {
            if (!g_str_has_suffix(line, "]"))
                return k + 1;
            in_group = TRUE;
            continue;
        }
        if (!in_group || !strchr(line, '=') || *line == '=')
            return k + 1;
    }
    return 0;
}

int
tern_config_load_data(TernConfig *conf, const char *data, const char *origin, GError **error)
{
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_autoptr(GError) err = NULL;
    g_autoptr(GString) text = g_string_new(NULL);

    /* Config files are UTF-8 (as oslo.config reads them): other bytes would
     * end up in values, logs and error messages. */
    const char *bad;
    if (!g_utf8_validate(data, -1, &bad)) {
        guint line = 1;
        for (const char *c = data; c < bad; c++)
            line += *c == '\n';
        g_set_error(error, TERN_CONFIG_ERROR, TERN_CONFIG_ERROR_FILE,
                    "%s: line %u is not valid UTF-8 (byte 0x%02x); config files must be UTF-8",
                    origin, line, (guint) (guchar) *bad);
        return -1;
    }

    /* oslo.config also takes ';' as a comment; GKeyFile takes only '#'. */
    g_auto(GStrv) lines = g_strsplit(data, "\n", -1);
    for (int k = 0; lines[k]; k++) {
        const char *p = lines[k];
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == ';')
            g_string_append_c(text, '#');
        else
            g_string_append(text, p);
        g_string_append_c(text, '\n');
    }

    if (!g_key_file_load_from_data(kf, text->str, text->len, G_KEY_FILE_NONE, &err)) {
        g_autofree char *why = shorten(err->message, 200, 40);
        int bad_line = syntax_error_line(lines);
        if (bad_line > 0)
            g_set_error(error, TERN_CONFIG_ERROR, TERN_CONFIG_ERROR_FILE, "%s: line %d: %s",
                        origin, bad_line, why);
        else
            g_set_error(error, TERN_CONFIG_ERROR, TERN_CONFIG_ERROR_FILE, "%s: %s", origin, why);
        return -1;
    }

    g_auto(GStrv) groups = g_key_file_get_groups(kf, NULL);
    for (int gi = 0; groups[gi]; gi++) {
        const char *section = groups[gi];
        if (!section_known(section)) {
            g_autofree char *shown = shorten(section, 60, 20);
            warn(conf, "%s: unknown section [%s], ignored", origin, shown);
            continue;
        }
        g_auto(GStrv) keys = g_key_file_get_keys(kf, section, NULL, NULL);
        for (int ki = 0; keys && keys[ki]; ki++) {
            const TernOpt *opt = tern_config_find_opt(section, keys[ki]);
            if (!opt) {
                g_autofree char *shown = shorten(keys[ki], 60, 20);
                warn(conf, "%s: [%s] %s: unknown option, ignored", origin, section, shown);
                continue;
            }
            g_autofree char *raw = g_key_file_get_value(kf, section, keys[ki], NULL);
            if (store(conf, opt, raw ? raw : "", origin, error) < 0)
                return -1;
        }
    }
    return 0;
}

/* A file that holds a secret must not be readable by everyone. */
static void
check_permissions(TernConfig *conf, const char *path, const char *data)
{
    struct stat st;
    if (stat(path, &st) < 0 || !(st.st_mode & S_IROTH))
        return;
    g_autoptr(GKeyFile) kf = g_key_file_new();
    if (!g_key_file_load_from_data(kf, data, -1, G_KEY_FILE_NONE, NULL))
        return;
    for (size_t t = 0; tern_opt_tables[t]; t++) {
        for (const TernOpt *o = tern_opt_tables[t]; o->name; o++) {
            if (!o->secret || !g_key_file_has_key(kf, o->section, o->name, NULL))
                continue;
            warn(conf, "%s: readable by every user but holds the secret [%s] %s; "
                 "run chmod o-r %s", path, o->section, o->name, path);
            return;
        }
    }
}

int
tern_config_load_file(TernConfig *conf, const char *path, GError **error)
{
    g_autofree char *data = NULL;
    g_autoptr(GError) err = NULL;
    gsize len;

    if (!g_file_get_contents(path, &data, &len, &err)) {
        g_set_error(error, TERN_CONFIG_ERROR, TERN_CONFIG_ERROR_FILE,
                    "cannot read config file %s: %s", path, err->message);
        return -1;
    }
    /* a NUL byte would silently end the text there */
    const char *nul = memchr(data, '\0', len);
    if (nul) {
        guint line = 1;
        for (const char *c = data; c < nul; c++)
            line += *c == '\n';
        g_set_error(error, TERN_CONFIG_ERROR, TERN_CONFIG_ERROR_FILE,
                    "%s: line %u contains a NUL byte; config files are text", path, line);
        return -1;
    }
    check_permissions(conf, path, data);
    return tern_config_load_data(conf, data, path, error);
}

static gint
compare_names(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *) a, *(char *const *) b);
}

int
tern_config_load(TernConfig *conf, const char *const *files, const char *dir, GError **error)
{
    for (size_t k = 0; files && files[k]; k++)
        if (tern_config_load_file(conf, files[k], error) < 0)
            return -1;
    if (!dir)
        return 0;

    g_autoptr(GError) err = NULL;
    g_autoptr(GDir) d = g_dir_open(dir, 0, &err);
    if (!d) {
        g_set_error(error, TERN_CONFIG_ERROR, TERN_CONFIG_ERROR_FILE,
                    "cannot read config folder %s: %s", dir, err->message);
        return -1;
    }
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    const char *name;
    while ((name = g_dir_read_name(d)))
        if (g_str_has_suffix(name, ".conf"))
            g_ptr_array_add(names, g_build_filename(dir, name, NULL));
    g_ptr_array_sort(names, compare_names);
    for (guint k = 0; k < names->len; k++)
        if (tern_config_load_file(conf, names->pdata[k], error) < 0)
            return -1;
    return 0;
}

int
tern_config_set(TernConfig *conf, const char *section, const char *name,
                const char *value, GError **error)
{
    const TernOpt *opt = tern_config_find_opt(section, name);
    if (!opt) {
        g_set_error(error, TERN_CONFIG_ERROR, TERN_CONFIG_ERROR_UNKNOWN,
                    "[%s] %s: no such option", section, name);
        return -1;
    }
    return store(conf, opt, value, "<override>", error);
}

const GPtrArray *
tern_config_warnings(const TernConfig *conf)
{
    return conf->warnings;
}

const char *
tern_config_get_string(const TernConfig *conf, const char *section, const char *name)
{
    TernConfigValue *v = lookup(conf, section, name, TERN_OPT_STRING);
    return v ? v->raw : NULL;
}

gint64
tern_config_get_int(const TernConfig *conf, const char *section, const char *name)
{
    TernConfigValue *v = lookup(conf, section, name, TERN_OPT_INT);
    return v ? v->i : 0;
}

gboolean
tern_config_get_bool(const TernConfig *conf, const char *section, const char *name)
{
    TernConfigValue *v = lookup(conf, section, name, TERN_OPT_BOOL);
    return v ? v->b : FALSE;
}

double
tern_config_get_float(const TernConfig *conf, const char *section, const char *name)
{
    TernConfigValue *v = lookup(conf, section, name, TERN_OPT_FLOAT);
    return v ? v->f : 0.0;
}

const char *const *
tern_config_get_list(const TernConfig *conf, const char *section, const char *name)
{
    static const char *const empty[] = { NULL };
    TernConfigValue *v = lookup(conf, section, name, TERN_OPT_LIST);
    return v && v->list ? (const char *const *) v->list : empty;
}

const char *
tern_config_get_origin(const TernConfig *conf, const char *section, const char *name)
{
    g_autofree char *key = value_key(section, name);
    TernConfigValue *v = g_hash_table_lookup(conf->values, key);
    return v ? v->origin : NULL;
}

/* --- sample generation ------------------------------------------------ */

static void
append_wrapped(GString *out, const char *text)
{
    g_auto(GStrv) words = g_strsplit_set(text, " \n", -1);
    size_t col = 0;
    for (int k = 0; words[k]; k++) {
        if (!*words[k])
            continue;
        size_t len = strlen(words[k]);
        if (col == 0) {
            g_string_append(out, "# ");
            col = 2;
        } else if (col + 1 + len > 72) {
            g_string_append(out, "\n# ");
            col = 2;
        } else {
            g_string_append_c(out, ' ');
            col++;
        }
        g_string_append(out, words[k]);
        col += len;
    }
    if (col)
        g_string_append_c(out, '\n');
}

char *
tern_config_sample(void)
{
    GString *out = g_string_new(
        "# tern.conf sample, generated by `tern-manage config sample` from the\n"
        "# option tables in common/conf/. Options use Nova's names and sections\n"
        "# where Nova has the same option. Every line is commented out: the value\n"
        "# shown is the default.\n");
    g_autoptr(GPtrArray) sections = g_ptr_array_new();

    for (size_t t = 0; tern_opt_tables[t]; t++)
        for (const TernOpt *o = tern_opt_tables[t]; o->name; o++) {
            gboolean seen = FALSE;
            for (guint k = 0; k < sections->len; k++)
                if (strcmp(sections->pdata[k], o->section) == 0)
                    seen = TRUE;
            if (!seen)
                g_ptr_array_add(sections, (gpointer) o->section);
        }

    for (guint s = 0; s < sections->len; s++) {
        const char *section = sections->pdata[s];
        g_string_append_printf(out, "\n[%s]\n", section);
        for (size_t t = 0; tern_opt_tables[t]; t++) {
            for (const TernOpt *o = tern_opt_tables[t]; o->name; o++) {
                if (strcmp(o->section, section) != 0)
                    continue;
                g_autofree char *help = g_strdup_printf("%s (%s value%s)", o->help,
                                                        type_name(o->type),
                                                        o->secret ? ", secret" : "");
                g_string_append_c(out, '\n');
                append_wrapped(out, help);
                if (o->type == TERN_OPT_INT && o->min < o->max)
                    g_string_append_printf(out, "# Minimum value: %" G_GINT64_FORMAT
                                           "\n# Maximum value: %" G_GINT64_FORMAT "\n",
                                           o->min, o->max);
                if (o->type == TERN_OPT_FLOAT && o->fmin < o->fmax)
                    g_string_append_printf(out, "# Minimum value: %g\n# Maximum value: %g\n",
                                           o->fmin, o->fmax);
                if (o->type == TERN_OPT_ENUM) {
                    g_string_append(out, "# Possible values:\n");
                    for (int k = 0; o->choices[k]; k++)
                        g_string_append_printf(out, "#   %s\n", o->choices[k]);
                }
                g_string_append_printf(out, "#%s = %s\n", o->name,
                                       o->default_value ? o->default_value : "<None>");
            }
        }
    }
    return g_string_free(out, FALSE);
}

void
tern_config_log(const TernConfig *conf)
{
    g_autoptr(GList) keys = g_hash_table_get_keys(conf->values);
    keys = g_list_sort(keys, (GCompareFunc) strcmp);
    for (GList *l = keys; l; l = l->next) {
        TernConfigValue *v = g_hash_table_lookup(conf->values, l->data);
        if (!v->raw)
            continue;
        tern_log(TERN_LOG_DEBUG, G_LOG_DOMAIN_CONFIG, "[%s] %s = %s (from %s)",
                 v->opt->section, v->opt->name, v->opt->secret ? "****" : v->raw, v->origin);
    }
}
