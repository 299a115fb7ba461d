/* test-rpc-codec.c: the RPC codecs without a broker, against traffic
 * captured from the real Python peers (tests/data/rpc/trace.jsonl, recorded
 * by tests/compat/capture-wire.py with RabbitMQ's firehose): envelopes,
 * requests, replies, failures, Nova objects; plus transport_url parsing. */
#include <string.h>
#include "rpc/rpc_private.h"
#include "rpc/object.h"

static json_t *trace;   /* array of records */

static void
load_trace(void)
{
    g_autofree char *path = g_build_filename(g_getenv("TERN_SRCDIR") ? g_getenv("TERN_SRCDIR")
                                                                     : TERN_SRCDIR,
                                             "tests", "data", "rpc", "trace.jsonl", NULL);
    g_autofree char *text = NULL;
    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    trace = json_array();
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    for (char **l = lines; *l; l++) {
        if (!**l)
            continue;
        json_t *r = json_loads(*l, 0, NULL);
        g_assert_nonnull(r);
        json_array_append_new(trace, r);
    }
    g_assert_cmpint(json_array_size(trace), ==, 16);
}

static const char *
body_of(int i)
{
    return json_string_value(json_object_get(json_array_get(trace, i), "body"));
}

static void
test_request(void)
{
    TernRpcMsg m;
    g_autoptr(GError) err = NULL;
    const char *b = body_of(0);
    g_assert_cmpint(tern_rpc_msg_decode(b, strlen(b), &m, &err), ==, 0);
    g_assert_no_error(err);
    g_assert_cmpstr(m.method, ==, "echo");
    g_assert_cmpstr(m.version, ==, "6.0");
    g_assert_null(m.namespace);
    g_assert_cmpuint(strlen(m.msg_id), ==, 32);
    g_assert_true(g_str_has_prefix(m.reply_q, "reply_"));
    g_assert_cmpfloat(m.call_monitor_timeout, ==, 0);
    g_assert_cmpuint(json_object_size(m.context), ==, 25);
    g_assert_cmpstr(json_string_value(json_object_get(m.context, "request_id")), ==,
                    "req-11111111-2222-3333-4444-555555555555");
    g_assert_cmpstr(json_string_value(json_object_get(m.context, "user_id")), ==, "u1");
    g_autoptr(json_t) want = json_loads("[1, \"a\", {\"k\": null}]", 0, NULL);
    g_assert_true(json_equal(json_object_get(m.args, "x"), want));
    tern_rpc_msg_clear(&m);

    /* the call with call_monitor_timeout=4 */
    b = body_of(8);
    g_assert_cmpint(tern_rpc_msg_decode(b, strlen(b), &m, &err), ==, 0);
    g_assert_cmpfloat(m.call_monitor_timeout, ==, 4);
    tern_rpc_msg_clear(&m);

    /* a cast has no reply address */
    b = body_of(6);
    g_assert_cmpint(tern_rpc_msg_decode(b, strlen(b), &m, &err), ==, 0);
    g_assert_null(m.msg_id);
    g_assert_null(m.reply_q);
    tern_rpc_msg_clear(&m);
}

