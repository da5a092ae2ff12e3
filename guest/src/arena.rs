//! The component's allocator: a call arena in front of a general allocator.
//!
//! An instance serves one call at a time, and almost everything a call
//! allocates (the canonical ABI's strings and lists, JSON, events, views) is
//! freed by the time the call and its post-return are over. So allocations
//! are taken from a fixed region by moving a pointer, a free is counted, and
//! when no allocation of the region is left the pointer goes back to the
//! region's start: the next call starts on an empty region. The allocation
//! freed last and a `realloc` of the latest allocation are taken back or
//! grown in place, which covers strings and vectors that grow while they are
//! built. What does not fit goes to the general allocator (talc), and a free
//! goes to whichever allocator owns the address; an allocation that outlives
//! its call only keeps the region full, so the arena then stops serving and
//! the general allocator serves alone (docs/performance.md, decision 0031).
//!
//! Single-threaded: built only for wasm without the atomics feature, where
//! there is one thread.

use core::alloc::{GlobalAlloc, Layout};
use core::cell::UnsafeCell;

/// Where the region comes from: asked once, with the region's size in
/// bytes; answers the region's start, or `None` when it cannot be had (the
/// arena then never serves).
pub type Claim = fn(usize) -> Option<usize>;

/// A call arena of `size` bytes in front of `inner`.
pub struct CallArena<A> {
    inner: A,
    size: usize,
    claim: Claim,
    state: UnsafeCell<State>,
}

#[derive(Clone, Copy)]
struct State {
    /// The region's start and end; both 0 until claimed, equal when the
    /// claim failed.
    start: usize,
    end: usize,
    /// The next free byte.
    top: usize,
    /// Allocations of the region not freed yet.
    live: usize,
    claimed: bool,
}

// SAFETY: only built for targets with a single thread (see the module's
// documentation and its `cfg` in lib.rs), and for tests that use it from one.
unsafe impl<A: Sync> Sync for CallArena<A> {}

impl<A> CallArena<A> {
    pub const fn new(inner: A, size: usize, claim: Claim) -> Self {
        CallArena {
            inner,
            size,
            claim,
            state: UnsafeCell::new(State {
                start: 0,
                end: 0,
                top: 0,
                live: 0,
                claimed: false,
            }),
        }
    }

    /// The region's allocations not freed yet (for tests).
    #[cfg(test)]
    fn live(&self) -> usize {
        // SAFETY: single-threaded (see the `Sync` impl).
        unsafe { (*self.state.get()).live }
    }

    /// Takes `layout` from the region, if it fits.
    ///
    /// # Safety
    /// Not called concurrently (single-threaded).
    unsafe fn bump(&self, layout: Layout) -> Option<*mut u8> {
        // SAFETY: single-threaded, and no reference into the state outlives
        // this function.
        let s = unsafe { &mut *self.state.get() };
        if !s.claimed {
            s.claimed = true;
            if let Some(start) = (self.claim)(self.size) {
                s.start = start;
                s.end = start + self.size;
                s.top = start;
            }
        }
        let at = s.top.checked_add(layout.align() - 1)? & !(layout.align() - 1);
        let top = at.checked_add(layout.size())?;
        if top > s.end || s.start == s.end {
            return None;
        }
        s.top = top;
        s.live += 1;
        Some(at as *mut u8)
    }

    fn owns(&self, ptr: *mut u8) -> bool {
        // SAFETY: single-threaded (see the `Sync` impl).
        let s = unsafe { &*self.state.get() };
        let at = ptr as usize;
        at >= s.start && at < s.end
    }
}

