#!/usr/bin/python3
"""test-rpc-topology.py: a tern server and client declare exactly what an
oslo.messaging server and client declare — exchanges, queues, their flags and
arguments, consumers — with the default options, with rabbit_quorum_queue
and with rabbit_ha_queues. Each mode runs both peers in a private vhost of
the RabbitMQ of TERN_TEST_TRANSPORT_URL and compares `rabbitmqctl list_*`."""
import os
import re
import subprocess
import sys
import urllib.parse

URL = os.environ.get("TERN_TEST_TRANSPORT_URL")
NODE = os.environ.get("TERN_TEST_RABBITMQ_NODE")
RHOME = os.environ.get("TERN_TEST_RABBITMQ_HOME")
if not (URL and NODE and RHOME):
    print("1..0 # SKIP needs TERN_TEST_TRANSPORT_URL, TERN_TEST_RABBITMQ_NODE, TERN_TEST_RABBITMQ_HOME "
          "(scripts/services start rabbitmq)")
    sys.exit(0)
PEER = os.path.join(os.environ.get("TERN_BUILDDIR", "."), "tests", "compat", "rpc-peer")
TMP = os.environ.get("TMPDIR", "/tmp")
n = 0


def check(desc, ok, detail=None):
    global n
    n += 1
    print("%s %d - %s" % ("ok" if ok else "not ok", n, desc))
    if not ok and detail is not None:
        for line in str(detail).splitlines()[:30]:
            print("#   " + line)
    sys.stdout.flush()


def ctl(*a):
    return subprocess.run(["/usr/lib/rabbitmq/bin/rabbitmqctl", "-q", "-n", NODE] + list(a),
                          env=dict(os.environ, HOME=RHOME), capture_output=True, text=True,
                          timeout=60)


PY_PEER = r'''
import sys, oslo_messaging as om
from oslo_config import cfg
cfg.CONF([], default_config_files=[sys.argv[1]])
om.set_transport_defaults("nova")
t = om.get_rpc_transport(cfg.CONF)
class E(object):
    target = om.Target(version="1.0")
    def echo(self, ctxt, **kw):
        return kw
s = om.get_rpc_server(t, om.Target(topic="pytopic", server="h1"), [E()], executor="threading")
s.start()
c = om.get_rpc_client(t, om.Target(topic="pytopic", server="h1", version="1.0"), timeout=20)
c.call({}, "echo", a=1)
print("READY", flush=True)
sys.stdin.read()
s.stop(); s.wait()
'''


def normalize(name, topic):
    name = re.sub(r"^reply_[0-9a-f]{32}$", "reply_X", name)
    name = re.sub(r"_[0-9a-f]{32}$", "_X", name)
    return name.replace(topic, "T")


def listing(vhost, topic):
    qs = {}
    for line in ctl("list_queues", "-p", vhost, "name", "durable", "auto_delete", "exclusive",
                    "arguments", "type").stdout.splitlines()[1:]:
        f = line.split("\t")
        key = normalize(f[0], topic)
        if key.startswith("T") or key == "reply_X":
            qs[key] = tuple(f[1:])
    xs = {}
    for line in ctl("list_exchanges", "-p", vhost, "name", "type", "durable", "auto_delete",
                    "arguments").stdout.splitlines()[1:]:
        f = line.split("\t")
        if f[0].startswith(topic) or f[0] == "nova":
            xs[normalize(f[0], topic)] = tuple(f[1:])
    cs = {}
    for line in ctl("list_consumers", "-p", vhost, "queue_name", "ack_required").stdout.splitlines()[1:]:
        f = line.split("\t")
        key = normalize(f[0], topic)
        if key.startswith("T"):
            cs[key] = f[1]
    return qs, xs, cs


MODES = [("default", ""), ("quorum", "rabbit_quorum_queue = true\n"),
         ("ha", "rabbit_ha_queues = true\n")]
u = urllib.parse.urlsplit(URL)
for mode, opts in MODES:
    results = {}
    for side in ("python", "c"):
        vhost = "tern-topology-%s-%s-%d" % (mode, side, os.getpid())
        ctl("add_vhost", vhost)
        ctl("set_permissions", "-p", vhost, u.username or "guest", ".*", ".*", ".*")
        vurl = "%s://%s/%s" % (u.scheme, u.netloc, vhost)
        conf = os.path.join(TMP, "%s.conf" % vhost)
        with open(conf, "w") as fh:
            fh.write("[DEFAULT]\ntransport_url = %s\n[oslo_messaging_rabbit]\n%s" % (vurl, opts))
        try:
            if side == "python":
                p = subprocess.Popen(["/usr/bin/python3", "-c", PY_PEER, conf], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
                topic = "pytopic"
            else:
                env = dict(os.environ, TERN_RPC_PEER_CONF=conf)
                p = subprocess.Popen([PEER, "serve", vurl, "ctopic", "h1"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                                     env=env)
                topic = "ctopic"
            ready = p.stdout.readline().strip()
            if side == "c" and ready == "READY":
                subprocess.run([PEER, "call", vurl, "ctopic", "h1", "echo", '{"a": 1}'],
                               env=env, capture_output=True, timeout=60)
            results[side] = (ready,) + listing(vhost, topic)
            p.stdin.close()
            p.wait(timeout=30)
        finally:
            os.unlink(conf)
            ctl("delete_vhost", vhost)
    py, c = results["python"], results["c"]
    check("%s: oslo and tern servers start" % mode, py[0] == "READY" and c[0] == "READY",
          (py[0], c[0]))
    check("%s: the same queues with the same flags, arguments and type" % mode, py[1] == c[1],
          "python %s\nc      %s" % (py[1], c[1]))
    check("%s: the same exchanges with the same flags" % mode, py[2] == c[2],
          "python %s\nc      %s" % (py[2], c[2]))
    check("%s: the same consumers (acks required)" % mode, py[3] == c[3],
          "python %s\nc      %s" % (py[3], c[3]))
    if mode == "quorum":
        check("quorum: topic queues are quorum queues", "quorum" in str(c[1].get("T", "")), c[1])
print("1..%d" % n)
