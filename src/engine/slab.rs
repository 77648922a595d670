//! A slab of reusable slots with generation counters.
//!
//! Per-call state lives here instead of one allocation per call: freed slots go
//! on a free list and are reused, so memory tracks the peak number of calls in
//! flight, not the length of the run. A `SlotRef` carries the generation it was
//! issued with, so a late event for a slot that has since been reused (a
//! timeout that lost the race, say) is recognised as stale.

/// A handle to a slot: its index and the generation it was issued with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SlotRef {
    /// Position in the slab.
    pub index: u32,
    /// Generation of the occupant this handle refers to.
    pub generation: u32,
}

#[derive(Debug)]
struct Slot<T> {
    generation: u32,
    live: bool,
    value: T,
}

/// Slots of `T` reused through a free list.
#[derive(Debug)]
pub struct Slab<T> {
    slots: Vec<Slot<T>>,
    free: Vec<u32>,
    live: usize,
}

impl<T> Default for Slab<T> {
    fn default() -> Self {
        Self {
            slots: Vec::new(),
            free: Vec::new(),
            live: 0,
        }
    }
}

impl<T> Slab<T> {
    /// An empty slab.
    pub fn new() -> Self {
        Self::default()
    }

    /// Stores `value` in a free slot (or a new one) and returns its handle.
    pub fn insert(&mut self, value: T) -> SlotRef {
        self.live += 1;
        if let Some(index) = self.free.pop() {
            let slot = &mut self.slots[index as usize];
            slot.live = true;
            slot.value = value;
            SlotRef {
                index,
                generation: slot.generation,
            }
        } else {
            let index = u32::try_from(self.slots.len()).expect("more than 2^32 calls in flight");
            self.slots.push(Slot {
                generation: 0,
                live: true,
                value,
            });
            SlotRef {
                index,
                generation: 0,
            }
        }
    }

    /// Frees slot `index`; its handles become stale.
    pub fn remove(&mut self, index: u32) {
        let slot = &mut self.slots[index as usize];
        debug_assert!(slot.live, "double free of slot {index}");
        slot.live = false;
        slot.generation = slot.generation.wrapping_add(1);
        self.free.push(index);
        self.live -= 1;
    }

    /// True if `r` still refers to the occupant it was issued for.
    #[inline]
    pub fn is_current(&self, r: SlotRef) -> bool {
        self.slots
            .get(r.index as usize)
            .is_some_and(|s| s.live && s.generation == r.generation)
    }

    /// The indices of the live slots, in index order.
    pub fn live_indices(&self) -> impl Iterator<Item = u32> + '_ {
        self.slots
            .iter()
            .enumerate()
            .filter(|(_, s)| s.live)
            .map(|(i, _)| i as u32)
    }

    /// The handle of the live occupant of `index`.
    #[inline]
    pub fn handle(&self, index: u32) -> SlotRef {
        SlotRef {
            index,
            generation: self.slots[index as usize].generation,
        }
    }

    /// The occupant of slot `index` (which must be live).
    #[inline]
    pub fn get(&self, index: u32) -> &T {
        &self.slots[index as usize].value
    }

    /// The occupant of slot `index` (which must be live), mutably.
    #[inline]
    pub fn get_mut(&mut self, index: u32) -> &mut T {
        &mut self.slots[index as usize].value
    }

    /// Number of live slots.
    pub fn len(&self) -> usize {
        self.live
    }

    /// True when no slot is live.
    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// Slots ever allocated: the high-water mark that bounds memory.
    pub fn capacity(&self) -> usize {
        self.slots.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reuses_slots_and_invalidates_stale_handles() {
        let mut s = Slab::new();
        let a = s.insert(1);
        let b = s.insert(2);
        s.remove(a.index);
        assert!(!s.is_current(a));
        let c = s.insert(3);
        assert_eq!(c.index, a.index);
        assert_ne!(c.generation, a.generation);
        assert!(s.is_current(c) && s.is_current(b));
        assert_eq!((*s.get(c.index), s.len(), s.capacity()), (3, 2, 2));
    }
}