// SAFETY: every block handed out is either the inner allocator's (and goes
// back to it) or a range of the region that no other live block overlaps:
// the region's pointer only moves back over blocks that are freed (the last
// one, or all of them).
unsafe impl<A: GlobalAlloc> GlobalAlloc for CallArena<A> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: single-threaded; the inner allocator gets the caller's
        // layout as it came.
        unsafe {
            match self.bump(layout) {
                Some(block) => block,
                None => self.inner.alloc(layout),
            }
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if !self.owns(ptr) {
            // SAFETY: not the region's, so the inner allocator's, with the
            // layout it was allocated with.
            unsafe { self.inner.dealloc(ptr, layout) };
            return;
        }
        // SAFETY: single-threaded (see the `Sync` impl).
        let s = unsafe { &mut *self.state.get() };
        s.live -= 1;
        let at = ptr as usize;
        if s.live == 0 {
            s.top = s.start;
        } else if at + layout.size() == s.top {
            s.top = at;
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if self.owns(ptr) {
            // SAFETY: single-threaded (see the `Sync` impl).
            let s = unsafe { &mut *self.state.get() };
            let at = ptr as usize;
            if at + layout.size() == s.top
                && let Some(top) = at.checked_add(new_size).filter(|top| *top <= s.end)
            {
                s.top = top;
                return ptr;
            }
        }
        // SAFETY: the caller's contract of `realloc`: `new_size` with the
        // old alignment is a valid layout; the old block is copied up to
        // the smaller size and freed by its owner.
        unsafe {
            let new_layout = Layout::from_size_align_unchecked(new_size, layout.align());
            let new = self.alloc(new_layout);
            if !new.is_null() {
                core::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
                self.dealloc(ptr, layout);
            }
            new
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::alloc::System;
    use std::cell::Cell;

    const SIZE: usize = 4096;

    thread_local! {
        /// Claims made by this test's thread (each test runs on its own).
        static CLAIMS: Cell<usize> = const { Cell::new(0) };
    }

    /// A leaked buffer as the region; counts the claims.
    fn claim(size: usize) -> Option<usize> {
        CLAIMS.with(|c| c.set(c.get() + 1));
        let region: &'static mut [u8] = Box::leak(vec![0u8; size].into_boxed_slice());
        Some(region.as_mut_ptr() as usize)
    }

    fn no_region(_: usize) -> Option<usize> {
        None
    }

    fn arena() -> CallArena<System> {
        CallArena::new(System, SIZE, claim)
    }

    fn layout(size: usize, align: usize) -> Layout {
        Layout::from_size_align(size, align).unwrap()
    }

    #[test]
    fn blocks_come_from_the_region_aligned_and_apart() {
        let a = arena();
        unsafe {
            let x = a.alloc(layout(3, 1));
            let y = a.alloc(layout(8, 8));
            assert!(a.owns(x) && a.owns(y));
            assert_eq!(y as usize % 8, 0);
            assert!(y as usize >= x as usize + 3);
            x.write_bytes(0xAA, 3);
            y.write_bytes(0x55, 8);
            assert_eq!(*x.add(2), 0xAA);
            assert_eq!(a.live(), 2);
            a.dealloc(x, layout(3, 1));
            a.dealloc(y, layout(8, 8));
            assert_eq!(a.live(), 0);
        }
    }

    #[test]
    fn the_region_starts_over_once_every_block_is_freed() {
        let a = arena();
        unsafe {
            let first = a.alloc(layout(100, 4));
            let second = a.alloc(layout(100, 4));
            a.dealloc(first, layout(100, 4));
            // Not the last block and not all of them: nothing is taken back.
            let third = a.alloc(layout(10, 4));
            assert!(third as usize > second as usize);
            a.dealloc(second, layout(100, 4));
            a.dealloc(third, layout(10, 4));
            assert_eq!(
                a.alloc(layout(10, 4)),
                first,
                "the next call starts at the start"
            );
        }
    }

    #[test]
    fn the_last_block_freed_is_taken_back_at_once() {
        let a = arena();
        unsafe {
            let kept = a.alloc(layout(16, 8));
            let last = a.alloc(layout(32, 8));
            a.dealloc(last, layout(32, 8));
            assert_eq!(a.alloc(layout(32, 8)), last);
            assert_eq!(a.live(), 2);
            let _ = kept;
        }
    }

    #[test]
    fn the_latest_block_grows_in_place_and_an_older_one_moves_with_its_bytes() {
        let a = arena();
        unsafe {
            let old = a.alloc(layout(4, 1));
            old.copy_from_nonoverlapping(b"abcd".as_ptr(), 4);
            let newest = a.alloc(layout(4, 1));
            newest.copy_from_nonoverlapping(b"wxyz".as_ptr(), 4);
            let grown = a.realloc(newest, layout(4, 1), 64);
            assert_eq!(grown, newest, "the latest block grows where it is");
            let moved = a.realloc(old, layout(4, 1), 8);
            assert_ne!(moved, old);
            assert_eq!(std::slice::from_raw_parts(moved, 4), b"abcd");
            assert_eq!(std::slice::from_raw_parts(grown, 4), b"wxyz");
            assert_eq!(a.live(), 2, "the moved block's old place is freed");
        }
    }

    #[test]
    fn what_does_not_fit_goes_to_the_inner_allocator_and_back_to_it() {
        let a = arena();
        unsafe {
            let big = a.alloc(layout(SIZE + 1, 8));
            assert!(!big.is_null());
            assert!(!a.owns(big));
            let small = a.alloc(layout(8, 8));
            assert!(a.owns(small));
            // A region block grown past the region moves to the inner one.
            let moved = a.realloc(small, layout(8, 8), SIZE * 2);
            assert!(!a.owns(moved));
            assert_eq!(a.live(), 0);
            a.dealloc(moved, layout(SIZE * 2, 8));
            a.dealloc(big, layout(SIZE + 1, 8));
        }
    }

    #[test]
    fn a_block_that_is_never_freed_only_keeps_the_region_full() {
        let a = arena();
        unsafe {
            let _kept = a.alloc(layout(8, 8));
            for _ in 0..10 {
                let block = a.alloc(layout(SIZE / 2, 8));
                assert!(!block.is_null());
                // Each one is the last, so each is taken back.
                a.dealloc(block, layout(SIZE / 2, 8));
            }
            let filler = a.alloc(layout(SIZE - 64, 8));
            assert!(a.owns(filler));
            let outside = a.alloc(layout(128, 8));
            assert!(!outside.is_null() && !a.owns(outside));
            a.dealloc(outside, layout(128, 8));
        }
    }

    #[test]
    fn the_region_is_claimed_once_and_a_failed_claim_leaves_the_inner_allocator_alone() {
        let a = arena();
        assert_eq!(
            CLAIMS.with(Cell::get),
            0,
            "nothing is claimed before the first allocation"
        );
        unsafe {
            let x = a.alloc(layout(8, 8));
            let y = a.alloc(layout(8, 8));
            a.dealloc(y, layout(8, 8));
            a.dealloc(x, layout(8, 8));
            let z = a.alloc(layout(8, 8));
            a.dealloc(z, layout(8, 8));
        }
        assert_eq!(CLAIMS.with(Cell::get), 1);

        let none = CallArena::new(System, SIZE, no_region);
        unsafe {
            let x = none.alloc(layout(8, 8));
            assert!(!x.is_null() && !none.owns(x));
            let y = none.realloc(x, layout(8, 8), 16);
            assert!(!y.is_null() && !none.owns(y));
            none.dealloc(y, layout(16, 8));
        }
    }
}
