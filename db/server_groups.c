/* server_groups.c: server group members and claims under the group's rule
 * (one transaction, the group's row locked: see server_groups.h). */
#include "db/db.h"
#include "db/db_private.h"

#include <string.h>

static const char *const POLICIES[] = {
    "affinity", "anti-affinity", "soft-affinity", "soft-anti-affinity", NULL
};

const char *
tern_db_group_policy_canonical(const char *name)
{
    for (guint i = 0; name && POLICIES[i]; i++)
        if (strcmp(name, POLICIES[i]) == 0)
            return POLICIES[i];
    return NULL;
}

typedef struct {
    const char *group, *policy, *consumer, *host;
    const TernDbResources *req;
    const TernDbGuestRules *guest;
    gboolean held;
} GroupClaim;

static int
group_claim_txn(TernDb *db, gpointer data, GError **error)
{
    GroupClaim *a = data;
    const char *ins[] = { a->group, a->policy };
    g_autoptr(PGresult) r = tern_db_exec(db,
        "INSERT INTO server_groups (uuid, policy) VALUES ($1::uuid, $2::text)"
        " ON CONFLICT (uuid) DO NOTHING", 2, ins, 0, error);
    if (!r)
        return -1;
    g_clear_pointer(&r, PQclear);
    /* The group's lock: every claim of this group waits here. */
    r = tern_db_exec(db, "SELECT policy FROM server_groups WHERE uuid = $1::uuid FOR UPDATE",
                     1, ins, 0, error);
    if (!r)
        return -1;
    g_autofree char *policy = tern_db_get_text(r, 0, 0);
    g_clear_pointer(&r, PQclear);
    const char *chk[] = { a->group, a->consumer, a->host };
    r = tern_db_exec(db,
        "SELECT count(*) FILTER (WHERE host = $3::text),"
        "       count(*) FILTER (WHERE host <> $3::text),"
        "       string_agg(DISTINCT host, ', ' ORDER BY host)"
        "  FROM server_group_members WHERE group_uuid = $1::uuid AND consumer_uuid <> $2::uuid",
        3, chk, 0, error);
    if (!r)
        return -1;
    gint64 here = tern_db_get_int(r, 0, 0), elsewhere = tern_db_get_int(r, 0, 1);
    g_autofree char *hosts = tern_db_get_text(r, 0, 2);
    g_clear_pointer(&r, PQclear);
    if ((g_strcmp0(policy, "anti-affinity") == 0 && here > 0) ||
        (g_strcmp0(policy, "affinity") == 0 && elsewhere > 0)) {
        g_set_error(error, TERN_DB_ERROR, TERN_DB_ERROR_GROUP_RULE,
                    "server group %s is %s and its members are on %s: not on host '%s'",
                    a->group, policy, hosts ? hosts : "no host", a->host);
        return -1;
    }
    if (tern_db_claim_in(db, a->consumer, a->host, a->req, a->guest, 0, &a->held, error) < 0)
        return -1;
    r = tern_db_exec(db,
        "INSERT INTO server_group_members (group_uuid, consumer_uuid, host)"
        " VALUES ($1::uuid, $2::uuid, $3::text)"
        " ON CONFLICT (group_uuid, consumer_uuid) DO UPDATE SET host = EXCLUDED.host",
        3, chk, 0, error);
    return r ? 0 : -1;
}

int
tern_db_group_claim(TernDb *db, const char *group_uuid, const char *policy,
                    const char *consumer_uuid, const char *host,
                    const TernDbResources *req, const TernDbGuestRules *guest,
                    gboolean *already_held, GError **error)
{
    if (already_held)
        *already_held = FALSE;
    if (!group_uuid || !consumer_uuid || !host || !req) {
        g_set_error(error, TERN_DB_ERROR, TERN_DB_ERROR_INVALID,
                    "a group claim needs a group uuid, a consumer uuid, a host and the resources");
        return -1;
    }
    const char *p = tern_db_group_policy_canonical(policy);
    if (!p) {
        g_set_error(error, TERN_DB_ERROR, TERN_DB_ERROR_INVALID,
                    "server group policy '%s' is none of affinity, anti-affinity, "
                    "soft-affinity, soft-anti-affinity", policy ? policy : "(none)");
        return -1;
    }
    GroupClaim a = { group_uuid, p, consumer_uuid, host, req, guest, FALSE };
    /* The whole transaction is safe to run again (the claim is idempotent). */
    if (tern_db_transaction(db, TRUE, group_claim_txn, &a, error) < 0)
        return -1;
    if (already_held)
        *already_held = a.held;
    return 0;
}

typedef struct {
    const char *instance, *migration, *host;
    const TernDbResources *req;
    const TernDbGuestRules *guest;
    gboolean held;
} GroupMoveClaim;

