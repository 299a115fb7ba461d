#!/usr/bin/python3
"""test-bad-input-daemons.py: bad RPC input against the RUNNING daemons
(tern-conductor, tern-scheduler, and a tern-compute on libvirt's test driver
with the simulated x86_64 host facts), over real RabbitMQ + PostgreSQL
(conductor_env.World). Messages are published raw with py-amqp (Debian's
python3-amqp) so that anything can be sent; python3-nova's clients build the
valid requests. Each daemon runs with [oslo_messaging_rabbit]
max_message_size = 65536.

For each daemon:
  - calls: unknown method (NoSuchMethod), unknown namespace and unsupported
    version (UnsupportedVersion), missing method / args not an object
    (ValueError), a message over max_message_size (ValueError naming the
    limit), a Nova object with the wrong nova_object.name / version or with
    ill-typed fields (a failure naming the problem): each answered with an
    oslo failure reply;
  - casts and envelopes from which no reply address can be read (not JSON,
    oslo.version 3.0, oslo.message not a string or missing, invalid UTF-8
    bytes, a lone UTF-16 surrogate, an oversized cast): each dropped with a
    logged refusal naming the problem;
  - after all that, a valid call to the same daemon is answered.
Hostile names and metadata through the conductor (Nova's
schedule_and_build_instances, the real compute builds the instance):
display name and metadata with XML metacharacters, SQL quotes, and a 1 MiB
value are stored literally in the instances row; a hostile host name in
service_report is stored literally; a 1 MiB host name is refused; invalid
UTF-8 never reaches the database."""
import json
import os
import re
import subprocess
import sys
import time
import urllib.parse
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import conductor_env as env  # noqa: E402

