/* rpc-peer.c: tern's RPC as a peer for the compatibility tests
 * (tests/compat/test-rpc-compat.py drives it against Python oslo.messaging
 * and python3-nova over a real RabbitMQ).
 *
 *   rpc-peer serve URL TOPIC SERVER      serve test methods until stdin closes;
 *                                        prints "READY" once the queues are bound
 *   rpc-peer call URL TOPIC SERVER METHOD ARGS-JSON [TIMEOUT]
 *                                        one call; prints {"result": ...} or
 *                                        {"error": code, "class": ..., "message": ...}
 *   rpc-peer cast URL TOPIC SERVER METHOD ARGS-JSON      ("-" as SERVER: none)
 *   rpc-peer fanout URL TOPIC METHOD ARGS-JSON
 *   rpc-peer calls URL TOPIC SERVER N    N threads on one client at once: thread i calls
 *                                        slow(secs=(N-i)/20, tag=i) (so the replies come
 *                                        back in the reverse order), then casts
 *                                        record(tag=i); prints {"calls_ok": k,
 *                                        "casts_ok": m, "errors": [...]}
 *   rpc-peer loop URL TOPIC SERVER SECONDS
 *                                        call "echo" in a loop for SECONDS; prints one
 *                                        line per call: "<start> <end> ok" or
 *                                        "<start> <end> fail <msg>" (epoch seconds)
 * With TERN_RPC_PEER_CONF=FILE the [oslo_messaging_rabbit] options of FILE apply.
 *
 * The served methods (version 6.1, no namespace, plus "ping" in namespace
 * "baseapi" 1.1):
 *   echo(**kw)        -> {"args": kw, "user_id": ctx.user_id, "request_id": ctx.request_id}
 *   fail(name)        -> nova.exception.InstanceNotFound(instance_id=name)
 *   boom()            -> a plain tern error
 *   slow(secs, tag=None) -> sleeps, then tag if given, else "done"
 *   hold(secs)        -> sleeps, counting the handlers running at once;
 *                        held_max() returns the most seen at one time
 *   record(**kw)      -> remembers kw (for casts); recorded() returns them all
 *   select_destinations(spec_obj, instance_uuids, ...) (topic scheduler, 4.5):
 *                        decodes the RequestSpec and answers a summary of
 *                        its fields (see the test). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "rpc/rpc.h"
#include "rpc/object.h"
#include "common/config.h"
#include "common/log.h"

static GMutex rec_lock;
static json_t *recorded;

static json_t *
h_echo(const TernRpcRequest *req, gpointer data, GError **error)
{
    return json_pack("{s:O, s:O?, s:s?, s:s}", "args", req->args, "user_id",
                     json_object_get(req->context, "user_id"), "request_id", req->request_id,
                     "version", req->version);
}

static json_t *
h_fail(const TernRpcRequest *req, gpointer data, GError **error)
{
    const char *name = json_string_value(json_object_get(req->args, "name"));
    if (!name)
        name = "?";
    tern_rpc_error_set_remote(error, "nova.exception", "InstanceNotFound",
                              json_pack("{s:s, s:i}", "instance_id", name, "code", 404),
                              "Instance %s could not be found.", name);
    return NULL;
}

static json_t *
h_boom(const TernRpcRequest *req, gpointer data, GError **error)
{
    g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_IO, "the disk is on fire");
    return NULL;
}

static json_t *
h_slow(const TernRpcRequest *req, gpointer data, GError **error)
{
    double secs = json_number_value(json_object_get(req->args, "secs"));
    g_usleep((gulong)(secs * G_USEC_PER_SEC));
    json_t *tag = json_object_get(req->args, "tag");
    return tag ? json_incref(tag) : json_string("done");
}

static gint held_now, held_max;

static json_t *
h_hold(const TernRpcRequest *req, gpointer data, GError **error)
{
    gint now = g_atomic_int_add(&held_now, 1) + 1;
    gint max;
    while ((max = g_atomic_int_get(&held_max)) < now &&
           !g_atomic_int_compare_and_exchange(&held_max, max, now))
        ;
    double secs = json_number_value(json_object_get(req->args, "secs"));
    g_usleep((gulong)(secs * G_USEC_PER_SEC));
    g_atomic_int_add(&held_now, -1);
    return json_string("done");
}

static json_t *
h_held_max(const TernRpcRequest *req, gpointer data, GError **error)
{
    return json_integer(g_atomic_int_get(&held_max));
}

static json_t *
h_record(const TernRpcRequest *req, gpointer data, GError **error)
{
    g_mutex_lock(&rec_lock);
    json_array_append(recorded, req->args);
    g_mutex_unlock(&rec_lock);
    return NULL;
}

static json_t *
h_recorded(const TernRpcRequest *req, gpointer data, GError **error)
{
    g_mutex_lock(&rec_lock);
    json_t *r = json_deep_copy(recorded);
    g_mutex_unlock(&rec_lock);
    return r;
}

static json_t *
h_ping(const TernRpcRequest *req, gpointer data, GError **error)
{
    return json_pack("{s:s}", "service", "tern");
}

/* select_destinations: decode the RequestSpec and report what was read. */
static json_t *
h_select(const TernRpcRequest *req, gpointer data, GError **error)
{
    g_autoptr(TernObject) spec = tern_object_from_primitive(json_object_get(req->args, "spec_obj"),
                                                            "RequestSpec", error);
    if (!spec)
        return NULL;
    TernObject *flavor = tern_object_get_object(spec, "flavor");
    TernObject *image = tern_object_get_object(spec, "image");
    TernObject *props = image ? tern_object_get_object(image, "properties") : NULL;
    json_t *r = json_object();
    json_object_set_new(r, "spec_version", json_string(tern_object_version(spec)));
    json_object_set_new(r, "instance_uuid", json_string(tern_object_get_string(spec, "instance_uuid")));
    json_object_set_new(r, "project_id", json_string(tern_object_get_string(spec, "project_id")));
    json_object_set_new(r, "num_instances", json_integer(tern_object_get_int(spec, "num_instances", -1)));
    if (flavor) {
        json_object_set_new(r, "flavor_name", json_string(tern_object_get_string(flavor, "name")));
        json_object_set_new(r, "memory_mb", json_integer(tern_object_get_int(flavor, "memory_mb", -1)));
        json_object_set_new(r, "vcpus", json_integer(tern_object_get_int(flavor, "vcpus", -1)));
        json_object_set_new(r, "root_gb", json_integer(tern_object_get_int(flavor, "root_gb", -1)));
        json_t *es = tern_object_get_json(flavor, "extra_specs");
        if (es)
            json_object_set(r, "extra_specs", es);
    }
    if (props) {
        const char *arch = tern_object_get_string(props, "hw_architecture");
        if (arch)
            json_object_set_new(r, "hw_architecture", json_string(arch));
        const char *distro = tern_object_get_string(props, "os_distro");
        if (distro)
            json_object_set_new(r, "os_distro", json_string(distro));
    }
    json_object_set(r, "instance_uuids", json_object_get(req->args, "instance_uuids"));
    json_object_set(r, "return_alternates", json_object_get(req->args, "return_alternates"));
    /* answer with what Python expects when it wants it: raise NoValidHost */
    if (json_is_true(json_object_get(req->args, "return_objects")) &&
        g_strcmp0(tern_object_get_string(spec, "availability_zone"), "nowhere") == 0) {
        json_decref(r);
        tern_rpc_error_set_remote(error, "nova.exception", "NoValidHost",
                                  json_pack("{s:s}", "reason", "no host in zone nowhere"),
                                  "No valid host was found. no host in zone nowhere");
        return NULL;
    }
    return r;
}

