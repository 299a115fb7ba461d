#!/usr/bin/python3
# make-power-facts.py: writes the simulated POWER8 and POWER9 host facts
# (capabilities.xml, domcapabilities-<arch>-<virttype>.xml, host.ini, and
# node.xml for libvirt's test driver) under
# tests/data/hosts/power8 and power9. They are built from what the same
# QEMU 10.0 / libvirt 11.3 reports on this project's x86_64 host for its
# ppc64/ppc64le guests (x86_64/capabilities.xml, domcapabilities-ppc64*),
# with a POWER host section (arch, model and vendor from libvirt's
# cpu_map/ppc64_POWER8.xml / ppc64_POWER9.xml, SMT topology, NUMA cells as
# a 2-socket PowerNV host reports them) and KVM domains added. Every file
# is checked with virt-xml-validate (capability / domaincaps schemas).
import os, re, subprocess, sys

HERE = os.path.dirname(os.path.abspath(__file__))
X86 = os.path.join(HERE, "x86_64")

HOSTS = {
    "power8": dict(model="POWER8", uuid="8a4e0c6e-3f0b-4c55-9a41-0b8e3c1d2a08",
                   sockets=2, cores=10, threads=8, mem_gib_per_node=256,
                   nodes=[0, 8], pages=[64, 16384], usable=["POWER8", "POWER7"]),
    "power9": dict(model="POWER9", uuid="9b5f1d7f-4a1c-4d66-8b52-1c9f4d2e3b09",
                   sockets=2, cores=20, threads=4, mem_gib_per_node=512,
                   nodes=[0, 8], pages=[64, 2048, 1048576], usable=["POWER9", "POWER8", "POWER7"]),
}


def read(p):
    with open(p) as f:
        return f.read()


def guest_blocks(caps):
    out = []
    for m in re.finditer(r"  <guest>.*?</guest>\n", caps, re.S):
        if re.search(r"<arch name='ppc64(le)?'>", m.group(0)):
            out.append(m.group(0).replace("<domain type='qemu'/>\n",
                                          "<domain type='qemu'/>\n      <domain type='kvm'/>\n"))
    return out


def host_section(h):
    pages = "".join(f"      <pages unit='KiB' size='{p}'/>\n" for p in h["pages"])
    cells = []
    cpu_id = 0
    per_node = h["cores"] * h["threads"]
    for s, node in enumerate(h["nodes"]):
        cpus = []
        for c in range(h["cores"]):
            first = cpu_id
            sib = f"{first}-{first + h['threads'] - 1}" if h["threads"] > 1 else f"{first}"
            for t in range(h["threads"]):
                cpus.append(f"            <cpu id='{cpu_id}' socket_id='{s}' die_id='0' "
                            f"cluster_id='65535' core_id='{first}' siblings='{sib}'/>\n")
                cpu_id += 1
        dist = "".join(f"            <sibling id='{n}' value='{10 if n == node else 40}'/>\n"
                       for n in h["nodes"])
        kib = h["mem_gib_per_node"] * 1024 * 1024
        cellpages = f"          <pages unit='KiB' size='{h['pages'][0]}'>{kib // h['pages'][0]}</pages>\n"
        for p in h["pages"][1:]:
            cellpages += f"          <pages unit='KiB' size='{p}'>0</pages>\n"
        cells.append(f"        <cell id='{node}'>\n          <memory unit='KiB'>{kib}</memory>\n"
                     f"{cellpages}"
                     f"          <distances>\n{dist}          </distances>\n"
                     f"          <cpus num='{per_node}'>\n{''.join(cpus)}          </cpus>\n"
                     f"        </cell>\n")
    return (f"  <host>\n    <uuid>{h['uuid']}</uuid>\n    <cpu>\n      <arch>ppc64le</arch>\n"
            f"      <model>{h['model']}</model>\n      <vendor>IBM</vendor>\n"
            f"      <topology sockets='{h['sockets']}' dies='1' clusters='1' cores='{h['cores']}' "
            f"threads='{h['threads']}'/>\n{pages}    </cpu>\n"
            "    <power_management/>\n    <iommu support='yes'/>\n"
            "    <migration_features>\n      <live/>\n      <uri_transports>\n"
            "        <uri_transport>tcp</uri_transport>\n        <uri_transport>rdma</uri_transport>\n"
            "      </uri_transports>\n    </migration_features>\n"
            f"    <topology>\n      <cells num='{len(h['nodes'])}'>\n{''.join(cells)}"
            "      </cells>\n    </topology>\n"
            "    <secmodel>\n      <model>none</model>\n      <doi>0</doi>\n    </secmodel>\n"
            "    <secmodel>\n      <model>dac</model>\n      <doi>0</doi>\n"
            "      <baselabel type='kvm'>+0:+0</baselabel>\n"
            "      <baselabel type='qemu'>+0:+0</baselabel>\n    </secmodel>\n  </host>\n\n")


