/* db_fixture.h: a private database per test program on the PostgreSQL that
 * scripts/services started (TERN_TEST_DB_URL, a superuser): created with a
 * unique name, migrated, and dropped at the end, so tests run in parallel. */
#ifndef TERN_TEST_DB_FIXTURE_H
#define TERN_TEST_DB_FIXTURE_H

#include <glib.h>

/* TRUE (after g_test_skip) when TERN_TEST_DB_URL is not set. */
gboolean tern_test_db_skip(void);
/* Create an empty database; returns its URL (g_free). Aborts on failure. */
char *tern_test_db_create(const char *base_url);
/* The same URL with another database name (g_free). */
char *tern_test_db_url_with_name(const char *base_url, const char *dbname);
/* Drop the database of url (connections to it are terminated first). */
void tern_test_db_drop(const char *base_url, const char *url);

#endif
