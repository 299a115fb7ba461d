#!/usr/bin/python3
"""test-cli-daemons.py: the `tern` CLI against the real tern-conductor and
tern-scheduler on real RabbitMQ + PostgreSQL (a private vhost and database,
tests/integration/conductor_env.py): hosts reported by computes show in
`host list`/`host show`, servers built through the scheduler show ACTIVE in
`server list`, a live migration chosen by the scheduler completes with the
progress lines and moves the server, the conductor's refusals come out as
actionable messages, and a stopped conductor gives the timeout advice.

The computes are conductor_env's PeerCompute (they serve build and live
migration on compute.<host> and report through namespace tern as
tern-compute does); the quickstart test (TERN_TEST_QUICKSTART=1) runs the
real tern-compute."""
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import conductor_env as env  # noqa: E402

env.skip_unless_services()
tap = env.Tap()
world = env.World("cli")
B = os.environ.get("TERN_BUILDDIR", ".")
S = os.environ.get("TERN_SRCDIR", ".")


def tern(*args, timeout=30):
    r = subprocess.run([os.path.join(B, "tern"), "-t", "20", "--config-file", conf] +
                       list(args), capture_output=True, text=True, timeout=timeout + 60)
    return r.returncode, r.stdout, r.stderr


def tern_json(*args):
    rc, out, err = tern(*args, "-f", "json")
    try:
        return rc, json.loads(out), err
    except ValueError:
        return rc, None, err


