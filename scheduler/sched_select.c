/* sched_select.c: filter, weigh, pick, claim, alternates. */
#include "scheduler/sched_select.h"

#include <string.h>

#include "common/log.h"
#include "db/db.h"
#include "scheduler/sched_error.h"

/* Rounds of filter + weigh when every candidate of a round lost its claim. */
#define CLAIM_ROUNDS 4
/* Candidates kept beyond the subset and the alternates, for lost claims. */
#define SPARE_CANDIDATES 8

void
tern_sched_pick_free(TernSchedPick *p)
{
    if (!p)
        return;
    g_free(p->host);
    g_free(p->nodename);
    g_free(p->uuid);
    g_free(p);
}

static TernSchedPick *
pick_new(const TernSchedHost *h, const TernSchedRequest *r, double weight)
{
    TernSchedPick *p = g_new0(TernSchedPick, 1);
    p->host = g_strdup(h->host);
    p->nodename = g_strdup(h->nodename);
    p->uuid = g_strdup(h->uuid);
    p->vcpus = r->vcpus;
    p->memory_mb = r->memory_mb;
    p->disk_gb = r->disk_gb;
    p->vcpu_limit = (gint64) ((double) h->vcpus * h->cpu_ratio);
    p->memory_limit = (gint64) ((double) h->memory_mb * h->ram_ratio);
    p->disk_limit = (gint64) ((double) h->local_gb * h->disk_ratio);
    p->weight = weight;
    p->generation = h->generation;
    return p;
}

typedef struct {
    const TernSchedRequest *r;
    gint64 generation;
} Consume;

/* Count a claim in our copy of the host (Nova's consume_from_request), so
 * the next instance of the same call sees it; unless the host's row was read
 * again since it was weighed: that row may hold the claim already, and
 * counting it twice could refuse a host that has room. */
static void
consume(TernSchedHost *h, gpointer data)
{
    const Consume *c = data;
    const TernSchedRequest *r = c->r;
    if (h->generation != c->generation)
        return;
    h->vcpus_used = tern_sched_clamp32(h->vcpus_used + r->vcpus);
    h->memory_used = tern_sched_clamp32(h->memory_used + r->memory_mb);
    h->disk_used = tern_sched_clamp32(h->disk_used + r->disk_gb);
}

/* A claim was refused: our copy of the host is stale. Treat it as full
 * until the change feed brings its row again. */
static void
mark_full(TernSchedHost *h, gpointer data)
{
    (void) data;
    h->vcpus_used = MAX(h->vcpus_used, h->vcpus_cap);
    h->memory_used = MAX(h->memory_used, h->memory_cap);
    h->disk_used = MAX(h->disk_used, h->disk_cap);
}

typedef struct {
    char *consumer;
    char *host;
} Claimed;

static void
release_all(const TernSchedPolicy *p, GArray *claimed, gboolean move)
{
    for (guint i = 0; i < claimed->len; i++) {
        Claimed *c = &g_array_index(claimed, Claimed, i);
        if (p->release)
            p->release(c->consumer, move, c->host, p->claim_data);
        g_free(c->consumer);
        g_free(c->host);
    }
    g_array_set_size(claimed, 0);
}

/* Per-thread scratch of a filter pass, kept between requests so a decision
 * over 100,000 hosts allocates (and page-faults) nothing of that size. */
typedef struct {
    guint *idx;
    double *raw;
    gsize cap;
    TernSchedFilterCtx ctx;
} Scratch;

static void
scratch_free(gpointer p)
{
    Scratch *s = p;
    g_free(s->idx);
    g_free(s->raw);
    g_free(s);
}

static GPrivate scratch_key = G_PRIVATE_INIT(scratch_free);

static Scratch *
scratch_get(guint nh)
{
    Scratch *s = g_private_get(&scratch_key);
    if (!s) {
        s = g_new0(Scratch, 1);
        g_private_set(&scratch_key, s);
    }
    if (s->cap < MAX(nh, 1u)) {
        s->cap = MAX(nh, 1u) + MAX(nh, 1u) / 8;   /* room for a growing fleet */
        g_free(s->idx);
        g_free(s->raw);
        s->idx = g_new(guint, s->cap);
        s->raw = g_new(double, s->cap * 3);
    }
    return s;
}

