// SPDX-License-Identifier: GPL-2.0

//! Raw gfp masks, as the C allocator functions take them, for the test
//! modules (each includes this file with `#[path]`).

use kernel::bindings as b;

/// `__GFP_FS`: the allocation may call into filesystems (and so the OOM
/// killer may act).
pub(crate) const FS: b::gfp_t = 1 << b::___GFP_FS_BIT;
/// `__GFP_NOFAIL`: the allocation must not fail; the allocator retries forever.
pub(crate) const NOFAIL: b::gfp_t = 1 << b::___GFP_NOFAIL_BIT;
/// `__GFP_DMA`: only from ZONE_DMA (the first 16 MiB).
pub(crate) const DMA: b::gfp_t = 1 << b::___GFP_DMA_BIT;
/// `__GFP_MEMALLOC`: may use all of the memory reserves.
pub(crate) const MEMALLOC: b::gfp_t = 1 << b::___GFP_MEMALLOC_BIT;
/// `GFP_KERNEL`.
pub(crate) const KERNEL: b::gfp_t = b::GFP_KERNEL;
/// `GFP_NOFS`: `GFP_KERNEL` without `__GFP_FS` (`include/linux/gfp_types.h`).
pub(crate) const NOFS: b::gfp_t = KERNEL & !FS;

// The values of `include/linux/gfp_types.h` in 6.12.
const _: () = assert!(KERNEL == 0xcc0);
const _: () = assert!(NOFS == 0xc40);
const _: () = assert!(NOFAIL == 0x8000);
