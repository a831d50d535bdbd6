//! The names activity is counted by (services, APIs, principals, source IPs, error codes),
//! each held once: counting maps per window and account key by a 4-byte [`Name`], not by a
//! copy of the text in every map, which took most of their memory.

/// A name's key in [`Names`].
pub type Name = lasso::Spur;

/// Names held before the first clean-up (and the least a clean-up waits for).
pub const CLEAN_UP_AFTER: usize = 1 << 12;

/// Interned names, with a clean-up ([`Names::compact`]) that drops those no map counts any
/// more: maps come and go with their windows, and the names of the gone ones would otherwise
/// pile up for as long as a stream runs.
#[derive(Debug)]
pub struct Names {
    names: lasso::Rodeo<Name, foldhash::fast::RandomState>,
    /// Names held before [`Names::compact`] cleans up: twice what was in use after the last
    /// clean-up, so its work is a small constant per name added.
    limit: usize,
}

impl Default for Names {
    fn default() -> Self {
        Names {
            names: lasso::Rodeo::with_hasher(foldhash::fast::RandomState::default()),
            limit: CLEAN_UP_AFTER,
        }
    }
}

impl Names {
    /// The key of `name`, added if new.
    pub fn key(&mut self, name: &str) -> Name {
        self.names.get_or_intern(name)
    }

    /// The name of a key this set gave.
    pub fn name(&self, key: Name) -> &str {
        self.names.resolve(&key)
    }

    /// How many names are held.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether no name is held.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// When more names are held than the limit, keeps only those still in use: `rekey_all`
    /// must replace every key its maps hold by what the function it is given returns for it
    /// (the key of the same name in the new set). Below the limit it is not called.
    pub fn compact(&mut self, rekey_all: impl FnOnce(&mut dyn FnMut(Name) -> Name)) {
        if self.len() <= self.limit {
            return;
        }
        let old = std::mem::take(self);
        let mut rekey = |k: Name| self.names.get_or_intern(old.name(k));
        rekey_all(&mut rekey);
        self.limit = (2 * self.len()).max(CLEAN_UP_AFTER);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compacting_keeps_the_names_in_use_under_new_keys_and_drops_the_rest() {
        let mut names = Names::default();
        let kept = names.key("kept");
        for i in 0..CLEAN_UP_AFTER {
            names.key(&format!("gone-{i}"));
        }
        assert_eq!(names.key("kept"), kept, "a name has one key");
        let mut held = [kept];
        names.compact(|rekey| held.iter_mut().for_each(|k| *k = rekey(*k)));
        assert_eq!(names.len(), 1);
        assert_eq!(names.name(held[0]), "kept");
        // Below the limit (now the minimum again) nothing is rekeyed.
        names.key("new");
        names.compact(|_| panic!("compacted below the limit"));
        assert_eq!(names.len(), 2);
    }
}
