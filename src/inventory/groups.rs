//! The group graph: `children` resolved to groups, cycles found (and named
//! `a -> b -> a`), parents-before-children order, and "is this group an
//! ancestor of that one" answered on demand. Pure.

use super::error::{suggest, ErrorKind, InventoryError, Position};
use super::layer::At;
use std::collections::{HashMap, HashSet, VecDeque};

/// One group as far as the graph is concerned.
pub struct Node {
    pub name: String,
    pub pos: Position,
    pub children: Vec<At<String>>,
}

/// The validated graph.
pub struct Graph {
    pub names: Vec<String>,
    pub children: Vec<Vec<usize>>,
    pub parents: Vec<Vec<usize>>,
    /// Every group, parents before their children.
    pub topo: Vec<usize>,
    ancestor_memo: HashMap<(usize, usize), bool>,
}

impl Graph {
    /// Resolve `children`, refuse unknown groups and cycles.
    pub fn build(nodes: &[Node]) -> Result<Graph, InventoryError> {
        let index: HashMap<String, usize> =
            nodes.iter().enumerate().map(|(i, n)| (n.name.to_lowercase(), i)).collect();
        let mut children = vec![Vec::new(); nodes.len()];
        let mut parents = vec![Vec::new(); nodes.len()];
        for (i, n) in nodes.iter().enumerate() {
            for c in &n.children {
                let Some(&j) = index.get(&c.value.to_lowercase()) else {
                    return Err(unknown_child(n, c, nodes));
                };
                if !children[i].contains(&j) {
                    children[i].push(j);
                    parents[j].push(i);
                }
            }
        }
        if let Some((path, at)) = find_cycle(&children, nodes) {
            let names: Vec<&str> = path.iter().map(|&i| nodes[i].name.as_str()).collect();
            return Err(InventoryError::at(
                ErrorKind::ChildCycle,
                at,
                format!("groups form a cycle through `children`: {}", names.join(" -> ")),
                "a group cannot contain itself; remove one of these `children` entries",
            ));
        }
        let topo = topo_order(&children, &parents);
        Ok(Graph {
            names: nodes.iter().map(|n| n.name.clone()).collect(),
            children,
            parents,
            topo,
            ancestor_memo: HashMap::new(),
        })
    }

    /// Whether `a` contains `b` through `children` (directly or not).
    pub fn is_ancestor(&mut self, a: usize, b: usize) -> bool {
        if a == b {
            return false;
        }
        if let Some(&r) = self.ancestor_memo.get(&(a, b)) {
            return r;
        }
        let mut seen = HashSet::new();
        let mut queue = VecDeque::from([a]);
        let mut found = false;
        while let Some(g) = queue.pop_front() {
            for &c in &self.children[g] {
                if c == b {
                    found = true;
                    break;
                }
                if seen.insert(c) {
                    queue.push_back(c);
                }
            }
            if found {
                break;
            }
        }
        self.ancestor_memo.insert((a, b), found);
        found
    }

    /// `groups` and every group that contains one of them, sorted by name.
    pub fn with_ancestors(&self, groups: &[usize]) -> Vec<usize> {
        let mut seen: HashSet<usize> = groups.iter().copied().collect();
        let mut queue: VecDeque<usize> = groups.iter().copied().collect();
        while let Some(g) = queue.pop_front() {
            for &p in &self.parents[g] {
                if seen.insert(p) {
                    queue.push_back(p);
                }
            }
        }
        let mut out: Vec<usize> = seen.into_iter().collect();
        out.sort_by(|a, b| self.names[*a].cmp(&self.names[*b]));
        out
    }
}

fn unknown_child(parent: &Node, child: &At<String>, nodes: &[Node]) -> InventoryError {
    let names: Vec<&str> = nodes.iter().map(|n| n.name.as_str()).collect();
    let help = match suggest(&child.value, names.iter().copied()) {
        Some(s) => format!("did you mean `{s}`?"),
        None => format!("define `{}` under `groups:`, or remove it from `children`", child.value),
    };
    InventoryError::at(
        ErrorKind::UnknownGroup,
        child.pos,
        format!(
            "group `{}` lists child `{}`, which is not a group; expected one of the groups defined under `groups:`",
            parent.name, child.value
        ),
        help,
    )
}

