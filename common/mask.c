/* mask.c: hide passwords in URLs and secret option values in any text that
 * is about to be logged or printed. */
#include "mask.h"

#include <string.h>

static GMutex mask_lock;
static GPtrArray *mask_secrets;   /* char*, longest first */

static gint
longer_first(gconstpointer a, gconstpointer b)
{
    return (gint) strlen(*(char *const *) b) - (gint) strlen(*(char *const *) a);
}

static void
add_one(const char *secret)
{
    if (!secret || strlen(secret) < 3)
        return;   /* masking every "ab" in a log would hide more than it protects */
    for (guint k = 0; k < mask_secrets->len; k++)
        if (strcmp(mask_secrets->pdata[k], secret) == 0)
            return;
    g_ptr_array_add(mask_secrets, g_strdup(secret));
    g_ptr_array_sort(mask_secrets, longer_first);
}

void
tern_mask_add_secret(const char *secret)
{
    g_mutex_lock(&mask_lock);
    if (!mask_secrets)
        mask_secrets = g_ptr_array_new_with_free_func(g_free);
    /* For a URL, the password is what must not leak; the rest of the URL is
     * useful in logs and is covered by URL masking. */
    const char *scheme = strstr(secret, "://");
    if (scheme) {
        g_auto(GStrv) urls = g_strsplit(secret, ",", -1);
        for (int k = 0; urls[k]; k++) {
            const char *p = strstr(urls[k], "://");
            const char *at = p ? strrchr(p, '@') : NULL;
            const char *colon = p ? strchr(p + 3, ':') : NULL;
            if (at && colon && colon < at) {
                g_autofree char *user = g_strndup(p + 3, colon - p - 3);
                g_autofree char *pw = g_strndup(colon + 1, at - colon - 1);
                g_autofree char *plain = g_uri_unescape_string(pw, NULL);
                /* A password equal to its user name (RabbitMQ's guest:guest)
                 * is shown wherever the user is: masking the word everywhere
                 * would only garble the log ("guest CPU"). URL masking still
                 * hides it inside URLs. */
                if (strcmp(user, pw) == 0)
                    continue;
                add_one(pw);
                add_one(plain);
            }
        }
    } else {
        add_one(secret);
    }
    g_mutex_unlock(&mask_lock);
}

void
tern_mask_reset(void)
{
    g_mutex_lock(&mask_lock);
    if (mask_secrets)
        g_ptr_array_set_size(mask_secrets, 0);
    g_mutex_unlock(&mask_lock);
}

/* scheme://user:PASSWORD@host  ->  scheme://user:****@host, for every URL in
 * text. The user part ends at ':'; the password at the last '@' before the
 * next blank, quote, or ',' that starts another URL. */
static void
mask_urls(GString *s)
{
    gsize pos = 0;
    const char *p;
    while ((p = strstr(s->str + pos, "://"))) {
        gsize start = (p - s->str) + 3;
        gsize end = start;
        while (end < s->len && !strchr(" \t\n\"'<>,;", s->str[end]))
            end++;
        /* the authority ends at the first '/' after the last '@' */
        gssize at = -1;
        for (gsize k = start; k < end; k++)
            if (s->str[k] == '@')
                at = k;
        if (at > 0) {
            gssize colon = -1;
            for (gsize k = start; k < (gsize) at; k++)
                if (s->str[k] == ':') { colon = k; break; }
            if (colon > 0 && at - colon - 1 > 0) {
                g_string_erase(s, colon + 1, at - colon - 1);
                g_string_insert(s, colon + 1, "****");
                end = colon + 1 + 4 + (end - at);
            }
        }
        pos = end > start ? end : start;
    }
}

/* Replace secret where it stands as a whole token: a secret "guest" hides
 * "guest" and ":guest@" but not the word inside "guests" or "myguest". */
static void
mask_word(GString *s, const char *secret)
{
    gsize n = strlen(secret), pos = 0;
    const char *p;
    while ((p = strstr(s->str + pos, secret))) {
        gsize at = p - s->str;
        gboolean left = at == 0 || !g_ascii_isalnum(s->str[at - 1]);
        gboolean right = at + n >= s->len || !g_ascii_isalnum(s->str[at + n]);
        if (left && right) {
            g_string_erase(s, at, n);
            g_string_insert(s, at, "****");
            pos = at + 4;
        } else {
            pos = at + 1;
        }
    }
}

char *
tern_mask_text(const char *text)
{
    if (!text)
        return NULL;
    GString *s = g_string_new(text);
    mask_urls(s);
    g_mutex_lock(&mask_lock);
    for (guint k = 0; mask_secrets && k < mask_secrets->len; k++)
        mask_word(s, mask_secrets->pdata[k]);
    g_mutex_unlock(&mask_lock);
    return g_string_free(s, FALSE);
}

char *
tern_mask_url(const char *url)
{
    if (!url)
        return NULL;
    GString *s = g_string_new(url);
    mask_urls(s);
    return g_string_free(s, FALSE);
}
