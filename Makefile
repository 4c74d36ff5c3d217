# nofail-watchdog: top-level entry points.  `make help` lists them.
#
#   KERNEL=default|debug   which cached test kernel to build against
#   KDIR=/path             build the module against another Rust-enabled kernel tree

KERNEL ?= default
SHELL := /bin/bash
TOP := $(CURDIR)
CARGO ?= $(HOME)/.cargo/bin/cargo
KFLAG := $(if $(KDIR),--kdir $(KDIR),--kernel $(KERNEL))

.PHONY: all module setup kernel test-modules tools check rust-analyzer print-kdir \
	test run bench clean help

all: module

help:
	@echo 'make setup          install every package the project needs (idempotent)'
	@echo 'make kernel         build or reuse the cached test kernel (KERNEL=default|debug)'
	@echo 'make / make module  build nofail_watchdog.ko (KDIR=... for another kernel tree)'
	@echo 'make test-modules   build the test-only modules'
	@echo 'make tools          build the guest-side helper programs'
	@echo 'make check          rustfmt + clippy, fail on any finding'
	@echo 'make test           host unit tests and the guest test suite'
	@echo 'make run            the main job: the XFS livelock scenario in a guest'
	@echo 'make rust-analyzer  write rust-project.json'
	@echo 'make print-kdir     print the test kernel build tree (KERNEL=debug for the debug one)'

setup:
	@bash scripts/setup.sh

kernel: setup
	@bash scripts/build-kernel.sh $(KERNEL) >/dev/null

module: setup
	@bash scripts/build-module.sh $(KFLAG)
	@echo "module: $$(ls build/$(if $(KDIR),custom,$(KERNEL))/nofail_watchdog.ko)"

test-modules: setup
	@bash scripts/build-module.sh $(KFLAG) --tests

tools: setup
	@bash scripts/build-tools.sh

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

run: setup
	@bash scripts/build-module.sh --kernel $(KERNEL) --tests
	@bash scripts/build-tools.sh
	@bash scripts/run-scenario.sh --kernel $(KERNEL)

clean:
	rm -rf build rust-project.json
