//! Whether a name of a deleted item holds PII, remembered per thread for the names that
//! do not: attribute names repeat from record to record, and the answer for a text never
//! changes, so each distinct name is searched in every form once.

use std::cell::RefCell;
use std::collections::HashSet;

use super::contains_pii;

/// Longest name remembered; longer ones are searched each time.
const LONGEST: usize = 64;

/// Names remembered per thread at most; the set starts again when full.
const MOST: usize = 4096;

thread_local! {
    static CLEAN: RefCell<HashSet<Box<str>>> = RefCell::new(HashSet::new());
}

/// [`contains_pii`] for a name, searched once per distinct name and thread.
pub(super) fn name_holds_pii(name: &str) -> bool {
    if name.len() > LONGEST {
        return contains_pii(name);
    }
    if CLEAN.with_borrow(|clean| clean.contains(name)) {
        return false;
    }
    let holds = contains_pii(name);
    if !holds {
        CLEAN.with_borrow_mut(|clean| {
            if clean.len() >= MOST {
                clean.clear();
            }
            clean.insert(name.into());
        });
    }
    holds
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_remembered_name_gets_the_same_answer() {
        for name in ["phoneNumber", "fan9001@example.com", "requestedDate", "5550104477", "YW5hQGV4YW1wbGUuY29t"] {
            let first = name_holds_pii(name);
            assert_eq!(first, contains_pii(name), "{name}");
            assert_eq!(name_holds_pii(name), first, "{name}, asked again");
        }
        assert!(name_holds_pii("ana@example.org") && name_holds_pii("ana@example.org"));
    }
}
