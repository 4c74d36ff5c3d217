//! Tests of `logic::gfp`: bit layout, `%pGg`-style decoding, classification.

use nfw_logic_tests::logic::gfp::{self, Gfp, Kind, Scope};
use nfw_logic_tests::logic::knobs;

fn s(mask: u32) -> String {
    Gfp(mask).to_string()
}

/// Tiny deterministic PRNG (no dependencies).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 11
    }
}

#[test]
fn single_bits_match_gfp_types_h() {
    let bits = [
        (gfp::DMA, 0),
        (gfp::HIGHMEM, 1),
        (gfp::DMA32, 2),
        (gfp::MOVABLE, 3),
        (gfp::RECLAIMABLE, 4),
        (gfp::HIGH, 5),
        (gfp::IO, 6),
        (gfp::FS, 7),
        (gfp::ZERO, 8),
        // bit 9 is ___GFP_UNUSED_BIT
        (gfp::DIRECT_RECLAIM, 10),
        (gfp::KSWAPD_RECLAIM, 11),
        (gfp::WRITE, 12),
        (gfp::NOWARN, 13),
        (gfp::RETRY_MAYFAIL, 14),
        (gfp::NOFAIL, 15),
        (gfp::NORETRY, 16),
        (gfp::MEMALLOC, 17),
        (gfp::COMP, 18),
        (gfp::NOMEMALLOC, 19),
        (gfp::HARDWALL, 20),
        (gfp::THISNODE, 21),
        (gfp::ACCOUNT, 22),
        (gfp::ZEROTAGS, 23),
    ];
    let mut all = 0;
    for (mask, bit) in bits {
        assert_eq!(mask, 1 << bit, "bit {bit}");
        assert_eq!(all & mask, 0, "duplicate bit {bit}");
        all |= mask;
    }
    assert_eq!(all, gfp::KNOWN_MASK);
    assert_eq!(gfp::KNOWN_MASK, 0x00ff_fdff);
}

#[test]
fn composites_match_gfp_types_h() {
    // Values as printed by real 6.x kernels (e.g. "gfp_mask=0xcc0(GFP_KERNEL)").
    assert_eq!(gfp::RECLAIM, 0xc00);
    assert_eq!(gfp::GFP_KERNEL, 0xcc0);
    assert_eq!(gfp::GFP_NOFS, 0xc40);
    assert_eq!(gfp::GFP_NOIO, 0xc00);
    assert_eq!(gfp::GFP_NOWAIT, 0x2800);
    assert_eq!(gfp::GFP_ATOMIC, 0x820);
    assert_eq!(gfp::GFP_KERNEL_ACCOUNT, 0x400cc0);
    assert_eq!(gfp::GFP_USER, 0x100cc0);
    assert_eq!(gfp::GFP_HIGHUSER, 0x100cc2);
    assert_eq!(gfp::GFP_HIGHUSER_MOVABLE, 0x100cca);
    assert_eq!(gfp::GFP_DMA, 0x1);
    assert_eq!(gfp::GFP_DMA32, 0x4);
    assert_eq!(gfp::GFP_TRANSHUGE_LIGHT, 0x1c20ca);
    assert_eq!(gfp::GFP_TRANSHUGE, 0x1c24ca);
    assert_eq!(gfp::PAGE_ALLOC_COSTLY_ORDER, 3);
}

#[test]
fn display_matches_real_kernel_output() {
    // Strings seen in real 6.x kernel logs.
    assert_eq!(s(0xcc0), "GFP_KERNEL");
    assert_eq!(s(0x8c40), "GFP_NOFS|__GFP_NOFAIL");
    assert_eq!(s(0x140cca), "GFP_HIGHUSER_MOVABLE|__GFP_COMP");
    assert_eq!(s(0x42dc0), "GFP_KERNEL|__GFP_NOWARN|__GFP_COMP|__GFP_ZERO");
    assert_eq!(s(0x400dc0), "GFP_KERNEL_ACCOUNT|__GFP_ZERO");
    assert_eq!(s(0x820), "GFP_ATOMIC");
    assert_eq!(s(0x2800), "GFP_NOWAIT");
    assert_eq!(s(0xc00), "GFP_NOIO");
}

