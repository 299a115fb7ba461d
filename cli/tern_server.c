/* tern_server.c: `tern server ...`: create, list, show, delete,
 * start/stop/reboot and live migration of servers (instances). */
#include <stdio.h>
#include <string.h>

#include "cli/tern_cli.h"

/* Nova's status names (nova/api/openstack/common.py's state map, simplified). */
json_t *
tern_cli_server_status(json_t *s)
{
    const char *vm = json_string_value(json_object_get(s, "vm_state"));
    const char *task = json_string_value(json_object_get(s, "task_state"));
    if (!vm)
        return json_null();
    if (task && strcmp(vm, "active") == 0) {
        static const char *const map[][2] = {
            { "migrating", "MIGRATING" }, { "rebooting", "REBOOT" },
            { "reboot_pending", "REBOOT" }, { "reboot_started", "REBOOT" },
            { "rebooting_hard", "HARD_REBOOT" }, { "reboot_pending_hard", "HARD_REBOOT" },
            { "reboot_started_hard", "HARD_REBOOT" }, { "deleting", "ACTIVE" },
        };
        for (guint i = 0; i < G_N_ELEMENTS(map); i++)
            if (strcmp(task, map[i][0]) == 0)
                return json_string(map[i][1]);
    }
    static const char *const states[][2] = {
        { "active", "ACTIVE" }, { "building", "BUILD" }, { "stopped", "SHUTOFF" },
        { "error", "ERROR" }, { "deleted", "DELETED" }, { "soft-delete", "SOFT_DELETED" },
        { "paused", "PAUSED" }, { "suspended", "SUSPENDED" }, { "rescued", "RESCUE" },
        { "resized", "VERIFY_RESIZE" }, { "shelved", "SHELVED" },
    };
    for (guint i = 0; i < G_N_ELEMENTS(states); i++)
        if (strcmp(vm, states[i][0]) == 0)
            return json_string(states[i][1]);
    g_autofree char *up = g_ascii_strup(vm, -1);
    return json_string(up);
}

static json_t *
power_state(json_t *s)
{
    json_t *p = json_object_get(s, "power_state");
    if (!json_is_integer(p))
        return json_null();
    switch (json_integer_value(p)) {
    case 0: return json_string("NOSTATE");
    case 1: return json_string("Running");
    case 3: return json_string("Paused");
    case 4: return json_string("Shutdown");
    case 6: return json_string("Crashed");
    case 7: return json_string("Suspended");
    default: return json_incref(p);
    }
}

static json_t *
name_of(json_t *v)
{
    if (json_is_object(v)) {
        json_t *n = json_object_get(v, "name");
        if (!n)
            n = json_object_get(v, "id");
        return n ? json_incref(n) : json_null();
    }
    return v ? json_incref(v) : json_null();
}

static json_t *
flavor(json_t *s)
{
    json_t *f = json_object_get(s, "flavor");
    return f ? name_of(f) : name_of(json_object_get(s, "instance_type_name"));
}

static json_t *
image(json_t *s)
{
    json_t *i = json_object_get(s, "image");
    return i ? name_of(i) : name_of(json_object_get(s, "image_ref"));
}

static json_t *
arch(json_t *s)
{
    json_t *a = json_object_get(s, "arch");
    if (!a)
        a = json_object_get(json_object_get(s, "guest_cpu"), "arch");
    if (!a)
        a = json_object_get(json_object_get(json_object_get(s, "image"), "properties"),
                            "hw_architecture");
    return a ? json_incref(a) : json_null();
}

static const TernColumn list_columns[] = {
    { "ID", "uuid", NULL },
    { "Name", "name", NULL },
    { "Status", NULL, tern_cli_server_status },
    { "Task State", "task_state", NULL },
    { "Power State", NULL, power_state },
    { "Host", "host", NULL },
    { "Arch", NULL, arch },
    { "Flavor", NULL, flavor },
    { "Image", NULL, image },
    { NULL }
};

static const TernColumn show_derived[] = {
    { "status", NULL, tern_cli_server_status },
    { "power_state_name", NULL, power_state },
    { NULL }
};

static int
show(TernCli *cli, json_t *server)
{
    g_autoptr(GError) err = NULL;
    if (tern_output_show(&cli->out, show_derived, server, &err) < 0)
        return tern_cli_fail(cli, err);
    return 0;
}

/* Poll server_show until the server has no task and is not building (or
 * is gone when gone_ok). Returns the last object (NULL after a failure). */
