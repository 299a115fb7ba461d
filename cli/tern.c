/* tern.c: `tern`, the operator's client: `tern [--config-file F] GROUP
 * COMMAND [OPTIONS] [ARGS]`. It talks RPC to tern-conductor (topic
 * conductor, namespace tern_admin; docs/tern-rpc.md). transport_url comes
 * from the config files (--config-file; default $TERN_CONFIG_FILE, else
 * SYSCONFDIR/tern/tern.conf if readable) and TERN_TRANSPORT_URL overrides it.
 * Command groups live in cli/tern_<group>.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/tern_cli.h"
#include "common/service.h"

G_DEFINE_QUARK(tern-cli-error-quark, tern_cli_error)

static const TernCliCommand *const tables[] = {
    tern_cli_server_commands,
    tern_cli_host_commands,
    tern_cli_migration_commands,
    NULL,
};

static const char *
transport_url(TernCli *cli)
{
    return tern_config_get_string(cli->conf, "DEFAULT", "transport_url");
}

/* transport_url with its password masked, for messages */
static char *
safe_url(const char *url)
{
    g_autoptr(GRegex) re = g_regex_new("(://[^:/@]*:)[^@]*@", 0, 0, NULL);
    return g_regex_replace(re, url ? url : "", -1, 0, "\\1***@", 0, NULL);
}

static char *
config_where(TernCli *cli)
{
    if (g_getenv("TERN_TRANSPORT_URL"))
        return g_strdup("TERN_TRANSPORT_URL");
    if (cli->config_files && cli->config_files[0]) {
        g_autofree char *files = g_strjoinv(", ", cli->config_files);
        return g_strdup_printf("[DEFAULT] transport_url in %s", files);
    }
    return g_strdup("[DEFAULT] transport_url (no config file read: give --config-file "
                    "or set TERN_TRANSPORT_URL)");
}

/* A remote failure: its text without oslo's "Class: " prefix and final
 * period, and what to do about it. */
static char *
remote_message(const char *cls, const char *message)
{
    g_autofree char *prefix = g_strdup_printf("%s: ", cls);
    /* the prefix may come twice (a failure passed on by the conductor) */
    while (g_str_has_prefix(message, prefix))
        message += strlen(prefix);
    g_autofree char *m = g_strdup(message);
    g_strstrip(m);
    while (g_str_has_suffix(m, "."))
        m[strlen(m) - 1] = '\0';
    if (strcmp(cls, "NoValidHost") == 0)
        return g_strdup_printf("no host can run this server: %s. See `tern host list` "
                               "and `tern host show HOST`", m);
    if (strcmp(cls, "MigrationPreCheckError") == 0)
        return g_strdup_printf("live migration refused: %s. Nothing was moved", m);
    if (strcmp(cls, "InstanceNotFound") == 0)
        return g_strdup_printf("%s. See `tern server list`", m);
    if (strcmp(cls, "ComputeHostNotFound") == 0)
        return g_strdup_printf("%s. See `tern host list`", m);
    if (strcmp(cls, "MigrationNotFound") == 0 ||
        strcmp(cls, "MigrationNotFoundByStatus") == 0)
        return g_strdup_printf("%s. See `tern migration list`", m);
    if (strcmp(cls, "InstanceInvalidState") == 0 ||
        strcmp(cls, "UnexpectedTaskStateError") == 0)
        return g_strdup_printf("%s. See the server's state and task with `tern "
                               "server show SERVER`", m);
    if (strcmp(cls, "ComputeServiceUnavailable") == 0 ||
        strcmp(cls, "ServiceUnavailable") == 0)
        return g_strdup_printf("%s. Is tern-compute running on that host? "
                               "See `tern host list`", m);
    return g_strdup_printf("%s (%s)", m, cls);
}

char *
tern_cli_error_message(TernCli *cli, const GError *e)
{
    g_autofree char *url = safe_url(transport_url(cli));
    g_autofree char *where = config_where(cli);
    if (e->domain == TERN_RPC_ERROR) {
        const char *cls = tern_rpc_error_get_class(e);
        switch (e->code) {
        case TERN_RPC_ERROR_URL:
            return g_strdup_printf("transport_url '%s' is not usable: %s; fix %s",
                                   url, e->message, where);
        case TERN_RPC_ERROR_CONNECT:
        case TERN_RPC_ERROR_BROKER:
            return g_strdup_printf("cannot reach RabbitMQ at %s (%s): is it running? check %s",
                                   url, e->message, where);
        case TERN_RPC_ERROR_TIMEOUT:
            return g_strdup_printf("no answer from tern-conductor within %.0f s: is tern-conductor "
                                   "running? check transport_url (%s, from %s) and the "
                                   "conductor's log", cli->timeout, url, where);
        case TERN_RPC_ERROR_NO_SUCH_METHOD:
        case TERN_RPC_ERROR_UNSUPPORTED_VERSION:
            return g_strdup_printf("tern-conductor does not serve this command (%s): upgrade "
                                   "tern-conductor to the version of this client", e->message);
        case TERN_RPC_ERROR_REMOTE:
            if (!cls)
                break;
            return remote_message(cls, e->message);
        default:
            break;
        }
    }
    return g_strdup(e->message);
}