#[test]
fn display_uses_mmflags_order() {
    // mmflags.h order is NOFAIL, NORETRY, COMP, ZERO (not bit order).
    assert_eq!(
        s(gfp::GFP_NOFS | gfp::ZERO | gfp::NOFAIL | gfp::COMP),
        "GFP_NOFS|__GFP_NOFAIL|__GFP_COMP|__GFP_ZERO"
    );
    assert_eq!(s(gfp::GFP_TRANSHUGE), "GFP_TRANSHUGE");
    assert_eq!(s(gfp::GFP_TRANSHUGE_LIGHT), "GFP_TRANSHUGE_LIGHT");
    assert_eq!(s(gfp::GFP_HIGHUSER), "GFP_HIGHUSER");
    assert_eq!(s(gfp::GFP_USER), "GFP_USER");
    assert_eq!(s(gfp::GFP_DMA), "GFP_DMA");
    assert_eq!(s(gfp::GFP_DMA32), "GFP_DMA32");
    assert_eq!(s(gfp::HIGHMEM), "__GFP_HIGHMEM");
    assert_eq!(s(gfp::DIRECT_RECLAIM), "__GFP_DIRECT_RECLAIM");
    assert_eq!(s(gfp::KSWAPD_RECLAIM), "__GFP_KSWAPD_RECLAIM");
    assert_eq!(s(gfp::ZEROTAGS), "__GFP_ZEROTAGS");
    // GFP_ATOMIC comes before GFP_NOIO in the table.
    assert_eq!(
        s(gfp::HIGH | gfp::RECLAIM),
        "GFP_ATOMIC|__GFP_DIRECT_RECLAIM"
    );
    // GFP_NOFS before __GFP_FS: GFP_KERNEL wins over both.
    assert_eq!(s(gfp::GFP_KERNEL | gfp::HARDWALL), "GFP_USER");
    assert_eq!(
        s(gfp::GFP_KERNEL | gfp::THISNODE),
        "GFP_KERNEL|__GFP_THISNODE"
    );
    assert_eq!(s(gfp::IO | gfp::FS), "__GFP_IO|__GFP_FS");
    assert_eq!(
        s(gfp::NOWARN | gfp::RETRY_MAYFAIL | gfp::NORETRY | gfp::MEMALLOC | gfp::NOMEMALLOC),
        "__GFP_NOWARN|__GFP_RETRY_MAYFAIL|__GFP_NORETRY|__GFP_NOMEMALLOC|__GFP_MEMALLOC"
    );
    assert_eq!(
        s(gfp::RECLAIMABLE | gfp::MOVABLE | gfp::ACCOUNT | gfp::WRITE),
        "__GFP_RECLAIMABLE|__GFP_MOVABLE|__GFP_ACCOUNT|__GFP_WRITE"
    );
}

#[test]
fn display_zero_and_unknown_bits() {
    assert_eq!(s(0), "0");
    assert_eq!(s(0x200), "0x200");
    assert_eq!(s(0x0100_0000), "0x1000000");
    assert_eq!(s(0x8000_0000), "0x80000000");
    assert_eq!(s(gfp::GFP_KERNEL | 0x200), "GFP_KERNEL|0x200");
    assert_eq!(
        s(gfp::GFP_NOFS | gfp::NOFAIL | 0x0300_0000),
        "GFP_NOFS|__GFP_NOFAIL|0x3000000"
    );
    assert_eq!(s(!gfp::KNOWN_MASK), "0xff000200");
    let all = s(u32::MAX);
    assert!(all.starts_with("GFP_TRANSHUGE|"), "{all}");
    assert!(all.ends_with("|0xff000200"), "{all}");
    assert!(!all.contains(' '));
}

