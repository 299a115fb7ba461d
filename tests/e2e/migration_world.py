"""migration_world.py: the shared world of tern's live-migration e2e tests
(tests/e2e/test-live-migration*.py, and the fault tests built on it).

What it runs, all real: the RabbitMQ and PostgreSQL of scripts/services
(a private vhost and database per world, from conductor_env.World), a
tern-conductor and a tern-scheduler, and two namespaced libvirt hosts from
scripts/hosts (default hosta, hostb), each with a real tern-compute started
through `scripts/hosts exec NAME` (qemu:///system inside the host, migration
over qemu+tcp on the host's private address). Guests are the busybox guests
of tests/e2e/guest-assets.sh (Debian kernel + initramfs printing
TERN-GUEST-COUNT n every second on the serial console), booted by direct
kernel boot through the conductor (Nova's ComputeTaskAPI
schedule_and_build_instances).

Use:

    import migration_world as mw
    mw.skip_unless_ready()            # prints TAP skip and exits when it cannot run
    w = mw.MigrationWorld("lm")       # services, hosts, conductor, scheduler, computes
    try:
        u = w.boot("x86_64")          # instance uuid, ACTIVE (raises on error)
        host = w.host_of(u)           # "hosta" or "hostb" (instances.host in PostgreSQL)
        w.wait_count(host, u, 3)      # the guest printed COUNT >= 3 on that host
        mig = w.live_migrate(u)       # no target: the scheduler picks; returns migration uuid
        m = w.wait_migration(mig)     # dict of the migrations row once final (or None)
        w.samples(mig)                # every distinct row state seen while it ran
        w.allocations(u, mig)         # [(consumer, host)] in PostgreSQL
        w.domstate("hostb", u)        # virsh domstate on that host (None if undefined)
        w.counts("hostb", u)          # [n, ...] console counter on that host
    finally:
        w.clean()

Other helpers: w.nova (conductor_env.Nova: task_api, admin_call(...)),
w.query(sql, *args), w.restart_compute(name, libvirt_extra={...}), w.abort(mig), w.force_complete(mig),
w.cli("migration", "show", mig) (the tern CLI),
w.kill_libvirtd(name) / w.start_libvirtd(name), w.virsh(name, *args),
w.hosts[name] = {"addr", "uri", "dir"}, w.other(host), w.tap (conductor_env.Tap).
Memory defaults: x86_64 256 MiB, ppc64le 512 MiB. Needs root (namespaces),
TERN_TEST_TRANSPORT_URL and TERN_TEST_DB_URL; guest assets in
$TERN_TEST_ASSETS (default /var/cache/tern-test-assets). A world leases its
hosts (host_lease: no other test uses them meanwhile), starts them if they
were not running, and then stops only those."""
import os
import re
import signal
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.environ.get("TERN_SRCDIR", os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(SRC, "tests", "integration"))
import conductor_env as env  # noqa: E402
import host_lease  # noqa: E402

ASSETS = os.environ.get("TERN_TEST_ASSETS", "/var/cache/tern-test-assets")
HOSTS_SCRIPT = os.path.join(SRC, "scripts", "hosts")
MEMORY = {"x86_64": 256, "ppc64le": 512}
KERNEL = {"x86_64": "vmlinuz", "ppc64le": "vmlinux"}
# The x86 guests' CPU: a named model, so the scheduler's and the
# destination's CPU checks have something real to compare.
CPU = {"cpu_mode": "custom", "cpu_models": "Nehalem", "cpu_model_extra_flags": "aes"}
FINAL = ("completed", "failed", "error", "cancelled")


def _have_assets():
    return all(os.path.exists(os.path.join(ASSETS, p)) and
               os.path.getsize(os.path.join(ASSETS, p)) > 0
               for p in ("x86_64/vmlinuz", "x86_64/initrd.gz", "ppc64le/vmlinux",
                         "ppc64le/initrd.gz"))


def skip_unless_ready():
    """Print a TAP skip and exit 0 when the world cannot be built here."""
    if not env.URL or not env.DB_URL:
        print("1..0 # SKIP TERN_TEST_TRANSPORT_URL / TERN_TEST_DB_URL not set "
              "(scripts/services start rabbitmq postgresql)")
        sys.exit(0)
    if os.environ.get("TERN_TEST_NO_HOSTS") == "1" or os.geteuid() != 0:
        print("1..0 # SKIP needs root for scripts/hosts (or TERN_TEST_NO_HOSTS=1)")
        sys.exit(0)
    if not _have_assets():
        script = os.path.join(SRC, "tests", "e2e", "guest-assets.sh")
        if os.path.exists(script):
            subprocess.call([script], stdout=subprocess.DEVNULL)
    if not _have_assets():
        print("1..0 # SKIP no guest assets in %s (tests/e2e/guest-assets.sh makes them)"
              % ASSETS)
        sys.exit(0)


