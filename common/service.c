/* service.c: the shared main of tern daemons (see service.h). */
#include "service.h"

#include <glib-unix.h>
#include <stdio.h>
#include <stdlib.h>

#include "tern-config.h"   /* autoconf's, for PACKAGE_VERSION */
#include "common/log.h"
#include "common/util.h"

struct _TernService {
    const TernServiceDesc *desc;
    TernConfig *conf;
    GMainLoop *loop;
    gpointer data;
    int exit_code;
};

TernConfig *
tern_cli_load_config(const char *prog, const char *summary, const char *parameter_string,
                     GOptionEntry *extra, int *argc, char ***argv, int *exit_code)
{
    g_auto(GStrv) files = NULL;
    g_autofree char *dir = NULL;
    gboolean version = FALSE, debug = FALSE;
    GOptionEntry entries[] = {
        { "config-file", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &files,
          "Config file to read (repeatable; later files win)", "PATH" },
        { "config-dir", 0, 0, G_OPTION_ARG_FILENAME, &dir,
          "Read every *.conf in this folder, sorted, after the --config-file files", "DIR" },
        { "debug", 'd', 0, G_OPTION_ARG_NONE, &debug, "Log at DEBUG level", NULL },
        { "version", 0, 0, G_OPTION_ARG_NONE, &version, "Print the version and exit", NULL },
        { NULL }
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new(parameter_string);
    g_autoptr(GError) err = NULL;

    g_option_context_set_summary(ctx, summary);
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (extra)
        g_option_context_add_main_entries(ctx, extra, NULL);
    g_option_context_set_strict_posix(ctx, parameter_string != NULL);
    if (!g_option_context_parse(ctx, argc, argv, &err)) {
        fprintf(stderr, "%s: %s (try --help)\n", prog, err->message);
        *exit_code = 2;
        return NULL;
    }
    if (version) {
        printf("%s %s\n", prog, PACKAGE_VERSION);
        *exit_code = 0;
        return NULL;
    }

    tern_log_init(prog, debug, FALSE);
    g_autoptr(TernConfig) conf = tern_config_new();
    if (tern_config_load(conf, (const char *const *) files, dir, &err) < 0) {
        fprintf(stderr, "%s: configuration error: %s\n", prog, err->message);
        *exit_code = 1;
        return NULL;
    }
    tern_log_init(prog, debug || tern_config_get_bool(conf, "DEFAULT", "debug"),
                  tern_config_get_bool(conf, "DEFAULT", "use_syslog"));
    *exit_code = 0;
    return g_steal_pointer(&conf);
}

static gboolean
on_signal(gpointer data)
{
    TernService *svc = data;
    TERN_INFO("tern.service", "%s: signal received, stopping", svc->desc->name);
    g_main_loop_quit(svc->loop);
    /* kept: tern_service_main removes both signal sources itself */
    return G_SOURCE_CONTINUE;
}

int
tern_service_main(const TernServiceDesc *desc, int argc, char **argv)
{
    int code = 0;
    TernService svc = { .desc = desc };
    g_autoptr(GError) err = NULL;

    svc.conf = tern_cli_load_config(desc->name, desc->summary, NULL, NULL, &argc, &argv, &code);
    if (!svc.conf)
        return code;
    if (argc > 1) {
        fprintf(stderr, "%s: unexpected argument '%s' (try --help)\n", desc->name, argv[1]);
        tern_config_free(svc.conf);
        return 2;
    }

    svc.loop = g_main_loop_new(NULL, FALSE);
    guint sig_term = g_unix_signal_add(SIGTERM, on_signal, &svc);
    guint sig_int = g_unix_signal_add(SIGINT, on_signal, &svc);

    const char *url = tern_config_get_string(svc.conf, "DEFAULT", "transport_url");
    TERN_INFO("tern.service", "%s %s starting on host %s (transport_url %s)", desc->name,
              PACKAGE_VERSION, tern_conf_host(svc.conf), url ? url : "<unset>");
    tern_config_log(svc.conf);

    if (desc->start && desc->start(&svc, &err) < 0) {
        TERN_ERROR("tern.service", "%s: cannot start: %s", desc->name, err->message);
        svc.exit_code = 1;
    } else {
        TERN_INFO("tern.service", "%s started", desc->name);
        g_main_loop_run(svc.loop);
        if (desc->stop)
            desc->stop(&svc);
        TERN_INFO("tern.service", "%s stopped", desc->name);
    }

    g_source_remove(sig_term);
    g_source_remove(sig_int);
    g_main_loop_unref(svc.loop);
    tern_config_free(svc.conf);
    return svc.exit_code;
}

TernConfig *
tern_service_config(TernService *svc)
{
    return svc->conf;
}

GMainLoop *
tern_service_loop(TernService *svc)
{
    return svc->loop;
}

const char *
tern_service_name(TernService *svc)
{
    return svc->desc->name;
}

void
tern_service_set_data(TernService *svc, gpointer data)
{
    svc->data = data;
}

gpointer
tern_service_get_data(TernService *svc)
{
    return svc->data;
}

void
tern_service_quit(TernService *svc, int code)
{
    svc->exit_code = code;
    g_main_loop_quit(svc->loop);
}