/// Parses a decoded string back into a mask.
fn reparse(text: &str) -> u32 {
    if text == "0" {
        return 0;
    }
    let names: &[(&str, u32)] = &[
        ("GFP_TRANSHUGE", gfp::GFP_TRANSHUGE),
        ("GFP_TRANSHUGE_LIGHT", gfp::GFP_TRANSHUGE_LIGHT),
        ("GFP_HIGHUSER_MOVABLE", gfp::GFP_HIGHUSER_MOVABLE),
        ("GFP_HIGHUSER", gfp::GFP_HIGHUSER),
        ("GFP_USER", gfp::GFP_USER),
        ("GFP_KERNEL_ACCOUNT", gfp::GFP_KERNEL_ACCOUNT),
        ("GFP_KERNEL", gfp::GFP_KERNEL),
        ("GFP_NOFS", gfp::GFP_NOFS),
        ("GFP_ATOMIC", gfp::GFP_ATOMIC),
        ("GFP_NOIO", gfp::GFP_NOIO),
        ("GFP_NOWAIT", gfp::GFP_NOWAIT),
        ("GFP_DMA", gfp::GFP_DMA),
        ("__GFP_HIGHMEM", gfp::HIGHMEM),
        ("GFP_DMA32", gfp::GFP_DMA32),
        ("__GFP_HIGH", gfp::HIGH),
        ("__GFP_IO", gfp::IO),
        ("__GFP_FS", gfp::FS),
        ("__GFP_NOWARN", gfp::NOWARN),
        ("__GFP_RETRY_MAYFAIL", gfp::RETRY_MAYFAIL),
        ("__GFP_NOFAIL", gfp::NOFAIL),
        ("__GFP_NORETRY", gfp::NORETRY),
        ("__GFP_COMP", gfp::COMP),
        ("__GFP_ZERO", gfp::ZERO),
        ("__GFP_NOMEMALLOC", gfp::NOMEMALLOC),
        ("__GFP_MEMALLOC", gfp::MEMALLOC),
        ("__GFP_HARDWALL", gfp::HARDWALL),
        ("__GFP_THISNODE", gfp::THISNODE),
        ("__GFP_RECLAIMABLE", gfp::RECLAIMABLE),
        ("__GFP_MOVABLE", gfp::MOVABLE),
        ("__GFP_ACCOUNT", gfp::ACCOUNT),
        ("__GFP_WRITE", gfp::WRITE),
        ("__GFP_RECLAIM", gfp::RECLAIM),
        ("__GFP_DIRECT_RECLAIM", gfp::DIRECT_RECLAIM),
        ("__GFP_KSWAPD_RECLAIM", gfp::KSWAPD_RECLAIM),
        ("__GFP_ZEROTAGS", gfp::ZEROTAGS),
    ];
    let mut mask = 0;
    for part in text.split('|') {
        let bits = if let Some(hex) = part.strip_prefix("0x") {
            let v = u32::from_str_radix(hex, 16).expect("hex");
            assert_eq!(v & gfp::KNOWN_MASK, 0, "known bit printed as hex: {text}");
            v
        } else {
            names
                .iter()
                .find(|(n, _)| *n == part)
                .unwrap_or_else(|| panic!("unknown name {part} in {text}"))
                .1
        };
        assert_eq!(mask & bits, 0, "overlapping parts in {text}");
        mask |= bits;
    }
    mask
}

#[test]
fn display_round_trips_random_masks() {
    let mut rng = Lcg(42);
    for _ in 0..20_000 {
        let r = rng.next();
        // Mix dense and sparse masks.
        let mask = match r % 3 {
            0 => r as u32,
            1 => (r as u32) & (rng.next() as u32),
            _ => (r as u32) & gfp::KNOWN_MASK,
        };
        let text = s(mask);
        assert_eq!(reparse(&text), mask, "{mask:#x} -> {text}");
        assert!(!text.is_empty() && !text.starts_with('|') && !text.ends_with('|'));
        assert!(!text.contains("||"));
    }
    for bit in 0..32 {
        assert_eq!(reparse(&s(1 << bit)), 1 << bit);
    }
}