static void
test_replies(void)
{
    TernRpcReply r;
    g_autoptr(GError) err = NULL;
    const char *b = body_of(1);
    g_assert_cmpint(tern_rpc_reply_decode(b, strlen(b), &r, &err), ==, 0);
    g_assert_true(r.ending);
    g_assert_null(r.failure);
    g_assert_nonnull(json_object_get(r.result, "got"));
    tern_rpc_reply_clear(&r);

    /* heartbeat */
    b = body_of(9);
    g_assert_cmpint(tern_rpc_reply_decode(b, strlen(b), &r, &err), ==, 0);
    g_assert_false(r.ending);
    g_assert_true(json_is_null(r.result));
    tern_rpc_reply_clear(&r);

    /* failure: nova.exception.InstanceNotFound */
    b = body_of(3);
    g_assert_cmpint(tern_rpc_reply_decode(b, strlen(b), &r, &err), ==, 0);
    g_assert_nonnull(r.failure);
    g_autoptr(GError) remote = NULL;
    tern_rpc_failure_to_error(r.failure, &remote);
    g_assert_error(remote, TERN_RPC_ERROR, TERN_RPC_ERROR_REMOTE);
    g_assert_cmpstr(tern_rpc_error_get_class(remote), ==, "InstanceNotFound");
    g_assert_cmpstr(tern_rpc_error_get_module(remote), ==, "nova.exception");
    g_assert_cmpstr(json_string_value(json_object_get(tern_rpc_error_get_kwargs(remote), "instance_id")),
                    ==, "abc");
    g_assert_nonnull(strstr(remote->message, "Instance abc could not be found."));
    tern_rpc_reply_clear(&r);
}

/* What tern's C client sent (record 14) has the shape of what oslo sent
 * (record 0): the same keys, the same properties. */
static void
test_c_matches_python(void)
{
    json_t *py = json_array_get(trace, 0), *c = json_array_get(trace, 14);
    g_autoptr(json_t) pm = tern_rpc_envelope_unwrap(body_of(0), strlen(body_of(0)), NULL);
    g_autoptr(json_t) cm = tern_rpc_envelope_unwrap(body_of(14), strlen(body_of(14)), NULL);
    const char *k;
    json_t *v;
    json_object_foreach(pm, k, v)
        g_assert_nonnull(json_object_get(cm, k));
    json_object_foreach(cm, k, v)
        g_assert_nonnull(json_object_get(pm, k));
    json_t *pp = json_object_get(py, "properties"), *cp = json_object_get(c, "properties");
    json_object_foreach(pp, k, v) {
        if (strcmp(k, "expiration") != 0)
            g_assert_true(json_equal(v, json_object_get(cp, k)));
    }
    g_assert_nonnull(json_object_get(cp, "expiration"));
    /* and its reply (record 15) like oslo's reply (record 1) */
    g_autoptr(json_t) pr = tern_rpc_envelope_unwrap(body_of(1), strlen(body_of(1)), NULL);
    g_autoptr(json_t) cr = tern_rpc_envelope_unwrap(body_of(15), strlen(body_of(15)), NULL);
    json_object_foreach(pr, k, v)
        g_assert_nonnull(json_object_get(cr, k));
}

static void
test_encode_roundtrip(void)
{
    g_autoptr(json_t) args = json_pack("{s:i, s:[s,n]}", "a", 1, "b", "x");
    g_autoptr(json_t) ctx = tern_rpc_context_new("u", "p", TRUE);
    g_autofree char *body = tern_rpc_msg_encode("m", "compute_task", "1.15", args, ctx,
                                                "0123456789abcdef0123456789abcdef",
                                                "reply_x", 60);
    TernRpcMsg m;
    g_autoptr(GError) err = NULL;
    g_assert_cmpint(tern_rpc_msg_decode(body, strlen(body), &m, &err), ==, 0);
    g_assert_cmpstr(m.method, ==, "m");
    g_assert_cmpstr(m.namespace, ==, "compute_task");
    g_assert_cmpstr(m.version, ==, "1.15");
    g_assert_cmpfloat(m.call_monitor_timeout, ==, 60);
    g_assert_true(json_equal(m.args, args));
    g_assert_true(json_equal(m.context, ctx));
    g_assert_cmpuint(json_object_size(m.context), ==, 25);
    tern_rpc_msg_clear(&m);

    g_autoptr(GError) f = NULL;
    tern_rpc_error_set_remote(&f, "nova.exception", "NoValidHost",
                              json_pack("{s:s}", "reason", "none"), "No valid host: none");
    g_autofree char *rb = tern_rpc_reply_encode("id1", NULL, f, TRUE);
    TernRpcReply r;
    g_assert_cmpint(tern_rpc_reply_decode(rb, strlen(rb), &r, &err), ==, 0);
    g_autoptr(GError) back = NULL;
    tern_rpc_failure_to_error(r.failure, &back);
    g_assert_cmpstr(tern_rpc_error_get_class(back), ==, "NoValidHost");
    g_assert_cmpstr(json_string_value(json_object_get(tern_rpc_error_get_kwargs(back), "reason")), ==, "none");
    tern_rpc_reply_clear(&r);
}

