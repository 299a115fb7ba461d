/* compute-test-asan.h: sanitizer settings of the compute tests that load
 * osinfo-db. libosinfo leaks a few bytes while it parses osinfo-db
 * (osinfo_loader_process_default_path: not tern's); GLib is built without
 * frame pointers, so that leak's stack only reaches libosinfo with the
 * slow unwinder, which these tests therefore ask for. Include once, in the
 * file with main(). */
#ifndef TERN_COMPUTE_TEST_ASAN_H
#define TERN_COMPUTE_TEST_ASAN_H

#if defined(__SANITIZE_ADDRESS__)
const char *__asan_default_options(void);
const char *__lsan_default_suppressions(void);
const char *
__asan_default_options(void)
{
    return "fast_unwind_on_malloc=0";
}
const char *
__lsan_default_suppressions(void)
{
    return "leak:osinfo_loader_process_default_path\n";
}
#endif

#endif
