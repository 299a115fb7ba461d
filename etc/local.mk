# etc/: sample config, systemd units, tern's data overrides.
tern_confdir = $(sysconfdir)/tern
dist_tern_conf_DATA = etc/tern/tern.conf.sample