static int
group_move_claim_txn(TernDb *db, gpointer data, GError **error)
{
    GroupMoveClaim *a = data;
    const char *who[] = { a->instance };
    /* The group's lock, as for the group's boot claims. */
    g_autoptr(PGresult) r = tern_db_exec(db,
        "SELECT g.uuid::text, g.policy FROM server_group_members m"
        "  JOIN server_groups g ON g.uuid = m.group_uuid"
        " WHERE m.consumer_uuid = $1::uuid ORDER BY g.uuid FOR UPDATE OF g",
        1, who, 0, error);
    if (!r)
        return -1;
    for (int i = 0; i < PQntuples(r); i++) {
        g_autofree char *group = tern_db_get_text(r, i, 0);
        g_autofree char *policy = tern_db_get_text(r, i, 1);
        if (g_strcmp0(policy, "anti-affinity") != 0 && g_strcmp0(policy, "affinity") != 0)
            continue;
        const char *chk[] = { group, a->instance, a->host, a->migration };
        g_autoptr(PGresult) h = tern_db_exec(db,
            "SELECT count(*) FILTER (WHERE host = $3::text),"
            "       count(*) FILTER (WHERE host <> $3::text),"
            "       string_agg(DISTINCT host, ', ' ORDER BY host)"
            "  FROM (SELECT m.host FROM server_group_members m"
            "         WHERE m.group_uuid = $1::uuid AND m.consumer_uuid <> $2::uuid"
            "        UNION ALL"
            "        SELECT n.host FROM server_group_members m"
            "          JOIN migrations mg ON mg.instance_uuid = m.consumer_uuid"
            "          JOIN allocations al ON al.consumer_uuid = mg.uuid"
            "          JOIN compute_nodes n ON n.id = al.node_id"
            "         WHERE m.group_uuid = $1::uuid AND m.consumer_uuid <> $2::uuid"
            "           AND mg.uuid <> $4::uuid) AS hosts",
            4, chk, 0, error);
        if (!h)
            return -1;
        gint64 here = tern_db_get_int(h, 0, 0), elsewhere = tern_db_get_int(h, 0, 1);
        g_autofree char *hosts = tern_db_get_text(h, 0, 2);
        if ((strcmp(policy, "anti-affinity") == 0 && here > 0) ||
            (strcmp(policy, "affinity") == 0 && elsewhere > 0)) {
            g_set_error(error, TERN_DB_ERROR, TERN_DB_ERROR_GROUP_RULE,
                        "server group %s is %s and its other members are on (or moving to) "
                        "%s: instance %s cannot move to host '%s'", group, policy,
                        hosts ? hosts : "no host", a->instance, a->host);
            return -1;
        }
    }
    return tern_db_claim_in(db, a->migration, a->host, a->req, a->guest, 0, &a->held, error);
}

int
tern_db_group_move_claim(TernDb *db, const char *instance_uuid, const char *migration_uuid,
                         const char *host, const TernDbResources *req,
                         const TernDbGuestRules *guest, gboolean *already_held, GError **error)
{
    if (already_held)
        *already_held = FALSE;
    if (!instance_uuid || !migration_uuid || !host || !req) {
        g_set_error(error, TERN_DB_ERROR, TERN_DB_ERROR_INVALID,
                    "a group move claim needs the instance and migration uuids, a host and "
                    "the resources");
        return -1;
    }
    if (!g_uuid_string_is_valid(instance_uuid) || !g_uuid_string_is_valid(migration_uuid)) {
        g_set_error(error, TERN_DB_ERROR, TERN_DB_ERROR_INVALID,
                    "a group move claim needs uuids ('%s', '%s')", instance_uuid,
                    migration_uuid);
        return -1;
    }
    GroupMoveClaim a = { instance_uuid, migration_uuid, host, req, guest, FALSE };
    if (tern_db_transaction(db, TRUE, group_move_claim_txn, &a, error) < 0)
        return -1;
    if (already_held)
        *already_held = a.held;
    return 0;
}

int
tern_db_group_get(TernDb *db, const char *group_uuid, char **policy_out,
                  GHashTable **hosts_out, GError **error)
{
    *policy_out = NULL;
    if (hosts_out)
        *hosts_out = NULL;
    const char *params[] = { group_uuid };
    g_autoptr(PGresult) r = tern_db_exec(db,
        "SELECT g.policy, m.host, count(m.consumer_uuid) FROM server_groups g"
        " LEFT JOIN server_group_members m ON m.group_uuid = g.uuid"
        " WHERE g.uuid = $1::uuid GROUP BY g.policy, m.host",
        1, params, TERN_DB_EXEC_RETRY_SAFE, error);
    if (!r)
        return -1;
    g_autoptr(GHashTable) hosts = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    for (int i = 0; i < PQntuples(r); i++) {
        if (!*policy_out)
            *policy_out = tern_db_get_text(r, i, 0);
        if (!PQgetisnull(r, i, 1))
            g_hash_table_insert(hosts, tern_db_get_text(r, i, 1),
                                GINT_TO_POINTER((int) tern_db_get_int(r, i, 2)));
    }
    if (hosts_out)
        *hosts_out = g_steal_pointer(&hosts);
    return 0;
}

int
tern_db_group_member_remove(TernDb *db, const char *consumer_uuid, const char *host,
                            GError **error)
{
    const char *params[] = { consumer_uuid, host };
    g_autoptr(PGresult) r = tern_db_exec(db,
        "DELETE FROM server_group_members WHERE consumer_uuid = $1::uuid"
        " AND ($2::text IS NULL OR host = $2::text)", 2, params, TERN_DB_EXEC_RETRY_SAFE, error);
    return r ? 0 : -1;
}

int
tern_db_group_member_move(TernDb *db, const char *consumer_uuid, const char *host,
                          GError **error)
{
    const char *params[] = { consumer_uuid, host };
    g_autoptr(PGresult) r = tern_db_exec(db,
        "UPDATE server_group_members SET host = $2::text WHERE consumer_uuid = $1::uuid",
        2, params, TERN_DB_EXEC_RETRY_SAFE, error);
    return r ? 0 : -1;
}