/* Filter and weigh under the read lock; the best candidates as picks.
 * NULL (reason filled) when no host passes. */
static GPtrArray *
candidates(TernSchedCache *cache, const TernSchedPolicy *p, const TernSchedRequest *r, guint k,
           GString *reason)
{
    tern_sched_cache_read_lock(cache);
    guint nh;
    const TernSchedHost *hosts = tern_sched_cache_hosts(cache, &nh);
    Scratch *sc = scratch_get(nh);
    guint *idx = sc->idx;
    double *raw = sc->raw;
    for (guint i = 0; i < nh; i++)
        idx[i] = i;
    TernSchedFilterCtx *ctx = &sc->ctx;
    tern_sched_filter_ctx_init(ctx, r, p->cpudb, g_get_real_time(), p->down_time, p->default_az);
    guint n = tern_sched_filter_run_raw(p->filters, hosts, idx, nh, ctx, reason, raw);
    if (nh == 0)
        g_string_append(reason, "there are no compute hosts");
    GPtrArray *out = NULL;
    if (n > 0) {
        g_autofree TernSchedWeighed *top = g_new(TernSchedWeighed, k);
        /* Soft server-group policies: members of the group on each host. */
        gboolean soft_aff = g_strcmp0(r->group_policy, "soft-affinity") == 0;
        gboolean soft_anti = g_strcmp0(r->group_policy, "soft-anti-affinity") == 0;
        g_autofree double *extra = NULL;
        if ((soft_aff || soft_anti) && r->group_hosts && g_hash_table_size(r->group_hosts)) {
            extra = g_new(double, n);
            for (guint i = 0; i < n; i++) {
                double c = GPOINTER_TO_UINT(g_hash_table_lookup(r->group_hosts,
                                                                hosts[idx[i]].host));
                extra[i] = soft_aff ? c : -c;
            }
        }
        guint have = tern_sched_weigh_top_extra(&p->mult, raw, extra,
                                                soft_aff ? p->mult.soft_affinity
                                                         : p->mult.soft_anti_affinity,
                                                idx, n, top, k);
        out = g_ptr_array_new_with_free_func((GDestroyNotify) tern_sched_pick_free);
        for (guint i = 0; i < have; i++)
            g_ptr_array_add(out, pick_new(&hosts[top[i].idx], r, top[i].weight));
    }
    tern_sched_cache_read_unlock(cache);
    return out;
}

