/* config_opts.h: how an option is declared. Every option tern reads is one
 * row in a table of this type (common/conf/<section>.c); the loader, the
 * typed getters and `tern-manage config sample` all work from those rows. */
#ifndef TERN_CONFIG_OPTS_H
#define TERN_CONFIG_OPTS_H

#include <glib.h>

typedef enum {
    TERN_OPT_STRING,
    TERN_OPT_INT,     /* bounded by min/max when min < max */
    TERN_OPT_BOOL,    /* true/false, yes/no, on/off, 1/0 (any case) */
    TERN_OPT_FLOAT,   /* bounded by fmin/fmax when fmin < fmax */
    TERN_OPT_LIST,    /* comma-separated, items trimmed, empty items dropped */
    TERN_OPT_ENUM,    /* one of choices[] */
} TernOptType;

typedef struct {
    const char *section;
    const char *name;
    TernOptType type;
    const char *default_value;   /* in config-file syntax; NULL = no default */
    const char *help;
    gboolean secret;             /* value never appears in logs */
    gint64 min, max;             /* TERN_OPT_INT */
    double fmin, fmax;           /* TERN_OPT_FLOAT */
    const char *const *choices;  /* TERN_OPT_ENUM, NULL-terminated */
} TernOpt;

/* Each section file defines one NULL-name-terminated table. */
extern const TernOpt tern_opts_default[];
extern const TernOpt tern_opts_database[];
extern const TernOpt tern_opts_libvirt[];
extern const TernOpt tern_opts_rabbit[];
extern const TernOpt tern_opts_scheduler[];
extern const TernOpt tern_opts_compute[];
extern const TernOpt tern_opts_conductor[];

/* All tables, NULL-terminated (common/conf/all.c). */
extern const TernOpt *const tern_opt_tables[];

#endif
