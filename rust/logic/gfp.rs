//! GFP flags of Linux 6.12 and the classification of allocations that cannot fail.
//!
//! The bit layout mirrors `include/linux/gfp_types.h` (enum `___GFP_*_BIT`).
//! Only the bits up to and including `__GFP_ZEROTAGS` have a fixed position;
//! the later ones (`SKIP_ZERO`, `SKIP_KASAN`, `NOLOCKDEP`, `NO_OBJ_EXT`) exist
//! or not depending on the kernel configuration, so they are deliberately not
//! defined here and are treated (and printed) as unknown bits.
//!
//! Because `__GFP_SKIP_KASAN` is not defined, [`GFP_HIGHUSER_MOVABLE`] (and
//! the transhuge masks built on it) are the values of a kernel without
//! `CONFIG_KASAN_HW_TAGS`, where `__GFP_SKIP_KASAN` is 0.

use core::fmt;

/// `__GFP_DMA`: allocate from `ZONE_DMA`.
pub const DMA: u32 = 1 << 0;
/// `__GFP_HIGHMEM`: highmem pages are allowed.
pub const HIGHMEM: u32 = 1 << 1;
/// `__GFP_DMA32`: allocate from `ZONE_DMA32`.
pub const DMA32: u32 = 1 << 2;
/// `__GFP_MOVABLE`: the page is movable (`ZONE_MOVABLE` allowed).
pub const MOVABLE: u32 = 1 << 3;
/// `__GFP_RECLAIMABLE`: slab page that can be reclaimed via shrinkers.
pub const RECLAIMABLE: u32 = 1 << 4;
/// `__GFP_HIGH`: high priority, may use part of the reserves.
pub const HIGH: u32 = 1 << 5;
/// `__GFP_IO`: the allocation may start physical I/O.
pub const IO: u32 = 1 << 6;
/// `__GFP_FS`: the allocation may call down into the filesystem layer.
pub const FS: u32 = 1 << 7;
/// `__GFP_ZERO`: return a zeroed page.
pub const ZERO: u32 = 1 << 8;
// Bit 9 (0x200) is ___GFP_UNUSED_BIT in 6.12.
/// `__GFP_DIRECT_RECLAIM`: the caller may enter direct reclaim (may sleep).
pub const DIRECT_RECLAIM: u32 = 1 << 10;
/// `__GFP_KSWAPD_RECLAIM`: wake kswapd when the low watermark is reached.
pub const KSWAPD_RECLAIM: u32 = 1 << 11;
/// `__GFP_WRITE`: the caller intends to dirty the page.
pub const WRITE: u32 = 1 << 12;
/// `__GFP_NOWARN`: suppress allocation failure reports.
pub const NOWARN: u32 = 1 << 13;
/// `__GFP_RETRY_MAYFAIL`: retry hard but eventually fail.
pub const RETRY_MAYFAIL: u32 = 1 << 14;
/// `__GFP_NOFAIL`: retry forever, the allocation cannot fail.
pub const NOFAIL: u32 = 1 << 15;
/// `__GFP_NORETRY`: fail early instead of retrying.
pub const NORETRY: u32 = 1 << 16;
/// `__GFP_MEMALLOC`: access to all memory reserves.
pub const MEMALLOC: u32 = 1 << 17;
/// `__GFP_COMP`: compound page metadata.
pub const COMP: u32 = 1 << 18;
/// `__GFP_NOMEMALLOC`: never use the emergency reserves.
pub const NOMEMALLOC: u32 = 1 << 19;
/// `__GFP_HARDWALL`: enforce the cpuset memory allocation policy.
pub const HARDWALL: u32 = 1 << 20;
/// `__GFP_THISNODE`: allocate from the requested node only.
pub const THISNODE: u32 = 1 << 21;
/// `__GFP_ACCOUNT`: account the allocation to kmemcg.
pub const ACCOUNT: u32 = 1 << 22;
/// `__GFP_ZEROTAGS`: zero memory tags when zeroing the page (KASAN HW tags).
pub const ZEROTAGS: u32 = 1 << 23;

/// Mask of all the config-independent bits defined above.
pub const KNOWN_MASK: u32 = (ZEROTAGS << 1) - 1 - (1 << 9);