static void
test_bad_input(void)
{
    static const char *bad[] = {
        "", "not json", "[1]", "{\"oslo.version\": \"3.0\", \"oslo.message\": \"{}\"}",
        "{\"oslo.version\": \"2.0\", \"oslo.message\": 5}",
        "{\"oslo.version\": \"2.0\", \"oslo.message\": \"[]\"}",
        "{\"oslo.version\": \"2.0\", \"oslo.message\": \"{\\\"method\\\": 1}\"}",
        "{\"method\": \"x\", \"args\": []}",
        "{\"method\": \"x\", \"_timeout\": \"a\"}",
        "{\"args\": {}}",
    };
    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        TernRpcMsg m;
        g_autoptr(GError) err = NULL;
        g_assert_cmpint(tern_rpc_msg_decode(bad[i], strlen(bad[i]), &m, &err), ==, -1);
        g_assert_error(err, TERN_RPC_ERROR, TERN_RPC_ERROR_DECODE);
        tern_rpc_msg_clear(&m);
    }
    /* too deep, with a reply address: the address is still read */
    GString *deep = g_string_new("{\"method\": \"x\", \"_msg_id\": \"m1\", \"_reply_q\": \"q\", \"args\": {\"a\":");
    for (int i = 0; i < 100; i++)
        g_string_append(deep, "[");
    for (int i = 0; i < 100; i++)
        g_string_append(deep, "]");
    g_string_append(deep, "}}");
    g_autoptr(json_t) env = json_pack("{s:s, s:s}", "oslo.version", "2.0", "oslo.message", deep->str);
    g_autofree char *body = json_dumps(env, 0);
    TernRpcMsg m;
    g_autoptr(GError) err = NULL;
    g_assert_cmpint(tern_rpc_msg_decode(body, strlen(body), &m, &err), ==, -1);
    g_assert_cmpstr(m.msg_id, ==, "m1");
    g_assert_nonnull(strstr(err->message, "deeper"));
    tern_rpc_msg_clear(&m);
    g_string_free(deep, TRUE);
}

static json_t *
spec_primitive(void)
{
    g_autoptr(json_t) msg = tern_rpc_envelope_unwrap(body_of(12), strlen(body_of(12)), NULL);
    return json_incref(json_object_get(json_object_get(msg, "args"), "spec_obj"));
}

static void
test_object_request_spec(void)
{
    g_autoptr(json_t) p = spec_primitive();
    g_autoptr(GError) err = NULL;
    g_autoptr(TernObject) spec = tern_object_from_primitive(p, "RequestSpec", &err);
    g_assert_no_error(err);
    g_assert_cmpstr(tern_object_version(spec), ==, "1.14");
    g_assert_cmpstr(tern_object_get_string(spec, "instance_uuid"), ==, "11111111-2222-4333-8444-555555555555");
    g_assert_cmpint(tern_object_get_int(spec, "num_instances", 0), ==, 1);
    TernObject *flavor = tern_object_get_object(spec, "flavor");
    g_assert_nonnull(flavor);
    g_assert_cmpstr(tern_object_name(flavor), ==, "Flavor");
    g_assert_cmpint(tern_object_get_int(flavor, "memory_mb", 0), ==, 2048);
    g_assert_cmpstr(json_string_value(json_object_get(tern_object_get_json(flavor, "extra_specs"),
                                                      "hw:cpu_policy")), ==, "shared");
    TernObject *props = tern_object_get_object(tern_object_get_object(spec, "image"), "properties");
    g_assert_cmpstr(tern_object_get_string(props, "hw_architecture"), ==, "ppc64le");
    g_assert_true(tern_object_is_null(spec, "availability_zone"));
    /* encoding gives back exactly what Nova sent */
    g_autoptr(json_t) again = tern_object_to_primitive(spec);
    g_assert_true(json_equal(again, p));
}

