/* compute_error.h: the GError domain of the compute layer (compute/). */
#ifndef TERN_COMPUTE_ERROR_H
#define TERN_COMPUTE_ERROR_H

#include <glib.h>

#define TERN_COMPUTE_ERROR (tern_compute_error_quark())
GQuark tern_compute_error_quark(void);

typedef enum {
    TERN_COMPUTE_ERROR_INVALID,      /* a malformed request (bad uuid, no name, bad JSON) */
    TERN_COMPUTE_ERROR_UNSUPPORTED,  /* a well-formed request this host/arch/OS cannot take */
    TERN_COMPUTE_ERROR_LIBVIRT,      /* libvirt refused or failed; message carries libvirt's */
    TERN_COMPUTE_ERROR_NOT_FOUND,    /* no such domain, image or facts file */
    TERN_COMPUTE_ERROR_IO,           /* a file or a helper program failed */
    TERN_COMPUTE_ERROR_CONFIG,       /* an option value that cannot work */
} TernComputeError;

#endif
