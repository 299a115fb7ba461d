#!/usr/bin/python3
"""test-emulated-guest-e2e.py: a ppc64le guest emulated on an x86_64 host
(Nova's image property hw_emulation_architecture, docs/fleet.md §3), end
to end through tern's RPC: python3-nova's ComputeTaskAPI asks the real
tern-conductor, the real tern-scheduler places it on the x86_64 host
because that host offers (ppc64le, qemu, hvm), the conductor casts
build_and_run_instance to the real tern-compute on the private libvirtd
(TERN_TEST_LIBVIRT_URI, QEMU TCG), and the busybox guest of
tests/e2e/guest-assets.sh prints "TERN-GUEST-BOOTED ppc64le" on its serial
console. Then the server is deleted through the conductor and nothing is
left in libvirt.

Needs TERN_TEST_TRANSPORT_URL, TERN_TEST_DB_URL and TERN_TEST_LIBVIRT_URI
(scripts/services start rabbitmq postgresql libvirt) and the guest assets
($TERN_TEST_ASSETS, default /var/cache/tern-test-assets)."""
import os
import platform
import re
import subprocess
import sys
import time

SRC = os.environ.get("TERN_SRCDIR", os.path.dirname(os.path.abspath(__file__)) + "/../..")
BUILD = os.environ.get("TERN_BUILDDIR", SRC)
LIBVIRT = os.environ.get("TERN_TEST_LIBVIRT_URI")
ASSETS = os.environ.get("TERN_TEST_ASSETS", "/var/cache/tern-test-assets")
if not LIBVIRT or not os.environ.get("TERN_TEST_TRANSPORT_URL") or \
        not os.environ.get("TERN_TEST_DB_URL"):
    print("1..0 # SKIP TERN_TEST_LIBVIRT_URI / TERN_TEST_TRANSPORT_URL / TERN_TEST_DB_URL not "
          "set (scripts/services start rabbitmq postgresql libvirt)")
    sys.exit(0)
if platform.machine() != "x86_64":
    print("1..0 # SKIP this test emulates ppc64le on an x86_64 host; this host is %s"
          % platform.machine())
    sys.exit(0)
KERNEL = os.path.join(ASSETS, "ppc64le", "vmlinux")
INITRD = os.path.join(ASSETS, "ppc64le", "initrd.gz")
if not (os.path.exists(KERNEL) and os.path.exists(INITRD)):
    script = os.path.join(SRC, "tests", "e2e", "guest-assets.sh")
    if os.path.exists(script):
        subprocess.call([script], stdout=subprocess.DEVNULL)
if not (os.path.exists(KERNEL) and os.path.exists(INITRD)):
    print("1..0 # SKIP no ppc64le guest assets in %s (tests/e2e/guest-assets.sh makes them)"
          % ASSETS)
    sys.exit(0)

sys.path.insert(0, os.path.join(SRC, "tests", "integration"))
import conductor_env as env  # noqa: E402

tap = env.Tap()
world = env.World("emu")
HOST = "emu-x86"


def virsh(*args):
    r = subprocess.run(["virsh", "-c", LIBVIRT] + list(args), capture_output=True, text=True,
                       timeout=30)
    return r.returncode, r.stdout


def console_marker(path):
    if not os.path.exists(path):
        return None
    return re.findall(r"TERN-GUEST-BOOTED (\S+)", open(path, errors="replace").read()) or None


uuid_ = None
try:
    os.chmod(world.tmp, 0o755)   # QEMU (another user) reads the kernel and writes the console
    images = os.path.join(world.tmp, "images")
    instances = os.path.join(world.tmp, "instances")
    os.makedirs(images)
    os.symlink(KERNEL, os.path.join(images, "kernel-ppc64le"))
    os.symlink(INITRD, os.path.join(images, "initrd-ppc64le"))
    world.start_scheduler()
    world.start_conductor()
    conf = world.tern_conf(HOST, {
        "DEFAULT": {"report_interval": 2, "shutdown_timeout": 5},
        "compute": {"instances_path": instances, "images_path": images,
                    "node_report_interval": 3},
        "libvirt": {"connection_uri": LIBVIRT, "virt_type": "qemu"},
    })
    world.start(HOST, [os.path.join(BUILD, "tern-compute"), "--config-file", conf],
                ready="tern-compute started", timeout=300)
    nova = env.Nova(world)
    show = env.wait_for(lambda: (lambda h: h if h.get("state") == "up" else None)(
        nova.admin_call("host_show", host=HOST)), 60, 0.5)
    tap.check("the x86_64 host on real libvirt offers (ppc64le, qemu, hvm)",
              show and show["arch"] == "x86_64"
              and ["ppc64le", "qemu", "hvm"] in show["supported_instances"], show)

    t0 = time.time()
    uuid_ = nova.build("emu-ppc", "x86_64", flavor=nova.flavor(memory_mb=512, root_gb=0),
                       props={"hw_emulation_architecture": "ppc64le",
                              "kernel_id": "kernel-ppc64le", "ramdisk_id": "initrd-ppc64le",
                              "os_command_line": "panic=-1"})
    s = nova.wait_state(uuid_, ["active", "error"], timeout=120)
    tap.check("hw_emulation_architecture=ppc64le: ACTIVE on the x86_64 host through the "
              "conductor and scheduler (%.1f s)" % (time.time() - t0),
              s and s["vm_state"] == "active" and s["host"] == HOST, s)
    tap.check("the instance is recorded as a ppc64le guest", s and s.get("arch") == "ppc64le",
              s and s.get("arch"))
    rc, xml = virsh("dumpxml", uuid_)
    tap.check("libvirt runs it as a TCG ppc64le pseries domain",
              rc == 0 and "type='qemu'" in xml and "arch='ppc64le'" in xml
              and "machine='pseries" in xml, xml[:800])
    marker = None
    log = os.path.join(instances, uuid_, "console.log")
    end = time.time() + 240
    while time.time() < end and not marker:
        marker = console_marker(log)
        time.sleep(0.5)
    tap.check("the emulated guest prints TERN-GUEST-BOOTED ppc64le on its serial console "
              "(%.1f s after the request)" % (time.time() - t0), marker == ["ppc64le"], marker)

    nova.admin_call("server_action", uuid=uuid_, action="delete")
    gone = env.wait_for(lambda: uuid_ not in virsh("list", "--all", "--uuid")[1], 60, 0.5)
    tap.check("deleted through the conductor: no domain left in libvirt", gone)
    uuid_ = None
except Exception:  # noqa: BLE001
    import traceback
    tap.check("test ran to the end", False, traceback.format_exc())
finally:
    if uuid_:   # a failed run: leave nothing in the private libvirtd
        virsh("destroy", uuid_)
        virsh("undefine", uuid_, "--nvram")
    env.close_nova_transport()
    world.clean(keep=bool(tap.failed))
rc = tap.done()
sys.stdout.flush()
os._exit(rc)
