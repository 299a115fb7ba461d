#!/usr/bin/python3
# test-cpu-traits.py: cpu/cpu_traits.c's rows are exactly Nova's
# CPU_TRAITS_MAPPING (nova/virt/libvirt/utils.py, Debian's python3-nova),
# every trait exists in os_traits, and every feature is one of libvirt's
# cpu_map x86 features (except Nova's 'sse3', which libvirt calls 'pni').
import os
import re
import sys
import xml.etree.ElementTree as ET

n = 0
failed = 0


def check(desc, ok, detail=""):
    global n, failed
    n += 1
    if ok:
        print("ok %d - %s" % (n, desc))
    else:
        failed += 1
        print("not ok %d - %s" % (n, desc))
        if detail:
            for line in str(detail).splitlines():
                print("# " + line)


srcdir = os.environ.get("TERN_SRCDIR", os.path.join(os.path.dirname(__file__), "..", ".."))
try:
    import os_traits
    from nova.virt.libvirt import utils as nova_utils
except ImportError as e:
    print("1..0 # SKIP python3-nova is not installed (%s)" % e)
    sys.exit(0)

with open(os.path.join(srcdir, "cpu", "cpu_traits.c")) as f:
    ours = set(re.findall(r'\{ "([^"]+)", "(HW_CPU_[A-Z0-9_]+)" \}', f.read()))

nova = set()
for feature, val in nova_utils.CPU_TRAITS_MAPPING.items():
    for trait in (val if isinstance(val, tuple) else (val,)):
        nova.add((feature, trait))

check("tern's trait rows equal Nova's CPU_TRAITS_MAPPING (%d rows)" % len(nova), ours == nova,
      "only tern: %s\nonly Nova: %s" % (sorted(ours - nova), sorted(nova - ours)))

known = set(n for n in dir(os_traits) if n.startswith("HW_CPU_"))
missing = sorted(t for _, t in ours if t not in known)
check("every trait is an os_traits name", not missing, missing)

cpu_map = os.environ.get("TERN_CPU_MAP_DIR", "/usr/share/libvirt/cpu_map")
features = set(f.get("name") for f in
               ET.parse(os.path.join(cpu_map, "x86_features.xml")).getroot().iter("feature"))
unknown = sorted(f for f, _ in ours if f not in features)
check("every feature is in libvirt's cpu_map, but Nova's 'sse3'", unknown == ["sse3"], unknown)

print("1..%d" % n)
sys.exit(1 if failed else 0)