/// `__GFP_RECLAIM`: direct reclaim and kswapd reclaim.
pub const RECLAIM: u32 = DIRECT_RECLAIM | KSWAPD_RECLAIM;
/// `GFP_ATOMIC`: the caller cannot sleep and the allocation must succeed with high priority.
pub const GFP_ATOMIC: u32 = HIGH | KSWAPD_RECLAIM;
/// `GFP_KERNEL`: typical kernel-internal allocation.
pub const GFP_KERNEL: u32 = RECLAIM | IO | FS;
/// `GFP_KERNEL_ACCOUNT`: `GFP_KERNEL` accounted to kmemcg.
pub const GFP_KERNEL_ACCOUNT: u32 = GFP_KERNEL | ACCOUNT;
/// `GFP_NOWAIT`: kernel allocation that must not stall for direct reclaim.
pub const GFP_NOWAIT: u32 = KSWAPD_RECLAIM | NOWARN;
/// `GFP_NOIO`: reclaim without starting any physical I/O.
pub const GFP_NOIO: u32 = RECLAIM;
/// `GFP_NOFS`: reclaim without calling into the filesystem.
pub const GFP_NOFS: u32 = RECLAIM | IO;
/// `GFP_USER`: userspace allocation also accessed by the kernel.
pub const GFP_USER: u32 = RECLAIM | IO | FS | HARDWALL;
/// `GFP_DMA`: allocation from `ZONE_DMA`.
pub const GFP_DMA: u32 = DMA;
/// `GFP_DMA32`: allocation from `ZONE_DMA32`.
pub const GFP_DMA32: u32 = DMA32;
/// `GFP_HIGHUSER`: userspace allocation that may use highmem.
pub const GFP_HIGHUSER: u32 = GFP_USER | HIGHMEM;
/// `GFP_HIGHUSER_MOVABLE`: movable userspace allocation (without `CONFIG_KASAN_HW_TAGS`).
pub const GFP_HIGHUSER_MOVABLE: u32 = GFP_HIGHUSER | MOVABLE;
/// `GFP_TRANSHUGE_LIGHT`: THP allocation that never reclaims or compacts.
pub const GFP_TRANSHUGE_LIGHT: u32 = (GFP_HIGHUSER_MOVABLE | COMP | NOMEMALLOC | NOWARN) & !RECLAIM;
/// `GFP_TRANSHUGE`: THP allocation that may directly reclaim and compact.
pub const GFP_TRANSHUGE: u32 = GFP_TRANSHUGE_LIGHT | DIRECT_RECLAIM;

/// `PAGE_ALLOC_COSTLY_ORDER`: orders above this are "costly" and may fail.
pub const PAGE_ALLOC_COSTLY_ORDER: u32 = 3;

/// Names tried in order when decoding, as in `__def_gfpflag_names` of `include/trace/events/mmflags.h`.
const NAMES: [(u32, &str); 35] = [
    (GFP_TRANSHUGE, "GFP_TRANSHUGE"),
    (GFP_TRANSHUGE_LIGHT, "GFP_TRANSHUGE_LIGHT"),
    (GFP_HIGHUSER_MOVABLE, "GFP_HIGHUSER_MOVABLE"),
    (GFP_HIGHUSER, "GFP_HIGHUSER"),
    (GFP_USER, "GFP_USER"),
    (GFP_KERNEL_ACCOUNT, "GFP_KERNEL_ACCOUNT"),
    (GFP_KERNEL, "GFP_KERNEL"),
    (GFP_NOFS, "GFP_NOFS"),
    (GFP_ATOMIC, "GFP_ATOMIC"),
    (GFP_NOIO, "GFP_NOIO"),
    (GFP_NOWAIT, "GFP_NOWAIT"),
    (GFP_DMA, "GFP_DMA"),
    (HIGHMEM, "__GFP_HIGHMEM"),
    (GFP_DMA32, "GFP_DMA32"),
    (HIGH, "__GFP_HIGH"),
    (IO, "__GFP_IO"),
    (FS, "__GFP_FS"),
    (NOWARN, "__GFP_NOWARN"),
    (RETRY_MAYFAIL, "__GFP_RETRY_MAYFAIL"),
    (NOFAIL, "__GFP_NOFAIL"),
    (NORETRY, "__GFP_NORETRY"),
    (COMP, "__GFP_COMP"),
    (ZERO, "__GFP_ZERO"),
    (NOMEMALLOC, "__GFP_NOMEMALLOC"),
    (MEMALLOC, "__GFP_MEMALLOC"),
    (HARDWALL, "__GFP_HARDWALL"),
    (THISNODE, "__GFP_THISNODE"),
    (RECLAIMABLE, "__GFP_RECLAIMABLE"),
    (MOVABLE, "__GFP_MOVABLE"),
    (ACCOUNT, "__GFP_ACCOUNT"),
    (WRITE, "__GFP_WRITE"),
    (RECLAIM, "__GFP_RECLAIM"),
    (DIRECT_RECLAIM, "__GFP_DIRECT_RECLAIM"),
    (KSWAPD_RECLAIM, "__GFP_KSWAPD_RECLAIM"),
    (ZEROTAGS, "__GFP_ZEROTAGS"),
];

/// A GFP mask whose [`Display`](fmt::Display) decodes it like the kernel's `%pGg`.
///
/// Composite names are tried first, in the order of `__def_gfpflag_names`;
/// a name is printed only if all of its bits are still present, and its bits
/// are then removed. Names are joined with `|` without spaces, leftover
/// unknown bits are appended as lowercase `0x..` hex, and a zero mask prints
/// `0` (where the kernel's `%pGg` would print nothing).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Gfp(pub u32);