int
tern_sched_select(TernSchedCache *cache, const TernSchedPolicy *p, const TernSchedRequest *r,
                  const char *const *instance_uuids, guint n_uuids, gboolean alternates,
                  GPtrArray **out, GError **error)
{
    *out = NULL;
    guint ninst = n_uuids ? n_uuids : (guint) r->num_instances;
    guint subset = (guint) MAX(p->host_subset_size, 1);
    guint nalt = alternates ? (guint) MAX(p->max_attempts - 1, 0) : 0;
    guint k = subset + nalt + SPARE_CANDIDATES;
    /* A move claim needs a migration uuid; without one the instance claims
     * the destination in its own name (released by host, never its source). */
    gboolean move = r->is_move && r->migration_uuid;
    g_autoptr(GPtrArray) result = g_ptr_array_new_with_free_func((GDestroyNotify) g_ptr_array_unref);
    g_autoptr(GArray) claimed = g_array_new(FALSE, FALSE, sizeof(Claimed));
    gint64 t_filter = 0, t_claim = 0;

    for (guint inst = 0; inst < ninst; inst++) {
        const char *consumer = NULL;
        if (n_uuids)
            consumer = move && r->migration_uuid ? r->migration_uuid : instance_uuids[inst];
        GPtrArray *list = NULL;
        g_autoptr(GString) reason = g_string_new(NULL);
        gboolean lost_any = FALSE;
        g_autofree char *last_refusal = NULL;   /* the last lost claim's reason */
        for (int round = 0; round < CLAIM_ROUNDS && !list; round++) {
            g_string_truncate(reason, 0);
            gint64 t0 = g_get_monotonic_time();
            g_autoptr(GPtrArray) cand = candidates(cache, p, r, k, reason);
            t_filter += g_get_monotonic_time() - t0;
            if (!cand)
                break;
            /* Nova: the chosen host is random among the best host_subset_size. */
            guint sub = MIN(subset, cand->len);
            guint j = sub > 1 ? (guint) g_random_int_range(0, (gint32) sub) : 0;
            if (j) {
                gpointer t = cand->pdata[j];
                memmove(&cand->pdata[1], &cand->pdata[0], j * sizeof(gpointer));
                cand->pdata[0] = t;
            }
            for (guint c = 0; c < cand->len; c++) {
                TernSchedPick *pk = cand->pdata[c];
                if (consumer && p->claim) {
                    g_autoptr(GError) err = NULL;
                    gint64 c0 = g_get_monotonic_time();
                    int rc = p->claim(consumer, move, pk->host, r, p->claim_data, &err);
                    t_claim += g_get_monotonic_time() - c0;
                    if (rc < 0) {
                        if (g_error_matches(err, TERN_DB_ERROR, TERN_DB_ERROR_GUEST_RULE) ||
                            g_error_matches(err, TERN_DB_ERROR, TERN_DB_ERROR_GROUP_RULE)) {
                            /* The host keeps the other endianness, or the
                             * server group's policy forbids it (docs/fleet.md
                             * §4, §5): not full, just not for this guest. */
                            TERN_DEBUG("tern.scheduler", "claim on %s refused for %s: %s",
                                       pk->host, consumer, err->message);
                            g_free(last_refusal);
                            last_refusal = g_strdup(err->message);
                            lost_any = TRUE;
                            tern_sched_pick_free(pk);
                            cand->pdata[c] = NULL;
                            continue;
                        }
                        if (g_error_matches(err, TERN_DB_ERROR, TERN_DB_ERROR_NO_CAPACITY)) {
                            TERN_DEBUG("tern.scheduler", "claim on %s lost for %s: %s", pk->host,
                                       consumer, err->message);
                            g_free(last_refusal);
                            last_refusal = g_strdup(err->message);
                            tern_sched_cache_update(cache, pk->host, mark_full, NULL);
                            lost_any = TRUE;
                            tern_sched_pick_free(pk);
                            cand->pdata[c] = NULL;   /* full: not an alternate either */
                            continue;
                        }
                        release_all(p, claimed, move);
                        g_propagate_prefixed_error(error, g_steal_pointer(&err),
                                                   "claim on %s for %s: ", pk->host, consumer);
                        return -1;
                    }
                    Claimed cl = { g_strdup(consumer), g_strdup(pk->host) };
                    g_array_append_val(claimed, cl);
                }
                Consume cs = { r, pk->generation };
                tern_sched_cache_update(cache, pk->host, consume, &cs);
                list = g_ptr_array_new_with_free_func((GDestroyNotify) tern_sched_pick_free);
                g_ptr_array_add(list, pk);
                cand->pdata[c] = NULL;
                /* Alternates: the next best, in weight order, not claimed. */
                for (guint a = 0; a < cand->len && list->len < 1 + nalt; a++) {
                    if (!cand->pdata[a])
                        continue;
                    g_ptr_array_add(list, cand->pdata[a]);
                    cand->pdata[a] = NULL;
                }
                break;
            }
        }
        if (!list) {
            release_all(p, claimed, move);
            g_autofree char *refused = last_refusal
                ? g_strdup_printf(" (last claim refused: %s)", last_refusal) : g_strdup("");
            g_set_error(error, TERN_SCHED_ERROR, TERN_SCHED_ERROR_NO_VALID_HOST,
                        "%s%s%s%s", reason->len ? reason->str : "",
                        reason->len && lost_any ? "; " : "",
                        lost_any ? "every host that passed the filters was taken by concurrent "
                                   "requests" : "", refused);
            if (!reason->len && !lost_any)
                g_prefix_error(error, "no host passed the filters");
            return -1;
        }
        g_ptr_array_add(result, list);
    }
    for (guint i = 0; i < claimed->len; i++) {
        Claimed *c = &g_array_index(claimed, Claimed, i);
        g_free(c->consumer);
        g_free(c->host);
    }
    TERN_DEBUG("tern.scheduler", "%u instance(s): filters+weighers %.3f ms, claims %.3f ms", ninst,
               (double) t_filter / 1000.0, (double) t_claim / 1000.0);
    *out = g_steal_pointer(&result);
    return 0;
}
