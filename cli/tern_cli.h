/* tern_cli.h: what the `tern` command groups share: the command table, the
 * connection to tern-conductor (namespace tern_admin, docs/tern-rpc.md),
 * option parsing with the output options, and error messages an operator
 * can act on. */
#ifndef TERN_CLI_H
#define TERN_CLI_H

#include <glib.h>
#include <jansson.h>

#include "cli/tern_output.h"
#include "common/config.h"
#include "rpc/rpc.h"

typedef struct {
    TernConfig *conf;
    char **config_files;       /* the config files read (for messages and the catalog) */
    TernRpcTransport *transport;
    TernRpcClient *client;     /* connected on first call */
    TernOutput out;
    double timeout;            /* seconds per call */
    const char *prog;          /* "tern server list", for messages */
} TernCli;

typedef struct {
    const char *group;         /* "server" */
    const char *name;          /* "list" */
    const char *args;          /* synopsis for help, "[--host HOST]" */
    const char *help;
    int (*run)(TernCli *cli, int argc, char **argv);
} TernCliCommand;

extern const TernCliCommand tern_cli_server_commands[];
extern const TernCliCommand tern_cli_host_commands[];
extern const TernCliCommand tern_cli_migration_commands[];

/* Parse a command's options (entries may be NULL) plus -f/-c when
 * with_output; on return argv holds the positional arguments (argv[0] is the
 * command). nargs_min/max bound their count (max -1: any). Returns 0, or the
 * exit code to leave with (0 after --help, 2 on a usage error). */
int tern_cli_parse(TernCli *cli, const char *params, const char *description,
                   GOptionEntry *entries, gboolean with_output, int nargs_min, int nargs_max,
                   int *argc, char ***argv, gboolean *done);

/* Call a tern_admin method of the conductor (args stolen; NULL = {}).
 * Returns the result (new ref) or NULL with error set. */
json_t *tern_cli_call(TernCli *cli, const char *method, json_t *args, GError **error);

/* Print the error as an operator-actionable message ("tern server create:
 * ...") and return the exit code (1). */
int tern_cli_fail(TernCli *cli, const GError *error);
/* The message tern_cli_fail prints, without the program prefix. */
char *tern_cli_error_message(TernCli *cli, const GError *error);

/* A server by uuid or name (server_show's answer). */
json_t *tern_cli_server_get(TernCli *cli, const char *name_or_uuid, GError **error);

/* Nova's status of a server from vm_state/task_state ("ACTIVE", "BUILD",
 * "SHUTOFF", "MIGRATING", ...). */
json_t *tern_cli_server_status(json_t *server);

/* The flavor / image objects of server_create, from the catalog files
 * (flavors.ini, images.ini; see tern_catalog.c) and overrides. */
json_t *tern_catalog_flavor(TernCli *cli, const char *name, int vcpus, int ram_mb, int disk_gb,
                            GError **error);
json_t *tern_catalog_image(TernCli *cli, const char *id, const char *arch,
                           char **properties, GError **error);

/* Wait for a live migration, drawing a progress bar on stderr; returns the
 * final migration object (or NULL with error). */
json_t *tern_cli_migration_wait(TernCli *cli, const char *uuid, GError **error);

#define TERN_CLI_ERROR (tern_cli_error_quark())
GQuark tern_cli_error_quark(void);

#endif
