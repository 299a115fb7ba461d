#!/usr/bin/python3
"""test-conductor-fleet.py: the conductor's mixed-fleet rules (issue 13,
docs/fleet.md) with the real tern-scheduler and tern-conductor on real
RabbitMQ + PostgreSQL, driven through python3-nova's ComputeTaskAPI and the
`tern` CLI:

  - each gate of etc/tern/feature-gates.ini (and a test gate on a display
    protocol) refuses the gated request in the conductor with the gate's
    reason before any compute hears of it; `[feature_gates] overrides`
    lets it through;
  - `tern host show` lists a host's gates, refused or overridden;
  - forced-host builds and live migrations keep the PowerKVM endianness
    rule and hard anti-affinity, atomically (two forced moves racing to one
    host: exactly one goes).

The computes are test peers (conductor_env.PeerCompute): every request that
reaches one is recorded, which is how "no compute saw it" is checked."""
import os
import subprocess
import sys
import threading
import uuid as uuidlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import conductor_env as env  # noqa: E402

env.skip_unless_services()
tap = env.Tap()
world = env.World("fleet")
B = os.environ.get("TERN_BUILDDIR", ".")
S = os.environ.get("TERN_SRCDIR", ".")
SHIPPED = os.path.join(S, "etc", "tern", "feature-gates.ini")
# The shipped gates plus one on a display protocol (none ships yet).
GATES = os.path.join(world.tmp, "feature-gates.ini")
with open(SHIPPED) as src, open(GATES, "w") as dst:
    dst.write(src.read())
    dst.write("\n[gate test-vnc-before-qemu-9]\narch = x86_64\nversion_below = 9.0.0\n"
              "deny = display:vnc\nreason = test gate: no VNC before QEMU 9\n")
ALL_GATES = "ppc64le-tcg-live-migration, pseries-legacy-disk-buses, test-vnc-before-qemu-9"
computes = {}


def conductor_opts(overrides=""):
    return {"feature_gates": {"file": GATES, "overrides": overrides},
            "filter_scheduler": {"single_guest_endianness": "true"}}


def tern(*args):
    r = subprocess.run([os.path.join(B, "tern"), "-t", "20", "--config-file", cli_conf] +
                       list(args), capture_output=True, text=True, timeout=90)
    return r.returncode, r.stdout, r.stderr


def migrate(uuid_, host):
    """A forced live migration: None when accepted, else the refusal's text."""
    try:
        nova.task_api.live_migrate_instance(nova.ctx, nova.instance(uuid_), host,
                                            block_migration=None, disk_over_commit=None,
                                            request_spec=None, async_=False)
        return None
    except Exception as e:  # noqa: BLE001 (MigrationPreCheckError, NoValidHost...)
        return "%s: %s" % (type(e).__name__, e)


def wait_migration(uuid_, timeout=30):
    return env.wait_for(lambda: (lambda x: x if x["status"] in
                                 ("completed", "error", "failed") else None)(
        nova.admin_call("migration_show", uuid=uuid_)), timeout)


def distro(arch):
    """A guest OS built for arch (osinfo-db): Debian 11 has no big-endian
    ppc64 port (the scheduler's GuestOSArchFilter refuses it); CentOS 7
    had one."""
    return "centos7.0" if arch == "ppc64" else "debian11"


