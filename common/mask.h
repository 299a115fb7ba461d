/* mask.h: keep secrets out of logs. Passwords in URLs are masked wherever
 * they appear, and every value of a secret option is masked by value where
 * it stands as a whole token (a URL password equal to its user name, like
 * RabbitMQ's guest:guest, only inside URLs). */
#ifndef TERN_MASK_H
#define TERN_MASK_H

#include <glib.h>

/* Remember a secret; from now on tern_mask_text() hides it. */
void tern_mask_add_secret(const char *secret);
/* Forget every remembered secret (tests). */
void tern_mask_reset(void);
/* A copy of text with URL passwords and remembered secrets replaced by ****. */
char *tern_mask_text(const char *text);
/* A copy of url with its password (if any) replaced by ****. */
char *tern_mask_url(const char *url);

#endif
