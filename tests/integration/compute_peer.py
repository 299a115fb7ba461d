# compute_peer.py: shared by tern-compute's Python integration and e2e
# tests: a conductor stand-in serving tern's namespace (docs/tern-rpc.md)
# that records every report and answers instances_on_host from what it
# was told; Nova's own ComputeAPI client; tern-compute daemons started with
# a config of the test's. Importing it skips the test (TAP) when
# TERN_TEST_TRANSPORT_URL is unset. Each run has its own control exchange,
# so nothing else on the broker sees its messages.
import os
import queue
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid as uuidlib

URL = os.environ.get("TERN_TEST_TRANSPORT_URL")
if not URL:
    print("1..0 # SKIP TERN_TEST_TRANSPORT_URL is not set (scripts/services start rabbitmq)")
    sys.exit(0)

SRC = os.environ.get("TERN_SRCDIR", os.path.dirname(os.path.abspath(__file__)) + "/../..")
BUILD = os.environ.get("TERN_BUILDDIR", SRC)
DAEMON = os.path.join(BUILD, "tern-compute")
EXCHANGE = "tern-it-" + uuidlib.uuid4().hex[:8]
# oslo's queues are named by topic alone ("conductor", whatever the
# exchange): a test of its own gets a vhost of its own, so that a peer of a
# test running at the same time never takes its messages
VHOST = None
RMQ_NODE = os.environ.get("TERN_TEST_RABBITMQ_NODE")
RMQ_HOME = os.environ.get("TERN_TEST_RABBITMQ_HOME")


def rabbitmqctl(*args):
    env = dict(os.environ, HOME=RMQ_HOME)
    return subprocess.run(["/usr/lib/rabbitmq/bin/rabbitmqctl", "-q", "-n", RMQ_NODE] +
                          list(args), env=env, capture_output=True, text=True, timeout=60)


if RMQ_NODE and RMQ_HOME:
    VHOST = EXCHANGE
    if rabbitmqctl("add_vhost", VHOST).returncode == 0 and \
            rabbitmqctl("set_permissions", "-p", VHOST, "guest", ".*", ".*", ".*").returncode == 0:
        URL = URL.rstrip("/") + "/" + VHOST
    else:
        VHOST = None

import oslo_messaging as messaging  # noqa: E402
from oslo_config import cfg  # noqa: E402

# a daemon's start (osinfo-db load) takes minutes under ASan's slow unwinder
START_TIMEOUT = 600

n_tests = 0
failed = 0


def ok(cond, desc):
    global n_tests, failed
    n_tests += 1
    if cond:
        print("ok %d - %s" % (n_tests, desc))
    else:
        failed += 1
        print("not ok %d - %s" % (n_tests, desc))
    sys.stdout.flush()
    return cond


tmp = tempfile.mkdtemp(prefix="tern-cdaemon-")
nova_conf = os.path.join(tmp, "nova.conf")
with open(nova_conf, "w") as f:
    f.write("[DEFAULT]\ntransport_url = %s\ncontrol_exchange = %s\n"
            "[upgrade_levels]\ncompute = 6.1\nscheduler = 4.5\nconductor = 3.0\n" % (URL, EXCHANGE))

import nova.conf  # noqa: E402
from nova import context as nova_context  # noqa: E402
from nova import objects, rpc  # noqa: E402
from nova.compute import rpcapi as compute_rpcapi  # noqa: E402

CONF = nova.conf.CONF
rpc.set_defaults(control_exchange=EXCHANGE)
CONF([], project="nova", default_config_files=[nova_conf])
objects.register_all()
rpc.init(CONF)


class Conductor(object):
    """The conductor's tern namespace, recording every report."""
    target = messaging.Target(namespace="tern", version="1.0")

    def __init__(self):
        self.events = queue.Queue()
        self.history = []
        self.claimed = set()
        self.instances = {}   # uuid -> dict
        self.lock = threading.Lock()

    def _rec(self, name, **kw):
        self.events.put((name, kw))

    def service_report(self, ctxt, binary, host):
        self._rec("service_report", binary=binary, host=host)

    def compute_node_report(self, ctxt, host, node):
        self._rec("compute_node_report", host=host, node=node)
        return {"host": host, "generation": 1}

    def instance_update(self, ctxt, instance_uuid, updates, expected_task_state="unset"):
        self._rec("instance_update", uuid=instance_uuid, updates=updates,
                  expected=expected_task_state)
        with self.lock:
            inst = self.instances.setdefault(instance_uuid, {"uuid": instance_uuid})
            inst.update(updates)
            return dict(inst)

    def instance_fault_create(self, ctxt, instance_uuid, code, message, details):
        self._rec("instance_fault_create", uuid=instance_uuid, code=code, message=message)

    def instance_build_failed(self, ctxt, instance_uuid, host, reason, retryable):
        self._rec("instance_build_failed", uuid=instance_uuid, host=host, reason=reason,
                  retryable=retryable)

    def instances_on_host(self, ctxt, host):
        self._rec("instances_on_host", host=host)
        with self.lock:
            return [dict(v) for v in self.instances.values() if v.get("host") == host]

    def migration_update(self, ctxt, migration_uuid, updates):
        self._rec("migration_update", uuid=migration_uuid, updates=updates)
        return {"uuid": migration_uuid}


