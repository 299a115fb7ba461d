/* all.c: the list of option tables, one per section file in this folder. */
#include "common/config_opts.h"

const TernOpt *const tern_opt_tables[] = {
    tern_opts_default,
    tern_opts_database,
    tern_opts_rabbit,
    tern_opts_libvirt,
    tern_opts_scheduler,
    tern_opts_compute,
    tern_opts_conductor,
    NULL,
};