static json_t *
wait_server(TernCli *cli, const char *uuid, gboolean gone_ok, GError **error)
{
    gint64 deadline = g_get_monotonic_time() + (gint64) 900 * G_USEC_PER_SEC;
    for (;;) {
        g_autoptr(GError) e = NULL;
        json_t *s = tern_cli_server_get(cli, uuid, &e);
        if (!s) {
            if (gone_ok && g_strcmp0(tern_rpc_error_get_class(e), "InstanceNotFound") == 0)
                return json_null();
            g_propagate_error(error, g_steal_pointer(&e));
            return NULL;
        }
        const char *vm = json_string_value(json_object_get(s, "vm_state"));
        gboolean busy = json_is_string(json_object_get(s, "task_state")) ||
                        g_strcmp0(vm, "building") == 0 ||
                        (gone_ok && g_strcmp0(vm, "deleted") != 0);
        if (!busy)
            return s;
        if (g_get_monotonic_time() > deadline) {
            g_set_error(error, TERN_CLI_ERROR, 0, "server %s still busy (%s, task %s) after "
                        "900 s: see `tern server show %s` and the compute host's log", uuid,
                        vm ? vm : "?", json_string_value(json_object_get(s, "task_state")), uuid);
            json_decref(s);
            return NULL;
        }
        json_decref(s);
        g_usleep(G_USEC_PER_SEC / 2);
    }
}

static int
server_create(TernCli *cli, int argc, char **argv)
{
    g_autofree char *img = NULL, *flv = NULL, *arch_opt = NULL, *host = NULL;
    g_auto(GStrv) props = NULL;
    int count = 1, vcpus = 0, ram = 0, disk = 0;
    gboolean wait = FALSE, done;
    GOptionEntry e[] = {
        { "image", 0, 0, G_OPTION_ARG_STRING, &img,
          "Image id: a file in the compute hosts' [compute] images_path; its properties come "
          "from images.ini (see tern(1))", "IMAGE" },
        { "flavor", 0, 0, G_OPTION_ARG_STRING, &flv,
          "Flavor name from flavors.ini (m1.tiny, m1.small, ...)", "FLAVOR" },
        { "arch", 0, 0, G_OPTION_ARG_STRING, &arch_opt,
          "Guest architecture (x86_64, ppc64le): sets the image's hw_architecture", "ARCH" },
        { "host", 0, 0, G_OPTION_ARG_STRING, &host, "Build on this host (admin)", "HOST" },
        { "property", 0, 0, G_OPTION_ARG_STRING_ARRAY, &props,
          "Image property KEY=VALUE (repeatable; overrides images.ini)", "KEY=VALUE" },
        { "vcpus", 0, 0, G_OPTION_ARG_INT, &vcpus, "Override the flavor's vCPUs", "N" },
        { "ram", 0, 0, G_OPTION_ARG_INT, &ram, "Override the flavor's memory", "MB" },
        { "disk", 0, 0, G_OPTION_ARG_INT, &disk, "Override the flavor's root disk", "GB" },
        { "count", 0, 0, G_OPTION_ARG_INT, &count, "Number of servers (default 1)", "N" },
        { "wait", 0, 0, G_OPTION_ARG_NONE, &wait, "Wait until the build ends", NULL },
        { NULL }
    };
    int rc = tern_cli_parse(cli, "NAME", "Boot a server. The conductor schedules it (or uses "
                            "--host) and the build runs asynchronously: watch it with `tern "
                            "server show NAME` or pass --wait.", e, TRUE, 1, 1, &argc, &argv, &done);
    if (done)
        return rc;
    if (!img || !flv) {
        fprintf(stderr, "%s: --image and --flavor are required (try --help)\n", cli->prog);
        return 2;
    }
    if (count < 1) {
        fprintf(stderr, "%s: --count must be at least 1\n", cli->prog);
        return 2;
    }
    g_autoptr(GError) err = NULL;
    json_t *flavor_obj = tern_catalog_flavor(cli, flv, vcpus, ram, disk, &err);
    json_t *image_obj = flavor_obj ? tern_catalog_image(cli, img, arch_opt, props, &err) : NULL;
    if (!image_obj) {
        json_decref(flavor_obj);
        return tern_cli_fail(cli, err);
    }
    json_t *args = json_pack("{s:s, s:o, s:o, s:i}", "name", argv[1], "image", image_obj,
                             "flavor", flavor_obj, "count", count);
    if (host)
        json_object_set_new(args, "host", json_string(host));
    g_autoptr(json_t) r = tern_cli_call(cli, "server_create", args, &err);
    if (!r)
        return tern_cli_fail(cli, err);
    if (!json_is_array(r)) {
        g_set_error(&err, TERN_CLI_ERROR, 0, "unexpected answer from the conductor");
        return tern_cli_fail(cli, err);
    }
    if (wait) {
        size_t i;
        json_t *s;
        json_array_foreach(r, i, s) {
            const char *uuid = json_string_value(json_object_get(s, "uuid"));
            fprintf(stderr, "Waiting for %s (%s) to build...\n", json_string_value(
                        json_object_get(s, "name")), uuid ? uuid : "?");
            json_t *fin = uuid ? wait_server(cli, uuid, FALSE, &err) : NULL;
            if (!fin)
                return tern_cli_fail(cli, err);
            json_array_set_new(r, i, fin);
        }
    }
    if (json_array_size(r) == 1)
        rc = show(cli, json_array_get(r, 0));
    else if (tern_output_list(&cli->out, list_columns, r, &err) < 0)
        rc = tern_cli_fail(cli, err);
    /* with --wait, a server that ended in ERROR fails the command */
    size_t i;
    json_t *s;
    json_array_foreach(r, i, s)
        if (wait && g_strcmp0(json_string_value(json_object_get(s, "vm_state")), "error") == 0) {
            json_t *f = json_object_get(s, "fault");
            if (!f)
                f = json_array_get(json_object_get(s, "faults"), 0);
            fprintf(stderr, "%s: server %s failed to build: %s\n", cli->prog,
                    json_string_value(json_object_get(s, "name")),
                    f ? json_string_value(json_object_get(f, "message")) : "see its faults");
            rc = 1;
        }
    return rc;
}

