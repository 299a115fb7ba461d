"""host_lease.py: one test at a time on each of scripts/hosts' namespaced hosts.

make check runs two tests at once (-j2), and several e2e tests use the same
host names (hosta, hostb). A test that kills a host's libvirtd, restarts it
or stops the hosts must not do it under another test's guests: lease(names)
blocks until no other test holds any of those names, and the lease lasts
until release() or the end of the process (a crashed test frees it too).
The lock files live in $TERN_SERVICES_DIR/host-leases."""
import fcntl
import os


def lease(names):
    """Hold names (exclusive, taken in sorted order so that two tests
    wanting overlapping sets cannot deadlock); returns what release() takes."""
    d = os.path.join(os.environ.get("TERN_SERVICES_DIR", "/tmp/tern-services"), "host-leases")
    os.makedirs(d, exist_ok=True)
    held = []
    for n in sorted(set(names)):
        f = open(os.path.join(d, n + ".lock"), "a")
        fcntl.flock(f, fcntl.LOCK_EX)
        held.append(f)
    return held


def release(held):
    for f in held:
        f.close()
    del held[:]
