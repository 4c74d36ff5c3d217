//! Sequence-counted slots and rings: lock-free records that a reader either
//! copies whole or knows to have missed.
//!
//! The protocol is the kernel's `seqcount_t` (see
//! `Documentation/locking/seqlock.rst`), with atomics only, so that the
//! hooks (atomic context) can write and the watchdog thread and sysfs can
//! read without a lock on either side:
//!
//! - A writer makes the count odd, stores the data, makes the count even
//!   again. Writers do not wait for each other: one that finds the count
//!   odd (another writer is in the middle of the same slot) gives up.
//! - A reader loads an even count, loads the data, and keeps the copy only
//!   if the count is unchanged. It never waits either: an odd or changed
//!   count makes the read fail, and the caller decides whether to retry.
//!
//! Every datum is an atomic loaded and stored `Relaxed`; the count and two
//! fences order them (the comments at each ordering say which pairs with
//! which). Nothing here sleeps, allocates or prints.
//!
//! - [`SeqCount`]: the count alone, for a record with fields of its own
//!   (the tracking table's slots, whose count is also the generation of
//!   their occupant).
//! - [`SeqRing`]: a ring of numbered entries, each behind a [`SeqCount`]
//!   (the ring of recently ended stalls, the ring of events).

use core::sync::atomic::{fence, AtomicU32, AtomicU64, Ordering};

/// A sequence count: odd while a writer changes the data it guards.
///
/// Its even values number the successive versions of the data (the
/// tracking table uses them as the generation of a slot's occupant).
pub struct SeqCount(AtomicU32);

impl SeqCount {
    /// A count that guards data never written.
    pub const fn new() -> Self {
        Self(AtomicU32::new(0))
    }

    /// Writes the data this count guards, with `write` (which stores it).
    ///
    /// Returns the new (even) count, or `None` without calling `write` if
    /// another writer is in the middle of it (the count is odd). Lock-free:
    /// the only retry is after another writer completed a write meanwhile.
    pub fn write(&self, write: impl FnOnce()) -> Option<u32> {
        // Relaxed: only a first guess; the compare-exchange checks it.
        let mut cur = self.0.load(Ordering::Relaxed);
        let odd = loop {
            if cur & 1 != 0 {
                return None;
            }
            let odd = cur.wrapping_add(1);
            // AcqRel on success: Acquire so that our stores come after
            // those of the write that made the count `cur` (whose Release
            // store we read); Release as the `fetch_add(AcqRel)` this
            // replaces. Relaxed on failure: we only look at the value.
            match self
                .0
                .compare_exchange(cur, odd, Ordering::AcqRel, Ordering::Relaxed)
            {
                Ok(_) => break odd,
                Err(now) => cur = now,
            }
        };
        // Release fence (the writer's `smp_wmb()`): the odd count is
        // ordered before every data store of `write`. A reader whose
        // Relaxed load sees one of those stores, and which then runs its
        // Acquire fence, sees the count odd or later on its re-check.
        fence(Ordering::Release);
        write();
        let even = odd.wrapping_add(1);
        // Release: a reader that loads `even` (Acquire) sees every store of
        // `write`.
        self.0.store(even, Ordering::Release);
        Some(even)
    }

    /// Reads the data this count guards, with `read` (which loads it; it
    /// is given the count it reads under).
    ///
    /// Returns what `read` returned if no writer changed the data
    /// meanwhile; `None` if a writer was in the middle of it or changed it.
    /// `read` may see a torn mix of two versions (its result is then
    /// dropped): it must only load, and not trust what it loads.
    pub fn read<R>(&self, read: impl FnOnce(u32) -> R) -> Option<R> {
        // Acquire: pairs with the Release store that ended the write that
        // made the count `gen`; the loads of `read` see that write at least.
        let gen = self.0.load(Ordering::Acquire);
        if gen & 1 != 0 {
            return None;
        }
        let r = read(gen);
        // Acquire fence (the reader's `smp_rmb()`): if a Relaxed load of
        // `read` saw a store of a later write, the Release fence that
        // followed that write's odd count makes the count below differ.
        fence(Ordering::Acquire);
        // Relaxed: ordered after the loads of `read` by the fence above.
        (self.0.load(Ordering::Relaxed) == gen).then_some(r)
    }

    /// The current count (odd: a write is under way).
    pub fn generation(&self) -> u32 {
        // Acquire: whoever acts on the generation (compares it with one it
        // saved) sees the data as of the write that produced it.
        self.0.load(Ordering::Acquire)
    }

    /// Whether the count is still `gen`, checked after the caller's
    /// preceding stores to the guarded data: if so, a writer that changes
    /// it later runs after those stores (its own stores overwrite them);
    /// if not, the caller may have written into the next version and can
    /// undo that.
    pub fn still(&self, gen: u32) -> bool {
        // SeqCst fence: orders the caller's earlier stores before the load
        // below (store-load order, which Release/Acquire do not give); it
        // pairs with the writer's AcqRel compare-exchange on the count.
        fence(Ordering::SeqCst);
        // Acquire: as in `generation`.
        self.0.load(Ordering::Acquire) == gen
    }
}

