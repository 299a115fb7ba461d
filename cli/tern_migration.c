/* tern_migration.c: `tern migration list|show|abort|force-complete`, and the progress bar of
 * `tern server migrate --live --wait` (migration_show polled while the
 * migration runs: memory transferred, remaining, speed). */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/tern_cli.h"

static json_t *
first_of(json_t *m, const char *a, const char *b)
{
    json_t *v = json_object_get(m, a);
    if (!v || json_is_null(v))
        v = json_object_get(m, b);
    return v ? json_incref(v) : json_null();
}

static json_t *
source(json_t *m)
{
    return first_of(m, "source_compute", "source_host");
}

static json_t *
dest(json_t *m)
{
    return first_of(m, "dest_compute", "dest_host");
}

static json_t *
server(json_t *m)
{
    return first_of(m, "instance_uuid", "instance");
}

static json_t *
progress(json_t *m)
{
    json_t *p = json_object_get(m, "progress");
    return json_is_integer(p) ? json_sprintf("%" JSON_INTEGER_FORMAT "%%", json_integer_value(p))
                              : json_null();
}

static const TernColumn list_columns[] = {
    { "ID", "uuid", NULL },
    { "Server", NULL, server },
    { "Type", "migration_type", NULL },
    { "Status", "status", NULL },
    { "Source", NULL, source },
    { "Destination", NULL, dest },
    { "Progress", NULL, progress },
    { "Created", "created_at", NULL },
    { NULL }
};

static int
migration_list(TernCli *cli, int argc, char **argv)
{
    g_autofree char *srv = NULL;
    gboolean done;
    GOptionEntry e[] = {
        { "server", 0, 0, G_OPTION_ARG_STRING, &srv, "Only this server's migrations (name or "
          "ID)", "SERVER" },
        { NULL }
    };
    int rc = tern_cli_parse(cli, NULL, "List live migrations.", e, TRUE, 0, 0, &argc, &argv,
                            &done);
    if (done)
        return rc;
    g_autoptr(GError) err = NULL;
    json_t *args = json_object();
    if (srv) {
        g_autoptr(json_t) s = tern_cli_server_get(cli, srv, &err);
        if (!s) {
            json_decref(args);
            return tern_cli_fail(cli, err);
        }
        json_object_set(args, "instance_uuid", json_object_get(s, "uuid"));
    }
    g_autoptr(json_t) r = tern_cli_call(cli, "migration_list", args, &err);
    if (!r || tern_output_list(&cli->out, list_columns, r, &err) < 0)
        return tern_cli_fail(cli, err);
    return 0;
}

static int
migration_show(TernCli *cli, int argc, char **argv)
{
    gboolean done;
    int rc = tern_cli_parse(cli, "MIGRATION", "Show a migration, with its progress (bytes of "
                            "memory and disk transferred and remaining, downtime) and error.",
                            NULL, TRUE, 1, 1, &argc, &argv, &done);
    if (done)
        return rc;
    g_autoptr(GError) err = NULL;
    g_autoptr(json_t) r = tern_cli_call(cli, "migration_show", json_pack("{s:s}", "uuid",
                                                                         argv[1]), &err);
    if (!r || tern_output_show(&cli->out, NULL, r, &err) < 0)
        return tern_cli_fail(cli, err);
    return 0;
}

/* abort / force-complete: the conductor casts Nova's live_migration_abort /
 * live_migration_force_complete to the source; --wait follows it to its end. */
static int
migration_act(TernCli *cli, int argc, char **argv, const char *method, const char *help)
{
    gboolean done, wait = FALSE;
    GOptionEntry e[] = {
        { "wait", 0, 0, G_OPTION_ARG_NONE, &wait, "Wait until the migration has ended", NULL },
        { NULL }
    };
    int rc = tern_cli_parse(cli, "MIGRATION", help, e, TRUE, 1, 1, &argc, &argv, &done);
    if (done)
        return rc;
    g_autoptr(GError) err = NULL;
    g_autoptr(json_t) r = tern_cli_call(cli, method, json_pack("{s:s}", "uuid", argv[1]), &err);
    if (r && wait) {
        json_decref(r);
        r = tern_cli_migration_wait(cli, argv[1], &err);
    }
    if (!r || tern_output_show(&cli->out, NULL, r, &err) < 0)
        return tern_cli_fail(cli, err);
    return 0;
}

static int
migration_abort(TernCli *cli, int argc, char **argv)
{
    return migration_act(cli, argc, argv, "migration_abort",
                         "Abort a running live migration: the guest stays on its source, the "
                         "migration ends `cancelled` and the destination's claim is released.");
}

static int
migration_force_complete(TernCli *cli, int argc, char **argv)
{
    return migration_act(cli, argc, argv, "migration_force_complete",
                         "Force a running live migration to complete: post-copy when "
                         "[libvirt] live_migration_permit_post_copy, else the guest is paused "
                         "until the last pages are on the destination.");
}