impl fmt::Display for Gfp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut flags = self.0;
        if flags == 0 {
            return f.write_str("0");
        }
        for &(mask, name) in NAMES.iter() {
            if flags == 0 {
                break;
            }
            if mask == 0 || flags & mask != mask {
                continue;
            }
            f.write_str(name)?;
            flags &= !mask;
            if flags != 0 {
                f.write_str("|")?;
            }
        }
        if flags != 0 {
            write!(f, "{:#x}", flags)?;
        }
        Ok(())
    }
}

/// Why an allocation is not allowed to fail.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    /// The caller passed `__GFP_NOFAIL`.
    NoFail,
    /// A "too small to fail" allocation: blocking, order <= costly, no `NORETRY`/`RETRY_MAYFAIL`.
    Implicit,
    /// Any other allocation (it may fail).
    Other,
}

impl Kind {
    /// Returns the lowercase name used in reports and sysfs (`nofail`, `implicit`, `other`).
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::NoFail => "nofail",
            Kind::Implicit => "implicit",
            Kind::Other => "other",
        }
    }

    /// Decodes a kind stored as `kind as u32`; any other value reads as
    /// [`Kind::Other`].
    pub fn from_u32(v: u32) -> Kind {
        match v {
            0 => Kind::NoFail,
            1 => Kind::Implicit,
            _ => Kind::Other,
        }
    }
}

/// Classifies an allocation of `order` with mask `gfp` by why it cannot fail.
///
/// [`Kind::NoFail`] if `__GFP_NOFAIL` is set; [`Kind::Implicit`] if it may
/// direct-reclaim, `order <= PAGE_ALLOC_COSTLY_ORDER` and neither
/// `__GFP_NORETRY` nor `__GFP_RETRY_MAYFAIL` is set (the page allocator then
/// loops instead of failing); [`Kind::Other`] otherwise.
pub fn classify(gfp: u32, order: u32) -> Kind {
    if gfp & NOFAIL != 0 {
        Kind::NoFail
    } else if gfp & DIRECT_RECLAIM != 0
        && order <= PAGE_ALLOC_COSTLY_ORDER
        && gfp & (NORETRY | RETRY_MAYFAIL) == 0
    {
        Kind::Implicit
    } else {
        Kind::Other
    }
}

/// Returns whether `__GFP_FS` is clear, so that the page allocator will not invoke the OOM killer.
pub fn is_nofs(gfp: u32) -> bool {
    gfp & FS == 0
}

/// Which allocations the watchdog tracks (the `scope` knob).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Scope {
    /// Only explicit `__GFP_NOFAIL` allocations.
    NoFail = 0,
    /// `__GFP_NOFAIL` plus implicit no-fail allocations without `__GFP_FS`.
    NoFs = 1,
    /// Every allocation that reaches the slow path.
    All = 2,
}

impl Scope {
    /// Converts the stored knob index (0, 1, 2) into a scope, `None` if out of range.
    pub fn from_index(index: u32) -> Option<Scope> {
        match index {
            0 => Some(Scope::NoFail),
            1 => Some(Scope::NoFs),
            2 => Some(Scope::All),
            _ => None,
        }
    }

    /// Returns the knob word of this scope (`nofail`, `nofs`, `all`).
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::NoFail => "nofail",
            Scope::NoFs => "nofs",
            Scope::All => "all",
        }
    }
}

/// Returns the kind of the allocation if `scope` says it should be tracked, `None` otherwise.
///
/// [`Scope::NoFail`] tracks only [`Kind::NoFail`]; [`Scope::NoFs`] tracks
/// [`Kind::NoFail`] and, if [`is_nofs`], [`Kind::Implicit`];
/// [`Scope::All`] tracks everything (including [`Kind::Other`]).
pub fn tracked(scope: Scope, gfp: u32, order: u32) -> Option<Kind> {
    // Only allocations that may block, which are therefore made in task
    // context: one that cannot sleep cannot be backed off, and it may come
    // from an interrupt, where `current` is whoever was interrupted. (The
    // probe handler cannot ask `in_task()` itself: a kprobe handler hit
    // through INT3 runs in NMI-like context.) A `__GFP_NOFAIL` allocation
    // without `__GFP_DIRECT_RECLAIM` is a kernel bug the allocator warns about.
    if gfp & DIRECT_RECLAIM == 0 {
        return None;
    }
    let kind = classify(gfp, order);
    match (scope, kind) {
        (Scope::All, _) => Some(kind),
        (_, Kind::NoFail) => Some(kind),
        (Scope::NoFs, Kind::Implicit) if is_nofs(gfp) => Some(kind),
        _ => None,
    }
}
