/* service.h: the main of every tern daemon: command line (--config-file,
 * --config-dir, --version, --help), config loading, logging, the GLib main
 * loop, and a clean exit on SIGTERM/SIGINT. */
#ifndef TERN_SERVICE_H
#define TERN_SERVICE_H

#include <glib.h>
#include "common/config.h"

typedef struct _TernService TernService;

typedef struct {
    const char *name;       /* "tern-compute" */
    const char *summary;    /* one line for --help */
    /* Called once the config is loaded and logging is set up; returns -1
     * with error set to refuse to start. */
    int (*start)(TernService *svc, GError **error);
    /* Called on SIGTERM/SIGINT before the loop ends. */
    void (*stop)(TernService *svc);
} TernServiceDesc;

/* Run the daemon; returns the process exit code. */
int tern_service_main(const TernServiceDesc *desc, int argc, char **argv);

TernConfig *tern_service_config(TernService *svc);
GMainLoop *tern_service_loop(TernService *svc);
const char *tern_service_name(TernService *svc);
void tern_service_set_data(TernService *svc, gpointer data);
gpointer tern_service_get_data(TernService *svc);
/* Stop the loop and exit with code. */
void tern_service_quit(TernService *svc, int code);

/* Shared by daemons and tern-manage: parse --config-file/--config-dir (and
 * --version, --debug) from argv, removing them; load the config. Returns NULL
 * on error (message printed). extra may be NULL. */
TernConfig *tern_cli_load_config(const char *prog, const char *summary,
                                 const char *parameter_string, GOptionEntry *extra,
                                 int *argc, char ***argv, int *exit_code);

#endif
