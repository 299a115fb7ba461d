# docs/: the project's own references.
EXTRA_DIST += $(wildcard $(srcdir)/docs/*.md)
