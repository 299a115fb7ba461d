/* manage.h: tern-manage's command table. Each command group lives in its own
 * file (cli/manage_<group>.c) and exports its entries. */
#ifndef TERN_MANAGE_H
#define TERN_MANAGE_H

#include "common/config.h"

typedef struct {
    const char *group;     /* "db" */
    const char *name;      /* "sync" */
    const char *args;      /* "" or "HOST..." for --help */
    const char *help;
    /* argv holds the arguments after "group name"; returns the exit code. */
    int (*run)(TernConfig *conf, int argc, char **argv);
} TernManageCommand;

extern const TernManageCommand tern_manage_config_commands[];
extern const TernManageCommand tern_manage_cpu_commands[];
extern const TernManageCommand tern_manage_db_commands[];
extern const TernManageCommand tern_manage_compute_commands[];

#endif