#[test]
fn classify_explicit_nofail() {
    for order in [0, 1, 3, 4, 10, u32::MAX] {
        assert_eq!(gfp::classify(gfp::NOFAIL, order), Kind::NoFail);
        assert_eq!(
            gfp::classify(gfp::GFP_NOFS | gfp::NOFAIL, order),
            Kind::NoFail
        );
        // NOFAIL wins even over (contradictory) NORETRY/RETRY_MAYFAIL.
        assert_eq!(
            gfp::classify(gfp::NOFAIL | gfp::NORETRY | gfp::RETRY_MAYFAIL, order),
            Kind::NoFail
        );
        assert_eq!(gfp::classify(u32::MAX, order), Kind::NoFail);
    }
}

#[test]
fn classify_too_small_to_fail() {
    for order in 0..=gfp::PAGE_ALLOC_COSTLY_ORDER {
        assert_eq!(gfp::classify(gfp::GFP_KERNEL, order), Kind::Implicit);
        assert_eq!(gfp::classify(gfp::GFP_NOFS, order), Kind::Implicit);
        assert_eq!(gfp::classify(gfp::GFP_NOIO, order), Kind::Implicit);
        assert_eq!(gfp::classify(gfp::DIRECT_RECLAIM, order), Kind::Implicit);
        assert_eq!(
            gfp::classify(gfp::GFP_KERNEL | gfp::NOWARN, order),
            Kind::Implicit
        );
        assert_eq!(
            gfp::classify(gfp::GFP_KERNEL | gfp::NORETRY, order),
            Kind::Other
        );
        assert_eq!(
            gfp::classify(gfp::GFP_KERNEL | gfp::RETRY_MAYFAIL, order),
            Kind::Other
        );
        assert_eq!(gfp::classify(gfp::GFP_ATOMIC, order), Kind::Other);
        assert_eq!(gfp::classify(gfp::GFP_NOWAIT, order), Kind::Other);
        assert_eq!(gfp::classify(gfp::KSWAPD_RECLAIM, order), Kind::Other);
        assert_eq!(gfp::classify(0, order), Kind::Other);
        assert_eq!(gfp::classify(gfp::GFP_TRANSHUGE_LIGHT, order), Kind::Other);
    }
    for order in [gfp::PAGE_ALLOC_COSTLY_ORDER + 1, 9, 10, u32::MAX] {
        assert_eq!(gfp::classify(gfp::GFP_KERNEL, order), Kind::Other);
        assert_eq!(gfp::classify(gfp::GFP_TRANSHUGE, order), Kind::Other);
    }
}

#[test]
fn kind_names() {
    assert_eq!(Kind::NoFail.as_str(), "nofail");
    assert_eq!(Kind::Implicit.as_str(), "implicit");
    assert_eq!(Kind::Other.as_str(), "other");
}

#[test]
fn nofs() {
    assert!(gfp::is_nofs(gfp::GFP_NOFS));
    assert!(gfp::is_nofs(gfp::GFP_NOIO));
    assert!(gfp::is_nofs(gfp::GFP_ATOMIC));
    assert!(gfp::is_nofs(0));
    assert!(gfp::is_nofs(!gfp::FS));
    assert!(!gfp::is_nofs(gfp::GFP_KERNEL));
    assert!(!gfp::is_nofs(gfp::FS));
    assert!(!gfp::is_nofs(u32::MAX));
}

#[test]
fn scope_indices_and_names_match_knob_words() {
    let words = match knobs::Knob::Scope.desc().kind {
        knobs::KnobKind::Words(w) => w,
        other => panic!("scope is not a word knob: {other:?}"),
    };
    assert_eq!(words.len(), 3);
    for (i, word) in words.iter().enumerate() {
        let scope = Scope::from_index(i as u32).expect("index");
        assert_eq!(scope as u32, i as u32);
        assert_eq!(scope.as_str(), *word);
    }
    assert_eq!(Scope::from_index(0), Some(Scope::NoFail));
    assert_eq!(Scope::from_index(1), Some(Scope::NoFs));
    assert_eq!(Scope::from_index(2), Some(Scope::All));
    assert_eq!(Scope::from_index(3), None);
    assert_eq!(Scope::from_index(u32::MAX), None);
}