int
tern_cli_fail(TernCli *cli, const GError *error)
{
    g_autofree char *msg = tern_cli_error_message(cli, error);
    fprintf(stderr, "%s: %s\n", cli->prog, msg);
    return 1;
}

json_t *
tern_cli_call(TernCli *cli, const char *method, json_t *args, GError **error)
{
    if (!args)
        args = json_object();
    if (!cli->transport)
        cli->transport = tern_rpc_transport_new(cli->conf, error);
    if (cli->transport && !cli->client)
        cli->client = tern_rpc_client_new(cli->transport, error);
    if (!cli->client) {
        json_decref(args);
        return NULL;
    }
    TernRpcTarget target = { .topic = "conductor", .namespace = "tern_admin", .version = "1.0" };
    g_autoptr(json_t) ctx = tern_rpc_context_new(g_get_user_name(), NULL, TRUE);
    json_t *r = tern_rpc_call(cli->client, &target, ctx, method, args, cli->timeout, error);
    json_decref(args);
    return r;
}

json_t *
tern_cli_server_get(TernCli *cli, const char *name_or_uuid, GError **error)
{
    json_t *args = json_object();
    json_object_set_new(args, g_uuid_string_is_valid(name_or_uuid) ? "uuid" : "name",
                        json_string(name_or_uuid));
    return tern_cli_call(cli, "server_show", args, error);
}

static char *format_arg, **column_args;

int
tern_cli_parse(TernCli *cli, const char *params, const char *description, GOptionEntry *entries,
               gboolean with_output, int nargs_min, int nargs_max, int *argc, char ***argv,
               gboolean *done)
{
    GOptionEntry output[] = {
        { "format", 'f', 0, G_OPTION_ARG_STRING, &format_arg,
          "Output format: table (default), json or value", "FORMAT" },
        { "column", 'c', 0, G_OPTION_ARG_STRING_ARRAY, &column_args,
          "Show only this column (repeatable)", "COLUMN" },
        { NULL }
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new(params);
    g_autoptr(GError) err = NULL;
    g_option_context_set_summary(ctx, description);
    if (entries)
        g_option_context_add_main_entries(ctx, entries, NULL);
    if (with_output)
        g_option_context_add_main_entries(ctx, output, NULL);
    g_option_context_set_help_enabled(ctx, TRUE);
    *done = TRUE;
    /* --help exits from inside the parser with status 0, as wanted */
    g_autofree char *prgname = g_strdup(cli->prog);
    g_set_prgname(prgname);
    if (!g_option_context_parse(ctx, argc, argv, &err)) {
        fprintf(stderr, "%s: %s (try --help)\n", cli->prog, err->message);
        return 2;
    }
    int n = *argc - 1;
    if (n < nargs_min || (nargs_max >= 0 && n > nargs_max)) {
        fprintf(stderr, "%s: %s (try --help)\n", cli->prog,
                n < nargs_min ? "missing argument" : "too many arguments");
        return 2;
    }
    if (format_arg && tern_output_parse_format(format_arg, &cli->out.format) < 0) {
        fprintf(stderr, "%s: unknown format '%s': use table, json or value\n", cli->prog,
                format_arg);
        return 2;
    }
    cli->out.columns = column_args;
    *done = FALSE;
    return 0;
}

static char *
commands_help(void)
{
    GString *s = g_string_new("Commands:\n");
    for (int t = 0; tables[t]; t++)
        for (const TernCliCommand *c = tables[t]; c->group; c++) {
            g_autofree char *cmd = g_strdup_printf("%s %s %s", c->group, c->name, c->args);
            if (strlen(cmd) > 46)
                g_string_append_printf(s, "  %s\n  %-46s %s\n", cmd, "", c->help);
            else
                g_string_append_printf(s, "  %-46s %s\n", cmd, c->help);
        }
    g_string_append(s, "\n`tern GROUP COMMAND --help` describes a command's options.\n"
                       "Output options of list/show commands: -f table|json|value, -c COLUMN.\n"
                       "Environment: TERN_CONFIG_FILE (default config file), "
                       "TERN_TRANSPORT_URL (overrides transport_url).");
    return g_string_free(s, FALSE);
}

/* The config files named on the command line, or the default one. */
static char **
config_files(int argc, char **argv, char ***argv_out, int *argc_out)
{
    g_autoptr(GStrvBuilder) files = g_strv_builder_new();
    gboolean given = FALSE;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--config-file") == 0 && i + 1 < argc) {
            g_strv_builder_add(files, argv[++i]);
            given = TRUE;
        } else if (g_str_has_prefix(argv[i], "--config-file=")) {
            g_strv_builder_add(files, argv[i] + strlen("--config-file="));
            given = TRUE;
        } else if (strcmp(argv[i], "--config-dir") == 0 ||
                   g_str_has_prefix(argv[i], "--config-dir=")) {
            given = TRUE;
        } else {
            /* options end at the command group */
            gboolean group = FALSE;
            for (int t = 0; tables[t]; t++)
                group = group || strcmp(argv[i], tables[t][0].group) == 0;
            if (group)
                break;
        }
    }
    *argv_out = g_new0(char *, argc + 3);
    *argc_out = 0;
    (*argv_out)[(*argc_out)++] = argv[0];
    if (!given) {
        const char *env = g_getenv("TERN_CONFIG_FILE");
        const char *dflt = TERN_SYSCONFDIR "/tern/tern.conf";
        const char *file = env && *env ? env : (access(dflt, R_OK) == 0 ? dflt : NULL);
        if (file) {
            (*argv_out)[(*argc_out)++] = (char *) "--config-file";
            (*argv_out)[(*argc_out)++] = (char *) file;
            g_strv_builder_add(files, file);
        }
    }
    for (int i = 1; i < argc; i++)
        (*argv_out)[(*argc_out)++] = argv[i];
    return g_strv_builder_end(files);
}