/* Nova's ComputeAPI.build_and_run_instance cast: decode the Instance and
 * the RequestSpec and record what was read (recorded() returns it). */
static json_t *
h_build(const TernRpcRequest *req, gpointer data, GError **error)
{
    g_autoptr(TernObject) inst = tern_object_from_primitive(json_object_get(req->args, "instance"),
                                                            "Instance", error);
    if (!inst)
        return NULL;
    g_autoptr(TernObject) spec = tern_object_from_primitive(
        json_object_get(req->args, "request_spec"), "RequestSpec", error);
    if (!spec)
        return NULL;
    TernObject *flavor = tern_object_get_object(inst, "flavor");
    g_autoptr(GDateTime) created = tern_object_get_datetime(inst, "created_at");
    g_autofree char *created_s = created ? g_date_time_format_iso8601(created) : NULL;
    json_t *r = json_pack("{s:{s:s?, s:s?, s:s?, s:I, s:s?, s:s?, s:s?, s:O?, s:s?}}", "build",
                          "uuid", tern_object_get_string(inst, "uuid"),
                          "vm_state", tern_object_get_string(inst, "vm_state"),
                          "instance_version", tern_object_version(inst),
                          "memory_mb", (json_int_t)(flavor ? tern_object_get_int(flavor, "memory_mb", -1) : -1),
                          "created_at", created_s,
                          "spec_instance_uuid", tern_object_get_string(spec, "instance_uuid"),
                          "node", json_string_value(json_object_get(req->args, "node")),
                          "image", json_object_get(req->args, "image"),
                          "version", req->version);
    g_mutex_lock(&rec_lock);
    json_array_append_new(recorded, r);
    g_mutex_unlock(&rec_lock);
    return NULL;
}

