# Daybreak's install: `make`, then `make install` (as root for a system
# install), and `make uninstall` to remove exactly what was installed.
# docs/installing.md says what goes where and why.
#
#   make install PREFIX=/usr DESTDIR=/tmp/stage   a packager's staging tree
#   make install BIN=DIR                          install a release build
#                                                 already made in DIR
#   make install RUNDIR=                          no socket directory (a
#                                                 per-user install)
#
# The list of installed paths is computed here, once (INSTALLED), and both
# install and uninstall walk it: `make installed-files` prints it.

PREFIX  ?= /usr/local
DESTDIR ?=
BINDIR  ?= $(PREFIX)/bin
SBINDIR ?= $(PREFIX)/sbin
DATADIR ?= $(PREFIX)/share
MANDIR  ?= $(DATADIR)/man
# The bridges' job files: shipped here, enabled by copying or linking them
# into /etc/init (or a session's job directory).
JOBDIR  ?= $(DATADIR)/daybreak/init
# The NetworkManager, networkd-dispatcher and suspend hooks, to link from
# where each caller looks for them (docs/net-and-power-events.md).
HOOKDIR ?= $(PREFIX)/lib/daybreak
BASHCOMPLETIONDIR ?= $(DATADIR)/bash-completion/completions
# The system control socket's directory (the daemon makes it too, when it
# is missing, e.g. on a fresh tmpfs).
RUNDIR  ?= /run/daybreak

SWIFT   ?= swift
# More flags for `swift build`, e.g. SWIFTFLAGS='--scratch-path .build-release'
# to keep the release build apart from a debug one building beside it (CI).
SWIFTFLAGS ?=
# The directory of a release build; empty: `make` builds one.
BIN     ?=

INSTALL ?= install
# `make install-strip` installs the executables without their symbols
# (about half their size; docs/PERFORMANCE.md), as packages ship them.
STRIP_FLAG ?=

# initctl run by these names is that command (Upstart's links); their bash
# completion is initctl's, linked by each name (bash-completion looks a
# completion up by the command's name).
ALIASES := start stop restart reload status
# daybreak run by these names is that bridge: one static executable, whose
# code pages the daemon and the bridges share (docs/PERFORMANCE.md).
BRIDGES := daybreak-time-bridge daybreak-file-bridge daybreak-socket-bridge daybreak-net-bridge daybreak-event-bridge
HOOKS   := $(notdir $(wildcard extra/network/daybreak-* extra/power/daybreak-*))
MAN5    := $(notdir $(wildcard man/*.5))
MAN7    := $(notdir $(wildcard man/*.7))
MAN8    := $(notdir $(wildcard man/*.8))

INSTALLED := \
	$(SBINDIR)/daybreak $(SBINDIR)/initctl $(BINDIR)/init-checkconf \
	$(addprefix $(SBINDIR)/,$(ALIASES) $(BRIDGES)) \
	$(addprefix $(JOBDIR)/,$(addsuffix .conf,$(BRIDGES))) \
	$(addprefix $(HOOKDIR)/,$(HOOKS)) \
	$(addprefix $(MANDIR)/man5/,$(MAN5)) \
	$(addprefix $(MANDIR)/man7/,$(MAN7)) \
	$(addprefix $(MANDIR)/man8/,$(MAN8)) \
	$(BASHCOMPLETIONDIR)/initctl $(addprefix $(BASHCOMPLETIONDIR)/,$(ALIASES))
# Directories that belong to Daybreak alone: removed by uninstall once empty.
OWNDIRS := $(JOBDIR) $(DATADIR)/daybreak $(HOOKDIR) $(RUNDIR)

.PHONY: all build install install-strip uninstall installed-files

all: build

# The three programs installed (the bridges are links to daybreak).
build:
ifeq ($(BIN),)
	for p in daybreak initctl init-checkconf; do $(SWIFT) build -c release $(SWIFTFLAGS) --product $$p || exit 1; done
endif

# The release build's directory, asked of SwiftPM only when BIN is not given.
bin = $(if $(BIN),$(BIN),$(shell $(SWIFT) build -c release $(SWIFTFLAGS) --show-bin-path))

install: build
	@test -x "$(bin)/daybreak" || { echo "make: no release build in '$(bin)' (run 'make' first)" >&2; exit 1; }
	$(INSTALL) -d "$(DESTDIR)$(SBINDIR)" "$(DESTDIR)$(BINDIR)" "$(DESTDIR)$(JOBDIR)" "$(DESTDIR)$(HOOKDIR)" \
		"$(DESTDIR)$(MANDIR)/man5" "$(DESTDIR)$(MANDIR)/man7" "$(DESTDIR)$(MANDIR)/man8" "$(DESTDIR)$(BASHCOMPLETIONDIR)"
	$(INSTALL) $(STRIP_FLAG) -m 0755 "$(bin)/daybreak" "$(bin)/initctl" "$(DESTDIR)$(SBINDIR)/"
	$(INSTALL) $(STRIP_FLAG) -m 0755 "$(bin)/init-checkconf" "$(DESTDIR)$(BINDIR)/"
	for a in $(ALIASES); do ln -sf initctl "$(DESTDIR)$(SBINDIR)/$$a"; done
	for b in $(BRIDGES); do ln -sf daybreak "$(DESTDIR)$(SBINDIR)/$$b"; done
	$(INSTALL) -m 0644 $(addprefix extra/init/,$(addsuffix .conf,$(BRIDGES))) "$(DESTDIR)$(JOBDIR)/"
	$(INSTALL) -m 0755 $(wildcard extra/network/daybreak-* extra/power/daybreak-*) "$(DESTDIR)$(HOOKDIR)/"
	$(INSTALL) -m 0644 $(addprefix man/,$(MAN5)) "$(DESTDIR)$(MANDIR)/man5/"
	$(INSTALL) -m 0644 $(addprefix man/,$(MAN7)) "$(DESTDIR)$(MANDIR)/man7/"
	$(INSTALL) -m 0644 $(addprefix man/,$(MAN8)) "$(DESTDIR)$(MANDIR)/man8/"
	$(INSTALL) -m 0644 completion/initctl.bash "$(DESTDIR)$(BASHCOMPLETIONDIR)/initctl"
	for a in $(ALIASES); do ln -sf initctl "$(DESTDIR)$(BASHCOMPLETIONDIR)/$$a"; done
ifneq ($(RUNDIR),)
	$(INSTALL) -d -m 0755 "$(DESTDIR)$(RUNDIR)"
endif

install-strip:
	$(MAKE) install STRIP_FLAG=-s

uninstall:
	rm -f $(addprefix "$(DESTDIR),$(addsuffix ",$(INSTALLED)))
	for d in $(OWNDIRS); do if [ -d "$(DESTDIR)$$d" ]; then rmdir --ignore-fail-on-non-empty "$(DESTDIR)$$d"; fi; done

installed-files:
	@printf '%s\n' $(INSTALLED)
