/* main.c: entry point of tern-compute; the service itself is compute/compute_service.c. */
#include "common/service.h"
#include "compute/compute_service.h"

int
main(int argc, char **argv)
{
    static const TernServiceDesc desc = {
        .name = "tern-compute",
        .summary = "tern-compute: the hypervisor host agent. Serves Nova's compute RPC on compute.<host> and drives libvirt.",
        .start = tern_compute_service_start,
        .stop = tern_compute_service_stop,
    };
    return tern_service_main(&desc, argc, argv);
}
