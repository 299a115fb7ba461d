#!/usr/bin/python3
"""capture-wire.py: record what real peers put on the wire, with RabbitMQ's
firehose tracer, for docs/wire.md and the golden files of tests/data/rpc/.

    capture-wire.py OUTDIR        (needs TERN_TEST_TRANSPORT_URL,
                                   TERN_TEST_RABBITMQ_NODE, TERN_TEST_RABBITMQ_HOME)

Scenarios, each in its own vhost-free run on the broker's default vhost:
Python oslo client -> Python oslo server (call, failure, cast, fanout, call
with call_monitor_timeout), Nova's SchedulerQueryClient -> a fake Python
scheduler answering [[Selection]], Nova's ComputeAPI build_and_run_instance
cast, and the same call from tern's C client (rpc-peer) for comparison.
Writes OUTDIR/trace.jsonl (one record per published message: exchange,
routing key, properties, raw body) and OUTDIR/topology.txt."""
import json
import os
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid

import amqp

OUT = sys.argv[1]
URL = os.environ["TERN_TEST_TRANSPORT_URL"]
NODE = os.environ["TERN_TEST_RABBITMQ_NODE"]
RHOME = os.environ["TERN_TEST_RABBITMQ_HOME"]
PEER = os.path.join(os.environ.get("TERN_BUILDDIR", "."), "tests", "compat", "rpc-peer")
os.makedirs(OUT, exist_ok=True)


def ctl(*a):
    return subprocess.run(["/usr/lib/rabbitmq/bin/rabbitmqctl", "-q", "-n", NODE] + list(a),
                          env=dict(os.environ, HOME=RHOME), capture_output=True, text=True)


u = urllib.parse.urlsplit(URL)
conf = os.path.join(OUT, "oslo.conf")
with open(conf, "w") as fh:
    fh.write("[DEFAULT]\ntransport_url = %s\n[upgrade_levels]\ncompute = 6.1\nscheduler = 4.5\n"
             "conductor = 3.0\n" % URL)

ctl("trace_on")
tconn = amqp.Connection(host="%s:%d" % (u.hostname, u.port), userid=u.username,
                        password=u.password)
tconn.connect()
tch = tconn.channel()
tq, _, _ = tch.queue_declare("", exclusive=True)
tch.queue_bind(tq, "amq.rabbitmq.trace", "publish.#")
records = []


def on_trace(m):
    h = m.headers or {}
    props = h.get("properties", {})
    records.append({"exchange": h.get("exchange_name"), "routing_keys": h.get("routing_keys"),
                    "properties": {k: v for k, v in props.items()},
                    "body": m.body.decode("utf-8", "replace") if isinstance(m.body, bytes) else m.body})


tch.basic_consume(tq, callback=on_trace, no_ack=True)
stop = False


def pump():
    while not stop:
        try:
            tconn.drain_events(timeout=0.2)
        except Exception:
            pass


th = threading.Thread(target=pump)
th.start()

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
from nova.objects import base as obase

ser = nova_rpc.RequestContextSerializer(obase.NovaObjectSerializer())


class Compute(object):
    target = om.Target(version="6.1")

    def echo(self, ctxt, **kw):
        return {"got": kw}

    def fail(self, ctxt, name):
        raise nova_exception.InstanceNotFound(instance_id=name)

    def castme(self, ctxt, **kw):
        pass

    def slow(self, ctxt, secs):
        time.sleep(secs)
        return "done"

    def build_and_run_instance(self, ctxt, **kw):
        pass


class Scheduler(object):
    target = om.Target(version="4.5")

    def select_destinations(self, ctxt, spec_obj=None, instance_uuids=None, return_objects=False,
                            return_alternates=False, **kw):
        sel = objects.Selection(compute_node_uuid="8a1d2c3e-0000-4000-8000-000000000001",
                                service_host="host1", nodename="host1",
                                cell_uuid="00000000-0000-0000-0000-000000000000",
                                limits=objects.SchedulerLimits(numa_topology=None, vcpu=None,
                                                               disk_gb=None, memory_mb=None),
                                allocation_request=json.dumps({"allocations": {}}),
                                allocation_request_version="1.36")
        return [[sel]]


servers = []
for topic, ep in (("compute", Compute()), ("scheduler", Scheduler())):
    s = om.get_rpc_server(nova_rpc.TRANSPORT, om.Target(topic=topic, server="host1"), [ep],
                          executor="threading", serializer=ser,
                          access_policy=om.DefaultRPCAccessPolicy)
    s.start()
    servers.append(s)
time.sleep(1.5)
with open(os.path.join(OUT, "topology.txt"), "w") as fh:
    for what in (["list_exchanges", "name", "type", "durable", "auto_delete", "arguments"],
                 ["list_queues", "name", "durable", "auto_delete", "exclusive", "arguments"],
                 ["list_bindings", "source_name", "destination_name", "routing_key"],
                 ["list_consumers", "queue_name", "ack_required", "prefetch_count"]):
        fh.write("$ rabbitmqctl %s\n%s\n" % (" ".join(what), ctl(*what).stdout))

ctx = nova_context.RequestContext(user_id="u1", project_id="p1", is_admin=True, roles=["admin"],
                                  request_id="req-11111111-2222-3333-4444-555555555555")
cl = om.get_rpc_client(nova_rpc.TRANSPORT, om.Target(topic="compute", server="host1",
                                                     version="6.0"), serializer=ser)
cl.call(ctx, "echo", x=[1, "a", {"k": None}])
try:
    cl.call(ctx, "fail", name="abc")
except Exception:
    pass
try:
    cl.call(ctx, "nosuch")
except Exception:
    pass
cl.cast(ctx, "castme", x=5)
cl.prepare(fanout=True).cast(ctx, "castme", x="fan")
cl.prepare(timeout=30, call_monitor_timeout=4).call(ctx, "slow", secs=5)

from nova.scheduler.client import query
iu = "11111111-2222-4333-8444-555555555555"
flavor = objects.Flavor(id=7, flavorid="7", name="m1.small", memory_mb=2048, vcpus=2, root_gb=20,
                        ephemeral_gb=0, swap=0, rxtx_factor=1.0, vcpu_weight=0, disabled=False,
                        is_public=True, extra_specs={"hw:cpu_policy": "shared"}, description=None)
image = objects.ImageMeta(id="22222222-2222-4333-8444-555555555555", name="debian",
                          properties=objects.ImageMetaProps(hw_architecture="ppc64le",
                                                            os_distro="debian11"))
spec = objects.RequestSpec(instance_uuid=iu, project_id="p1", user_id="u1", num_instances=1,
                           flavor=flavor, image=image, availability_zone=None, ignore_hosts=None,
                           force_hosts=None, force_nodes=None, scheduler_hints={}, is_bfv=False)
query.SchedulerQueryClient().select_destinations(ctx, spec, [iu], return_objects=True,
                                                 return_alternates=True)
# tern's C client, same call as the first one
subprocess.run([PEER, "call", URL, "compute", "host1", "echo", '{"x": [1, "a", {"k": null}]}'],
               capture_output=True)
time.sleep(1)
stop = True
th.join()
for s in servers:
    s.stop()
    s.wait()
ctl("trace_off")
with open(os.path.join(OUT, "trace.jsonl"), "w") as fh:
    for r in records:
        fh.write(json.dumps(r, sort_keys=True) + "\n")
print("%d records" % len(records))
