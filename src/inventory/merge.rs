//! Settings inheritance through groups: defaults < parent group < child
//! group < host. A host (or group) that inherits one key from two unrelated
//! groups with different values gets a conflict, unless something more
//! specific sets that key. Pure.

use super::error::{ErrorKind, InventoryError, Position};
use super::groups::Graph;
use super::layer::{At, Key, Layer, Value};

/// A value set by a group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Src {
    pub at: At<Value>,
    pub group: usize,
}

/// For each key, the most specific groups that set it (several only when
/// they are unrelated); empty when no group sets it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Inherited {
    slots: [Vec<Src>; 11],
}

impl Inherited {
    /// A group's own settings, over what it inherits from its parents.
    pub fn for_group(group: usize, own: &Layer, parents: &[&Inherited], graph: &mut Graph) -> Inherited {
        let mut out = Inherited::union(parents, graph);
        for (k, v) in own.iter() {
            out.slots[k as usize] = vec![Src { at: v.clone(), group }];
        }
        out
    }

    /// What a host listed directly in several groups inherits from them.
    pub fn union(inputs: &[&Inherited], graph: &mut Graph) -> Inherited {
        let mut out = Inherited::default();
        for k in Key::ALL {
            let mut cands: Vec<Src> = Vec::new();
            for i in inputs {
                for s in &i.slots[k as usize] {
                    if !cands.iter().any(|c| c.group == s.group) {
                        cands.push(s.clone());
                    }
                }
            }
            // Keep only the most specific: drop a group that contains another.
            let groups: Vec<usize> = cands.iter().map(|c| c.group).collect();
            cands.retain(|c| !groups.iter().any(|&o| graph.is_ancestor(c.group, o)));
            out.slots[k as usize] = cands;
        }
        out
    }

    /// Settings for host `host`: `defaults`, then these inherited values,
    /// then the host's own `layer`. A conflict that the host does not
    /// settle itself is an error naming both groups.
    pub fn apply(
        &self,
        defaults: &Layer,
        own: &Layer,
        host: &str,
        graph: &Graph,
    ) -> Result<Layer, InventoryError> {
        let mut out = defaults.clone();
        for k in Key::ALL {
            let cands = &self.slots[k as usize];
            let Some(first) = cands.first() else { continue };
            let differing = cands.iter().find(|c| c.at.value != first.at.value);
            if let (None, Some(other)) = (own.get(k), differing) {
                return Err(conflict(k, host, first, other, graph));
            }
            out.set(k, first.at.clone());
        }
        out.overlay(own);
        Ok(out)
    }
}

fn conflict(k: Key, host: &str, a: &Src, b: &Src, graph: &Graph) -> InventoryError {
    let (a, b) = if (a.at.pos.line, a.at.pos.column) <= (b.at.pos.line, b.at.pos.column) { (a, b) } else { (b, a) };
    let (ga, gb) = (&graph.names[a.group], &graph.names[b.group]);
    InventoryError::at(
        ErrorKind::Conflict,
        b.at.pos,
        format!(
            "host `{host}` is in groups `{ga}` and `{gb}`, which set `{}` to different values: `{}` ({}) and `{}` ({})",
            k.name(),
            a.at.value,
            line(a.at.pos),
            b.at.value,
            line(b.at.pos),
        ),
        format!(
            "set `{}` on the host itself, or make one group a child of the other (the child's value then wins)",
            k.name()
        ),
    )
}

fn line(p: Position) -> String {
    format!("line {}", p.line)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::groups::Node;

    fn graph(nodes: &[(&str, &[&str])]) -> Graph {
        let nodes: Vec<Node> = nodes
            .iter()
            .map(|(n, c)| Node {
                name: n.to_string(),
                pos: Position::new(1, 1),
                children: c.iter().map(|c| At { value: c.to_string(), pos: Position::new(1, 1) }).collect(),
            })
            .collect();
        Graph::build(&nodes).unwrap()
    }

    fn port(p: u16, line: u64) -> Layer {
        let mut l = Layer::default();
        l.set(Key::Port, At { value: Value::Port(p), pos: Position::new(line, 11) });
        l
    }

    fn port_of(l: &Layer) -> Option<&Value> {
        l.get(Key::Port).map(|a| &a.value)
    }

    #[test]
    fn child_overrides_parent_even_when_listed_in_both() {
        let mut g = graph(&[("parent", &["child"]), ("child", &[])]);
        let p = Inherited::for_group(0, &port(1, 2), &[], &mut g);
        let c = Inherited::for_group(1, &port(2, 5), &[&p], &mut g);
        let both = Inherited::union(&[&p, &c], &mut g);
        let l = both.apply(&Layer::default(), &Layer::default(), "h", &g).unwrap();
        assert_eq!(port_of(&l), Some(&Value::Port(2)));
    }

    #[test]
    fn unrelated_groups_conflict_unless_host_settles_it() {
        let mut g = graph(&[("finance", &[]), ("kiosks", &[])]);
        let a = Inherited::for_group(0, &port(1, 3), &[], &mut g);
        let b = Inherited::for_group(1, &port(2, 8), &[], &mut g);
        let both = Inherited::union(&[&a, &b], &mut g);
        let e = both.apply(&Layer::default(), &Layer::default(), "ws-013", &g).unwrap_err();
        assert_eq!((e.kind, e.line(), e.column()), (ErrorKind::Conflict, 8, 11));
        assert!(e.message.contains("`finance` and `kiosks`"), "{}", e.message);
        assert!(e.message.contains("`port` to different values: `1` (line 3) and `2` (line 8)"), "{}", e.message);
        let l = both.apply(&Layer::default(), &port(9, 20), "ws-013", &g).unwrap();
        assert_eq!(port_of(&l), Some(&Value::Port(9)));
    }

    #[test]
    fn same_value_from_unrelated_groups_is_fine() {
        let mut g = graph(&[("a", &[]), ("b", &[])]);
        let a = Inherited::for_group(0, &port(7, 3), &[], &mut g);
        let b = Inherited::for_group(1, &port(7, 8), &[], &mut g);
        let l = Inherited::union(&[&a, &b], &mut g).apply(&port(1, 1), &Layer::default(), "h", &g).unwrap();
        assert_eq!(port_of(&l), Some(&Value::Port(7)));
    }

    #[test]
    fn diamond_inherits_from_common_grandparent() {
        let mut g = graph(&[("top", &["l", "r"]), ("l", &["bottom"]), ("r", &["bottom"]), ("bottom", &[])]);
        let top = Inherited::for_group(0, &port(1, 1), &[], &mut g);
        let l = Inherited::for_group(1, &port(2, 4), &[&top], &mut g);
        let r = Inherited::for_group(2, &Layer::default(), &[&top], &mut g);
        let bottom = Inherited::for_group(3, &Layer::default(), &[&l, &r], &mut g);
        let out = bottom.apply(&Layer::default(), &Layer::default(), "h", &g).unwrap();
        assert_eq!(port_of(&out), Some(&Value::Port(2)));
    }
}
