#!/bin/sh
# The filesystem scenario of test 50 on btrfs: the same protected service,
# load, data set and three phases in one boot (scripts/fs-phases.sh), with
# its read-only check (btrfs check --readonly) after each phase.
#
# Fails on: any check finding or checksum mismatch (any phase), a module
# phase whose load did not finish in time, allocations still tracked after
# a module phase, a module phase whose reports name none of the
# filesystem's functions in their stacks, or a tuned-phase stall whose task
# called out_of_memory() after oom_after_ms without the module triggering
# the OOM killer. The
# baseline's outcome (whether it livelocks: docs/results/) is recorded, not
# judged.
# nfw-qemu: --mem 512 --btrfs 1000
# nfw-timeout: 1200
. "$(dirname "$0")/lib.sh"
. /nfw/scripts/fs-phases.sh
