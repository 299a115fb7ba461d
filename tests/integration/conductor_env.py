"""conductor_env.py: the world a conductor integration test runs in: a
private RabbitMQ vhost and a private PostgreSQL database (on the services of
scripts/services), tern-conductor and tern-scheduler processes, python3-nova's
RPC clients (ComputeTaskAPI, and oslo clients for tern / tern_admin), and a
test peer for computes (PeerCompute) that serves the compute methods of
docs/tern-rpc.md with simulated outcomes (the real tern-compute daemon takes
its place in test-conductor-computes.py).

Imported by tests/integration/test-conductor*.py; prints nothing itself."""
import json
import os
import signal
import subprocess
import sys
import threading
import tempfile
import time
import urllib.parse
import uuid

URL = os.environ.get("TERN_TEST_TRANSPORT_URL")
DB_URL = os.environ.get("TERN_TEST_DB_URL")
BUILD = os.environ.get("TERN_BUILDDIR", ".")
SRC = os.environ.get("TERN_SRCDIR", ".")
NODE = os.environ.get("TERN_TEST_RABBITMQ_NODE")
RHOME = os.environ.get("TERN_TEST_RABBITMQ_HOME")
CTL = "/usr/lib/rabbitmq/bin/rabbitmqctl"


def skip_unless_services():
    if not URL or not DB_URL:
        print("1..0 # SKIP TERN_TEST_TRANSPORT_URL / TERN_TEST_DB_URL not set "
              "(scripts/services start rabbitmq postgresql)")
        sys.exit(0)


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def check(self, desc, ok, detail=None):
        self.n += 1
        print("%s %d - %s" % ("ok" if ok else "not ok", self.n, desc))
        if not ok:
            self.failed += 1
            if detail is not None:
                for line in str(detail).splitlines()[:30]:
                    print("#   " + line)
        sys.stdout.flush()
        return ok

    def note(self, text):
        for line in str(text).splitlines():
            print("# " + line)
        sys.stdout.flush()

    def done(self):
        print("1..%d" % self.n)
        return 1 if self.failed else 0


def wait_for(fn, timeout=30.0, interval=0.1):
    end = time.time() + timeout
    last = None
    while time.time() < end:
        try:
            last = fn()
            if last:
                return last
        except Exception as e:  # noqa: BLE001 (the caller checks the result)
            last = e
        time.sleep(interval)
    return None


def rabbitmqctl(*args):
    env = dict(os.environ, HOME=RHOME)
    return subprocess.run([CTL, "-q", "-n", NODE] + list(args), env=env,
                          capture_output=True, text=True, timeout=60)


def sanitizer_reports(log, keys):
    """The lines of log(key) for each key that hold a sanitizer report or a
    GLib critical, prefixed by the key."""
    bad = []
    for key in keys:
        bad += [key + ": " + ln for ln in log(key).splitlines()
                if "AddressSanitizer" in ln or "LeakSanitizer" in ln or
                "runtime error:" in ln or "CRITICAL" in ln]
    return bad


def close_nova_transport():
    """Close oslo.messaging's transport of the Nova clients, if one was made
    (its listener threads would keep a finished test alive)."""
    try:
        from nova import rpc as nova_rpc
        if nova_rpc.TRANSPORT:
            nova_rpc.TRANSPORT.cleanup()
    except Exception:  # noqa: BLE001
        pass


