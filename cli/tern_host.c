/* tern_host.c: `tern host ...`: the compute hosts as the conductor knows
 * them (CPU, guest CPU offered, usage, state) and enabling/disabling them
 * for scheduling. */
#include <stdio.h>
#include <string.h>

#include "cli/tern_cli.h"

static json_t *
status(json_t *h)
{
    return json_string(json_is_true(json_object_get(h, "disabled")) ? "disabled" : "enabled");
}

static json_t *
used_of(json_t *h, const char *used, const char *total)
{
    json_t *u = json_object_get(h, used), *t = json_object_get(h, total);
    if (!json_is_integer(t))
        return json_null();
    return json_sprintf("%" JSON_INTEGER_FORMAT "/%" JSON_INTEGER_FORMAT,
                        json_is_integer(u) ? json_integer_value(u) : 0, json_integer_value(t));
}

static json_t *
vcpus(json_t *h)
{
    return used_of(h, "vcpus_used", "vcpus");
}

static json_t *
ram(json_t *h)
{
    return used_of(h, "memory_mb_used", "memory_mb");
}

static json_t *
disk(json_t *h)
{
    return used_of(h, "local_gb_used", "local_gb");
}

static const TernColumn list_columns[] = {
    { "Host", "host", NULL },
    { "Arch", "arch", NULL },
    { "Virt Type", "virt_type", NULL },
    { "State", "state", NULL },
    { "Status", NULL, status },
    { "CPU Model", "cpu_model", NULL },
    { "Guest CPU", "guest_cpu_model", NULL },
    { "vCPUs Used", NULL, vcpus },
    { "RAM MB Used", NULL, ram },
    { "Disk GB Used", NULL, disk },
    { "Instances", "instances", NULL },
    { NULL }
};

static const TernColumn show_derived[] = {
    { "status", NULL, status },
    { NULL }
};

static int
host_list(TernCli *cli, int argc, char **argv)
{
    gboolean done;
    int rc = tern_cli_parse(cli, NULL, "List compute hosts: architecture, host CPU, the guest "
                            "CPU they offer, usage, up/down and enabled/disabled.", NULL, TRUE,
                            0, 0, &argc, &argv, &done);
    if (done)
        return rc;
    g_autoptr(GError) err = NULL;
    g_autoptr(json_t) r = tern_cli_call(cli, "host_list", NULL, &err);
    if (!r || tern_output_list(&cli->out, list_columns, r, &err) < 0)
        return tern_cli_fail(cli, err);
    return 0;
}

static int
host_show(TernCli *cli, int argc, char **argv)
{
    gboolean done;
    int rc = tern_cli_parse(cli, "HOST", "Show a compute host: arch, host CPU model and "
                            "features, CPU vulnerability mitigations, the guest CPU it offers, "
                            "machine types, usage and mixed-fleet gates.", NULL, TRUE, 1, 1,
                            &argc, &argv, &done);
    if (done)
        return rc;
    g_autoptr(GError) err = NULL;
    g_autoptr(json_t) r = tern_cli_call(cli, "host_show", json_pack("{s:s}", "host", argv[1]),
                                        &err);
    if (!r || tern_output_show(&cli->out, show_derived, r, &err) < 0)
        return tern_cli_fail(cli, err);
    return 0;
}

static int
set_enabled(TernCli *cli, int argc, char **argv, gboolean enabled)
{
    g_autofree char *reason = NULL;
    gboolean done;
    GOptionEntry e[] = {
        { "reason", 0, 0, G_OPTION_ARG_STRING, &reason, enabled ? "Why (kept for the record)" :
          "Why the host is disabled (shown by host list/show)", "TEXT" },
        { NULL }
    };
    int rc = tern_cli_parse(cli, "HOST", enabled ? "Let the scheduler place servers on HOST "
                            "again." : "Stop placing new servers and migrations on HOST; "
                            "servers already there keep running.", e, TRUE, 1, 1, &argc, &argv,
                            &done);
    if (done)
        return rc;
    g_autoptr(GError) err = NULL;
    json_t *args = json_pack("{s:s, s:b}", "host", argv[1], "enabled", enabled);
    json_object_set_new(args, "reason", reason ? json_string(reason) : json_null());
    g_autoptr(json_t) r = tern_cli_call(cli, "host_set_enabled", args, &err);
    if (!r || tern_output_show(&cli->out, show_derived, r, &err) < 0)
        return tern_cli_fail(cli, err);
    return 0;
}

static int
host_disable(TernCli *cli, int argc, char **argv)
{
    return set_enabled(cli, argc, argv, FALSE);
}

static int
host_enable(TernCli *cli, int argc, char **argv)
{
    return set_enabled(cli, argc, argv, TRUE);
}

const TernCliCommand tern_cli_host_commands[] = {
    { "host", "list", "", "List compute hosts", host_list },
    { "host", "show", "HOST", "Show a host's CPU, guest CPU, usage, gates", host_show },
    { "host", "disable", "HOST [--reason TEXT]", "Take a host out of scheduling", host_disable },
    { "host", "enable", "HOST", "Put a host back into scheduling", host_enable },
    { NULL }
};
