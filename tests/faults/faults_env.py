"""faults_env.py: what the fault tests share on top of
tests/integration/conductor_env.py: private services (a RabbitMQ, a
PostgreSQL and a libvirtd of the test's own, started with scripts/services
in a private TERN_SERVICES_DIR, so that restarting them disturbs no other
test), and the consistency check every fault case ends with:

  - every instance is in exactly one consistent state: ACTIVE with no task
    on one host, holding one claim there; or ERROR with a fault and no claim
    (or deleted, with no claim);
  - every compute node's usage in PostgreSQL (vcpus_used, memory_mb_used)
    is the sum of the live instances recorded on it (no claim counted twice,
    none leaked);
  - the libvirtd the test can ask (host c1's: a real libvirtd of the test's
    own with real QEMU/TCG guests) defines exactly the ACTIVE instances
    recorded on c1, each running: no guest on two hosts, no domain of an
    ERROR instance left;
  - the domain no instance owns on c1 is reported (host_show's
    unknown_domains).

Imported by tests/faults/test-faults-*.py; prints nothing itself."""
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.environ.get("TERN_SRCDIR", os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(SRC, "tests", "integration"))

# a domain the test defines on c1's libvirtd and no instance owns
ORPHAN = "0f0f0f0f-1111-4222-8333-444444444444"
ORPHAN_XML = """<domain type='qemu'><name>orphan-by-hand</name>
<uuid>%s</uuid><memory unit='MiB'>32</memory><vcpu>1</vcpu>
<os><type arch='x86_64'>hvm</type></os></domain>""" % ORPHAN


class PrivateServices:
    """scripts/services in a folder of this test's own."""

    def __init__(self, names):
        self.dir = tempfile.mkdtemp(prefix="tern-faults-svc-")
        self.names = names
        self.env = dict(os.environ, TERN_SERVICES_DIR=self.dir, TERN_SERVICES_TLS="0")
        r = self.run("start", *names)
        if r.returncode != 0:
            raise RuntimeError("scripts/services start failed: " + r.stdout + r.stderr)
        for line in open(os.path.join(self.dir, "env")):
            line = line.strip()
            if line.startswith("export "):
                k, v = line[len("export "):].split("=", 1)
                os.environ[k] = v.strip("'")

    def run(self, *args):
        return subprocess.run([os.path.join(SRC, "scripts", "services")] + list(args),
                              env=self.env, capture_output=True, text=True, timeout=300)

    def restart(self, name):
        return self.run("restart", name)

    def stop(self):
        self.run("stop")
        import shutil
        shutil.rmtree(self.dir, ignore_errors=True)

    def define_orphan(self):
        """A domain nobody's instance owns, defined by hand on the libvirtd."""
        path = os.path.join(self.dir, "orphan.xml")
        with open(path, "w") as fh:
            fh.write(ORPHAN_XML)
        subprocess.run(["virsh", "-q", "-c", os.environ["TERN_TEST_LIBVIRT_URI"], "define",
                        path], check=True, capture_output=True, timeout=60)


def virsh_uuids(uri, state="--all"):
    r = subprocess.run(["virsh", "-q", "-c", uri, "list", state, "--uuid"],
                       capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise RuntimeError("virsh list: " + r.stderr)
    return set(x.strip() for x in r.stdout.splitlines() if x.strip())


def check_consistent(tap, world, nova, label, uuids, lv_host, lv_uri, hosts, settle=20):
    """The end state every fault case must reach (module docstring), within
    settle seconds (a compute removes a leftover domain at its next node
    report)."""
    import time
    end = time.time() + settle
    while True:
        problems = _problems(world, uuids, lv_host, lv_uri, hosts)
        if not problems or time.time() > end:
            break
        time.sleep(1)
    return tap.check("%s: every instance consistent, usage = live instances, libvirt agrees"
                     % label, not problems, "\n".join(problems))


def _problems(world, uuids, lv_host, lv_uri, hosts):
    problems = []
    rows = {r[0]: r for r in world.query(
        "SELECT uuid::text, vm_state, task_state, host, vcpus, memory_mb FROM instances "
        "WHERE NOT deleted")}
    allocs = world.allocations()
    deleted = {r[0] for r in world.query("SELECT uuid::text FROM instances WHERE deleted")}
    for u in uuids:
        r = rows.get(u)
        if not r and u in deleted:
            if [a for a in allocs if a[0] == u]:
                problems.append("%s: deleted but still claims" % u)
            continue
        if not r:
            problems.append("%s: not recorded" % u)
            continue
        _, vm, task, host, _, _ = r
        mine = [a for a in allocs if a[0] == u]
        if vm == "active":
            if task is not None or host not in hosts:
                problems.append("%s: active but task %s, host %s" % (u, task, host))
            if mine != [(u, host)]:
                problems.append("%s: active on %s but claims %s" % (u, host, mine))
        elif vm == "error":
            n = world.query("SELECT count(*) FROM instance_faults WHERE instance_uuid = %s", u)
            if not n or n[0][0] < 1:
                problems.append("%s: ERROR without a fault" % u)
            if mine:
                problems.append("%s: ERROR but still claims %s" % (u, mine))
        else:
            problems.append("%s: left %s/%s on %s" % (u, vm, task, host))
    # usage = the sum of the live instances on each node
    for host, vused, mused in world.query(
            "SELECT host, vcpus_used, memory_mb_used FROM compute_nodes"):
        live = [r for r in rows.values() if r[3] == host and r[1] == "active"]
        want = (sum(r[4] for r in live), sum(r[5] for r in live))
        if (vused, mused) != want:
            problems.append("node %s: usage %s vcpus / %s MB, live instances %s / %s"
                            % (host, vused, mused, want[0], want[1]))
    # claims of consumers that are not live instances (or running migrations)
    live_uuids = {r[0] for r in rows.values() if r[1] == "active"}
    running = {r[0] for r in world.query(
        "SELECT uuid::text FROM migrations WHERE status NOT IN "
        "('completed', 'failed', 'error', 'cancelled')")}
    for a in allocs:
        if a[0] not in live_uuids and a[0] not in running:
            problems.append("claim of %s on %s belongs to no live instance" % a)
    # libvirt's truth on the host the test can ask
    if lv_uri:
        doms = virsh_uuids(lv_uri) - {ORPHAN}
        on_host = {u for u, r in rows.items() if r[3] == lv_host and r[1] == "active"}
        if doms != on_host:
            problems.append("libvirt of %s defines %s, the database has ACTIVE there %s"
                            % (lv_host, sorted(doms), sorted(on_host)))
        stopped = doms - virsh_uuids(lv_uri, "--state-running")
        if stopped:
            problems.append("domains of %s not running: %s" % (lv_host, sorted(stopped)))
    return problems
