# etc/: sample config, systemd units, tern's data overrides.
tern_confdir = $(sysconfdir)/tern
dist_tern_conf_DATA = etc/tern/tern.conf.sample

systemdunitdir = $(prefix)/lib/systemd/system
systemdunit_DATA = etc/systemd/tern-compute.service etc/systemd/tern-scheduler.service \
	etc/systemd/tern-conductor.service
EXTRA_DIST += etc/systemd/tern-compute.service.in etc/systemd/tern-scheduler.service.in \
	etc/systemd/tern-conductor.service.in
CLEANFILES += $(systemdunit_DATA)
etc/systemd/%.service: etc/systemd/%.service.in
	$(AM_V_GEN)$(MKDIR_P) etc/systemd && sed -e 's|@sbindir[@]|$(sbindir)|g' $< > $@
