#!/bin/sh
# The filesystem scenario of test 50 on ext4 (jbd2): the same protected service,
# load, data set and three phases in one boot (scripts/fs-phases.sh), with
# its read-only check (e2fsck -fn) after each phase.
#
# Fails on: any check finding or checksum mismatch (any phase), a module
# phase whose load did not finish in time, allocations still tracked after
# a module phase, a module phase whose reports name none of the
# filesystem's functions in their stacks, or a tuned-phase stall longer
# than oom_after_ms + 3 s without the module triggering the OOM killer. The
# baseline's outcome (whether it livelocks: docs/results/) is recorded, not
# judged.
# nfw-qemu: --mem 512 --ext4 600
# nfw-timeout: 1200
. "$(dirname "$0")/lib.sh"
. /nfw/scripts/fs-phases.sh
