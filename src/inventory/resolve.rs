//! From the raw file to resolved hosts: credentials, defaults, groups and
//! their graph, host entries, then each host's merged settings. Every
//! semantic check that needs more than one value happens here or in the
//! modules it calls. Pure.

use super::credentials;
use super::error::{ErrorKind, InventoryError};
use super::groups::{Graph, Node};
use super::hosts::{self, Entry};
use super::layer::{pos_of, At, Key, Layer, Value};
use super::merge::Inherited;
use super::model::{CredentialSpec, InlinePasswords, ResolvedHost};
use super::names;
use super::raw::RawInventory;
use std::collections::HashMap;
use std::path::Path;

/// Everything an inventory defines, before `--limit`.
pub struct Resolved {
    pub hosts: Vec<ResolvedHost>,
    pub credentials: Vec<CredentialSpec>,
    pub inline_passwords: InlinePasswords,
}

/// Resolve a parsed inventory. `base_dir` is the inventory's directory.
pub fn resolve(raw: RawInventory, base_dir: &Path) -> Result<Resolved, InventoryError> {
    let allow_plaintext = raw.allow_plaintext_passwords.as_ref().is_some_and(|a| a.value);
    let (creds, inline_passwords) = credentials::build(raw.credentials, allow_plaintext, base_dir)?;
    let check = |l: &Layer| check_credential(l, &creds);

    let defaults = Layer::from_raw(raw.defaults.unwrap_or_default(), base_dir)?;
    check(&defaults)?;

    let mut entries: Vec<Entry> = Vec::new();
    for (name, raw) in raw.hosts.map(|m| m.0).unwrap_or_default() {
        entries.push(Entry { name, raw, group: None });
    }

    // Groups: names, settings, children, and their own host entries.
    let mut nodes: Vec<Node> = Vec::new();
    let mut layers: Vec<Layer> = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (name, group) in raw.groups.map(|m| m.0).unwrap_or_default() {
        let pos = pos_of(&name);
        let name = name.value;
        if let Some(why) = names::problem(&name) {
            return Err(InventoryError::at(ErrorKind::BadName, pos, format!("bad group name: {why}"), "rename the group"));
        }
        if let Some(&i) = seen.get(&name.to_lowercase()) {
            return Err(InventoryError::at(
                ErrorKind::DuplicateKey,
                pos,
                format!("group `{name}` is already defined as `{}` (line {}); names are not case-sensitive", nodes[i].name, nodes[i].pos.line),
                "merge the two groups",
            ));
        }
        let (settings, host_map, children) = match group.map(|g| g.value) {
            Some(g) => (g.settings, g.hosts.map(|m| m.0).unwrap_or_default(), g.children.unwrap_or_default()),
            None => (None, Vec::new(), Vec::new()),
        };
        if host_map.is_empty() && children.is_empty() {
            return Err(InventoryError::at(
                ErrorKind::EmptyGroup,
                pos,
                format!("group `{name}` is empty: expected `hosts:` or `children:` with at least one entry"),
                "add hosts under `hosts:` or groups under `children:`, or remove the group",
            ));
        }
        let layer = Layer::from_raw(settings.unwrap_or_default(), base_dir)?;
        check(&layer)?;
        let gi = nodes.len();
        seen.insert(name.to_lowercase(), gi);
        entries.extend(host_map.into_iter().map(|(n, r)| Entry { name: n, raw: r, group: Some(gi) }));
        let children = children.into_iter().map(|c| At { pos: pos_of(&c), value: c.value }).collect();
        nodes.push(Node { name, pos, children });
        layers.push(layer);
    }
    let mut graph = Graph::build(&nodes)?;

    let accs = hosts::collect(entries, base_dir, check)?;
    if accs.is_empty() {
        return Err(InventoryError::whole(
            ErrorKind::EmptyFile,
            "the inventory defines no hosts",
            "add hosts under `hosts:` or in a group; see examples/inventory.yml",
        ));
    }
    if let Some(h) = accs.iter().find(|h| seen.contains_key(&h.name.to_lowercase())) {
        let g = &nodes[seen[&h.name.to_lowercase()]];
        let (first, second) = if g.pos < h.pos { (g.pos, h.pos) } else { (h.pos, g.pos) };
        return Err(InventoryError::at(
            ErrorKind::BadName,
            second,
            format!("`{}` is both a host and a group (line {} and line {})", h.name, first.line, second.line),
            "rename one of them: `--limit` could not tell them apart",
        ));
    }

    // What each group passes down, parents first.
    let mut inherited: Vec<Inherited> = vec![Inherited::default(); nodes.len()];
    for g in graph.topo.clone() {
        let parents: Vec<Inherited> = graph.parents[g].iter().map(|&p| inherited[p].clone()).collect();
        let refs: Vec<&Inherited> = parents.iter().collect();
        inherited[g] = Inherited::for_group(g, &layers[g], &refs, &mut graph);
    }

    // Hosts listed in the same groups share the group part of the work.
    let mut memo: HashMap<Vec<usize>, (Inherited, Vec<String>)> = HashMap::new();
    let mut out = Vec::with_capacity(accs.len());
    for h in accs {
        let mut direct = h.groups.clone();
        direct.sort_unstable();
        let (from_groups, group_names) = memo
            .entry(direct)
            .or_insert_with_key(|d| {
                let refs: Vec<&Inherited> = d.iter().map(|&g| &inherited[g]).collect();
                let names = graph.with_ancestors(d).into_iter().map(|g| graph.names[g].clone()).collect();
                (Inherited::union(&refs, &mut graph), names)
            })
            .clone();
        let merged = from_groups.apply(&defaults, &h.layer, &h.name, &graph)?;
        let settings = merged.finish(&h.name, h.pos)?;
        out.push(ResolvedHost {
            address: h.address.map_or_else(|| h.name.clone(), |a| a.value),
            name: h.name,
            groups: group_names,
            settings,
        });
    }
    Ok(Resolved { hosts: out, credentials: creds, inline_passwords })
}

/// A `credential:` or `proxy_credential:` at this level must name a
/// defined credential.
fn check_credential(l: &Layer, creds: &[CredentialSpec]) -> Result<(), InventoryError> {
    for k in [Key::Credential, Key::ProxyCredential] {
        if let Some(At { value: Value::Credential(c), pos }) = l.get(k) {
            credentials::check_reference(c, *pos, creds)?;
        }
    }
    Ok(())
}
