#!/usr/bin/python3
"""test-rpc-compat.py: tern's RPC against the real Python peers over a real
RabbitMQ (TERN_TEST_TRANSPORT_URL): Debian's oslo.messaging RPCClient calls a
C server (results, failures with class and message, NoSuchMethod,
UnsupportedVersion, timeouts, call-monitor heartbeats, casts, fanout), bad
input published raw, a C client calls a Python oslo server (result, failure,
cast, fanout, timeout), and python3-nova's SchedulerQueryClient sends
select_destinations with a real RequestSpec that the C server decodes.

Everything runs in a private vhost created for this run (so parallel test
runs sharing the broker never see each other's queues)."""
import json
import os
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid

URL = os.environ.get("TERN_TEST_TRANSPORT_URL")
if not URL:
    print("1..0 # SKIP TERN_TEST_TRANSPORT_URL is not set (scripts/services start rabbitmq)")
    sys.exit(0)

BUILD = os.environ.get("TERN_BUILDDIR", ".")
PEER = os.path.join(BUILD, "tests", "compat", "rpc-peer")
NODE = os.environ.get("TERN_TEST_RABBITMQ_NODE")
RHOME = os.environ.get("TERN_TEST_RABBITMQ_HOME")
CTL = "/usr/lib/rabbitmq/bin/rabbitmqctl"

n = 0
failed = 0


def check(desc, ok, detail=None):
    global n, failed
    n += 1
    print("%s %d - %s" % ("ok" if ok else "not ok", n, desc))
    if not ok:
        failed += 1
        if detail is not None:
            for line in str(detail).splitlines()[:20]:
                print("#   " + line)
    sys.stdout.flush()


def rabbitmqctl(*args):
    env = dict(os.environ, HOME=RHOME)
    return subprocess.run([CTL, "-q", "-n", NODE] + list(args), env=env,
                          capture_output=True, text=True, timeout=60)


# --- a private vhost -------------------------------------------------------
u = urllib.parse.urlsplit(URL)
VHOST = None
if NODE and RHOME:
    VHOST = "tern/compat-%d" % os.getpid()   # a '/' inside: sent %-escaped
    r = rabbitmqctl("add_vhost", VHOST)
    if r.returncode == 0:
        rabbitmqctl("set_permissions", "-p", VHOST, u.username or "guest", ".*", ".*", ".*")
    else:
        VHOST = None
vurl = "%s://%s/%s" % (u.scheme, u.netloc, urllib.parse.quote(VHOST, safe="")) if VHOST else URL

tmpdir = os.environ.get("TMPDIR", "/tmp")
conf = os.path.join(tmpdir, "tern-compat-%d.conf" % os.getpid())
with open(conf, "w") as fh:
    fh.write("[DEFAULT]\ntransport_url = %s\n[upgrade_levels]\ncompute = 6.1\n"
             "scheduler = 4.5\nconductor = 3.0\n" % vurl)

procs = []


def cleanup():
    for p in procs:
        try:
            p.stdin.close()
        except Exception:
            pass
        try:
            p.wait(timeout=10)
        except Exception:
            p.kill()
    try:
        os.unlink(conf)
    except OSError:
        pass
    if VHOST:
        rabbitmqctl("delete_vhost", VHOST)


def start_c_server(topic, server):
    p = subprocess.Popen([PEER, "serve", vurl, topic, server], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True)
    procs.append(p)
    line = p.stdout.readline().strip()
    return p, line


def peer(*args):
    r = subprocess.run([PEER] + list(args), capture_output=True, text=True, timeout=60)
    try:
        return json.loads(r.stdout.strip().splitlines()[-1])
    except Exception:
        return {"raw": r.stdout, "stderr": r.stderr, "rc": r.returncode}