peer = Conductor()
transport = messaging.get_rpc_transport(cfg.CONF)
server = messaging.get_rpc_server(transport, messaging.Target(topic="conductor", server="peer"),
                                  [peer], executor="threading",
                                  access_policy=messaging.DefaultRPCAccessPolicy)
server.start()


def virsh(uri, *args):
    """(returncode, stdout) of virsh on uri."""
    r = subprocess.run(["virsh", "-c", uri] + list(args), capture_output=True, text=True,
                       timeout=30)
    return r.returncode, r.stdout.strip()


def counts(path):
    """The TERN-GUEST-COUNT values a guest's serial console log holds."""
    if not os.path.exists(path):
        return []
    return [int(n) for n in re.findall(r"TERN-GUEST-COUNT (\d+)", open(path, errors="replace").read())]


def wait_for(name, pred=lambda kw: True, timeout=30, keep=None, alive=None):
    """The first recorded event called name that satisfies pred and was not
    returned before (events are kept in order; waits up to timeout, or
    until the process alive, when given, has exited)."""
    end = time.time() + timeout
    while True:
        if alive is not None and alive.poll() is not None:
            end = min(end, time.time() + 1)   # what it sent before it died
        while True:
            try:
                peer.history.append(peer.events.get_nowait())
            except queue.Empty:
                break
        for i, (ev, kw) in enumerate(peer.history):
            if ev == name and i not in peer.claimed and pred(kw):
                peer.claimed.add(i)
                return kw
        left = end - time.time()
        if left <= 0:
            return None
        try:
            peer.history.append(peer.events.get(timeout=min(left, 0.5)))
        except queue.Empty:
            pass


def compute_conf(host, facts, extra="", virt_type="qemu"):
    images = os.path.join(tmp, "images")
    os.makedirs(images, exist_ok=True)
    path = os.path.join(tmp, host + ".conf")
    with open(path, "w") as f:
        f.write("[DEFAULT]\ntransport_url = %s\ncontrol_exchange = %s\nhost = %s\n"
                "report_interval = 1\nshutdown_timeout = 2\n"
                "[compute]\ninstances_path = %s\nimages_path = %s\nnode_report_interval = 3\n"
                "[libvirt]\nconnection_uri = test:///default\nvirt_type = %s\n"
                "host_facts_dir = %s\n%s"
                % (URL, EXCHANGE, host, os.path.join(tmp, host, "instances"), images,
                   virt_type, facts if facts.startswith("/") else
                   "%s/tests/data/hosts/%s" % (SRC, facts), extra))
    return path


def start_daemon(conf):
    log = open(conf + ".log", "w")
    p = subprocess.Popen([DAEMON, "--config-file", conf], stdout=log, stderr=subprocess.STDOUT)
    p.log_path = conf + ".log"
    return p


def stop_daemon(p):
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    if p.returncode != 0 and getattr(p, "log_path", None):
        # say why in the TAP output: the last lines of the daemon's log
        with open(p.log_path, errors="replace") as f:
            for line in f.read().splitlines()[-25:]:
                print("# " + line)
    return p.returncode


ctx = nova_context.RequestContext(user_id="u1", project_id="p1", is_admin=True, roles=["admin"])
api = compute_rpcapi.ComputeAPI()


def make_instance(host, image_id, vcpus=1, memory_mb=256, root_gb=1):
    flavor = objects.Flavor(id=1, name="m1.tiny", memory_mb=memory_mb, vcpus=vcpus,
                            root_gb=root_gb, ephemeral_gb=0, flavorid="1", swap=0,
                            rxtx_factor=1.0, vcpu_weight=0, disabled=False, is_public=True,
                            extra_specs={}, description=None)
    inst = objects.Instance(id=1, uuid=str(uuidlib.uuid4()), user_id="u1", project_id="p1",
                            image_ref=image_id, hostname="vm1", display_name="vm <&> 1",
                            vcpus=vcpus, memory_mb=memory_mb, root_gb=root_gb, ephemeral_gb=0,
                            host=host, node=host, vm_state="building", task_state="scheduling",
                            power_state=0, flavor=flavor, metadata={}, system_metadata={})
    return inst


def build(inst, host, image):
    api.build_and_run_instance(ctx, instance=inst, host=host, image=image, request_spec=None,
                               filter_properties={}, admin_password=None, injected_files=[],
                               requested_networks=None, security_groups=[],
                               block_device_mapping=objects.BlockDeviceMappingList(objects=[]),
                               node=host, limits={}, host_list=[], accel_uuids=[])


def update_for(uuid, key, value, timeout=30, keep=None):
    return wait_for("instance_update", lambda kw: kw["uuid"] == uuid and
                    kw["updates"].get(key, "missing") == value, timeout, keep)




def finish(daemons=()):
    """Stop daemons and the peer, print the plan, dump logs on failure."""
    for p in daemons:
        if p is not None and p.poll() is None:
            stop_daemon(p)
    server.stop()
    server.wait()
    if VHOST:
        rabbitmqctl("delete_vhost", VHOST)
    print("1..%d" % n_tests)
    if failed:
        for f in sorted(os.listdir(tmp)):
            if f.endswith(".log"):
                sys.stderr.write("==== %s\n" % f)
                sys.stderr.write(open(os.path.join(tmp, f)).read()[-6000:])
    else:
        subprocess.call(["rm", "-rf", tmp])
    sys.exit(1 if failed else 0)