static const TernRpcMethod methods[] = {
    { NULL, "build_and_run_instance", "6.1", h_build },
    { NULL, "echo", "6.1", h_echo },
    { NULL, "fail", "6.1", h_fail },
    { NULL, "boom", "6.1", h_boom },
    { NULL, "slow", "6.1", h_slow },
    { NULL, "hold", "6.1", h_hold },
    { NULL, "held_max", "6.1", h_held_max },
    { NULL, "record", "6.1", h_record },
    { NULL, "recorded", "6.1", h_recorded },
    { "baseapi", "ping", "1.1", h_ping },
    { NULL, "select_destinations", "4.5", h_select },
    { NULL },
};

static void
print_json(json_t *j)
{
    g_autofree char *s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS);
    printf("%s\n", s);
    fflush(stdout);
}

static void
print_error(const GError *err)
{
    g_autoptr(json_t) j = json_pack("{s:s, s:s?, s:s?, s:s}", "error",
                                    err->domain == TERN_RPC_ERROR ? "rpc" : g_quark_to_string(err->domain),
                                    "class", tern_rpc_error_get_class(err),
                                    "module", tern_rpc_error_get_module(err), "message", err->message);
    json_object_set_new(j, "code", json_integer(err->code));
    print_json(j);
}

typedef struct {
    TernRpcClient *cl;
    json_t *ctx;
    const char *topic, *server;
    int i, n;
    gboolean call_ok, cast_ok;
    char *error;
} Caller;

/* One of rpc-peer calls' threads: its own reply must come to it. */
static gpointer
caller(gpointer p)
{
    Caller *c = p;
    TernRpcTarget target = { .topic = c->topic, .server = c->server, .version = "6.0" };
    g_autoptr(GError) e = NULL;
    g_autoptr(json_t) args = json_pack("{s:f, s:i}", "secs", (c->n - c->i) / 20.0, "tag", c->i);
    gint64 t0 = g_get_monotonic_time();
    g_autoptr(json_t) r = tern_rpc_call(c->cl, &target, c->ctx, "slow", args, 20, &e);
    double took = (g_get_monotonic_time() - t0) / 1e6;
    c->call_ok = r && json_is_integer(r) && json_integer_value(r) == c->i;
    if (!c->call_ok)
        c->error = g_strdup_printf("call %d: %s", c->i, e ? e->message : "another call's reply");
    /* A reply its caller was not woken for still completes the call when
     * the wait times out (20 s): a handler of at most 0.4 s answered after
     * 10 s is such a lost wake-up. */
    else if (took > 10) {
        c->call_ok = FALSE;
        c->error = g_strdup_printf("call %d: its reply reached it only after %.1f s", c->i, took);
    }
    g_autoptr(json_t) rec = json_pack("{s:i}", "tag", c->i);
    g_clear_error(&e);
    t0 = g_get_monotonic_time();
    c->cast_ok = tern_rpc_cast(c->cl, &target, c->ctx, "record", rec, &e) == 0;
    took = (g_get_monotonic_time() - t0) / 1e6;
    if (!c->cast_ok && !c->error)
        c->error = g_strdup_printf("cast %d: %s", c->i, e->message);
    else if (took > 10 && !c->error) {   /* its confirm's wake-up lost (waits up to 60 s) */
        c->cast_ok = FALSE;
        c->error = g_strdup_printf("cast %d: confirmed to its sender only after %.1f s", c->i, took);
    }
    return NULL;
}

static int
concurrent_calls(TernRpcClient *cl, json_t *ctx, const char *topic, const char *server, int n)
{
    g_autofree Caller *cs = g_new0(Caller, n);
    g_autofree GThread **th = g_new0(GThread *, n);
    for (int i = 0; i < n; i++) {
        cs[i] = (Caller) { cl, ctx, topic, server, i, n, FALSE, FALSE, NULL };
        th[i] = g_thread_new("caller", caller, &cs[i]);
        g_usleep(10000);   /* sent in order: the replies come back reversed */
    }
    g_autoptr(json_t) errors = json_array();
    int calls = 0, casts = 0;
    for (int i = 0; i < n; i++) {
        g_thread_join(th[i]);
        calls += cs[i].call_ok;
        casts += cs[i].cast_ok;
        if (cs[i].error)
            json_array_append_new(errors, json_string(cs[i].error));
        g_free(cs[i].error);
    }
    g_autoptr(json_t) out = json_pack("{s:i, s:i, s:O}", "calls_ok", calls, "casts_ok", casts,
                                      "errors", errors);
    print_json(out);
    return calls == n && casts == n ? 0 : 1;
}

static json_t *
parse_args(const char *text)
{
    json_t *j = json_loads(text, 0, NULL);
    if (!json_is_object(j)) {
        fprintf(stderr, "ARGS must be a JSON object\n");
        exit(2);
    }
    return j;
}