impl Default for SeqCount {
    fn default() -> Self {
        Self::new()
    }
}

/// One entry of a [`SeqRing`]: the caller's fields `F` (atomics, stored
/// and loaded `Relaxed`), the number of the push that wrote them, and the
/// count that guards both (0: never written).
pub struct RingSlot<F> {
    seq: SeqCount,
    /// Number of the push that wrote the entry.
    num: AtomicU64,
    fields: F,
}

impl<F> RingSlot<F> {
    /// An empty entry over `fields` (their initial values are never read).
    pub const fn new(fields: F) -> Self {
        Self {
            seq: SeqCount::new(),
            num: AtomicU64::new(0),
            fields,
        }
    }
}

/// A ring of the last `N` pushes of records made of fields `F`, numbered
/// from 0 in push order, each entry behind a [`SeqCount`].
///
/// A reader asks for a push by its number and gets a whole copy of it, or
/// `None` if it was overwritten by a later push (the ring is `N` long), is
/// being written, or was lost (see [`SeqRing::push`]).
pub struct SeqRing<F, const N: usize> {
    /// Number of pushes so far (the next push is number `head`).
    head: AtomicU64,
    slots: [RingSlot<F>; N],
}

impl<F, const N: usize> SeqRing<F, N> {
    const NOT_EMPTY: () = assert!(N > 0, "a ring holds at least one entry");

    /// A ring over `slots`, nothing pushed yet.
    pub const fn new(slots: [RingSlot<F>; N]) -> Self {
        let () = Self::NOT_EMPTY;
        Self {
            head: AtomicU64::new(0),
            slots,
        }
    }

    /// Number of pushes so far: the next push is number `head()`, the
    /// newest is `head() - 1`.
    pub fn head(&self) -> u64 {
        // Acquire: pairs with the Release store of `push_single_writer`:
        // every push numbered below the head read is complete.
        self.head.load(Ordering::Acquire)
    }

    /// The counter behind [`SeqRing::head`], for a reader that loads it
    /// with an ordering of its own. Only the ring stores to it.
    pub const fn head_counter(&self) -> &AtomicU64 {
        &self.head
    }

    fn slot(&self, n: u64) -> Option<&RingSlot<F>> {
        // N > 0 (NOT_EMPTY); the index is below N.
        self.slots.get((n % N as u64) as usize)
    }

    /// Pushes a record, from any number of concurrent writers: `write`
    /// stores its fields (it is given the push's number).
    ///
    /// The number is taken before the entry is written: [`SeqRing::head`]
    /// may count a push still being written, which reads fail until it is
    /// complete. Returns the number, or `None` if the push was lost: a
    /// writer `N` pushes earlier was still writing the same entry (it is
    /// left to finish; a reader of this number gets `None`).
    pub fn push(&self, write: impl FnOnce(u64, &F)) -> Option<u64> {
        // Relaxed: the number only picks the entry and tells pushes apart;
        // the entry's count orders its data.
        let n = self.head.fetch_add(1, Ordering::Relaxed);
        self.write(n, write).then_some(n)
    }

    /// Pushes a record, from the ring's only writer: `write` stores its
    /// fields (it is given the push's number).
    ///
    /// [`SeqRing::head`] counts the push once it is complete: a reader that
    /// loads the head sees every push below it whole (until overwritten).
    /// Returns the push's number. Pushes made concurrently from several
    /// threads are not torn either, but may be lost or counted twice.
    pub fn push_single_writer(&self, write: impl FnOnce(u64, &F)) -> u64 {
        // Relaxed: only this writer stores the head.
        let n = self.head.load(Ordering::Relaxed);
        // A single writer never finds its entry being written.
        self.write(n, write);
        // Release: pairs with the Acquire load of `head`: the push is
        // complete before the head counts it.
        self.head.store(n.wrapping_add(1), Ordering::Release);
        n
    }

    fn write(&self, n: u64, write: impl FnOnce(u64, &F)) -> bool {
        let Some(slot) = self.slot(n) else {
            return false;
        };
        slot.seq
            .write(|| {
                slot.num.store(n, Ordering::Relaxed);
                write(n, &slot.fields);
            })
            .is_some()
    }

    /// Reads push number `n` with `read` (which loads its fields): `None`
    /// if it is no longer in the ring, not complete, or lost. Like
    /// [`SeqCount::read`], `read` may see a torn entry whose copy is then
    /// dropped: it must only load.
    pub fn read<R>(&self, n: u64, read: impl FnOnce(&F) -> R) -> Option<R> {
        let slot = self.slot(n)?;
        slot.seq
            .read(|gen| {
                // Never written; or overwritten, or its entry taken by a
                // push not written yet.
                if gen == 0 || n.saturating_add(N as u64) < self.head() {
                    return None;
                }
                // Relaxed: validated with the fields by the count.
                (slot.num.load(Ordering::Relaxed) == n).then(|| read(&slot.fields))
            })
            .flatten()
    }
}
