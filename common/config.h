/* config.h: nova.conf-style configuration, read as oslo.config reads it.
 *
 * Several --config-file in order (later wins), then --config-dir's *.conf in
 * sorted order. Every option is declared once (config_opts.h); a bad value is
 * an error naming file, section and key; an unknown section or key is a
 * warning. Values are parsed when loaded, so getters cannot fail. */
#ifndef TERN_CONFIG_H
#define TERN_CONFIG_H

#include <glib.h>
#include "common/config_opts.h"

#define TERN_CONFIG_ERROR (tern_config_error_quark())
GQuark tern_config_error_quark(void);
typedef enum {
    TERN_CONFIG_ERROR_FILE,      /* cannot read or parse a file */
    TERN_CONFIG_ERROR_VALUE,     /* a value of the wrong type or out of range */
    TERN_CONFIG_ERROR_UNKNOWN,   /* an option name no table declares */
    TERN_CONFIG_ERROR_REQUIRED,  /* a required option has no value */
} TernConfigError;

typedef struct _TernConfig TernConfig;

TernConfig *tern_config_new(void);
void tern_config_free(TernConfig *conf);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TernConfig, tern_config_free)

/* Load files in order, then every *.conf of dir (sorted); either may be NULL. */
int tern_config_load(TernConfig *conf, const char *const *files, const char *dir,
                     GError **error);
/* Load one file on top of what is loaded. */
int tern_config_load_file(TernConfig *conf, const char *path, GError **error);
/* Load INI text (as if read from a file called origin). */
int tern_config_load_data(TernConfig *conf, const char *data, const char *origin,
                          GError **error);
/* Set one value, as if read from origin (for tests and command-line overrides). */
int tern_config_set(TernConfig *conf, const char *section, const char *name,
                    const char *value, GError **error);

/* Warnings collected while loading (unknown sections/keys, loose
 * permissions), also logged as they happen. */
const GPtrArray *tern_config_warnings(const TernConfig *conf);

/* Typed getters; section/name must be declared with that type (a programming
 * error otherwise, reported with g_critical). */
const char *tern_config_get_string(const TernConfig *conf, const char *section, const char *name);
gint64 tern_config_get_int(const TernConfig *conf, const char *section, const char *name);
gboolean tern_config_get_bool(const TernConfig *conf, const char *section, const char *name);
double tern_config_get_float(const TernConfig *conf, const char *section, const char *name);
/* NULL-terminated, owned by conf. */
const char *const *tern_config_get_list(const TernConfig *conf, const char *section, const char *name);
/* Where the value came from: a file path, "<default>", or the origin given. */
const char *tern_config_get_origin(const TernConfig *conf, const char *section, const char *name);

/* Is this option secret (masked in logs)? */
gboolean tern_config_is_secret(const char *section, const char *name);
/* Find a declared option; NULL if none. */
const TernOpt *tern_config_find_opt(const char *section, const char *name);

/* The sample config text, generated from the option tables. */
char *tern_config_sample(void);

/* Log every option at debug level, secrets masked. */
void tern_config_log(const TernConfig *conf);

#endif