try:
    import nova.conf
    from nova import context as nova_context
    from nova import exception as nova_exception
    from nova import objects
    from nova import rpc as nova_rpc
    import oslo_messaging as om

    CONF = nova.conf.CONF
    nova_rpc.set_defaults(control_exchange="nova")
    CONF([], project="nova", default_config_files=[conf])
    objects.register_all()
    nova_rpc.init(CONF)

    # ------------------------------------------------ Python client -> C server
    srv, ready = start_c_server("compute", "host1")
    check("C server declares its queues and reports READY", ready == "READY", ready)

    # fail-over: the first host of the URL is dead; a user whose name and
    # password need %-escapes
    if VHOST:
        user, password = "tern user@%d" % os.getpid(), "p:ss/w%rd@"
        rabbitmqctl("add_user", user, password)
        rabbitmqctl("set_permissions", "-p", VHOST, user, ".*", ".*", ".*")
    else:
        user, password = u.username or "guest", u.password or "guest"
    q = urllib.parse.quote
    furl = "rabbit://%s:%s@127.0.0.1:1,%s:%s@%s:%d/%s" % (
        q(user, safe=""), q(password, safe=""), q(user, safe=""), q(password, safe=""),
        u.hostname, u.port, q(VHOST or "", safe=""))
    r = peer("call", furl, "compute", "host1", "echo", '{"via": "failover"}')
    check("fail-over to the second host of transport_url, %-escaped user, password and vhost",
          r.get("result", {}).get("args") == {"via": "failover"}, r)
    if VHOST:
        rabbitmqctl("delete_user", user)

    # declaring with other flags than the deployment's is refused by the broker
    dconf = conf + ".durable"
    with open(dconf, "w") as fh:
        fh.write("[oslo_messaging_rabbit]\namqp_durable_queues = true\n")
    r = subprocess.run([PEER, "serve", vurl, "compute", "host9"], stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=60,
                       env=dict(os.environ, TERN_RPC_PEER_CONF=dconf))
    os.unlink(dconf)
    check("a durable declaration against the deployment's non-durable exchange -> clear "
          "PRECONDITION_FAILED error", r.returncode == 1 and "PRECONDITION_FAILED" in r.stdout,
          (r.returncode, r.stdout))

    plain = om.get_rpc_transport(CONF)   # no allowed_remote_exmods, as a plain oslo client
    client = om.get_rpc_client(plain, om.Target(topic="compute", server="host1", version="6.0"),
                               timeout=10)
    ctx = {"user_id": "u1", "project_id": "p1", "request_id": "req-compat-1", "is_admin": True}
    r = client.call(ctx, "echo", x=[1, "a", {"k": None}], s="é ✓")
    check("oslo call -> C server: result", r.get("args") == {"x": [1, "a", {"k": None}], "s": "é ✓"}, r)
    check("C server sees the context (user_id, request_id)",
          r.get("user_id") == "u1" and r.get("request_id") == "req-compat-1", r)
    check("C server sees the requested version", r.get("version") == "6.0", r)

    try:
        client.call(ctx, "fail", name="abc")
        check("remote failure raised", False)
    except om.RemoteError as e:
        check("remote failure -> RemoteError with class InstanceNotFound and message",
              e.exc_type == "InstanceNotFound" and e.value == "Instance abc could not be found.",
              (e.exc_type, e.value))

    # Nova's transport allows nova.exception: the real class is raised
    nclient = nova_rpc.get_client(om.Target(topic="compute", server="host1", version="6.0"))
    try:
        nclient.call(nova_context.get_admin_context(), "fail", name="xyz")
        check("nova.exception raised", False)
    except nova_exception.InstanceNotFound as e:
        check("remote failure -> nova.exception.InstanceNotFound raised in Python (kwargs kept)",
              "xyz" in str(e) and e.kwargs.get("instance_id") == "xyz", (type(e), e))
    except Exception as e:
        check("nova.exception.InstanceNotFound raised", False, (type(e), e))

    try:
        client.call(ctx, "boom")
        check("plain error raised", False)
    except om.RemoteError as e:
        check("handler error of another domain -> RemoteError TernError with its message",
              e.exc_type == "TernError" and "the disk is on fire" in e.value, (e.exc_type, e.value))

    try:
        client.call(ctx, "nosuch")
        check("NoSuchMethod raised", False)
    except om.RemoteError as e:
        check("unknown method -> NoSuchMethod",
              e.exc_type == "NoSuchMethod" and "nosuch" in e.value, (e.exc_type, e.value))

    try:
        client.prepare(version="7.0").call(ctx, "echo")
        check("UnsupportedVersion raised", False)
    except om.RemoteError as e:
        check("major 7.0 -> UnsupportedVersion", e.exc_type == "UnsupportedVersion", (e.exc_type, e.value))
    try:
        client.prepare(version="6.2").call(ctx, "echo")
        check("UnsupportedVersion raised for 6.2", False)
    except om.RemoteError as e:
        check("newer minor 6.2 than the handler's 6.1 -> UnsupportedVersion",
              e.exc_type == "UnsupportedVersion", (e.exc_type, e.value))
    r = client.prepare(version="6.1").call(ctx, "echo", a=1)
    check("version 6.1 accepted", r.get("version") == "6.1", r)

    r = client.prepare(namespace="baseapi", version="1.1").call(ctx, "ping")
    check("namespace baseapi dispatches to its own table", r == {"service": "tern"}, r)
    try:
        client.prepare(namespace="baseapi", version="1.1").call(ctx, "echo")
        check("NoSuchMethod in namespace", False)
    except om.RemoteError as e:
        check("method of another namespace -> NoSuchMethod", e.exc_type == "NoSuchMethod", e.exc_type)

    try:
        client.prepare(timeout=1).call(ctx, "slow", secs=2.5)
        check("timeout raised", False)
    except om.MessagingTimeout:
        check("slow method with timeout=1 -> MessagingTimeout", True)
    r = client.prepare(timeout=15, call_monitor_timeout=2).call(ctx, "slow", secs=3.5)
    check("call_monitor_timeout=2 and a 3.5 s method: heartbeats keep the call alive", r == "done", r)

    # blocking handlers run on the worker pool: the server keeps answering
    slow_results = []

    def slow_call():
        slow_results.append(client.prepare(timeout=20).call(ctx, "slow", secs=3))

    ths = [threading.Thread(target=slow_call) for _ in range(8)]
    for t in ths:
        t.start()
    time.sleep(0.5)
    r = client.prepare(timeout=2).call(ctx, "echo", during="slow calls")
    check("while 8 calls block in handlers, another call is answered (timeout 2 s < 3 s handlers)",
          r.get("args") == {"during": "slow calls"}, r)
    for t in ths:
        t.join()
    check("... and the 8 blocking calls all return", slow_results == ["done"] * 8, slow_results)

    client.cast(ctx, "record", via="cast")
    client.prepare(fanout=True).cast(ctx, "record", via="fanout")
    rec = []
    for _ in range(50):
        rec = client.call(ctx, "recorded")
        if len(rec) >= 2:
            break
        time.sleep(0.1)
    check("oslo cast and fanout cast reach the C server",
          {"via": "cast"} in rec and {"via": "fanout"} in rec, rec)

    # one tern client, eight threads at once: each reply wakes and reaches
    # its own caller (they come back in the reverse order of the requests),
    # each cast's confirm its own sender
    r = peer("calls", vurl, "compute", "host1", "8")
    check("8 threads on one tern client: each call gets its own reply, each cast is confirmed",
          r.get("calls_ok") == 8 and r.get("casts_ok") == 8, r)
    tags = [{"tag": i} for i in range(8)]
    for _ in range(50):
        rec = client.call(ctx, "recorded")
        if all(t in rec for t in tags):
            break
        time.sleep(0.1)
    check("... and their 8 casts reach the C server", all(t in rec for t in tags), rec)

    # ------------------------------------------------ bad input, published raw
    import amqp
    host, _, port = (u.hostname or "127.0.0.1"), None, u.port or 5672
    conn = amqp.Connection(host="%s:%d" % (host, port), userid=u.username or "guest",
                           password=u.password or "guest", virtual_host=VHOST or "/")
    conn.connect()
    ch = conn.channel()
    rq = "reply_badinput_%s" % uuid.uuid4().hex
    ch.queue_declare(rq, durable=False, auto_delete=True)

    def raw(body, msg_id=None):
        ch.basic_publish(amqp.Message(body, content_type="application/json"),
                         exchange="nova", routing_key="compute.host1")

    def env(msg):
        return json.dumps({"oslo.version": "2.0", "oslo.message": json.dumps(msg)})

    def reply_for(msg_id, timeout=10):
        end = time.time() + timeout
        while time.time() < end:
            m = ch.basic_get(rq, no_ack=True)
            if m is None:
                time.sleep(0.05)
                continue
            body = json.loads(json.loads(m.body)["oslo.message"])
            if body.get("_msg_id") == msg_id:
                return body
        return None

    def bad_call(desc, msg, want_class, extra=None):
        mid = uuid.uuid4().hex
        msg.update({"_msg_id": mid, "_reply_q": rq})
        raw(env(msg) if extra is None else extra(msg))
        rep = reply_for(mid)
        f = json.loads(rep["failure"]) if rep and rep.get("failure") else {}
        check(desc, f.get("class") == want_class and rep.get("ending") is True, rep)
        return f

    bad_call("method of the wrong type -> failure reply ValueError",
             {"method": 5, "args": {}, "version": "6.0"}, "ValueError")
    bad_call("args of the wrong type -> failure reply ValueError",
             {"method": "echo", "args": [1, 2], "version": "6.0"}, "ValueError")
    bad_call("_timeout of the wrong type -> failure reply ValueError",
             {"method": "echo", "args": {}, "version": "6.0", "_timeout": "soon"}, "ValueError")
    bad_call("missing method -> failure reply ValueError",
             {"args": {}, "version": "6.0"}, "ValueError")
    deep = {}
    cur = deep
    for _ in range(500):
        cur["a"] = {}
        cur = cur["a"]
    bad_call("500 levels of nesting -> failure reply ValueError",
             {"method": "echo", "args": deep, "version": "6.0"}, "ValueError")
    f = bad_call("a 16 MiB message -> failure reply (larger than max_message_size)",
                 {"method": "echo", "args": {"blob": "x" * (16 * 1024 * 1024)}, "version": "6.0"},
                 "ValueError")
    check("the size failure says why", "max_message_size" in f.get("message", ""), f)
    for desc, body in [("non-JSON body", b"this is not json {"),
                       ("empty body", b""),
                       ("binary garbage", bytes(range(256))),
                       ("JSON that is not an object", b"[1, 2, 3]"),
                       ("envelope with oslo.message not JSON", json.dumps(
                           {"oslo.version": "2.0", "oslo.message": "{nope"}).encode()),
                       ("envelope with oslo.message not a string", json.dumps(
                           {"oslo.version": "2.0", "oslo.message": 5}).encode()),
                       ("envelope version 3.0", json.dumps(
                           {"oslo.version": "3.0", "oslo.message": "{}"}).encode()),
                       ("envelope without oslo.message", json.dumps({"oslo.version": "2.0"}).encode())]:
        raw(body)
    dup = env({"method": "record", "args": {"via": "dup"}, "version": "6.0",
               "_unique_id": uuid.uuid4().hex})
    raw(dup)
    raw(dup)
    r = client.call(ctx, "echo", after="bad input")
    check("after 14 bad messages the C server still answers", r.get("args") == {"after": "bad input"}, r)
    q = ch.queue_declare("compute.host1", passive=True)
    check("bad messages were acked (queue compute.host1 is empty)", q.message_count == 0, q)
    rec = client.call(ctx, "recorded")
    check("a message delivered twice (same _unique_id) runs once",
          rec.count({"via": "dup"}) == 1, rec)
    conn.close()

    # Nova's ComputeAPI casts build_and_run_instance with a real Instance
    from nova.compute import rpcapi as compute_rpcapi
    import datetime
    iu0 = str(uuid.uuid4())
    bflavor = objects.Flavor(id=3, flavorid="3", name="m1.tiny", memory_mb=512, vcpus=1,
                             root_gb=1, ephemeral_gb=0, swap=0, extra_specs={})
    inst = objects.Instance(uuid=iu0, vm_state="building", task_state="scheduling",
                            project_id="p1", user_id="u1", flavor=bflavor, host=None,
                            created_at=datetime.datetime(2026, 11, 22, 3, 4, 5,
                                                         tzinfo=datetime.timezone.utc))
    bspec = objects.RequestSpec(instance_uuid=iu0, flavor=bflavor, num_instances=1)
    compute_rpcapi.ComputeAPI().build_and_run_instance(
        nova_context.get_admin_context(), instance=inst, host="host1",
        image={"id": "img-1", "properties": {"hw_architecture": "x86_64"}}, request_spec=bspec,
        filter_properties={}, admin_password=None, injected_files=[], requested_networks=None,
        security_groups=[], block_device_mapping=None, node="host1", limits=None,
        host_list=None, accel_uuids=[])
    build = None
    for _ in range(50):
        rec = client.call(ctx, "recorded")
        build = [x["build"] for x in rec if isinstance(x, dict) and "build" in x]
        if build:
            build = build[0]
            break
        time.sleep(0.1)
    check("Nova ComputeAPI.build_and_run_instance reaches the C compute server", bool(build), rec)
    build = build or {}
    check("C decoded the Instance: uuid, vm_state, version, nested flavor, created_at",
          build.get("uuid") == iu0 and build.get("vm_state") == "building" and
          build.get("instance_version") == objects.Instance.VERSION and
          build.get("memory_mb") == 512 and
          str(build.get("created_at", "")).startswith("2026-11-22T03:04:05"), build)
    check("C decoded the RequestSpec and the plain arguments (node, image dict, version 6.0)",
          build.get("spec_instance_uuid") == iu0 and build.get("node") == "host1" and
          build.get("image", {}).get("id") == "img-1" and build.get("version") == "6.0", build)

    # ------------------------------------------------ C client -> Python server
    recorded = []
    rec_cond = threading.Condition()

    class Endpoint(object):
        target = om.Target(version="6.1")

        def echo(self, ctxt, **kw):
            return {"args": kw, "user_id": ctxt.get("user_id"), "request_id": ctxt.get("request_id")}

        def fail(self, ctxt, name):
            raise nova_exception.InstanceNotFound(instance_id=name)

        def record(self, ctxt, **kw):
            with rec_cond:
                recorded.append(kw)
                rec_cond.notify_all()

    pysrv = om.get_rpc_server(plain, om.Target(topic="pyserv", server="p1"), [Endpoint()],
                              executor="threading")
    pysrv.start()
    # the server is ready once its queues exist
    for _ in range(100):
        r = rabbitmqctl("list_queues", "-p", VHOST or "/", "name")
        if "pyserv.p1" in r.stdout:
            break
        time.sleep(0.1)
    r = peer("call", vurl, "pyserv", "p1", "echo", '{"x": [1, "two", null]}')
    check("C call -> oslo server: result", r.get("result", {}).get("args") == {"x": [1, "two", None]}, r)
    check("oslo server sees the C client's context",
          r.get("result", {}).get("user_id") == "c-user" and
          str(r.get("result", {}).get("request_id", "")).startswith("req-"), r)
    r = peer("call", vurl, "pyserv", "p1", "fail", '{"name": "abc"}')
    check("C call -> oslo failure surfaced with class InstanceNotFound",
          r.get("class") == "InstanceNotFound" and r.get("module") == "nova.exception", r)
    check("... and its message", "Instance abc could not be found." in r.get("message", ""), r)
    r = peer("call", vurl, "pyserv", "p1", "nosuch", "{}")
    check("C call of a missing method -> NoSuchMethod", r.get("class") == "NoSuchMethod", r)
    r = peer("cast", vurl, "pyserv", "p1", "record", '{"via": "c-cast"}')
    r2 = peer("fanout", vurl, "pyserv", "record", '{"via": "c-fanout"}')
    with rec_cond:
        rec_cond.wait_for(lambda: len(recorded) >= 2, timeout=10)
    check("C cast reaches the oslo server", {"via": "c-cast"} in recorded, (r, recorded))
    check("C fanout cast reaches the oslo server", {"via": "c-fanout"} in recorded, (r2, recorded))
    r = peer("call", vurl, "compute", "host1", "slow", '{"secs": 3}', "1")
    check("C call with timeout=1 to a 3 s method -> TERN_RPC_ERROR_TIMEOUT",
          r.get("error") == "rpc" and r.get("code") == 3 and "Timed out" in r.get("message", ""), r)
    pysrv.stop()
    pysrv.wait()

    # ------------------------------------------------ Nova's own client classes
    ssrv, ready = start_c_server("scheduler", "sched1")
    check("C scheduler server ready", ready == "READY", ready)
    from nova.scheduler.client import query
    iu = str(uuid.uuid4())
    flavor = objects.Flavor(id=7, flavorid="7", name="m1.small", memory_mb=2048, vcpus=2,
                            root_gb=20, ephemeral_gb=0, swap=0, rxtx_factor=1.0,
                            vcpu_weight=0, disabled=False, is_public=True,
                            extra_specs={"hw:cpu_policy": "shared"}, description=None)
    image = objects.ImageMeta(id=str(uuid.uuid4()), name="debian",
                              properties=objects.ImageMetaProps(hw_architecture="ppc64le",
                                                                os_distro="debian11"))
    spec = objects.RequestSpec(instance_uuid=iu, project_id="p1", user_id="u1",
                               num_instances=1, flavor=flavor, image=image,
                               availability_zone=None, ignore_hosts=None, force_hosts=None,
                               force_nodes=None, scheduler_hints={}, is_bfv=False)
    nctx = nova_context.RequestContext(user_id="u1", project_id="p1", is_admin=True,
                                       roles=["admin"])
    r = query.SchedulerQueryClient().select_destinations(nctx, spec, [iu], return_objects=True,
                                                         return_alternates=True)
    check("Nova SchedulerQueryClient.select_destinations reaches the C server", isinstance(r, dict), r)
    r = r if isinstance(r, dict) else {}
    check("C decoded RequestSpec: version, instance_uuid, project_id, num_instances",
          r.get("spec_version") == spec.VERSION and r.get("instance_uuid") == iu and
          r.get("project_id") == "p1" and r.get("num_instances") == 1, r)
    check("C decoded nested Flavor: name, memory_mb, vcpus, root_gb, extra_specs",
          r.get("flavor_name") == "m1.small" and r.get("memory_mb") == 2048 and
          r.get("vcpus") == 2 and r.get("root_gb") == 20 and
          r.get("extra_specs") == {"hw:cpu_policy": "shared"}, r)
    check("C decoded ImageMeta.properties: hw_architecture, os_distro",
          r.get("hw_architecture") == "ppc64le" and r.get("os_distro") == "debian11", r)
    check("C got instance_uuids and return_alternates",
          r.get("instance_uuids") == [iu] and r.get("return_alternates") is True, r)
    spec.availability_zone = "nowhere"
    try:
        query.SchedulerQueryClient().select_destinations(nctx, spec, [iu], return_objects=True,
                                                         return_alternates=True)
        check("NoValidHost raised", False)
    except nova_exception.NoValidHost as e:
        check("C NoValidHost failure -> nova.exception.NoValidHost in Nova's client",
              "no host in zone nowhere" in str(e), e)
    except Exception as e:
        check("NoValidHost raised", False, (type(e), e))
except Exception as e:
    import traceback
    check("compat test ran to the end", False, traceback.format_exc())
finally:
    cleanup()

print("1..%d" % n)
sys.exit(0)