#[test]
fn tracked_by_scope() {
    use Scope::*;
    let nofail_fs = gfp::GFP_KERNEL | gfp::NOFAIL;
    let nofail_nofs = gfp::GFP_NOFS | gfp::NOFAIL;
    // (gfp, order, nofail scope, nofs scope, all scope)
    type Case = (u32, u32, Option<Kind>, Option<Kind>, Option<Kind>);
    let cases: &[Case] = &[
        (
            nofail_fs,
            0,
            Some(Kind::NoFail),
            Some(Kind::NoFail),
            Some(Kind::NoFail),
        ),
        (
            nofail_nofs,
            5,
            Some(Kind::NoFail),
            Some(Kind::NoFail),
            Some(Kind::NoFail),
        ),
        (
            gfp::GFP_NOFS,
            0,
            None,
            Some(Kind::Implicit),
            Some(Kind::Implicit),
        ),
        (
            gfp::GFP_NOIO,
            3,
            None,
            Some(Kind::Implicit),
            Some(Kind::Implicit),
        ),
        (gfp::GFP_KERNEL, 0, None, None, Some(Kind::Implicit)),
        (gfp::GFP_NOFS, 4, None, None, Some(Kind::Other)),
        (
            gfp::GFP_NOFS | gfp::NORETRY,
            0,
            None,
            None,
            Some(Kind::Other),
        ),
        // Allocations that cannot block are never tracked.
        (gfp::GFP_ATOMIC, 0, None, None, None),
        (gfp::GFP_ATOMIC | gfp::NOFAIL, 0, None, None, None),
        (gfp::GFP_NOWAIT, 0, None, None, None),
        (0, 0, None, None, None),
    ];
    for &(mask, order, a, b, c) in cases {
        assert_eq!(
            gfp::tracked(NoFail, mask, order),
            a,
            "{} {order}",
            Gfp(mask)
        );
        assert_eq!(gfp::tracked(NoFs, mask, order), b, "{} {order}", Gfp(mask));
        assert_eq!(gfp::tracked(All, mask, order), c, "{} {order}", Gfp(mask));
    }
}

#[test]
fn tracked_is_consistent_with_classify() {
    let mut rng = Lcg(7);
    for _ in 0..20_000 {
        let mask = rng.next() as u32;
        let order = (rng.next() % 12) as u32;
        let kind = gfp::classify(mask, order);
        if mask & gfp::DIRECT_RECLAIM == 0 {
            for scope in [Scope::NoFail, Scope::NoFs, Scope::All] {
                assert_eq!(gfp::tracked(scope, mask, order), None);
            }
            continue;
        }
        assert_eq!(gfp::tracked(Scope::All, mask, order), Some(kind));
        let nofail = gfp::tracked(Scope::NoFail, mask, order);
        let nofs = gfp::tracked(Scope::NoFs, mask, order);
        assert_eq!(nofail.is_some(), kind == Kind::NoFail);
        // Scopes are nested: nofail ⊆ nofs ⊆ all.
        if nofail.is_some() {
            assert_eq!(nofs, nofail);
        }
        if let Some(k) = nofs {
            assert_eq!(k, kind);
            assert_ne!(k, Kind::Other);
            if k == Kind::Implicit {
                assert!(gfp::is_nofs(mask));
            }
        }
    }
}

#[test]
fn kind_round_trips_through_u32() {
    for k in [Kind::NoFail, Kind::Implicit, Kind::Other] {
        assert_eq!(Kind::from_u32(k as u32), k);
    }
    assert_eq!(Kind::from_u32(3), Kind::Other);
    assert_eq!(Kind::from_u32(u32::MAX), Kind::Other);
}