try:
    world.start_conductor()
    world.start("sched", [os.path.join(B, "tern-scheduler"), "--config-file",
                          world.tern_conf("sched", {})], ready="tern-scheduler started")
    nova = env.Nova(world)
    SKY = "Skylake-Client-IBRS"
    computes = [env.PeerCompute(nova, "hosta", env.x86_node("hosta", SKY, [])),
                env.PeerCompute(nova, "hostb", env.x86_node("hostb", SKY, [])),
                env.PeerCompute(nova, "p9", env.power9_node("p9"))]
    conf = world.tern_conf("cli", {})
    shutil.copy(os.path.join(S, "etc/tern/flavors.ini"), world.tmp)
    with open(os.path.join(world.tmp, "images.ini"), "w") as fh:
        fh.write("[busybox-x86_64]\nhw_architecture = x86_64\nos_distro = debian11\n"
                 "[busybox-ppc64le]\nhw_architecture = ppc64le\nos_distro = debian11\n")

    # --- hosts ---------------------------------------------------------------------------
    rc, hosts, err = tern_json("host", "list")
    tap.check("host list -f json: the three reported hosts, up and enabled",
              rc == 0 and sorted(h["Host"] for h in hosts) == ["hosta", "hostb", "p9"]
              and all(h["State"] == "up" and h["Status"] == "enabled" for h in hosts), err)
    tap.check("host list -f json: arch and CPU model from the reports",
              rc == 0 and {h["Host"]: (h["Arch"], h["CPU Model"]) for h in hosts}["p9"][0] ==
              "ppc64le", hosts)
    rc, out, err = tern("host", "list")
    tap.check("host list table: header and a row per host",
              rc == 0 and "| Host " in out and out.count("| up ") == 3, out + err)
    rc, show, err = tern_json("host", "show", "p9")
    tap.check("host show -f json: arch, machine types, supported instances",
              rc == 0 and show["arch"] == "ppc64le" and "pseries-10.0" in show["machine_types"]
              and ["ppc64le", "qemu", "hvm"] in show["supported_instances"], show or err)
    rc, out, err = tern("host", "show", "hosta")
    tap.check("host show table: Field/Value with the CPU model",
              rc == 0 and "| Field" in out and SKY in out, out + err)
    rc, out, err = tern("host", "show", "nosuch")
    tap.check("host show unknown: exit 1, points to host list",
              rc == 1 and "Compute host nosuch could not be found. See `tern host list`" in err,
              err)
    rc, h, err = tern_json("host", "disable", "hostb", "--reason", "maintenance")
    tap.check("host disable --reason: disabled, reason kept",
              rc == 0 and h["disabled"] is True and h["disabled_reason"] == "maintenance", h or err)
    rc, out, err = tern("host", "list", "-f", "value", "-c", "Host", "-c", "Status")
    tap.check("host list -f value shows hostb disabled", "hostb disabled" in out, out + err)
    rc, h, err = tern_json("host", "enable", "hostb")
    tap.check("host enable", rc == 0 and h["disabled"] is False, h or err)

    # --- servers -----------------------------------------------------------------------
    rc, vx, err = tern_json("server", "create", "vm-x86", "--image", "busybox-x86_64",
                            "--flavor", "m1.nano", "--wait")
    tap.check("server create --wait (x86_64): ACTIVE on an x86 host",
              rc == 0 and vx["status"] == "ACTIVE" and vx["host"] in ("hosta", "hostb"),
              vx or err)
    rc, vp, err = tern_json("server", "create", "vm-ppc", "--image", "busybox-ppc64le",
                            "--flavor", "m1.tiny", "--wait")
    tap.check("server create --wait (ppc64le): ACTIVE on the POWER9 host",
              rc == 0 and vp["status"] == "ACTIVE" and vp["host"] == "p9", vp or err)
    rc, servers, err = tern_json("server", "list")
    tap.check("server list -f json: both ACTIVE",
              rc == 0 and sorted((s["Name"], s["Status"]) for s in servers) ==
              [("vm-ppc", "ACTIVE"), ("vm-x86", "ACTIVE")], servers or err)
    rc, out, err = tern("server", "list")
    tap.check("server list table: ID, Name, Status, Host columns",
              rc == 0 and "| ID " in out and "| vm-ppc " in out and "| p9 " in out, out + err)
    rc, s, err = tern_json("server", "show", "vm-ppc")
    tap.check("server show by name -f json: flavor and faults",
              rc == 0 and s["name"] == "vm-ppc" and s["faults"] == [] and s["arch"] == "ppc64le",
              s or err)
    rc, out, err = tern("server", "show", vx["uuid"] if vx else "x")
    tap.check("server show by uuid: table", rc == 0 and "| vm-x86 " in out, out + err)

    # --- live migration ------------------------------------------------------------------
    src = vx["host"] if vx else None
    rc, m, err = tern_json("server", "migrate", "vm-x86", "--live", "--wait")
    tap.check("server migrate --live --wait: completed to the other x86 host",
              rc == 0 and m["status"] == "completed" and m["source_compute"] == src and
              m["dest_compute"] in ("hosta", "hostb") and m["dest_compute"] != src, (m, err))
    tap.check("progress lines on stderr: transferred, remaining, completed",
              "MiB transferred" in err and "remaining" in err and "completed" in err, err)
    rc, servers, err = tern_json("server", "list")
    moved = {s["Name"]: s["Host"] for s in servers or []}
    tap.check("server list: the migrated server on its new host",
              m is not None and moved.get("vm-x86") == m["dest_compute"], (moved, err))
    rc, ml, err = tern_json("migration", "list", "--server", "vm-x86")
    tap.check("migration list --server -f json", rc == 0 and len(ml) == 1 and
              ml[0]["Status"] == "completed" and ml[0]["Progress"] == "100%", ml or err)
    rc, out, err = tern("migration", "show", m["uuid"] if m else "x")
    tap.check("migration show table: memory fields", rc == 0 and "memory_total" in out and
              "| completed " in out, out + err)
    rc, out, err = tern("migration", "show", "6a0e1c1a-0000-4000-8000-000000000000")
    tap.check("migration show unknown: exit 1, points to migration list",
              rc == 1 and "See `tern migration list`" in err, err)

    # --- refusals ----------------------------------------------------------------------------
    rc, out, err = tern("server", "migrate", "vm-ppc", "--live")
    tap.check("migrate with no compatible destination: exit 1, refused with the reason",
              rc == 1 and ("live migration refused" in err or "no host can run" in err), err)
    tap.note(err)
    rc, out, err = tern("server", "migrate", "vm-x86", "--live", "--host", "p9")
    tap.check("migrate to another arch: refused, nothing moved",
              rc == 1 and "refused" in err, err)
    tap.note(err)
    rc, out, err = tern("server", "create", "vm-s390", "--image", "x", "--flavor", "m1.nano",
                        "--arch", "s390x", "--wait")
    tap.check("server create for an arch no host has: ends in ERROR with the reason",
              rc == 1 and ("failed to build" in err or "no host can run" in err), err)
    tap.note(err)
    rc, out, err = tern("server", "show", "nosuch")
    tap.check("server show unknown: exit 1, points to server list",
              rc == 1 and "Instance nosuch could not be found. See `tern server list`" in err,
              err)

    # --- tern-manage on the same database ----------------------------------------------------
    mconf = world.tern_conf("manage-cli", {})

    def manage(*args):
        r = subprocess.run([os.path.join(B, "tern-manage"), "--config-file", mconf] + list(args),
                           capture_output=True, text=True, timeout=60)
        return r.returncode, r.stdout, r.stderr
    rc, out, err = manage("cpu", "baseline", "hosta", "hostb")
    tap.check("tern-manage cpu baseline HOST...: [libvirt] settings for the x86 hosts",
              rc == 0 and "cpu_mode = custom" in out and
              "cpu_models = Skylake-Client-IBRS" in out, out + err)
    tap.note(out)
    rc, out, err = manage("cpu", "baseline", "nosuch")
    tap.check("tern-manage cpu baseline unknown host: says where to look",
              rc == 1 and "no compute host 'nosuch'" in err, err)
    rc, out, err = manage("service", "list")
    tap.check("tern-manage service list shows the computes and the conductor",
              rc == 0 and "hosta" in out and "tern-compute" in out, out + err)

    # --- conductor down ------------------------------------------------------------------------
    world.kill("cond1")
    r = subprocess.run([os.path.join(B, "tern"), "-t", "2", "--config-file", conf, "host",
                        "list"], capture_output=True, text=True, timeout=60)
    tap.check("conductor stopped: timeout says is tern-conductor running? check transport_url",
              r.returncode == 1 and "is tern-conductor running? check transport_url" in r.stderr,
              r.stderr)
    for c in computes:
        c.stop()
finally:
    world.clean()
tap.done()