class World:
    """vhost + database + config files + processes; clean() undoes all."""

    def __init__(self, name):
        import psycopg2
        self.name = "%s-%d" % (name, os.getpid())
        # a new folder: one an earlier run kept (its logs, a reused pid) must
        # not lend its log lines to this run's checks
        self.tmp = tempfile.mkdtemp(prefix="tern-%s-" % self.name)
        os.chmod(self.tmp, 0o755)
        self.procs = {}
        u = urllib.parse.urlsplit(URL)
        self.vhost = None
        if NODE and RHOME and rabbitmqctl("add_vhost", self.name).returncode == 0:
            rabbitmqctl("set_permissions", "-p", self.name, u.username or "guest",
                        ".*", ".*", ".*")
            self.vhost = self.name
        self.url = ("%s://%s/%s" % (u.scheme, u.netloc, urllib.parse.quote(self.vhost, safe=""))
                    if self.vhost else URL)
        d = urllib.parse.urlsplit(DB_URL)
        self.dbname = "tern_" + self.name.replace("-", "_")
        admin = psycopg2.connect(DB_URL)
        admin.autocommit = True
        admin.cursor().execute('CREATE DATABASE "%s"' % self.dbname)
        admin.close()
        self.db_url = urllib.parse.urlunsplit((d.scheme, d.netloc, "/" + self.dbname, d.query,
                                               d.fragment))
        self.nova_conf = os.path.join(self.tmp, "nova.conf")
        with open(self.nova_conf, "w") as fh:
            fh.write("[DEFAULT]\ntransport_url = %s\n[upgrade_levels]\ncompute = 6.1\n"
                     "scheduler = 4.5\nconductor = 3.0\n" % self.url)
        os.chmod(self.nova_conf, 0o600)
        r = subprocess.run([os.path.join(BUILD, "tern-manage"), "--config-file",
                            self.tern_conf("manage", {}), "db", "sync"],
                           capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            raise RuntimeError("tern-manage db sync failed: " + r.stderr)
        self.db = psycopg2.connect(self.db_url)
        self.db.autocommit = True

    def tern_conf(self, name, sections):
        path = os.path.join(self.tmp, name + ".conf")
        base = {"DEFAULT": {"transport_url": self.url, "host": name},
                "database": {"connection": self.db_url}}
        for sec, opts in sections.items():
            base.setdefault(sec, {}).update(opts)
        with open(path, "w") as fh:
            for sec, opts in base.items():
                fh.write("[%s]\n" % sec)
                for k, v in opts.items():
                    fh.write("%s = %s\n" % (k, v))
        os.chmod(path, 0o600)
        return path

    def start(self, key, argv, ready=None, timeout=30):
        start_at = len(self.log(key))   # a restart appends to the same log
        log = open(os.path.join(self.tmp, key + ".log"), "a")
        p = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
        self.procs[key] = p
        if ready:   # stop waiting as soon as it has exited
            wait_for(lambda: ready in self.log(key)[start_at:] or p.poll() is not None, timeout)
        if ready and ready not in self.log(key)[start_at:]:
            raise RuntimeError("%s did not start%s: %s" % (
                key, "" if p.poll() is None else " (exited with status %d)" % p.returncode,
                self.log(key)[-2000:]))
        return p

    def log(self, key):
        try:
            with open(os.path.join(self.tmp, key + ".log")) as fh:
                return fh.read()
        except OSError:
            return ""

    def kill(self, key, sig=signal.SIGTERM):
        p = self.procs.pop(key, None)
        if p and p.poll() is None:
            p.send_signal(sig)
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        return p

    def start_scheduler(self, name="sched1", opts=None):
        conf = self.tern_conf(name, opts or {})
        return self.start(name, [os.path.join(BUILD, "tern-scheduler"), "--config-file", conf],
                          ready="serving select_destinations")

    def start_compute(self, host, facts_dir, images_path, virt_type="qemu", extra=None):
        """A real tern-compute on libvirt's test driver with simulated host
        facts (a folder like tests/data/hosts/x86_64)."""
        sections = {
            "DEFAULT": {"report_interval": 1, "shutdown_timeout": 2},
            "compute": {"instances_path": os.path.join(self.tmp, host, "instances"),
                        "images_path": images_path, "node_report_interval": 3},
            "libvirt": {"connection_uri": "test:///default", "virt_type": virt_type,
                        "host_facts_dir": facts_dir},
        }
        for sec, o in (extra or {}).items():
            sections.setdefault(sec, {}).update(o)
        conf = self.tern_conf(host, sections)
        return self.start(host, [os.path.join(BUILD, "tern-compute"), "--config-file", conf],
                          ready="tern-compute started", timeout=240)

    def start_conductor(self, name="cond1", opts=None):
        sections = {"conductor": {"stuck_build_timeout": 4, "recovery_interval": 1,
                                  "stuck_migration_timeout": 5}}
        for sec, o in (opts or {}).items():
            sections.setdefault(sec, {}).update(o)
        conf = self.tern_conf(name, sections)
        return self.start(name, [os.path.join(BUILD, "tern-conductor"), "--config-file", conf],
                          ready="tern-conductor started", timeout=90)

    def query(self, sql, *args):
        cur = self.db.cursor()
        cur.execute(sql, args)
        try:
            return cur.fetchall()
        except Exception:  # noqa: BLE001 (statements without rows)
            return []

    def allocations(self, *consumers):
        """[(consumer uuid, host)] of the given consumers (all when none)."""
        rows = self.query("SELECT a.consumer_uuid::text, n.host FROM allocations a "
                          "JOIN compute_nodes n ON n.id = a.node_id ORDER BY 1, 2")
        return [r for r in rows if not consumers or r[0] in consumers]

    def clean(self, keep=False):
        """Stop everything, drop the database and vhost; the work folder
        (configs, logs) is kept when keep (a failed run), else removed."""
        for key in list(self.procs):
            p = self.procs[key]
            if p.poll() is None:
                try:
                    p.send_signal(signal.SIGCONT)
                except OSError:
                    pass
            self.kill(key)
        try:
            self.db.close()
        except Exception:  # noqa: BLE001
            pass
        try:
            import psycopg2
            admin = psycopg2.connect(DB_URL)
            admin.autocommit = True
            admin.cursor().execute('DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % self.dbname)
            admin.close()
        except Exception:  # noqa: BLE001
            pass
        if self.vhost:
            rabbitmqctl("delete_vhost", self.vhost)
        if keep:
            sys.stderr.write("# logs kept in %s\n" % self.tmp)
        else:
            import shutil
            shutil.rmtree(self.tmp, ignore_errors=True)


# --- python3-nova -----------------------------------------------------------

class Nova:
    """python3-nova's RPC side, configured for the world's vhost."""

    def __init__(self, world):
        import nova.conf
        from nova import context as nova_context
        from nova import objects
        from nova import rpc as nova_rpc
        import oslo_messaging as om
        CONF = nova.conf.CONF
        nova_rpc.set_defaults(control_exchange="nova")
        CONF([], project="nova", default_config_files=[world.nova_conf])
        objects.register_all()
        nova_rpc.init(CONF)
        self.objects = objects
        self.om = om
        self.rpc = nova_rpc
        self.ctx = nova_context.RequestContext(user_id="u1", project_id="p1", is_admin=True,
                                               roles=["admin"])
        from nova.conductor import api as conductor_api
        self.task_api = conductor_api.ComputeTaskAPI()
        ser = nova_rpc.RequestContextSerializer(objects.base.NovaObjectSerializer())
        self.serializer = ser
        self.tern = om.get_rpc_client(nova_rpc.TRANSPORT, om.Target(
            topic="conductor", namespace="tern", version="1.0"), serializer=ser)
        self.admin = om.get_rpc_client(nova_rpc.TRANSPORT, om.Target(
            topic="conductor", namespace="tern_admin", version="1.0"), serializer=ser)

    def admin_call(self, method, timeout=30, **kw):
        return self.admin.prepare(timeout=timeout).call(self.ctx, method, **kw)

    def tern_call(self, method, timeout=30, **kw):
        return self.tern.prepare(timeout=timeout).call(self.ctx, method, **kw)

    def flavor(self, name="m1.small", vcpus=1, memory_mb=512, root_gb=1):
        return self.objects.Flavor(id=1, flavorid=name, name=name, vcpus=vcpus,
                                   memory_mb=memory_mb, root_gb=root_gb, ephemeral_gb=0,
                                   swap=0, extra_specs={}, rxtx_factor=1.0, vcpu_weight=None,
                                   disabled=False, is_public=True, description=None)

    def build(self, name, arch, flavor=None, os_distro="debian11", force_host=None,
              image_id=None, props=None):
        """schedule_and_build_instances for one instance; returns its uuid."""
        o = self.objects
        iu = str(uuid.uuid4())
        flavor = flavor or self.flavor()
        image_id = image_id or str(uuid.uuid4())
        props = dict(props or {}, hw_architecture=arch, os_distro=os_distro)
        image = {"id": image_id, "name": "img-" + arch, "status": "active", "min_disk": 0,
                 "min_ram": 0, "properties": props}
        inst = o.Instance(uuid=iu, display_name=name, hostname=name, project_id="p1",
                          user_id="u1", flavor=flavor, image_ref=image_id, vm_state="building",
                          task_state="scheduling", vcpus=flavor.vcpus, memory_mb=flavor.memory_mb,
                          root_gb=flavor.root_gb, ephemeral_gb=0, metadata={},
                          availability_zone=None)
        br = o.BuildRequest(instance=inst, instance_uuid=iu, project_id="p1")
        spec = o.RequestSpec(instance_uuid=iu, flavor=flavor, num_instances=1,
                             project_id="p1", user_id="u1", ignore_hosts=None,
                             force_hosts=[force_host] if force_host else None,
                             image=o.ImageMeta.from_dict({"id": image_id, "name": "img",
                                                          "properties": props}),
                             scheduler_hints={})
        self.task_api.schedule_and_build_instances(
            self.ctx, build_requests=[br], request_spec=[spec], image=image,
            admin_password=None, injected_files=[], requested_networks=None,
            block_device_mapping=[])
        return iu

    def instance(self, uuid_):
        return self.objects.Instance(uuid=uuid_)

    def server(self, uuid_):
        return self.admin_call("server_show", uuid=uuid_)

    def wait_state(self, uuid_, states, timeout=60):
        def ok():
            s = self.server(uuid_)
            return s if s["vm_state"] in states and not s.get("task_state") else None
        return wait_for(ok, timeout, 0.2)


# --- the test peers -------------------------------------------------------------

def model_features(model):
    """Every feature of an x86 cpu_map model (tern-manage cpu baseline
    --features of that one CPU), as a host's capabilities list them."""
    import re
    path = os.path.join(os.environ.get("TMPDIR", "/tmp"), "tern-model-%d.xml" % os.getpid())
    with open(path, "w") as fh:
        fh.write("<cpus><cpu><arch>x86_64</arch><model>%s</model><vendor>Intel</vendor>"
                 "</cpu></cpus>" % model)
    r = subprocess.run([os.path.join(BUILD, "tern-manage"), "cpu", "baseline", path,
                        "--features"], capture_output=True, text=True, timeout=60)
    os.unlink(path)
    return re.findall(r'<feature policy="require" name="([^"]+)"', r.stdout)


def x86_node(host, model, features=None, vcpus=8, memory_mb=16384):
    if features is None:
        features = model_features(model)
    cpu_info = json.dumps({"arch": "x86_64", "model": model, "vendor": "Intel",
                           "topology": {"cells": 1, "sockets": 1, "cores": vcpus, "threads": 1},
                           "features": features})
    return {"hypervisor_hostname": host, "hypervisor_type": "QEMU",
            "hypervisor_version": 10000000, "virt_type": "qemu", "arch": "x86_64",
            "supported_instances": [["x86_64", "qemu", "hvm"], ["i686", "qemu", "hvm"]],
            "vcpus": vcpus, "memory_mb": memory_mb, "local_gb": 100, "cpu_info": cpu_info,
            "host_cpu": {"arch": "x86_64", "vendor": "Intel", "model": model,
                         "features": features},
            "guest_cpu": {"arch": "x86_64", "mode": "host-model", "model": model,
                          "features": []},
            "machine_types": ["pc-q35-10.0", "pc-i440fx-10.0"], "migration_addr": host}


def power9_node(host, vcpus=16, memory_mb=32768):
    cpu_info = json.dumps({"arch": "ppc64le", "model": "POWER9", "vendor": "IBM",
                           "topology": {"cells": 1, "sockets": 1, "cores": vcpus // 4,
                                        "threads": 4}, "features": []})
    return {"hypervisor_hostname": host, "hypervisor_type": "QEMU",
            "hypervisor_version": 10000000, "virt_type": "qemu", "arch": "ppc64le",
            "supported_instances": [["ppc64le", "qemu", "hvm"], ["ppc64", "qemu", "hvm"]],
            "vcpus": vcpus, "memory_mb": memory_mb, "local_gb": 100, "cpu_info": cpu_info,
            "host_cpu": {"arch": "ppc64le", "vendor": "IBM", "model": "POWER9", "features": []},
            "guest_cpu": {"arch": "ppc64le", "mode": "host-model", "model": "POWER9",
                          "features": []},
            "machine_types": ["pseries-10.0"], "migration_addr": host}


class PeerCompute:
    """Serves the compute methods the conductor uses on compute.<host> and
    reports to the conductor through namespace tern, as tern-compute does.
    fail_builds: answer every build with instance_build_failed."""

    def __init__(self, nova, host, node, fail_builds=False):
        om = nova.om
        self.nova = nova
        self.host = host
        self.node = node
        self.fail_builds = fail_builds
        self.migrate_mode = "complete"   # or "fail", "silent"
        self.builds = []
        self.calls = []
        outer = self

        class Endpoint:
            target = om.Target(version="6.1")

            def build_and_run_instance(self, context, instance, image, request_spec,
                                       filter_properties, accel_uuids=None, admin_password=None,
                                       injected_files=None, requested_networks=None,
                                       security_groups=None, block_device_mapping=None,
                                       node=None, limits=None, host_list=None):
                outer.builds.append({"uuid": instance.uuid, "image": image,
                                     "host_list": host_list, "node": node})
                threading.Thread(target=outer._build, args=(instance, image)).start()

            def check_can_live_migrate_destination(self, ctxt, instance, block_migration,
                                                   disk_over_commit, migration=None,
                                                   limits=None):
                outer.calls.append(("check_dest", instance.uuid, migration.uuid))
                return nova.objects.LibvirtLiveMigrateData(
                    is_shared_block_storage=False, is_shared_instance_path=False,
                    block_migration=True, graphics_listen_addr_vnc="127.0.0.1",
                    serial_listen_addr=None, target_connect_addr=outer.host)

            def live_migration(self, context, dest, instance, block_migration, migration,
                               migrate_data):
                outer.calls.append(("live_migration", instance.uuid, dest))
                threading.Thread(target=outer._migrate, args=(migration.uuid,)).start()

        self.server = om.get_rpc_server(nova.rpc.TRANSPORT, om.Target(topic="compute",
                                                                      server=host),
                                        [Endpoint()], executor="threading",
                                        serializer=nova.serializer,
                                        access_policy=om.DefaultRPCAccessPolicy)
        self.server.start()
        nova.tern_call("compute_node_report", host=host, node=node)
        nova.tern.cast(nova.ctx, "service_report", binary="tern-compute", host=host)
        self.stopping = threading.Event()
        self.beat = threading.Thread(target=self._heartbeats, daemon=True)
        self.beat.start()

    def _heartbeats(self):
        while not self.stopping.wait(5):
            try:
                self.heartbeat()
            except Exception:  # noqa: BLE001 (the broker may be going away at the end)
                pass

    def _build(self, instance, image):
        if self.fail_builds:
            self.nova.tern.cast(self.nova.ctx, "instance_build_failed",
                                instance_uuid=instance.uuid, host=self.host,
                                reason="simulated libvirt failure on " + self.host,
                                retryable=True)
            return
        arch = image["properties"].get("hw_architecture")
        gcpu = dict(self.node["guest_cpu"])
        gcpu["arch"] = arch
        self.nova.tern_call("instance_update", instance_uuid=instance.uuid,
                            updates={"vm_state": "active", "task_state": None,
                                     "power_state": 1, "guest_cpu": gcpu,
                                     "machine_type": self.node["machine_types"][0]})

    def _migrate(self, migration_uuid):
        t = self.nova.tern
        if self.migrate_mode == "silent":
            return
        if self.migrate_mode == "fail":
            t.call(self.nova.ctx, "migration_update", migration_uuid=migration_uuid,
                   updates={"status": "running", "progress": 10})
            t.call(self.nova.ctx, "migration_update", migration_uuid=migration_uuid,
                   updates={"status": "failed",
                            "error": "simulated: destination libvirtd went away"})
            return
        t.call(self.nova.ctx, "migration_update", migration_uuid=migration_uuid,
               updates={"status": "running", "progress": 40, "memory_total": 512 << 20,
                        "memory_processed": 200 << 20, "memory_remaining": 312 << 20})
        time.sleep(0.2)
        t.call(self.nova.ctx, "migration_update", migration_uuid=migration_uuid,
               updates={"status": "completed", "progress": 100,
                        "memory_processed": 512 << 20, "memory_remaining": 0})

    def heartbeat(self):
        self.nova.tern.cast(self.nova.ctx, "service_report", binary="tern-compute",
                            host=self.host)

    def stop(self):
        self.stopping.set()
        self.server.stop()
        self.server.wait()