/// A cycle as a path `a, b, ..., a`, and the place of the `children`
/// entry that closes it. Iterative, so deep chains cannot overflow the stack.
fn find_cycle(children: &[Vec<usize>], nodes: &[Node]) -> Option<(Vec<usize>, Position)> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Open,
        Done,
    }
    let mut mark = vec![Mark::New; children.len()];
    for root in 0..children.len() {
        if mark[root] != Mark::New {
            continue;
        }
        let mut stack: Vec<(usize, usize)> = vec![(root, 0)];
        mark[root] = Mark::Open;
        while let Some(&mut (g, ref mut next)) = stack.last_mut() {
            if let Some(&c) = children[g].get(*next) {
                *next += 1;
                match mark[c] {
                    Mark::New => {
                        mark[c] = Mark::Open;
                        stack.push((c, 0));
                    }
                    Mark::Open => {
                        let start = stack.iter().position(|(s, _)| *s == c).unwrap_or(0);
                        let mut path: Vec<usize> = stack[start..].iter().map(|(s, _)| *s).collect();
                        path.push(c);
                        let name = nodes[c].name.to_lowercase();
                        let at = nodes[g]
                            .children
                            .iter()
                            .find(|x| x.value.to_lowercase() == name)
                            .map_or(nodes[g].pos, |x| x.pos);
                        return Some((path, at));
                    }
                    Mark::Done => {}
                }
            } else {
                mark[g] = Mark::Done;
                stack.pop();
            }
        }
    }
    None
}

/// Parents before children (Kahn's algorithm); the graph has no cycle.
fn topo_order(children: &[Vec<usize>], parents: &[Vec<usize>]) -> Vec<usize> {
    let mut waiting: Vec<usize> = parents.iter().map(Vec::len).collect();
    let mut queue: VecDeque<usize> = (0..children.len()).filter(|&g| waiting[g] == 0).collect();
    let mut out = Vec::with_capacity(children.len());
    while let Some(g) = queue.pop_front() {
        out.push(g);
        for &c in &children[g] {
            waiting[c] -= 1;
            if waiting[c] == 0 {
                queue.push_back(c);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(name: &str, line: u64, children: &[&str]) -> Node {
        Node {
            name: name.into(),
            pos: Position::new(line, 3),
            children: children
                .iter()
                .map(|c| At { value: c.to_string(), pos: Position::new(line + 1, 17) })
                .collect(),
        }
    }

    #[test]
    fn cycle_is_named() {
        let nodes = [node("a", 1, &["b"]), node("b", 5, &["c"]), node("c", 9, &["a"])];
        let e = Graph::build(&nodes).err().unwrap();
        assert_eq!(e.kind, ErrorKind::ChildCycle);
        assert!(e.message.contains("a -> b -> c -> a"), "{}", e.message);
        assert_eq!((e.line(), e.column()), (10, 17));
        let e = Graph::build(&[node("self", 1, &["self"])]).err().unwrap();
        assert!(e.message.contains("self -> self"));
    }

    #[test]
    fn unknown_child_is_named() {
        let e = Graph::build(&[node("ws", 1, &["kiosk"]), node("kiosks", 5, &[])]).err().unwrap();
        assert_eq!(e.kind, ErrorKind::UnknownGroup);
        assert_eq!((e.line(), e.column()), (2, 17));
        assert!(e.message.contains("child `kiosk`"));
        assert!(e.help.contains("did you mean `kiosks`?"));
    }

    #[test]
    fn ancestry_and_order() {
        let nodes = [node("c", 1, &[]), node("b", 3, &["c"]), node("a", 5, &["b"]), node("x", 7, &[])];
        let mut g = Graph::build(&nodes).unwrap();
        assert!(g.is_ancestor(2, 0));
        assert!(!g.is_ancestor(0, 2));
        assert!(!g.is_ancestor(3, 0));
        let pos = |i: usize| g.topo.iter().position(|&x| x == i).unwrap();
        assert!(pos(2) < pos(1) && pos(1) < pos(0));
        let names: Vec<&str> = g.with_ancestors(&[0]).iter().map(|&i| g.names[i].as_str()).collect();
        assert_eq!(names, ["a", "b", "c"]);
    }

    #[test]
    fn deep_chains_do_not_overflow() {
        let names: Vec<String> = (0..20_000).map(|i| format!("g{i}")).collect();
        let nodes: Vec<Node> = (0..20_000)
            .map(|i| {
                let kids: Vec<&str> = if i + 1 < 20_000 { vec![names[i + 1].as_str()] } else { vec![] };
                node(&names[i], 1, &kids)
            })
            .collect();
        assert!(Graph::build(&nodes).is_ok());
    }
}