env.skip_unless_services()
tap = env.Tap()
world = env.World("badin")
failed_run = True
LIMIT = 65536
BOUNDS = {"oslo_messaging_rabbit": {"max_message_size": LIMIT}}
try:
    images = os.path.join(world.tmp, "images")
    os.makedirs(images)
    subprocess.check_call(["qemu-img", "create", "-q", "-f", "qcow2",
                           os.path.join(images, "img-x86.qcow2"), "64M"])
    world.start_scheduler(opts=BOUNDS)
    world.start_conductor(opts=BOUNDS)
    world.start_compute("bx1", os.path.join(env.SRC, "tests", "data", "hosts", "x86_64"),
                        images, "qemu", dict(BOUNDS))
    nova = env.Nova(world)
    env.wait_for(lambda: nova.admin_call("host_list"), 60)

    import amqp
    u = urllib.parse.urlsplit(world.url)
    conn = amqp.Connection(host="%s:%d" % (u.hostname, u.port or 5672),
                           userid=u.username or "guest", password=u.password or "guest",
                           virtual_host=world.vhost or "/")
    conn.connect()
    ch = conn.channel()
    rq = "reply_badinput_%s" % uuid.uuid4().hex
    ch.queue_declare(rq, durable=False, auto_delete=True)

    def raw(key, body):
        if isinstance(body, str):
            body = body.encode()
        ch.basic_publish(amqp.Message(body, content_type="application/json"),
                         exchange="nova", routing_key=key)

    def envelope(msg):
        return json.dumps({"oslo.version": "2.0", "oslo.message": json.dumps(msg)})

    def reply_for(msg_id, timeout=15):
        end = time.time() + timeout
        while time.time() < end:
            m = ch.basic_get(rq, no_ack=True)
            if m is None:
                time.sleep(0.05)
                continue
            body = json.loads(json.loads(m.body)["oslo.message"])
            if body.get("_msg_id") == msg_id and body.get("ending"):
                return body
        return None

    def call(key, msg):
        mid = uuid.uuid4().hex
        msg = dict(msg, _msg_id=mid, _reply_q=rq, _context_request_id="req-" + mid,
                   _context_user_id="u1", _context_project_id="p1", _context_is_admin=True)
        raw(key, envelope(msg))
        rep = reply_for(mid)
        f = json.loads(rep["failure"]) if rep and rep.get("failure") else None
        return rep, f

    def bad_call(daemon, key, desc, msg, want_class=None, want_text=None):
        rep, f = call(key, msg)
        good = f is not None and (want_class is None or f.get("class") == want_class) and \
            (want_text is None or want_text in f.get("message", ""))
        tap.check("%s: %s -> failure reply %s: %s" % (
            daemon, desc, f and f.get("class"), f and f.get("message", "")[:110].replace(
                "\n", " ")), good, rep)
        return f

    def refusals(key):
        return world.log(key).count("dropped a bad message")

    def cast_refused(daemon, logkey, key, desc, body, want):
        before = refusals(logkey)
        raw(key, body)
        ok = env.wait_for(lambda: refusals(logkey) > before, 10)
        lines = [ln for ln in world.log(logkey).splitlines() if "dropped a bad message" in ln]
        tap.check("%s: %s -> logged refusal (%s)" % (
            daemon, desc, lines[-1].split("dropped a bad message", 1)[-1][:100] if lines
            else None), ok and lines and want in lines[-1], lines[-1:] if lines else None)

    spec = nova.objects.RequestSpec(
        instance_uuid=str(uuid.uuid4()), flavor=nova.flavor(), num_instances=1,
        project_id="p1", user_id="u1", ignore_hosts=None, force_hosts=None,
        image=nova.objects.ImageMeta.from_dict({"id": "img-x86", "name": "img",
                                                "properties": {"hw_architecture": "x86_64"}}),
        scheduler_hints={})
    spec_p = spec.obj_to_primitive()
    inst_p = nova.objects.Instance(uuid=str(uuid.uuid4()), host="bx1",
                                   vm_state="active").obj_to_primitive()

    def with_obj(prim, **changes):
        p = json.loads(json.dumps(prim))
        for k, v in changes.items():
            if k == "data":
                p["nova_object.data"].update(v)
            else:
                p["nova_object." + k] = v
        return p

    # What each daemon serves: (routing key, log key, namespace, version, a valid
    # call, objects to spoil: (method, args builder)).
    DAEMONS = [
        ("tern-conductor", "conductor", "cond1", "tern_admin", "1.0",
         {"method": "host_list", "namespace": "tern_admin", "version": "1.0", "args": {}},
         lambda r: isinstance(r.get("result"), list) and
         any(h.get("host") == "bx1" for h in r["result"]),
         ("migrate_server", "compute_task", "1.24",
          lambda inst: {"context": {}, "instance": inst, "scheduler_hint": {"host": "bx1"},
                        "live": True, "rebuild": False, "flavor": None,
                        "block_migration": None, "disk_over_commit": None,
                        "request_spec": None}, inst_p)),
        ("tern-scheduler", "scheduler", "sched1", None, "4.5",
         {"method": "select_destinations", "version": "4.5",
          "args": {"spec_obj": spec_p, "instance_uuids": [spec.instance_uuid],
                   "return_objects": True, "return_alternates": False}},
         lambda r: "bx1" in json.dumps(r.get("result")),
         ("select_destinations", None, "4.5",
          lambda obj: {"spec_obj": obj, "instance_uuids": [spec.instance_uuid],
                       "return_objects": True, "return_alternates": False}, spec_p)),
        ("tern-compute", "compute.bx1", "bx1", None, "6.1",
         {"method": "ping", "namespace": "baseapi", "version": "1.1", "args": {"arg": "x"}},
         lambda r: (r.get("result") or {}).get("arg") == "x",
         ("check_can_live_migrate_destination", None, "6.1",
          lambda inst: {"instance": inst, "block_migration": None, "disk_over_commit": None,
                        "migration": None, "limits": None}, inst_p)),
    ]
    for daemon, key, logkey, ns, ver, valid, valid_ok, objcase in DAEMONS:
        base = {"namespace": ns} if ns else {}
        bad_call(daemon, key, "unknown method",
                 dict(base, method="no_such_method", version=ver, args={}), "NoSuchMethod",
                 "no_such_method")
        bad_call(daemon, key, "unknown namespace",
                 {"method": valid["method"], "namespace": "no_such_namespace", "version": ver,
                  "args": {}}, "UnsupportedVersion")
        bad_call(daemon, key, "unsupported version 99.0",
                 dict(base, method=valid["method"], version="99.0", args={}),
                 "UnsupportedVersion", "99.0")
        bad_call(daemon, key, "no method", dict(base, version=ver, args={}), "ValueError")
        bad_call(daemon, key, "args not an object",
                 dict(base, method=valid["method"], version=ver, args=[1, 2]), "ValueError")
        bad_call(daemon, key, "a %d KiB message (over max_message_size = %d)" %
                 (LIMIT * 2 // 1024, LIMIT),
                 dict(base, method=valid["method"], version=ver, args={"pad": "x" * LIMIT * 2}),
                 "ValueError", "max_message_size")
        meth, ons, over, build_args, prim = objcase
        obase = {"namespace": ons} if ons else {}
        name = prim["nova_object.name"]
        badfield = {"uuid": 12345} if name == "Instance" else {"flavor": "m1.small"}
        for desc, spoiled in [
                ("%s: an object named Flavor instead of %s" % (meth, name),
                 with_obj(prim, name="Flavor")),
                ("%s: %s version 99.0" % (meth, name), with_obj(prim, version="99.0")),
                ("%s: %s without nova_object.data" % (meth, name),
                 {k: v for k, v in prim.items() if k != "nova_object.data"}),
                ("%s: %s.%s ill-typed" % (meth, name, list(badfield)[0]),
                 with_obj(prim, data=badfield)),
                ("%s: a string where the %s goes" % (meth, name), "<not an object/>")]:
            f = bad_call(daemon, key, desc, dict(obase, method=meth, version=over,
                                                 args=build_args(spoiled)))
            named = f and re.search(r"Flavor|99\.0|nova_object|object|uuid|flavor|Instance|"
                                    r"RequestSpec", f.get("message", ""))
            good = named and "could not be found" not in f.get("message", "")
            tap.check("%s: ... and the failure names the problem" % daemon, good, f)
        # envelopes with no reply address to be read: refused in the log
        cast_refused(daemon, logkey, key, "not JSON", b"this is not json {", "")
        cast_refused(daemon, logkey, key, "oslo.version 3.0",
                     json.dumps({"oslo.version": "3.0", "oslo.message": "{}"}), "3.0")
        cast_refused(daemon, logkey, key, "oslo.message not a string",
                     json.dumps({"oslo.version": "2.0", "oslo.message": 5}), "oslo.message")
        # without oslo.message the body is read as oslo's unenveloped format
        cast_refused(daemon, logkey, key, "no oslo.message (read unenveloped: no method)",
                     json.dumps({"oslo.version": "2.0"}), "no method")
        cast_refused(daemon, logkey, key, "invalid UTF-8 bytes in the body",
                     b'{"oslo.version": "2.0", "oslo.message": "{\\"method\\": \\"x\xff\xfe\\"}"}',
                     "")
        cast_refused(daemon, logkey, key, "a lone UTF-16 surrogate (\\udcff) in oslo.message",
                     envelope(dict(base, method="a\\udcff", version=ver, args={}))
                     .replace("a\\\\\\\\udcff", "a\\\\udcff"), "")
        cast_refused(daemon, logkey, key, "an oversized cast",
                     envelope(dict(base, method=valid["method"], version=ver,
                                   args={"pad": "y" * LIMIT * 2})), "max_message_size")
        rep, f = call(key, valid)
        tap.check("%s: a valid %s call right after is answered" % (daemon, valid["method"]),
                  rep is not None and f is None and valid_ok(rep), rep)
        tap.check("%s: still running" % daemon, world.procs[logkey].poll() is None)

    # ---------------------------------------------- hostile names and metadata
    hostile = "<vm name='x'>&amp;\"quoted\" ]]> '; DROP TABLE instances; -- \u00e9\u4e2d"
    meta = {"k<&>'\"": "v'); DELETE FROM instances; --", "</metadata>": "<![CDATA[x]]>",
            "big": "z" * (1024 * 1024)}
    o = nova.objects
    iu = str(uuid.uuid4())
    flavor = nova.flavor()
    image = {"id": "img-x86", "name": "img", "status": "active", "min_disk": 0, "min_ram": 0,
             "properties": {"hw_architecture": "x86_64", "os_distro": "debian11",
                            "hw_disk_bus": "virtio"}}
    inst = o.Instance(uuid=iu, display_name=hostile, hostname="vm-hostile", project_id="p1",
                      user_id="u1", flavor=flavor, image_ref="img-x86", vm_state="building",
                      task_state="scheduling", vcpus=1, memory_mb=512, root_gb=1,
                      ephemeral_gb=0, metadata=meta, availability_zone=None)
    br = o.BuildRequest(instance=inst, instance_uuid=iu, project_id="p1")
    rspec = o.RequestSpec(instance_uuid=iu, flavor=flavor, num_instances=1, project_id="p1",
                          user_id="u1", ignore_hosts=None, force_hosts=None,
                          image=o.ImageMeta.from_dict({"id": "img-x86", "name": "img",
                                                       "properties": image["properties"]}),
                          scheduler_hints={})
    # the 1 MiB metadata value makes the messages larger than 64 KiB: the
    # conductor and the compute are restarted with the default limit (16 MiB)
    world.kill("cond1")
    world.kill("bx1")
    world.start_conductor("cond2")
    world.start_compute("bx1", os.path.join(env.SRC, "tests", "data", "hosts", "x86_64"),
                        images, "qemu")
    # the claims of the valid select_destinations calls above are not wanted here
    world.query("DELETE FROM allocations WHERE consumer_uuid = %s", spec.instance_uuid)
    env.wait_for(lambda: [h for h in nova.admin_call("host_list")
                  if h["host"] == "bx1" and h["state"] == "up" and
                  h["vcpus"] > h["vcpus_used"]], 60)
    time.sleep(4)   # the restarted compute's node report (node_report_interval 3)
    nova.task_api.schedule_and_build_instances(
        nova.ctx, build_requests=[br], request_spec=[rspec], image=image, admin_password=None,
        injected_files=[], requested_networks=None, block_device_mapping=[])
    s = nova.wait_state(iu, ["active", "error"], 90)
    tap.check("a build with a hostile display name and metadata (1 MiB value) is ACTIVE on the "
              "compute", s and s["vm_state"] == "active" and s["host"] == "bx1",
              s and {k: s[k] for k in ("vm_state", "host", "faults") if k in s})
    row = world.query("SELECT display_name, metadata::text FROM instances WHERE uuid = %s", iu)
    tap.check("instances.display_name holds the literal name (XML metacharacters, quotes, "
              "SQL, non-ASCII)", row and row[0][0] == hostile, row and row[0][0])
    tap.check("instances.metadata holds the literal keys and values, the 1 MiB value whole",
              row and json.loads(row[0][1]) == meta, row and row[0][1][:200])
    tap.check("the instances table is still there with its rows",
              world.query("SELECT count(*) FROM instances")[0][0] >= 1)
    tap.check("the compute built it: its log names the instance, no XML error",
              ("instance %s built" % iu) in world.log("bx1") and
              "XML" not in world.log("bx1").split(iu, 1)[-1][:5000], world.log("bx1")[-1500:])

    hhost = "evil'); DELETE FROM services; --<host/>&"
    nova.tern.cast(nova.ctx, "service_report", binary="tern-compute", host=hhost)
    got = env.wait_for(lambda: world.query("SELECT host FROM services WHERE host = %s", hhost),
                       15)
    tap.check("service_report with a hostile host name: stored literally",
              got and got[0][0] == hhost, got)
    tap.check("... and the other services rows are intact",
              world.query("SELECT count(*) FROM services WHERE host IN ('bx1', 'cond1')")[0][0]
              == 2, world.query("SELECT host, binary_name FROM services"))
    try:
        nova.tern_call("compute_node_report", host="h" * (1024 * 1024),
                       node={"hypervisor_hostname": "h"})
        tap.check("compute_node_report with a 1 MiB host name is refused", False)
    except Exception as e:  # noqa: BLE001 (any failure reply; the text is checked)
        msg = str(e).splitlines()[0] if str(e) else repr(e)
        tap.check("compute_node_report with a 1 MiB host name: refused with a short message "
                  "(%s)" % msg[:120], len(str(e)) < 4096 and "h" * 300 not in str(e), msg[:300])
    try:
        nova.admin_call("host_show", host="nope'<&>\"")
        tap.check("host_show of a hostile unknown host name is refused", False)
    except Exception as e:  # noqa: BLE001
        tap.check("host_show of a hostile unknown host name: %s" % type(e).__name__,
                  "nope'<&>\"" in str(e) or "not" in str(e).lower(), str(e)[:300])
    hl = nova.admin_call("host_list")
    tap.check("the conductor keeps serving after all of it (host_list)",
              any(h["host"] == "bx1" for h in hl), hl)
    failed_run = bool(tap.failed)
finally:
    world.clean(keep=failed_run)
sys.exit(tap.done())
