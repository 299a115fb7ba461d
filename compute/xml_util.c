/* xml_util.c: libxml2 helpers of the compute layer (parse, XPath, dump). */
#include "compute/xml_util.h"

#include <libxml/parser.h>
#include <string.h>

#include "compute/compute_error.h"

xmlDoc *
tern_xml_parse(const char *text, const char *what, GError **error)
{
    if (!text || !*text) {
        g_set_error(error, TERN_COMPUTE_ERROR, TERN_COMPUTE_ERROR_INVALID, "%s is empty", what);
        return NULL;
    }
    xmlResetLastError();
    xmlDoc *doc = xmlReadMemory(text, (int)strlen(text), what, NULL,
                                XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (!doc || !xmlDocGetRootElement(doc)) {
        const xmlError *e = xmlGetLastError();
        g_autofree char *why = g_strstrip(g_strdup(e && e->message ? e->message : "no root element"));
        g_set_error(error, TERN_COMPUTE_ERROR, TERN_COMPUTE_ERROR_INVALID,
                    "%s is not well-formed XML: %s", what, why);
        if (doc)
            xmlFreeDoc(doc);
        return NULL;
    }
    return doc;
}

static xmlXPathObject *
eval(xmlXPathContext *ctx, xmlNode *node, const char *expr)
{
    ctx->node = node ? node : xmlDocGetRootElement(ctx->doc);
    return xmlXPathEvalExpression(BAD_CAST expr, ctx);
}

char *
tern_xml_string(xmlXPathContext *ctx, xmlNode *node, const char *expr)
{
    g_autofree char *full = g_strdup_printf("string(%s)", expr);
    g_autoptr(xmlXPathObject) obj = eval(ctx, node, full);
    if (!obj || obj->type != XPATH_STRING || !obj->stringval || !*obj->stringval)
        return NULL;
    return g_strstrip(g_strdup((const char *)obj->stringval));
}

GPtrArray *
tern_xml_nodes(xmlXPathContext *ctx, xmlNode *node, const char *expr)
{
    GPtrArray *out = g_ptr_array_new();
    g_autoptr(xmlXPathObject) obj = eval(ctx, node, expr);
    if (obj && obj->type == XPATH_NODESET && obj->nodesetval)
        for (int i = 0; i < obj->nodesetval->nodeNr; i++)
            g_ptr_array_add(out, obj->nodesetval->nodeTab[i]);
    return out;
}

GPtrArray *
tern_xml_strings(xmlXPathContext *ctx, xmlNode *node, const char *expr)
{
    GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GPtrArray) nodes = tern_xml_nodes(ctx, node, expr);
    for (guint i = 0; i < nodes->len; i++) {
        xmlChar *s = xmlNodeGetContent(nodes->pdata[i]);
        if (s && *s)
            g_ptr_array_add(out, g_strstrip(g_strdup((const char *)s)));
        xmlFree(s);
    }
    return out;
}

gint64
tern_xml_int(xmlXPathContext *ctx, xmlNode *node, const char *expr, gint64 def)
{
    g_autofree char *s = tern_xml_string(ctx, node, expr);
    gint64 v;
    if (!s || !g_ascii_string_to_signed(s, 10, G_MININT64, G_MAXINT64, &v, NULL))
        return def;
    return v;
}

char *
tern_xml_node_to_string(xmlNode *node)
{
    xmlBuffer *buf = xmlBufferCreate();
    xmlNodeDump(buf, node->doc, node, 0, 0);
    char *s = g_strdup((const char *)xmlBufferContent(buf));
    xmlBufferFree(buf);
    return s;
}

gboolean
tern_str_array_has(const GPtrArray *array, const char *s)
{
    if (!array || !s)
        return FALSE;
    for (guint i = 0; i < array->len; i++)
        if (g_strcmp0(array->pdata[i], s) == 0)
            return TRUE;
    return FALSE;
}