class MigrationWorld:
    def __init__(self, name, hosts=("hosta", "hostb"), conductor_opts=None,
                 compute_extra=None):
        self.tap = env.Tap()
        self.world = env.World(name)
        self.tmp = self.world.tmp
        os.chmod(self.tmp, 0o755)
        self.names = list(hosts)
        self._samples = {}
        self.owned = set()      # domains clean() removes from the hosts
        self._watchers = {}
        self.started_hosts = False
        self.lease = host_lease.lease(self.names)
        try:
            self._start(conductor_opts, compute_extra)
        except BaseException:
            self.clean(keep=True)
            raise

    # ------------------------------------------------------------ start
    def _start(self, conductor_opts, compute_extra):
        self.images = os.path.join(self.tmp, "images")
        os.makedirs(self.images, exist_ok=True)
        for arch, kernel in KERNEL.items():
            os.symlink(os.path.join(ASSETS, arch, kernel),
                       os.path.join(self.images, "kernel-" + arch))
            os.symlink(os.path.join(ASSETS, arch, "initrd.gz"),
                       os.path.join(self.images, "initrd-" + arch))
        sdir = os.environ.get("TERN_SERVICES_DIR", "/tmp/tern-services")
        env_file = os.path.join(sdir, "hosts.env")
        text = open(env_file).read() if os.path.exists(env_file) else ""
        had = all("TERN_HOST_%s_ADDR" % n.upper() in text for n in self.names)
        r = subprocess.run([HOSTS_SCRIPT, "start"] + self.names, capture_output=True,
                           text=True, timeout=180)
        if r.returncode != 0:
            raise RuntimeError("scripts/hosts start failed: " + r.stderr[-2000:])
        self.started_hosts = not had
        henv = dict(re.findall(r"export (\w+)='([^']*)'", open(env_file).read()))
        self.hosts = {n: {"addr": henv["TERN_HOST_%s_ADDR" % n.upper()],
                          "uri": henv["TERN_HOST_%s_URI" % n.upper()],
                          "dir": os.path.join(sdir, "hosts", n)} for n in self.names}
        copts = {"conductor": {"stuck_migration_timeout": 120, "stuck_build_timeout": 300}}
        for sec, o in (conductor_opts or {}).items():
            copts.setdefault(sec, {}).update(o)
        self.world.start_scheduler()
        self.world.start_conductor(opts=copts)
        self.nova = env.Nova(self.world)
        self.compute_extra = compute_extra or {}
        for n in self.names:
            self.start_compute(n)
        got = env.wait_for(lambda: (lambda hl: hl if all(
            any(h["host"] == n for h in hl) for n in self.names) else None)(
            self.nova.admin_call("host_list")), 120, 0.5)
        if not got:
            raise RuntimeError("the computes did not report through the conductor")

    def _compute_conf(self, n, libvirt_extra=None):
        lv = {"virt_type": "qemu", "live_migration_scheme": "tcp",
              "live_migration_inbound_addr": self.hosts[n]["addr"]}
        lv.update(CPU)
        lv.update(self.compute_extra.get("libvirt", {}))
        lv.update(libvirt_extra or {})
        sections = {
            "DEFAULT": {"transport_url": self.world.url, "host": n, "report_interval": 2,
                        "shutdown_timeout": 5},
            "compute": {"instances_path": "/var/lib/tern/instances",
                        "images_path": self.images, "node_report_interval": 5},
            "libvirt": lv,
        }
        path = os.path.join(self.tmp, n + ".conf")
        with open(path, "w") as fh:
            for sec, opts in sections.items():
                fh.write("[%s]\n" % sec)
                for k, v in opts.items():
                    fh.write("%s = %s\n" % (k, v))
        os.chmod(path, 0o600)
        return path

    def start_compute(self, n, libvirt_extra=None):
        """tern-compute inside host n (its mount+UTS namespaces)."""
        conf = self._compute_conf(n, libvirt_extra)
        build = os.environ.get("TERN_BUILDDIR", ".")
        return self.world.start(n, [HOSTS_SCRIPT, "exec", n,
                                    os.path.join(os.path.abspath(build), "tern-compute"),
                                    "--config-file", conf],
                                ready="tern-compute started", timeout=120)

    def stop_compute(self, n):
        self.world.kill(n)

    def restart_compute(self, n, libvirt_extra=None):
        self.stop_compute(n)
        return self.start_compute(n, libvirt_extra)

    # ------------------------------------------------------------ guests
    def boot(self, arch, name=None, memory_mb=None, host=None, timeout=120):
        """Build one busybox guest of arch through the conductor (on host
        when given: Nova's force_hosts); its uuid once ACTIVE (RuntimeError
        with the record otherwise)."""
        mem = memory_mb or MEMORY[arch]
        flavor = self.nova.flavor("lm-%s-%d" % (arch, mem), vcpus=1, memory_mb=mem, root_gb=0)
        props = {"kernel_id": "kernel-" + arch, "ramdisk_id": "initrd-" + arch,
                 "os_command_line": "panic=-1"}
        if arch != os.uname().machine:
            # Nova's property for a guest emulated (TCG) on another arch's host
            props["hw_emulation_architecture"] = arch
        u = self.nova.build(name or "lm-" + arch, arch, flavor=flavor,
                            image_id="busybox-" + arch, props=props, force_host=host)
        self.owned.add(u)
        s = self.nova.wait_state(u, ["active", "error"], timeout)
        if not s or s["vm_state"] != "active":
            raise RuntimeError("guest %s (%s) not ACTIVE: %s" % (u, arch, s))
        return u

    def delete(self, u, timeout=60):
        try:
            self.nova.admin_call("server_action", uuid=u, action="delete")
        except Exception as e:  # noqa: BLE001 (cleanup)
            self.tap.note("delete %s: %s" % (u, e))
            return False
        return env.wait_for(lambda: not self.query(
            "SELECT 1 FROM instances WHERE uuid = %s AND NOT deleted", u),
            timeout, 0.5) is not None

    def host_of(self, u):
        r = self.query("SELECT host FROM instances WHERE uuid = %s", u)
        return r[0][0] if r else None

    def other(self, host):
        return [n for n in self.names if n != host][0]

    def console(self, host, u):
        return os.path.join(self.hosts[host]["dir"], "tern", "instances", u, "console.log")

    def console_text(self, host, u):
        try:
            with open(self.console(host, u), errors="replace") as fh:
                return fh.read()
        except OSError:
            return ""

    def counts(self, host, u):
        return [int(n) for n in re.findall(r"TERN-GUEST-COUNT (\d+)",
                                           self.console_text(host, u))]

    def wait_count(self, host, u, n, timeout=180):
        """The last counter value once >= n on host (None on timeout)."""
        def got():
            c = self.counts(host, u)
            return c[-1] if c and c[-1] >= n else None
        return env.wait_for(got, timeout, 0.5)

    # ------------------------------------------------------------ migration
    def live_migrate(self, u, host=None, via="nova"):
        """Start a live migration (host None: the scheduler picks). via
        "nova": ComputeTaskAPI.live_migrate_instance; "admin": tern_admin
        server_live_migrate. Returns the migration uuid; a refusal raises
        the remote exception (e.g. MigrationPreCheckError)."""
        before = {r[0] for r in self.query(
            "SELECT uuid::text FROM migrations WHERE instance_uuid = %s", u)}
        if via == "admin":
            kw = {"uuid": u}
            if host:
                kw["host"] = host
            m = self.nova.admin_call("server_live_migrate", timeout=120, **kw)
            mig = m["uuid"]
        else:
            self.nova.task_api.live_migrate_instance(
                self.nova.ctx, self.nova.instance(u), host, block_migration=None,
                disk_over_commit=None, request_spec=None, async_=False)
            rows = [r[0] for r in self.query(
                "SELECT uuid::text FROM migrations WHERE instance_uuid = %s ORDER BY id", u)
                if r[0] not in before]
            mig = rows[-1]
        self.watch(mig)
        return mig

    def cli(self, *args, timeout=60):
        """Run the `tern` CLI against this world; (returncode, stdout, stderr)."""
        conf = self.world.tern_conf("cli", {})
        build = os.environ.get("TERN_BUILDDIR", ".")
        r = subprocess.run([os.path.join(build, "tern"), "-t", "30", "--config-file", conf] +
                           list(args), capture_output=True, text=True, timeout=timeout)
        return r.returncode, r.stdout, r.stderr

    def abort(self, mig):
        """tern_admin migration_abort (Nova's live_migration_abort to the source)."""
        return self.nova.admin_call("migration_abort", uuid=mig)

    def force_complete(self, mig):
        """tern_admin migration_force_complete (Nova's live_migration_force_complete)."""
        return self.nova.admin_call("migration_force_complete", uuid=mig)

    def migration(self, mig):
        cols = ("uuid", "instance_uuid", "source_compute", "dest_compute", "status",
                "progress", "memory_total", "memory_processed", "memory_remaining",
                "disk_total", "error")
        r = self.query("SELECT %s FROM migrations WHERE uuid = %%s" %
                       ", ".join(c + ("::text" if "uuid" in c else "") for c in cols), mig)
        return dict(zip(cols, r[0])) if r else None

    def watch(self, mig, interval=0.2):
        """Sample the migrations row until final (samples(mig) gives them)."""
        seen = self._samples.setdefault(mig, [])
        conn = _connect(self.world.db_url)

        def run():
            end = time.time() + 900
            try:
                while time.time() < end:
                    cur = conn.cursor()
                    cur.execute("SELECT status, progress, memory_total, memory_processed, "
                                "memory_remaining FROM migrations WHERE uuid = %s", (mig,))
                    r = cur.fetchone()
                    if r and (not seen or seen[-1] != r):
                        seen.append(r)
                    if r and r[0] in FINAL:
                        break
                    time.sleep(interval)
            finally:
                conn.close()
        t = threading.Thread(target=run, daemon=True)
        t.start()
        self._watchers[mig] = t

    def samples(self, mig):
        """[(status, progress, memory_total, memory_processed, memory_remaining)]
        in the order seen."""
        return list(self._samples.get(mig, []))

    def wait_migration(self, mig, timeout=240, statuses=FINAL):
        """The migration row once its status is in statuses (None on timeout)."""
        return env.wait_for(lambda: (lambda m: m if m and m["status"] in statuses else None)(
            self.migration(mig)), timeout, 0.2)

    def allocations(self, *consumers):
        return self.world.allocations(*consumers)

    def usage(self, host):
        """(vcpus, memory_mb) allocated on host, all consumers."""
        r = self.query("SELECT coalesce(sum(a.vcpus), 0), coalesce(sum(a.memory_mb), 0) "
                       "FROM allocations a JOIN compute_nodes n ON n.id = a.node_id "
                       "WHERE n.host = %s", host)
        return (int(r[0][0]), int(r[0][1])) if r else (0, 0)

    def query(self, sql, *args):
        return self.world.query(sql, *args)

    # ------------------------------------------------------------ libvirt
    def virsh(self, host, *args, timeout=30):
        r = subprocess.run(["virsh", "-c", self.hosts[host]["uri"]] + list(args),
                           capture_output=True, text=True, timeout=timeout)
        return r.returncode, r.stdout.strip(), r.stderr.strip()

    def domstate(self, host, u):
        rc, out, _ = self.virsh(host, "domstate", u)
        return out if rc == 0 else None

    def defined(self, host):
        """uuids of every domain defined on host (None if libvirtd is down)."""
        rc, out, _ = self.virsh(host, "list", "--all", "--uuid")
        return out.split() if rc == 0 else None

    def kill_libvirtd(self, host):
        pid = int(open(os.path.join(self.hosts[host]["dir"], "run",
                                    "libvirtd.pid")).read().strip())
        os.kill(pid, signal.SIGKILL)
        return pid

    def start_libvirtd(self, host, timeout=60):
        subprocess.run([HOSTS_SCRIPT, "netexec", host, "/usr/sbin/libvirtd", "-d", "--listen",
                        "-p", "/run/libvirt/libvirtd.pid"], check=False, timeout=60)
        return env.wait_for(lambda: self.defined(host) is not None, timeout, 1) is not None

    # ------------------------------------------------------------ end
    def log(self, key):
        return self.world.log(key)

    def clean(self, keep=False):
        """Stop the daemons, drop vhost and database, remove the domains of
        this world's guests (self.owned: those boot() made; add others) from
        the hosts; stop the hosts if this world started them. keep: leave
        the logs (a failed run)."""
        for n in getattr(self, "hosts", {}):
            for u in (self.defined(n) or []):
                if u in self.owned:
                    self.virsh(n, "destroy", u)
                    self.virsh(n, "undefine", u, "--nvram")
        self.world.clean(keep=keep)
        if self.started_hosts:
            subprocess.run([HOSTS_SCRIPT, "stop"] + self.names, capture_output=True, timeout=120)
        host_lease.release(self.lease)


def _connect(url):
    import psycopg2
    c = psycopg2.connect(url)
    c.autocommit = True
    return c
