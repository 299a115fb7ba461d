/* xml_util.h: small libxml2 helpers shared by the compute layer: parse a
 * string into a document with a clear error, evaluate XPath to a string or a
 * list of strings, serialise a node. */
#ifndef TERN_COMPUTE_XML_UTIL_H
#define TERN_COMPUTE_XML_UTIL_H

#include <glib.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>

G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlDoc, xmlFreeDoc)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlXPathContext, xmlXPathFreeContext)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlXPathObject, xmlXPathFreeObject)

/* Parse text (what names it in errors) without network access or entity
 * expansion; NULL + error on malformed XML. */
xmlDoc *tern_xml_parse(const char *text, const char *what, GError **error);
/* String value of an XPath expression relative to node (NULL if empty). */
char *tern_xml_string(xmlXPathContext *ctx, xmlNode *node, const char *expr);
/* String values of every node an XPath expression selects. */
GPtrArray *tern_xml_strings(xmlXPathContext *ctx, xmlNode *node, const char *expr);
/* Integer value of an XPath expression, or def when absent or not a number. */
gint64 tern_xml_int(xmlXPathContext *ctx, xmlNode *node, const char *expr, gint64 def);
/* The nodes an expression selects (borrowed pointers into the document). */
GPtrArray *tern_xml_nodes(xmlXPathContext *ctx, xmlNode *node, const char *expr);
/* Serialise a node (and its children) as text. */
char *tern_xml_node_to_string(xmlNode *node);
/* Does a GPtrArray of strings hold s? */
gboolean tern_str_array_has(const GPtrArray *array, const char *s);

#endif