def build(name, arch, force_host=None, props=None, group=None):
    """schedule_and_build_instances of one instance; group = (uuid, policy)."""
    if not group:
        return nova.build(name, arch, force_host=force_host, props=props,
                          os_distro=distro(arch))
    o = nova.objects
    iu = str(uuidlib.uuid4())
    image_id = str(uuidlib.uuid4())
    flavor = nova.flavor()
    props = dict(props or {}, hw_architecture=arch, os_distro=distro(arch))
    image = {"id": image_id, "name": "img", "status": "active", "min_disk": 0, "min_ram": 0,
             "properties": props}
    inst = o.Instance(uuid=iu, display_name=name, hostname=name, project_id="p1", user_id="u1",
                      flavor=flavor, image_ref=image_id, vm_state="building",
                      task_state="scheduling", vcpus=1, memory_mb=512, root_gb=1,
                      ephemeral_gb=0, metadata={}, availability_zone=None)
    grp = o.InstanceGroup(uuid=group[0], policy=group[1], hosts=[], members=[])
    spec = o.RequestSpec(instance_uuid=iu, flavor=flavor, num_instances=1, project_id="p1",
                         user_id="u1", ignore_hosts=None,
                         force_hosts=[force_host] if force_host else None,
                         image=o.ImageMeta.from_dict({"id": image_id, "name": "img",
                                                      "properties": props}),
                         scheduler_hints={}, instance_group=grp)
    nova.task_api.schedule_and_build_instances(
        nova.ctx, build_requests=[o.BuildRequest(instance=inst, instance_uuid=iu,
                                                 project_id="p1")],
        request_spec=[spec], image=image, admin_password=None, injected_files=[],
        requested_networks=None, block_device_mapping=[])
    return iu


def built_anywhere(uuid_):
    return [h for h, c in computes.items() if any(b["uuid"] == uuid_ for b in c.builds)]


def asked_anything(*hosts):
    return [(h, c) for h in hosts for c in computes[h].calls]


def fault_of(s):
    return (s or {}).get("faults") and s["faults"][0]["message"] or ""