static int
server_list(TernCli *cli, int argc, char **argv)
{
    g_autofree char *host = NULL;
    gboolean done;
    GOptionEntry e[] = {
        { "host", 0, 0, G_OPTION_ARG_STRING, &host, "Only the servers of this host", "HOST" },
        { NULL }
    };
    int rc = tern_cli_parse(cli, NULL, "List servers.", e, TRUE, 0, 0, &argc, &argv, &done);
    if (done)
        return rc;
    g_autoptr(GError) err = NULL;
    json_t *args = json_object();
    if (host)
        json_object_set_new(args, "host", json_string(host));
    g_autoptr(json_t) r = tern_cli_call(cli, "server_list", args, &err);
    if (!r || tern_output_list(&cli->out, list_columns, r, &err) < 0)
        return tern_cli_fail(cli, err);
    return 0;
}

static int
server_show(TernCli *cli, int argc, char **argv)
{
    gboolean done;
    int rc = tern_cli_parse(cli, "SERVER", "Show a server (by name or ID), with its faults.",
                            NULL, TRUE, 1, 1, &argc, &argv, &done);
    if (done)
        return rc;
    g_autoptr(GError) err = NULL;
    g_autoptr(json_t) r = tern_cli_server_get(cli, argv[1], &err);
    if (!r)
        return tern_cli_fail(cli, err);
    return show(cli, r);
}

/* start, stop, reboot, delete: one server_action per server. */
static int
action(TernCli *cli, int argc, char **argv, const char *what, const char *description)
{
    gboolean wait = FALSE, hard = FALSE, done;
    GOptionEntry with_hard[] = {
        { "hard", 0, 0, G_OPTION_ARG_NONE, &hard, "Hard reboot (power cycle)", NULL },
        { "wait", 0, 0, G_OPTION_ARG_NONE, &wait, "Wait until the action ends", NULL },
        { NULL }
    };
    GOptionEntry *e = strcmp(what, "reboot") == 0 ? with_hard : with_hard + 1;
    int rc = tern_cli_parse(cli, "SERVER...", description, e, FALSE, 1, -1, &argc, &argv, &done);
    if (done)
        return rc;
    for (int i = 1; i < argc; i++) {
        g_autoptr(GError) err = NULL;
        g_autoptr(json_t) s = tern_cli_server_get(cli, argv[i], &err);
        const char *uuid = s ? json_string_value(json_object_get(s, "uuid")) : NULL;
        if (!uuid) {
            if (!err)
                g_set_error(&err, TERN_CLI_ERROR, 0, "server %s has no uuid", argv[i]);
            rc = tern_cli_fail(cli, err);
            continue;
        }
        const char *act = hard ? "reboot_hard" : what;
        g_autoptr(json_t) r = tern_cli_call(cli, "server_action",
                                            json_pack("{s:s, s:s}", "uuid", uuid, "action", act),
                                            &err);
        if (!r) {
            rc = tern_cli_fail(cli, err);
            continue;
        }
        if (wait) {
            g_autoptr(json_t) fin = wait_server(cli, uuid, strcmp(what, "delete") == 0, &err);
            if (!fin) {
                rc = tern_cli_fail(cli, err);
                continue;
            }
        }
    }
    return rc;
}

