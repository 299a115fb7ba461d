/* manage_db.c: `tern-manage db sync|version` (schema migrations) and
 * `tern-manage service list`. */
#include <stdio.h>

#include "cli/manage.h"
#include "db/db.h"

static TernDb *
open_db(TernConfig *conf)
{
    g_autoptr(GError) error = NULL;
    TernDb *db = tern_db_open_config(conf, &error);
    if (!db)
        fprintf(stderr, "tern-manage: %s\n", error->message);
    return db;
}

static int
db_sync(TernConfig *conf, int argc, char **argv)
{
    if (argc != 0) {
        fprintf(stderr, "tern-manage: db sync takes no arguments\n");
        return 2;
    }
    g_autoptr(TernDb) db = open_db(conf);
    if (!db)
        return 1;
    g_autoptr(GError) error = NULL;
    int from, to;
    if (tern_db_schema_sync(db, &from, &to, &error) < 0) {
        fprintf(stderr, "tern-manage: db sync failed: %s\n", error->message);
        return 1;
    }
    if (from == to)
        printf("Database schema is up to date (version %d).\n", to);
    else
        printf("Database schema upgraded from version %d to %d.\n", from, to);
    return 0;
}

static int
db_version(TernConfig *conf, int argc, char **argv)
{
    g_autoptr(TernDb) db = open_db(conf);
    if (!db)
        return 1;
    g_autoptr(GError) error = NULL;
    int v;
    if (tern_db_schema_version(db, &v, &error) < 0) {
        fprintf(stderr, "tern-manage: %s\n", error->message);
        return 1;
    }
    printf("%d\n", v);
    return 0;
}

static int
db_prune_changes(TernConfig *conf, int argc, char **argv)
{
    gint64 hours = 24;
    if (argc > 1 || (argc == 1 && (!g_ascii_string_to_signed(argv[0], 10, 0, 24 * 365, &hours,
                                                             NULL)))) {
        fprintf(stderr, "tern-manage: db prune-changes [HOURS]: HOURS is a number of hours "
                        "(0..8760, default 24)\n");
        return 2;
    }
    g_autoptr(TernDb) db = open_db(conf);
    if (!db)
        return 1;
    g_autoptr(GError) error = NULL;
    guint deleted = 0;
    if (tern_db_changes_prune(db, g_get_real_time() - hours * 3600 * G_USEC_PER_SEC, &deleted,
                              &error) < 0) {
        fprintf(stderr, "tern-manage: %s\n", error->message);
        return 1;
    }
    printf("Deleted %u change records older than %" G_GINT64_FORMAT " hours.\n", deleted, hours);
    return 0;
}

static int
service_list(TernConfig *conf, int argc, char **argv)
{
    g_autoptr(TernDb) db = open_db(conf);
    if (!db)
        return 1;
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) list = NULL;
    if (tern_db_service_list(db, argc > 0 ? argv[0] : NULL, &list, &error) < 0) {
        fprintf(stderr, "tern-manage: %s\n", error->message);
        return 1;
    }
    gint64 now = g_get_real_time();
    int down_time = (int) tern_config_get_int(conf, "DEFAULT", "service_down_time");
    printf("%-16s %-24s %-10s %-8s %-5s %s\n", "Binary", "Host", "Topic", "Status", "State",
           "Updated");
    for (guint k = 0; k < list->len; k++) {
        TernDbService *s = list->pdata[k];
        g_autoptr(GDateTime) t = g_date_time_new_from_unix_utc(s->last_seen_up / G_USEC_PER_SEC);
        g_autofree char *when = s->last_seen_up && t ? g_date_time_format_iso8601(t) : g_strdup("-");
        printf("%-16s %-24s %-10s %-8s %-5s %s%s%s\n", s->binary, s->host,
               s->topic ? s->topic : "-", s->disabled ? "disabled" : "enabled",
               tern_db_service_is_up(s, now, down_time) ? "up" : "down", when,
               s->disabled_reason ? "  " : "", s->disabled_reason ? s->disabled_reason : "");
    }
    return 0;
}

const TernManageCommand tern_manage_db_commands[] = {
    { "db", "sync", "", "Create or upgrade the database schema (idempotent)", db_sync },
    { "db", "version", "", "Print the database schema version (0: empty)", db_version },
    { "db", "prune-changes", "[HOURS]", "Delete change-feed records older than HOURS (24)",
      db_prune_changes },
    { "service", "list", "[BINARY]", "List services with their state and last heartbeat",
      service_list },
    { NULL }
};