int
main(int argc, char **argv)
{
    tern_log_init("rpc-peer", g_getenv("TERN_DEBUG") != NULL, FALSE);
    if (argc < 4) {
        fprintf(stderr, "usage: see the comment at the top of rpc-peer.c\n");
        return 2;
    }
    const char *mode = argv[1];
    g_autoptr(GError) err = NULL;
    /* TERN_RPC_PEER_CONF: a tern.conf whose [oslo_messaging_rabbit] options
     * apply (transport_url still comes from the command line) */
    g_autoptr(TernRpcTransport) t = NULL;
    const char *conf_path = g_getenv("TERN_RPC_PEER_CONF");
    if (conf_path) {
        g_autoptr(TernConfig) conf = tern_config_new();
        if (tern_config_load_file(conf, conf_path, &err) == 0 &&
            tern_config_set(conf, "DEFAULT", "transport_url", argv[2], &err) == 0)
            t = tern_rpc_transport_new(conf, &err);
    } else
        t = tern_rpc_transport_new_from_url(argv[2], &err);
    if (!t) {
        print_error(err);
        return 1;
    }
    if (strcmp(mode, "serve") == 0 && argc >= 5) {
        recorded = json_array();
        g_autoptr(TernRpcServer) srv = tern_rpc_server_new(t, argv[3], argv[4], methods, NULL, &err);
        if (!srv) {
            print_error(err);
            return 1;
        }
        printf("READY\n");
        fflush(stdout);
        char buf[256];
        while (fgets(buf, sizeof(buf), stdin))
            ;
        json_decref(recorded);
        return 0;
    }
    g_autoptr(TernRpcClient) cl = tern_rpc_client_new(t, &err);
    if (!cl) {
        print_error(err);
        return 1;
    }
    g_autoptr(json_t) ctx = tern_rpc_context_new("c-user", "c-project", TRUE);
    if ((strcmp(mode, "call") == 0 || strcmp(mode, "cast") == 0) && argc >= 7) {
        TernRpcTarget target = { .topic = argv[3],
                                 .server = strcmp(argv[4], "-") ? argv[4] : NULL,
                                 .version = "6.0" };
        g_autoptr(json_t) args = parse_args(argv[6]);
        if (strcmp(mode, "cast") == 0) {
            if (tern_rpc_cast(cl, &target, ctx, argv[5], args, &err) < 0) {
                print_error(err);
                return 1;
            }
            printf("{\"sent\": true}\n");
            return 0;
        }
        double timeout = argc >= 8 ? g_ascii_strtod(argv[7], NULL) : 10;
        g_autoptr(json_t) r = tern_rpc_call(cl, &target, ctx, argv[5], args, timeout, &err);
        if (!r) {
            print_error(err);
            return 1;
        }
        g_autoptr(json_t) out = json_pack("{s:O}", "result", r);
        print_json(out);
        return 0;
    }
    if (strcmp(mode, "fanout") == 0 && argc >= 6) {
        TernRpcTarget target = { .topic = argv[3], .version = "6.0" };
        g_autoptr(json_t) args = parse_args(argv[5]);
        if (tern_rpc_fanout_cast(cl, &target, ctx, argv[4], args, &err) < 0) {
            print_error(err);
            return 1;
        }
        printf("{\"sent\": true}\n");
        return 0;
    }
    if (strcmp(mode, "calls") == 0 && argc >= 6)
        return concurrent_calls(cl, ctx, argv[3], argv[4], CLAMP(atoi(argv[5]), 1, 64));
    if (strcmp(mode, "loop") == 0 && argc >= 6) {
        TernRpcTarget target = { .topic = argv[3], .server = argv[4], .version = "6.0" };
        double secs = g_ascii_strtod(argv[5], NULL);
        gint64 start = g_get_monotonic_time();
        int i = 0;
        while ((g_get_monotonic_time() - start) / 1e6 < secs) {
            g_autoptr(GError) e = NULL;
            g_autoptr(json_t) args = json_pack("{s:i}", "i", i++);
            double t0 = g_get_real_time() / 1e6;
            g_autoptr(json_t) r = tern_rpc_call(cl, &target, ctx, "echo", args, 5, &e);
            double t1 = g_get_real_time() / 1e6;
            if (r && json_integer_value(json_object_get(json_object_get(r, "args"), "i")) == i - 1)
                printf("%.3f %.3f ok\n", t0, t1);
            else
                printf("%.3f %.3f fail %s\n", t0, t1, e ? e->message : "wrong result");
            fflush(stdout);
            g_usleep(50000);
        }
        return 0;
    }
    fprintf(stderr, "rpc-peer: bad mode or arguments\n");
    return 2;
}