static gint64
int_of(json_t *m, const char *key)
{
    json_t *v = json_object_get(m, key);
    return json_is_integer(v) ? json_integer_value(v) : 0;
}

/* One progress line: "running [#####-----] 52%  512.0 MiB of 1.0 GiB, 490.0 MiB left, 85.3 MiB/s" */
static gboolean
finished(const char *status)
{
    static const char *const ends[] = { "completed", "failed", "error", "cancelled", "done",
                                        NULL };
    return status && g_strv_contains(ends, status);
}

/* g_format_size's text with a plain space (it puts a no-break space). */
static char *
size_text(gint64 bytes)
{
    g_autofree char *t = g_format_size_full((guint64) MAX(bytes, 0), G_FORMAT_SIZE_IEC_UNITS);
    g_auto(GStrv) parts = g_strsplit(t, "\u00a0", -1);
    return g_strjoinv(" ", parts);
}

static char *
progress_line(json_t *m, double speed)
{
    const char *st = json_string_value(json_object_get(m, "status"));
    gint64 total = int_of(m, "memory_total"), done = int_of(m, "memory_processed");
    gint64 left = int_of(m, "memory_remaining");
    int pct = (int) int_of(m, "progress");
    if (!json_is_integer(json_object_get(m, "progress")) && total > 0)
        pct = (int) (100 * (total - left) / total);
    pct = CLAMP(pct, 0, 100);
    GString *s = g_string_new(NULL);
    g_string_append_printf(s, "%-10s [", st ? st : "?");
    for (int i = 0; i < 30; i++)
        g_string_append_c(s, i < pct * 30 / 100 ? '#' : '-');
    g_string_append_printf(s, "] %3d%%", pct);
    if (total > 0) {
        g_autofree char *d = size_text(done);
        g_autofree char *t = size_text(total);
        g_autofree char *l = size_text(left);
        /* a finished migration keeps the figures of the compute's last report */
        gboolean last = finished(st) && left > 0;
        g_string_append_printf(s, "  %s%s of %s transferred, %s remaining%s", last ?
                               "(last report: " : "", d, t, l, last ? ")" : "");
    }
    if (speed > 0) {
        g_autofree char *v = size_text((gint64) speed);
        g_string_append_printf(s, ", %s/s", v);
    }
    return g_string_free(s, FALSE);
}

json_t *
tern_cli_migration_wait(TernCli *cli, const char *uuid, GError **error)
{
    gboolean tty = isatty(STDERR_FILENO);
    gint64 deadline = g_get_monotonic_time() + (gint64) 3600 * G_USEC_PER_SEC;
    gint64 last_t = 0, last_bytes = -1;
    double speed = 0;
    int last_pct = -100;
    g_autofree char *last_status = NULL;
    fprintf(stderr, "Live migration %s:\n", uuid);
    for (;;) {
        json_t *m = tern_cli_call(cli, "migration_show", json_pack("{s:s}", "uuid", uuid), error);
        if (!m) {
            if (tty)
                fputc('\n', stderr);
            return NULL;
        }
        const char *st = json_string_value(json_object_get(m, "status"));
        gint64 now = g_get_monotonic_time();
        gint64 bytes = int_of(m, "memory_processed");
        if (last_bytes >= 0 && bytes > last_bytes && now > last_t)
            speed = (double) (bytes - last_bytes) * G_USEC_PER_SEC / (double) (now - last_t);
        if (bytes != last_bytes) {
            last_bytes = bytes;
            last_t = now;
        }
        g_autofree char *line = progress_line(m, finished(st) ? 0 : speed);
        int pct = (int) int_of(m, "progress");
        if (tty) {
            fprintf(stderr, "\r\033[K%s", line);
        } else if (g_strcmp0(st, last_status) != 0 || pct >= last_pct + 10) {
            /* not a terminal (logs, scripts): a line per status change or 10 % */
            fprintf(stderr, "%s\n", line);
            last_pct = pct;
        }
        g_free(last_status);
        last_status = g_strdup(st);
        if (finished(st)) {
            if (tty)
                fputc('\n', stderr);
            return m;
        }
        json_decref(m);
        if (now > deadline) {
            if (tty)
                fputc('\n', stderr);
            g_set_error(error, TERN_CLI_ERROR, 0, "migration %s has not ended after an hour; "
                        "it continues: watch it with `tern migration show %s`", uuid, uuid);
            return NULL;
        }
        g_usleep(G_USEC_PER_SEC / 4);
    }
}

const TernCliCommand tern_cli_migration_commands[] = {
    { "migration", "list", "[--server SERVER]", "List live migrations", migration_list },
    { "migration", "show", "MIGRATION", "Show a migration's progress and error", migration_show },
    { "migration", "abort", "[--wait] MIGRATION", "Abort a running live migration",
      migration_abort },
    { "migration", "force-complete", "[--wait] MIGRATION",
      "Force a running live migration to complete", migration_force_complete },
    { NULL }
};
