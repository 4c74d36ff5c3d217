#!/bin/sh
# The filesystem scenario of test 50 on ext4 (jbd2): the same protected
# service, data set and three phases in one boot (scripts/fs-phases.sh), a
# metadata-heavy load (below), with
# its read-only check (e2fsck -fn) after each phase.
#
# Fails on: any check finding or checksum mismatch (any phase), a module
# phase whose load did not finish in time, allocations still tracked after
# a module phase, a module phase whose reports name none of the
# filesystem's functions in their stacks, or a tuned-phase stall whose task
# called out_of_memory() after oom_after_ms without the module triggering
# the OOM killer. The
# baseline's outcome (whether it livelocks: docs/results/) is recorded, not
# judged.
# nfw-qemu: --mem 512 --ext4 600
# nfw-timeout: 1200
. "$(dirname "$0")/lib.sh"
# ext4's squeeze is metadata-heavy: with test 50's data load its writers'
# page-cache folios keep __GFP_FS and reach the OOM killer first; with many
# empty files each given a 2 KiB xattr in an external block, every setxattr
# allocates a block inside a jbd2 handle, and mballoc's buddy-cache folios
# (GFP_NOFS, implicit no-fail) are what get stuck when they do. ext4 does
# not livelock under either squeeze (its data folios keep __GFP_FS, its
# clean metadata is page cache that NOFS reclaim frees): its stalls are
# short and many runs have none, which the output then says (results:
# docs/results/2026-12-01-fs-scenarios.md). The hog leaves nothing (one
# MiB less than test 50; a slower debug kernel keeps its margin).
NFW_XFS_KEEP=${NFW_XFS_KEEP:-2000}
NFW_XFS_FILE_KB=${NFW_XFS_FILE_KB:-0}
NFW_XFS_XATTR=${NFW_XFS_XATTR:-2048}
NFW_XFS_LEAVE_MB=${NFW_XFS_LEAVE_MB:-$(($(nfw_slow 1) - 1))}
. /nfw/scripts/fs-phases.sh