static void
test_object_selection_reply(void)
{
    g_autoptr(json_t) msg = tern_rpc_envelope_unwrap(body_of(13), strlen(body_of(13)), NULL);
    json_t *prim = json_array_get(json_array_get(json_object_get(msg, "result"), 0), 0);
    g_autoptr(GError) err = NULL;
    g_autoptr(TernObject) sel = tern_object_from_primitive(prim, "Selection", &err);
    g_assert_no_error(err);
    g_assert_cmpstr(tern_object_get_string(sel, "service_host"), ==, "host1");
    g_assert_cmpstr(tern_object_name(tern_object_get_object(sel, "limits")), ==, "SchedulerLimits");
    g_assert_true(tern_object_is_changed(sel, "nodename"));
    g_autoptr(json_t) again = tern_object_to_primitive(sel);
    g_assert_true(json_equal(again, prim));
}

static void
test_object_versions_and_types(void)
{
    g_autoptr(GError) err = NULL;
    /* a newer minor version and an unknown field: accepted, field kept */
    g_autoptr(json_t) p = spec_primitive();
    json_t *flavor = json_object_get(json_object_get(p, "nova_object.data"), "flavor");
    json_object_set_new(flavor, "nova_object.version", json_string("1.99"));
    json_object_set_new(json_object_get(flavor, "nova_object.data"), "new_field", json_pack("{s:i}", "z", 1));
    g_autoptr(TernObject) o = tern_object_from_primitive(p, NULL, &err);
    g_assert_no_error(err);
    g_autoptr(json_t) again = tern_object_to_primitive(o);
    g_assert_true(json_equal(again, p));
    /* another major: refused */
    json_object_set_new(flavor, "nova_object.version", json_string("2.0"));
    g_assert_null(tern_object_from_primitive(p, NULL, &err));
    g_assert_error(err, TERN_OBJECT_ERROR, TERN_OBJECT_ERROR_VERSION);
    g_clear_error(&err);
    json_object_set_new(flavor, "nova_object.version", json_string("1.2"));
    /* a field of the wrong type */
    json_object_set_new(json_object_get(flavor, "nova_object.data"), "memory_mb", json_string("big"));
    g_assert_null(tern_object_from_primitive(p, NULL, &err));
    g_assert_error(err, TERN_OBJECT_ERROR, TERN_OBJECT_ERROR_INVALID);
    g_assert_nonnull(strstr(err->message, "Flavor.memory_mb"));
    g_clear_error(&err);
    /* null where Nova does not allow it */
    json_object_set_new(json_object_get(flavor, "nova_object.data"), "memory_mb", json_null());
    g_assert_null(tern_object_from_primitive(p, NULL, &err));
    g_clear_error(&err);
    /* unknown class, not a primitive, wrong expected class */
    g_autoptr(json_t) u = json_pack("{s:s, s:s, s:{}}", "nova_object.name", "Nope",
                                    "nova_object.version", "1.0", "nova_object.data");
    g_assert_null(tern_object_from_primitive(u, NULL, &err));
    g_assert_error(err, TERN_OBJECT_ERROR, TERN_OBJECT_ERROR_UNKNOWN);
    g_clear_error(&err);
    g_autoptr(json_t) s = json_string("x");
    g_assert_null(tern_object_from_primitive(s, NULL, &err));
    g_clear_error(&err);
}

