//! dshbak-style grouping: items with equal keys (same output) are shown
//! once. Pure.

use std::collections::HashMap;
use std::hash::Hash;

/// Items that share one key, by their index in the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group<K> {
    pub key: K,
    pub members: Vec<usize>,
}

/// Group `keys` (one per item) by equality. Largest group first; equal
/// sizes in order of first appearance. Members keep input order.
pub fn group_by_key<K: Eq + Hash + Clone>(keys: impl IntoIterator<Item = K>) -> Vec<Group<K>> {
    let mut groups: Vec<Group<K>> = Vec::new();
    let mut at: HashMap<K, usize> = HashMap::new();
    for (index, key) in keys.into_iter().enumerate() {
        match at.get(&key) {
            Some(&g) => groups[g].members.push(index),
            None => {
                at.insert(key.clone(), groups.len());
                groups.push(Group {
                    key,
                    members: vec![index],
                });
            }
        }
    }
    // Stable sort: equal sizes keep first-appearance order.
    groups.sort_by_key(|g| std::cmp::Reverse(g.members.len()));
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn largest_first_then_first_seen() {
        let g = group_by_key(["b", "a", "b", "c", "a", "b"]);
        assert_eq!(g.len(), 3);
        assert_eq!(
            g[0],
            Group {
                key: "b",
                members: vec![0, 2, 5]
            }
        );
        assert_eq!(
            g[1],
            Group {
                key: "a",
                members: vec![1, 4]
            }
        );
        assert_eq!(
            g[2],
            Group {
                key: "c",
                members: vec![3]
            }
        );
    }

    #[test]
    fn empty_input() {
        assert!(group_by_key(Vec::<u8>::new()).is_empty());
    }
}