int
main(int argc, char **argv)
{
    int code = 0;
    TernCli cli = { .timeout = 0 };
    double timeout = 0;
    GOptionEntry extra[] = {
        { "timeout", 't', 0, G_OPTION_ARG_DOUBLE, &timeout,
          "Seconds to wait for tern-conductor's answer (default [DEFAULT] rpc_response_timeout)",
          "SECONDS" },
        { NULL }
    };
    g_autofree char *help = commands_help();
    g_autofree char *summary = g_strdup_printf("tern: operate a tern cloud (servers, hosts, "
                                               "live migrations) through tern-conductor.\n\n%s",
                                               help);
    g_autofree char **args = NULL;
    int nargs = 0;
    cli.config_files = config_files(argc, argv, &args, &nargs);
    char **pargv = args;
    cli.conf = tern_cli_load_config("tern", summary, "GROUP COMMAND [OPTIONS] [ARGS...]", extra,
                                    &nargs, &pargv, &code);
    if (!cli.conf) {
        g_strfreev(cli.config_files);
        return code;
    }
    g_autoptr(GError) err = NULL;
    const char *env_url = g_getenv("TERN_TRANSPORT_URL");
    if (env_url && *env_url &&
        tern_config_set(cli.conf, "DEFAULT", "transport_url", env_url, &err) < 0) {
        fprintf(stderr, "tern: TERN_TRANSPORT_URL: %s\n", err->message);
        code = 2;
        goto out;
    }
    cli.timeout = timeout > 0 ? timeout
                              : (double) tern_config_get_int(cli.conf, "DEFAULT", "rpc_response_timeout");
    if (nargs < 3) {
        fprintf(stderr, "tern: missing command.\n%s\n", help);
        code = 2;
        goto out;
    }
    code = -1;
    for (int t = 0; tables[t] && code < 0; t++)
        for (const TernCliCommand *c = tables[t]; c->group && code < 0; c++)
            if (strcmp(c->group, pargv[1]) == 0 && strcmp(c->name, pargv[2]) == 0) {
                g_autofree char *prog = g_strdup_printf("tern %s %s", c->group, c->name);
                cli.prog = prog;
                code = c->run(&cli, nargs - 2, pargv + 2);
            }
    if (code < 0) {
        fprintf(stderr, "tern: unknown command '%s %s'.\n%s\n", pargv[1], pargv[2], help);
        code = 2;
    }
out:
    g_free(format_arg);
    g_strfreev(column_args);
    if (cli.client)
        tern_rpc_client_free(cli.client);
    if (cli.transport)
        tern_rpc_transport_unref(cli.transport);
    tern_config_free(cli.conf);
    g_strfreev(cli.config_files);
    return code;
}