try:
    world.start_scheduler(opts={"feature_gates": {"file": SHIPPED},
                                "filter_scheduler": {"single_guest_endianness": "true"}})
    world.start_conductor(opts=conductor_opts())
    cli_conf = world.tern_conf("cli", {})
    nova = env.Nova(world)

    SKY = "Skylake-Client-IBRS"
    nodes = {
        "p10a": env.power9_node("p10a"), "p10b": env.power9_node("p10b"),
        "p72": env.power9_node("p72"),
        "x86-a": env.x86_node("x86-a", SKY), "x86-b": env.x86_node("x86-b", SKY),
        "x86-c": env.x86_node("x86-c", SKY), "x86-q9": env.x86_node("x86-q9", SKY),
        "x86-mt": env.x86_node("x86-mt", SKY),
    }
    nodes["x86-mt"]["machine_types"] = ["pc-q35-9.2", "pc-i440fx-9.2"]
    nodes["p10a"]["hypervisor_version"] = nodes["p10b"]["hypervisor_version"] = 10000002
    nodes["p72"]["hypervisor_version"] = 7002000
    nodes["x86-q9"]["hypervisor_version"] = 8002000
    for h, n in nodes.items():
        computes[h] = env.PeerCompute(nova, h, n)
    import time
    time.sleep(1)   # the scheduler's cache follows the change feed

    # --- tern host show: the gates of a host -------------------------------------------
    rc, out, err = tern("host", "show", "p72", "-f", "json")
    import json
    gates = json.loads(out)["gates"] if rc == 0 else []
    tap.note("p72 gates: " + "; ".join(gates))
    tap.check("tern host show p72: live_migration of ppc64le refused, with the gate and reason",
              any(g.startswith("ppc64le guests (qemu, QEMU 7.2.0): live_migration refused by "
                               "gate ppc64le-tcg-live-migration: ppc64le guests under TCG stall")
                  for g in gates), (rc, out, err))
    tap.check("tern host show p72: ide, sata, fdc refused for ppc64le and ppc64 guests",
              all(any(g.startswith("%s guests" % a) and ("disk_bus:%s refused by gate "
                                                         "pseries-legacy-disk-buses" % b) in g
                      for g in gates)
                  for a in ("ppc64le", "ppc64") for b in ("ide", "sata", "fdc")), gates)
    tap.check("tern host show p72: no live-migration gate for ppc64 (big-endian) guests",
              not any(g.startswith("ppc64 guests") and "live_migration" in g for g in gates),
              gates)
    rc, out, err = tern("host", "show", "p10a", "-f", "json")
    g10 = json.loads(out)["gates"] if rc == 0 else []
    tap.check("tern host show p10a (QEMU 10.0.2): live migration not gated, disk buses are",
              g10 and not any("live_migration" in g for g in g10)
              and any("disk_bus:ide refused" in g for g in g10), g10)
    rc, out, err = tern("host", "show", "x86-a")
    tap.check("tern host show x86-a (table): x86_64 guests, every operation allowed",
              rc == 0 and "x86_64 guests (qemu, QEMU 10.0.0): every operation allowed" in out
              and "gates" in out, out + err)

    # --- gate ppc64le-tcg-live-migration --------------------------------------------------
    u1 = build("le-1", "ppc64le", force_host="p10a")
    u2 = build("le-2", "ppc64le", force_host="p72")
    s1 = nova.wait_state(u1, ["active", "error"])
    s2 = nova.wait_state(u2, ["active", "error"])
    tap.check("ppc64le guests ACTIVE on p10a and on p72 (builds are not live migrations)",
              s1 and s1["host"] == "p10a" and s2 and s2["host"] == "p72", (s1, s2))
    for c in computes.values():
        c.calls.clear()
    why = migrate(u1, "p72")
    tap.note("refusal: %s" % why)
    tap.check("to a QEMU 7.2 TCG host: MigrationPreCheckError naming the destination, the "
              "gate, its reason and the override",
              why and why.startswith("MigrationPreCheckError") and "destination host p72" in why
              and "(ppc64le-tcg-live-migration)" in why and "stall" in why
              and "overrides = ppc64le-tcg-live-migration" in why, why)
    tap.check("gated: neither compute was asked anything", not asked_anything("p10a", "p72"),
              asked_anything("p10a", "p72"))
    migs = nova.admin_call("migration_list", instance_uuid=u1)
    tap.check("gated: the migration record is error with the gate's reason",
              migs and migs[0]["status"] == "error"
              and "ppc64le-tcg-live-migration" in (migs[0]["error"] or ""), migs)
    tap.check("gated: no claim on p72 beyond le-2's, instance left as it was",
              sorted(a for a in world.allocations() if a[1] == "p72") == [(u2, "p72")]
              and nova.server(u1)["task_state"] is None, world.allocations())
    why = migrate(u2, "p10b")
    tap.check("from a QEMU 7.2 TCG host (gated source): refused naming the source",
              why and "source host p72" in why and "ppc64le-tcg-live-migration" in why, why)
    why = migrate(u2, None)
    tap.check("from the gated source, scheduler choosing: refused naming the source",
              why and "source host p72" in why and "ppc64le-tcg-live-migration" in why, why)
    tap.check("gated source: no compute was asked anything",
              not asked_anything(*computes), asked_anything(*computes))
    tap.check("gated source: no claim left for the refused migrations",
              sorted(world.allocations()) == sorted([(u1, "p10a"), (u2, "p72")]),
              world.allocations())

    # --- gate pseries-legacy-disk-buses -----------------------------------------------------
    refused = {}
    for bus in ("ide", "sata", "fdc"):
        refused[bus] = build("le-" + bus, "ppc64le", force_host="p10a",
                             props={"hw_disk_bus": bus})
    ube = build("be-cdrom-ide", "ppc64", props={"hw_cdrom_bus": "ide"})
    for bus, u in list(refused.items()) + [("cdrom ide", ube)]:
        s = nova.wait_state(u, ["active", "error"])
        f = fault_of(s)
        tap.check("hw %s bus on POWER: ERROR, the fault naming the operation, the gate and the "
                  "reason" % bus,
                  s and s["vm_state"] == "error" and "pseries-legacy-disk-buses" in f
                  and ("disk_bus:%s" % bus.split()[-1]) in f and "no IDE, SATA" in f, (s, f))
        tap.check("hw %s bus on POWER: no compute got the build, no claim left" % bus,
                  not built_anywhere(u) and not world.allocations(u),
                  (built_anywhere(u), world.allocations(u)))
    tap.note("fault: " + fault_of(nova.server(ube)))
    ux = build("x86-ide", "x86_64", force_host="x86-b", props={"hw_disk_bus": "ide"})
    s = nova.wait_state(ux, ["active", "error"])
    tap.check("hw_disk_bus=ide on x86_64 (gate is POWER only): ACTIVE",
              s and s["vm_state"] == "active" and built_anywhere(ux) == ["x86-b"], s)

    # --- machine types: a forced move keeps the versioned type ---------------------
    for c in computes.values():
        c.calls.clear()
    why = migrate(ux, "x86-mt")
    tap.check("forced live migration to a host without the instance's pc-q35-10.0: refused "
              "naming it, nothing asked",
              why and "does not offer machine type pc-q35-10.0" in why
              and not asked_anything(*computes), why)

    # --- a display gate (test gate: no VNC before QEMU 9) ------------------------------
    uq = build("x86-vnc", "x86_64", force_host="x86-q9")
    s = nova.wait_state(uq, ["active", "error"])
    tap.check("display:vnc gated on x86-q9 (QEMU 8.2): ERROR naming the gate, not built",
              s and s["vm_state"] == "error" and "display:vnc" in fault_of(s)
              and "test-vnc-before-qemu-9" in fault_of(s) and not built_anywhere(uq),
              (s, fault_of(s)))

    # --- forced hosts keep endianness and anti-affinity -------------------------------
    ub = build("be-1", "ppc64", force_host="p10a")
    s = nova.wait_state(ub, ["active", "error"])
    tap.check("forced build of a big-endian guest on a host running little-endian ones: "
              "ERROR naming the endianness rule",
              s and s["vm_state"] == "error" and "single_guest_endianness" in fault_of(s)
              and not built_anywhere(ub), (s, fault_of(s)))
    # p10b, the one POWER host without little-endian guests, takes a big-endian
    # one; then le-1 (on p10a) forced onto it is refused
    ub = build("be-2", "ppc64")
    s = nova.wait_state(ub, ["active", "error"])
    be_host = s and s["host"]
    tap.check("a big-endian guest lands on a POWER host with no little-endian guest",
              be_host == "p10b", s)
    for c in computes.values():
        c.calls.clear()
    why = migrate(u1, be_host)
    tap.check("forced live migration of a little-endian guest to a host running a big-endian "
              "one: refused with the endianness rule, nothing asked",
              why and "single_guest_endianness" in why and not asked_anything(*computes), why)

    G = str(uuidlib.uuid4())
    m1 = build("aa-1", "x86_64", force_host="x86-a", group=(G, "anti-affinity"))
    m2 = build("aa-2", "x86_64", force_host="x86-b", group=(G, "anti-affinity"))
    sm = [nova.wait_state(u, ["active", "error"]) for u in (m1, m2)]
    tap.check("anti-affinity members ACTIVE on x86-a and x86-b",
              [s and s["host"] for s in sm] == ["x86-a", "x86-b"], sm)
    m3 = build("aa-3", "x86_64", force_host="x86-a", group=(G, "anti-affinity"))
    s = nova.wait_state(m3, ["active", "error"])
    tap.check("forced build of a third member onto a member's host: ERROR naming the group",
              s and s["vm_state"] == "error" and G in fault_of(s) and not built_anywhere(m3),
              (s, fault_of(s)))
    for c in computes.values():
        c.calls.clear()
    why = migrate(m2, "x86-a")
    tap.check("forced live migration of a member onto another member's host: refused naming "
              "the group, nothing asked",
              why and G in why and "anti-affinity" in why and not asked_anything(*computes), why)
    # two members forced to one empty host at the same moment: one goes
    computes["x86-a"].migrate_mode = computes["x86-b"].migrate_mode = "silent"
    results = {}

    def race(u):
        results[u] = migrate(u, "x86-c")
    threads = [threading.Thread(target=race, args=(u,)) for u in (m1, m2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    went = [u for u, r in results.items() if r is None]
    lost = [r for r in results.values() if r is not None]
    tap.check("two members forced to one empty host at once: exactly one goes, the other is "
              "refused naming the group",
              len(went) == 1 and len(lost) == 1 and G in lost[0], results)
    held = [a for a in world.allocations() if a[1] == "x86-c"]
    tap.check("x86-c holds one migration's claim only", len(held) == 1, held)
    if went:
        mg = nova.admin_call("migration_list", instance_uuid=went[0])[0]
        nova.tern_call("migration_update", migration_uuid=mg["uuid"],
                       updates={"status": "completed", "progress": 100})
        rows = world.query("SELECT host FROM server_group_members WHERE consumer_uuid = %s",
                           went[0])
        tap.check("completed: the member's recorded host follows it to x86-c",
                  rows == [("x86-c",)], rows)
    computes["x86-a"].migrate_mode = computes["x86-b"].migrate_mode = "complete"
    # the member left on its source is deleted (the compute reports it): its
    # membership goes with it, so its host takes another member
    stay = [u for u in (m1, m2) if u not in went]
    if stay:
        src = nova.server(stay[0])["host"]
        nova.tern_call("instance_update", instance_uuid=stay[0],
                       updates={"vm_state": "deleted", "task_state": None, "power_state": 0})
        rows = world.query("SELECT count(*) FROM server_group_members WHERE consumer_uuid = %s",
                           stay[0])
        tap.check("a deleted member is no longer a member of its group", rows == [(0,)], rows)
        m4 = build("aa-4", "x86_64", force_host=src, group=(G, "anti-affinity"))
        s = nova.wait_state(m4, ["active", "error"])
        tap.check("its host takes a new member of the anti-affinity group",
                  s and s["vm_state"] == "active" and s["host"] == src, s)

    # --- the override lets each gate through ---------------------------------------------
    world.kill("cond1")
    world.start_conductor(opts=conductor_opts(ALL_GATES))
    rc, out, err = tern("host", "show", "p72", "-f", "json")
    gates = json.loads(out)["gates"] if rc == 0 else []
    tap.check("tern host show p72 with the overrides: live_migration allowed, overridden",
              any("live_migration allowed: overridden ([feature_gates] overrides) by gate "
                  "ppc64le-tcg-live-migration" in g for g in gates), gates)
    for c in computes.values():
        c.calls.clear()
    why = migrate(u1, "p72")
    tap.check("override ppc64le-tcg-live-migration: the migration to p72 proceeds",
              why is None, why)
    mg = nova.admin_call("migration_list", instance_uuid=u1)[0]
    done = wait_migration(mg["uuid"])
    tap.check("override: p72 checked as destination, p10a told to migrate, completed",
              ("check_dest", u1, mg["uuid"]) in computes["p72"].calls
              and ("live_migration", u1, "p72") in computes["p10a"].calls
              and done and done["status"] == "completed", (done, asked_anything(*computes)))
    uo = build("le-ide-ok", "ppc64le", force_host="p10a", props={"hw_disk_bus": "ide"})
    s = nova.wait_state(uo, ["active", "error"])
    tap.check("override pseries-legacy-disk-buses: the ide build reaches p10a and is ACTIVE",
              s and s["vm_state"] == "active" and built_anywhere(uo) == ["p10a"], s)
    uq = build("x86-vnc-ok", "x86_64", force_host="x86-q9")
    s = nova.wait_state(uq, ["active", "error"])
    tap.check("override test-vnc-before-qemu-9: the build reaches x86-q9",
              s and s["vm_state"] == "active" and built_anywhere(uq) == ["x86-q9"], s)

    # --- a bad override is a configuration error --------------------------------------
    world.kill("cond1")
    conf = world.tern_conf("cond-bad", conductor_opts("no-such-gate"))
    r = subprocess.run([os.path.join(B, "tern-conductor"), "--config-file", conf],
                       capture_output=True, text=True, timeout=60)
    tap.check("[feature_gates] overrides naming no gate: the conductor refuses to start",
              r.returncode != 0 and "no-such-gate" in (r.stdout + r.stderr),
              (r.returncode, r.stderr[-500:]))

    bad = env.sanitizer_reports(world.log, ("cond1",))
    tap.check("conductor log: no sanitizer report, no GLib critical", not bad, bad[:10])
except Exception:  # noqa: BLE001
    import traceback
    tap.check("test ran to the end", False, traceback.format_exc())
finally:
    for cpt in computes.values():
        try:
            cpt.stop()
        except Exception:  # noqa: BLE001
            pass
    env.close_nova_transport()
    world.clean(keep=bool(tap.failed))
rc = tap.done()
sys.stdout.flush()
os._exit(rc)   # oslo's reply listener threads would keep a finished test alive
