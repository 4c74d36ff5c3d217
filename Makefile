# nofail-watchdog: top-level entry points.  `make help` lists them.
#
#   KERNEL=default|gcc|7.3|debug  which cached test kernel flavour (docs/testing.md, "Kernel flavours")
#   FS=xfs|ext4|btrfs      the filesystem of make run / make run-phases (default xfs)
#   KDIR=/path             build the module against another Rust-enabled kernel tree
#   INSTALL_MOD_PATH=/dir  install below this root (make install / modules_install)
#   PREFIX=/usr/local      where make install puts nfwctl (below INSTALL_MOD_PATH)
#   SYSTEMDUNITDIR=$(PREFIX)/lib/systemd/system  where make install puts the systemd units
#   BOOT=1                 make install also runs install-boot (load the module at boot)

KERNEL ?= default
FS ?= xfs
SHELL := /bin/bash
TOP := $(CURDIR)
CARGO ?= $(HOME)/.cargo/bin/cargo
KFLAG := $(if $(KDIR),--kdir $(KDIR),--kernel $(KERNEL))
PREFIX ?= /usr/local
# /usr/local/lib/systemd/system is systemd's directory for units the
# administrator installs (systemd.unit(5)); with PREFIX=/usr, the
# distribution's own.  Not /etc/systemd/system: that is for the
# administrator's overrides and `systemctl edit`, which must win over ours.
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
DOCDIR ?= $(PREFIX)/share/doc/nofail-watchdog
DATADIR ?= $(PREFIX)/share/nofail-watchdog

.PHONY: all module setup kdir-check kernel test-modules tools check rust-analyzer print-kdir \
	test test-core test-matrix test-debug test-long run run-phases bench clean help modules_install install \
	install-units install-boot

all: module

help:
	@echo 'make setup          install every package the project needs (idempotent)'
	@echo 'make kernel         build or reuse the cached test kernel (KERNEL=default|gcc|7.3|debug)'
	@echo 'make / make module  build nofail_watchdog.ko (KDIR=... for another kernel tree)'
	@echo 'make test-modules   build the test-only modules'
	@echo 'make tools          build the guest-side helper programs'
	@echo 'make modules_install  install the module (INSTALL_MOD_PATH=/root/dir, KDIR=...)'
	@echo 'make install        modules_install, nfwctl into $$(INSTALL_MOD_PATH)$$(PREFIX)/bin, install-units (BOOT=1: install-boot)'
	@echo 'make install-units  systemd units (journal, node_exporter textfile), alerting rules, admin guide; builds nothing'
	@echo 'make install-boot   /etc/modules-load.d and /etc/modprobe.d entries: load the module at boot'
	@echo 'make check          rustfmt + clippy, fail on any finding'
	@echo 'make test           host unit tests and the guest test suite'
	@echo 'make test-core      the tests that prove the module on a kernel (tests/core-tests), KERNEL=...'
	@echo 'make test-matrix    every flavour built, the suite run on each, one table (FLAVOURS=..., CORE=1, JOBS=2)'
	@echo 'make test-debug     the guest test suite on the debug kernel (lockdep, KASAN, kmemleak)'
	@echo 'make test-long      the long stress tests (many more load/unload cycles under stall)'
	@echo 'make run            the main job: the XFS livelock scenario in a guest (FS=ext4|btrfs: on that filesystem)'
	@echo 'make run-phases     the scenario in three phases, one boot: without the module, default and tuned knobs (FS=...)'
	@echo 'make bench          benchmarks in a guest: build/bench/results.json and a table'
	@echo 'make rust-analyzer  write rust-project.json'
	@echo 'make print-kdir     print the test kernel build tree (KERNEL=debug for the debug one)'

setup:
	@bash scripts/setup.sh

kernel: setup
	@bash scripts/build-kernel.sh $(KERNEL) >/dev/null

# With KDIR, the module builds with that tree's own toolchain: nothing is
# installed, and what is missing is named (scripts/kbuild-make.sh --check).
MODSETUP := $(if $(KDIR),kdir-check,setup)

kdir-check:
	@bash scripts/kbuild-make.sh --check $(KDIR)

module: $(MODSETUP)
	@bash scripts/build-module.sh $(KFLAG)
	@echo "module: $$(ls build/$(if $(KDIR),custom,$(KERNEL))/nofail_watchdog.ko)"

test-modules: $(MODSETUP)
	@bash scripts/build-module.sh $(KFLAG) --tests