static int
server_delete(TernCli *cli, int argc, char **argv)
{
    return action(cli, argc, argv, "delete", "Delete servers (by name or ID).");
}

static int
server_start(TernCli *cli, int argc, char **argv)
{
    return action(cli, argc, argv, "start", "Power on stopped servers.");
}

static int
server_stop(TernCli *cli, int argc, char **argv)
{
    return action(cli, argc, argv, "stop", "Shut down servers (ACPI, then power off).");
}

static int
server_reboot(TernCli *cli, int argc, char **argv)
{
    return action(cli, argc, argv, "reboot", "Reboot servers (soft unless --hard).");
}

static int
server_migrate(TernCli *cli, int argc, char **argv)
{
    g_autofree char *host = NULL;
    gboolean live = FALSE, wait = FALSE, done;
    GOptionEntry e[] = {
        { "live", 0, 0, G_OPTION_ARG_NONE, &live, "Live migration (required: the only kind "
          "tern does)", NULL },
        { "host", 0, 0, G_OPTION_ARG_STRING, &host, "Destination host (default: the "
          "scheduler picks one whose CPU can run the guest's)", "HOST" },
        { "wait", 0, 0, G_OPTION_ARG_NONE, &wait, "Wait for the end, with a progress bar "
          "(memory transferred, remaining, speed)", NULL },
        { NULL }
    };
    int rc = tern_cli_parse(cli, "SERVER", "Live-migrate a server to another host of the same "
                            "architecture. The conductor checks first that the destination can "
                            "run the guest's CPU and machine type; a refusal moves nothing.",
                            e, TRUE, 1, 1, &argc, &argv, &done);
    if (done)
        return rc;
    if (!live) {
        fprintf(stderr, "%s: only live migration is supported: pass --live\n", cli->prog);
        return 2;
    }
    g_autoptr(GError) err = NULL;
    g_autoptr(json_t) s = tern_cli_server_get(cli, argv[1], &err);
    if (!s)
        return tern_cli_fail(cli, err);
    json_t *args = json_pack("{s:O}", "uuid", json_object_get(s, "uuid"));
    if (host)
        json_object_set_new(args, "host", json_string(host));
    g_autoptr(json_t) m = tern_cli_call(cli, "server_live_migrate", args, &err);
    if (!m)
        return tern_cli_fail(cli, err);
    const char *uuid = json_string_value(json_object_get(m, "uuid"));
    if (wait && uuid) {
        json_t *fin = tern_cli_migration_wait(cli, uuid, &err);
        if (!fin)
            return tern_cli_fail(cli, err);
        json_decref(m);
        m = fin;
    }
    if (tern_output_show(&cli->out, NULL, m, &err) < 0)
        return tern_cli_fail(cli, err);
    const char *status = json_string_value(json_object_get(m, "status"));
    if (wait && g_strcmp0(status, "completed") != 0) {
        const char *why = json_string_value(json_object_get(m, "error"));
        fprintf(stderr, "%s: migration %s %s%s%s; the server stays on %s\n", cli->prog,
                uuid, status ? status : "ended", why ? ": " : "", why ? why : "",
                json_string_value(json_object_get(m, "source_compute")) ?
                json_string_value(json_object_get(m, "source_compute")) : "its source host");
        return 1;
    }
    return 0;
}

const TernCliCommand tern_cli_server_commands[] = {
    { "server", "create", "NAME --image IMAGE --flavor FLAVOR [--arch A] [--host H] [--wait]",
      "Boot a server", server_create },
    { "server", "list", "[--host HOST]", "List servers", server_list },
    { "server", "show", "SERVER", "Show a server and its faults", server_show },
    { "server", "delete", "SERVER... [--wait]", "Delete servers", server_delete },
    { "server", "start", "SERVER... [--wait]", "Power on servers", server_start },
    { "server", "stop", "SERVER... [--wait]", "Shut down servers", server_stop },
    { "server", "reboot", "SERVER... [--hard] [--wait]", "Reboot servers", server_reboot },
    { "server", "migrate", "SERVER --live [--host HOST] [--wait]",
      "Live-migrate a server (progress bar with --wait)", server_migrate },
    { NULL }
};
