/* fuzz-config.c: fuzz target of the config parser (tern_config_load_data:
 * INI syntax, sections, every option type, ranges, enums, lists), then
 * every declared option read back through its typed getter and the whole
 * configuration logged (secret masking). Input: a tern.conf text.
 * Corpus: tests/fuzz/corpus/config. `make check` replays it
 * (fuzz-replay.c); scripts/fuzz config SECONDS runs libFuzzer. */
#include <string.h>

#include "common/config.h"

int LLVMFuzzerTestOneInput(const guint8 *data, size_t size);

int
LLVMFuzzerTestOneInput(const guint8 *data, size_t size)
{
    static gboolean init;
    if (!init) {
        /* a GLib critical (a getter of the wrong type, a NULL where none
         * may be) is a bug: make it a crash */
        g_log_set_always_fatal(G_LOG_LEVEL_CRITICAL);
        init = TRUE;
    }
    g_autofree char *text = g_strndup((const char *) data, size);
    g_autoptr(TernConfig) conf = tern_config_new();
    g_autoptr(GError) err = NULL;
    if (tern_config_load_data(conf, text, "fuzz.conf", &err) < 0) {
        g_assert_nonnull(err);
        g_assert_true(g_utf8_validate(err->message, -1, NULL));
        return 0;
    }
    g_assert_null(err);
    for (guint t = 0; tern_opt_tables[t]; t++) {
        for (const TernOpt *o = tern_opt_tables[t]; o->name; o++) {
            const char *origin = tern_config_get_origin(conf, o->section, o->name);
            g_assert_nonnull(origin);
            gboolean set = o->default_value || strcmp(origin, "<default>") != 0;
            switch (o->type) {
            case TERN_OPT_STRING:
            case TERN_OPT_ENUM: {
                const char *v = tern_config_get_string(conf, o->section, o->name);
                if (v)
                    (void) strlen(v);
                break;
            }
            case TERN_OPT_INT: {
                gint64 v = tern_config_get_int(conf, o->section, o->name);
                if (set && o->min < o->max)
                    g_assert_true(v >= o->min && v <= o->max);
                break;
            }
            case TERN_OPT_BOOL:
                (void) tern_config_get_bool(conf, o->section, o->name);
                break;
            case TERN_OPT_FLOAT: {
                double v = tern_config_get_float(conf, o->section, o->name);
                if (set && o->fmin < o->fmax)
                    g_assert_true(v >= o->fmin && v <= o->fmax);
                break;
            }
            case TERN_OPT_LIST: {
                const char *const *v = tern_config_get_list(conf, o->section, o->name);
                for (; v && *v; v++)
                    g_assert_true(**v != '\0');
                break;
            }
            }
        }
    }
    (void) tern_config_warnings(conf);
    return 0;
}