# cargo only (rustup's toolchain): no packages.
tools:
	@bash scripts/build-tools.sh

# As every out-of-tree module: make -C $KDIR M=<build dir> modules_install
# (into $INSTALL_MOD_PATH/lib/modules/<release>/updates/, then depmod).
modules_install: module
	@bash scripts/build-module.sh $(KFLAG) --target modules_install

install: modules_install tools install-units $(if $(filter 1 yes,$(BOOT)),install-boot)
	install -D -m 755 build/bin/nfwctl $(INSTALL_MOD_PATH)$(PREFIX)/bin/nfwctl

# The units run $(PREFIX)/bin/nfwctl; none is enabled (docs/admin-guide.md,
# section 11). The rules file is for the Prometheus server, not this host.
install-units:
	install -d $(INSTALL_MOD_PATH)$(SYSTEMDUNITDIR)
	for u in tools/systemd/*.service tools/systemd/*.timer; do \
		sed -e 's|@BINDIR@|$(PREFIX)/bin|g' -e 's|@DOCDIR@|$(DOCDIR)|g' $$u \
			>$(INSTALL_MOD_PATH)$(SYSTEMDUNITDIR)/$$(basename $$u) && \
		chmod 644 $(INSTALL_MOD_PATH)$(SYSTEMDUNITDIR)/$$(basename $$u) || exit 1; \
	done
	install -D -m 644 docs/admin-guide.md $(INSTALL_MOD_PATH)$(DOCDIR)/admin-guide.md
	install -D -m 644 tools/prometheus/nofail-watchdog.rules.yml \
		$(INSTALL_MOD_PATH)$(DATADIR)/prometheus/nofail-watchdog.rules.yml

# Opt-in: loading at boot is the administrator's decision.
install-boot:
	@bash scripts/install-boot.sh --root "$(INSTALL_MOD_PATH)"

print-kdir: setup
	@bash scripts/build-kernel.sh $(KERNEL)

rust-analyzer: setup
	@bash scripts/rust-analyzer.sh $(KERNEL)

check: setup
	@bash scripts/check.sh $(KFLAG)

test: setup
	@bash scripts/build-module.sh --kernel $(KERNEL) --tests
	@bash scripts/build-tools.sh
	@bash tests/run-tests --kernel $(KERNEL)

# The tests of tests/core-tests on one flavour: what CI runs on the
# flavours other than the default.
test-core: setup
	@bash scripts/build-module.sh --kernel $(KERNEL) --tests
	@bash scripts/build-tools.sh
	@bash tests/run-tests --kernel $(KERNEL) $$(grep -Ev '^#|^$$' tests/core-tests)

# Every flavour (or FLAVOURS="gcc 7.3"), built and tested, one table;
# JOBS=N runs N flavours at once.
test-matrix: setup
	@bash scripts/test-matrix.sh $(if $(CORE),--core) $(if $(JOBS),-j $(JOBS)) $(FLAVOURS)

# The whole guest suite on the debug kernel flavour. Not part of `make test`:
# a cold debug kernel build plus the slower suite does not fit the CI budget
# next to the default kernel's (see docs/testing.md, "CI and the matrix").
test-debug: setup
	@bash scripts/build-module.sh --kernel debug --tests
	@bash scripts/build-tools.sh
	@bash tests/run-tests --kernel debug

# The stress tests at full length (61: its long insmod/rmmod cycle count,
# an hour or more under TCG); make test runs them shortened.
test-long: setup
	@bash scripts/build-module.sh --kernel $(KERNEL) --tests
	@bash scripts/build-tools.sh
	@NFW_LONG=1 bash tests/run-tests --kernel $(KERNEL) 61-

run: setup
	@bash scripts/build-module.sh --kernel $(KERNEL) --tests
	@bash scripts/build-tools.sh
	@bash scripts/run-scenario.sh --kernel $(KERNEL) --fs $(FS)

run-phases: setup
	@bash scripts/build-module.sh --kernel $(KERNEL) --tests
	@bash scripts/build-tools.sh
	@bash scripts/run-scenario.sh --kernel $(KERNEL) --fs $(FS) --phases

bench: setup
	@bash scripts/build-module.sh --kernel $(KERNEL) --tests
	@bash scripts/build-tools.sh
	@bash scripts/bench.sh --kernel $(KERNEL)

clean:
	rm -rf build rust-project.json