static void
test_object_build(void)
{
    g_autoptr(TernObject) m = tern_object_new("Migration");
    g_assert_cmpint(tern_object_set_string(m, "source_compute", "host1"), ==, 0);
    g_assert_cmpint(tern_object_set_int(m, "id", 42), ==, 0);
    g_autoptr(GDateTime) dt = g_date_time_new_utc(2026, 11, 22, 3, 4, 5.678);
    g_assert_cmpint(tern_object_set_datetime(m, "created_at", dt), ==, 0);
    g_autoptr(json_t) p = tern_object_to_primitive(m);
    json_t *d = json_object_get(p, "nova_object.data");
    g_assert_cmpstr(json_string_value(json_object_get(p, "nova_object.version")), ==, "1.7");
    g_assert_cmpstr(json_string_value(json_object_get(d, "created_at")), ==, "2026-11-22T03:04:05Z");
    g_assert_cmpuint(json_array_size(json_object_get(p, "nova_object.changes")), ==, 3);
    g_autoptr(GDateTime) back = tern_object_get_datetime(m, "created_at");
    g_assert_cmpint(g_date_time_get_second(back), ==, 5);
}

static void
test_url(void)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(TernRpcTransport) t = tern_rpc_transport_new_from_url(
        "rabbit://us%40er:p%3Ass@h1:5673,u2:p2@[::1]:5674,h3/v%2Fh", &err);
    g_assert_no_error(err);
    g_assert_cmpuint(t->hosts->len, ==, 3);
    TernRpcHost *h = t->hosts->pdata[0];
    g_assert_cmpstr(h->host, ==, "h1");
    g_assert_cmpint(h->port, ==, 5673);
    g_assert_cmpstr(h->user, ==, "us@er");
    g_assert_cmpstr(h->password, ==, "p:ss");
    h = t->hosts->pdata[1];
    g_assert_cmpstr(h->host, ==, "::1");
    g_assert_cmpint(h->port, ==, 5674);
    h = t->hosts->pdata[2];
    g_assert_cmpint(h->port, ==, 5672);
    g_assert_cmpstr(h->user, ==, "guest");
    g_assert_cmpstr(t->vhost, ==, "v/h");
    g_assert_null(strstr(t->safe_url, "p%3Ass"));

    g_autoptr(TernRpcTransport) t2 = tern_rpc_transport_new_from_url("rabbit://h/", &err);
    g_assert_cmpstr(t2->vhost, ==, "/");
    g_autoptr(TernRpcTransport) t3 = tern_rpc_transport_new_from_url("rabbits://h", &err);
    g_assert_true(t3->ssl);
    g_assert_cmpint(((TernRpcHost *)t3->hosts->pdata[0])->port, ==, 5671);

    static const char *bad[] = { "amqp://h/", "rabbit://h:99999/", "rabbit://[::1/", "" };
    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(GError) e = NULL;
        g_assert_null(tern_rpc_transport_new_from_url(bad[i], &e));
        g_assert_error(e, TERN_RPC_ERROR, TERN_RPC_ERROR_URL);
    }
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    load_trace();
    g_test_add_func("/rpc/codec/request", test_request);
    g_test_add_func("/rpc/codec/replies", test_replies);
    g_test_add_func("/rpc/codec/c-matches-python", test_c_matches_python);
    g_test_add_func("/rpc/codec/encode-roundtrip", test_encode_roundtrip);
    g_test_add_func("/rpc/codec/bad-input", test_bad_input);
    g_test_add_func("/rpc/object/request-spec", test_object_request_spec);
    g_test_add_func("/rpc/object/selection-reply", test_object_selection_reply);
    g_test_add_func("/rpc/object/versions-and-types", test_object_versions_and_types);
    g_test_add_func("/rpc/object/build", test_object_build);
    g_test_add_func("/rpc/url", test_url);
    int rc = g_test_run();
    json_decref(trace);
    return rc;
}