def cpu_section(h, virt):
    models = ["POWER10", "POWER9", "POWER8", "POWER7"]
    if virt == "qemu":
        custom = "".join(f"      <model usable='unknown' vendor='IBM'>{m}</model>\n" for m in models)
        return ("  <cpu>\n    <mode name='host-passthrough' supported='no'/>\n"
                "    <mode name='maximum' supported='no'/>\n"
                "    <mode name='host-model' supported='no'/>\n"
                f"    <mode name='custom' supported='yes'>\n{custom}    </mode>\n  </cpu>\n")
    custom = "".join(f"      <model usable='{'yes' if m in h['usable'] else 'no'}' vendor='IBM'>{m}</model>\n"
                     for m in models)
    return ("  <cpu>\n    <mode name='host-passthrough' supported='yes'>\n"
            "      <enum name='hostPassthroughMigratable'>\n        <value>off</value>\n"
            "      </enum>\n    </mode>\n    <mode name='maximum' supported='no'/>\n"
            f"    <mode name='host-model' supported='yes'>\n"
            f"      <model fallback='allow'>{h['model']}</model>\n    </mode>\n"
            f"    <mode name='custom' supported='yes'>\n{custom}    </mode>\n  </cpu>\n")


def domcaps(h, base, arch, virt):
    d = base.replace("<domain>qemu</domain>", f"<domain>{virt}</domain>")
    d = re.sub(r"<arch>[^<]*</arch>", f"<arch>{arch}</arch>", d)
    d = re.sub(r"  <cpu>.*?</cpu>\n", lambda m: cpu_section(h, virt), d, flags=re.S)
    if arch == "ppc64":
        d = d.replace("<path>/usr/bin/qemu-system-ppc64le</path>", "<path>/usr/bin/qemu-system-ppc64</path>")
    if virt == "kvm":
        d = d.replace("<vcpu max='4096'/>", "<vcpu max='2048'/>")
    # Debian's QEMU on a POWER host has its SPICE module installed: libvirt
    # offers SPICE for pseries (tern refuses it by policy).
    d = d.replace("        <value>vnc</value>\n",
                  "        <value>vnc</value>\n        <value>spice</value>\n")
    return d


def node_xml(name, h):
    uuid = {"power8": "3c2d7c4e-0a8b-4f4e-9a2b-8e8e8e8e0008",
            "power9": "3c2d7c4e-0a8b-4f4e-9a2b-8e8e8e8e0009"}[name]
    total = len(h["nodes"]) * h["cores"] * h["threads"]
    kib = len(h["nodes"]) * h["mem_gib_per_node"] * 1024 * 1024
    return (f"<!-- node.xml: libvirt's test driver as a simulated {h['model']} host\n"
            "     (connection_uri = test:///ABSOLUTE/PATH/node.xml): node info of the same\n"
            "     topology and memory as capabilities.xml here, and one guest that no tern\n"
            "     instance owns (reconcile must report it and leave it alone). -->\n"
            f"<node>\n  <cpu>\n    <nodes>{len(h['nodes'])}</nodes>\n    <sockets>1</sockets>\n"
            f"    <cores>{h['cores']}</cores>\n    <threads>{h['threads']}</threads>\n"
            f"    <active>{total}</active>\n    <mhz>3800</mhz>\n    <model>{h['model']}</model>\n"
            f"  </cpu>\n  <memory>{kib}</memory>\n  <domain type='kvm'>\n"
            f"    <name>{name}-stray</name>\n    <uuid>{uuid}</uuid>\n"
            "    <memory unit='MiB'>1024</memory>\n    <vcpu>2</vcpu>\n"
            "    <os><type arch='ppc64le' machine='pseries-10.0'>hvm</type></os>\n"
            "  </domain>\n</node>\n")


def main():
    caps = read(os.path.join(X86, "capabilities.xml"))
    base = read(os.path.join(X86, "domcapabilities-ppc64le-qemu.xml"))
    guests = guest_blocks(caps)
    for name, h in HOSTS.items():
        d = os.path.join(HERE, name)
        os.makedirs(d, exist_ok=True)
        files = {"capabilities.xml": "<capabilities>\n\n" + host_section(h) + "".join(guests)
                 + "\n</capabilities>\n"}
        for arch in ("ppc64le", "ppc64"):
            for virt in ("kvm", "qemu"):
                files[f"domcapabilities-{arch}-{virt}.xml"] = domcaps(h, base, arch, virt)
        files["node.xml"] = node_xml(name, h)
        files["host.ini"] = ("# host.ini: what capabilities XML does not say about this host\n"
                             "[host]\nhypervisor_type = QEMU\nhypervisor_version = 10.0.2\n"
                             "libvirt_version = 11.3.0\n")
        for fn, text in files.items():
            p = os.path.join(d, fn)
            with open(p, "w") as f:
                f.write(text)
            if fn.endswith(".xml") and fn != "node.xml":
                kind = "capability" if fn.startswith("capabilities") else "domaincaps"
                subprocess.run(["virt-xml-validate", p, kind], check=True,
                               stdout=subprocess.DEVNULL)
    return 0


if __name__ == "__main__":
    sys.exit(main())
