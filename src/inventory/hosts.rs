//! Host entries to hosts: ranges expanded, names checked, and entries that
//! name the same host (in `hosts:` and in groups, in any letter case)
//! merged into one, in the order the file first mentions them. Two entries
//! that give one host different values are an error. Pure.

use super::error::{ErrorKind, InventoryError, Position};
use super::layer::{pos_of, At, Layer};
use super::raw::RawHost;
use super::{names, range, values};
use serde_saphyr::Spanned;
use std::collections::HashMap;
use std::path::Path;

/// Most hosts one inventory may hold.
pub const MAX_HOSTS: usize = 100_000;

/// Most host names all ranges together may expand to (entries may repeat
/// a range in several groups).
const MAX_EXPANDED: usize = 10 * MAX_HOSTS;

/// One entry as written under `hosts:` (`group: None`) or a group's `hosts:`.
pub struct Entry {
    pub name: Spanned<String>,
    pub raw: Option<RawHost>,
    pub group: Option<usize>,
}

/// One host, gathered from all its entries.
pub struct HostAcc {
    pub name: String,
    /// Where the host is first mentioned.
    pub pos: Position,
    /// Groups that list it directly.
    pub groups: Vec<usize>,
    pub address: Option<At<String>>,
    /// Settings written on its entries.
    pub layer: Layer,
}

/// Gather hosts from entries. `check` validates each entry's settings
/// (credential references) once, before they are copied to its hosts.
pub fn collect(
    mut entries: Vec<Entry>,
    base_dir: &Path,
    check: impl Fn(&Layer) -> Result<(), InventoryError>,
) -> Result<Vec<HostAcc>, InventoryError> {
    entries.sort_by_key(|e| pos_of(&e.name));
    let mut hosts: Vec<HostAcc> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut expanded_total = 0usize;
    for e in entries {
        let pos = pos_of(&e.name);
        let (address, settings) = e.raw.unwrap_or_default().split();
        let layer = Layer::from_raw(settings, base_dir)?;
        check(&layer)?;
        let address = match address {
            Some(a) => Some(At { value: values::address(&a.value, pos_of(&a))?, pos: pos_of(&a) }),
            None => None,
        };
        let written = e.name.value.trim();
        let names = if range::has_range(written) {
            if let Some(a) = &address {
                return Err(InventoryError::at(
                    ErrorKind::BadValue,
                    a.pos,
                    format!("`address` on the range entry `{written}`: every host of a range would get the same address"),
                    "remove `address` (each host is then reached by its name), or list the hosts one by one",
                ));
            }
            let room = MAX_HOSTS.min(MAX_EXPANDED.saturating_sub(expanded_total));
            range::expand(written, room).map_err(|r| {
                let kind = if r.too_many { ErrorKind::TooManyHosts } else { ErrorKind::BadRange };
                InventoryError::at(kind, pos, r.message, r.help)
            })?
        } else {
            vec![written.to_string()]
        };
        expanded_total += names.len();
        for name in names {
            if let Some(why) = names::problem(&name) {
                return Err(InventoryError::at(
                    ErrorKind::BadName,
                    pos,
                    format!("bad host name: {why}"),
                    "rename the host; put an IPv6 address or anything else in `address:` (`h1: {address: \"fe80::1\"}`)",
                ));
            }
            let key = name.to_lowercase();
            let i = match index.get(&key) {
                Some(&i) => i,
                None => {
                    if hosts.len() == MAX_HOSTS {
                        return Err(InventoryError::at(
                            ErrorKind::TooManyHosts,
                            pos,
                            format!("more than {MAX_HOSTS} hosts: `{name}` is one too many"),
                            "split the network into several inventories (one per site or OU)",
                        ));
                    }
                    index.insert(key, hosts.len());
                    hosts.push(HostAcc { name, pos, groups: Vec::new(), address: None, layer: Layer::default() });
                    hosts.len() - 1
                }
            };
            merge_entry(&mut hosts[i], e.group, address.as_ref(), &layer)?;
        }
    }
    Ok(hosts)
}

/// Add one entry's group, address and settings to a host.
fn merge_entry(h: &mut HostAcc, group: Option<usize>, address: Option<&At<String>>, layer: &Layer) -> Result<(), InventoryError> {
    if let Some(g) = group.filter(|g| !h.groups.contains(g)) {
        h.groups.push(g);
    }
    if let Some(a) = address {
        match &h.address {
            Some(prev) if !prev.value.eq_ignore_ascii_case(&a.value) => {
                return Err(twice(&h.name, "address", &prev.value, prev.pos, &a.value, a.pos));
            }
            Some(_) => {}
            None => h.address = Some(a.clone()),
        }
    }
    for (k, v) in layer.iter() {
        match h.layer.get(k) {
            Some(prev) if prev.value != v.value => {
                return Err(twice(&h.name, k.name(), &prev.value.to_string(), prev.pos, &v.value.to_string(), v.pos));
            }
            Some(_) => {}
            None => h.layer.set(k, v.clone()),
        }
    }
    Ok(())
}

fn twice(host: &str, key: &str, a: &str, pa: Position, b: &str, pb: Position) -> InventoryError {
    InventoryError::at(
        ErrorKind::Conflict,
        pb,
        format!(
            "host `{host}` is listed more than once with different `{key}`: `{a}` (line {}) and `{b}` (line {})",
            pa.line, pb.line
        ),
        format!("set `{key}` in one of the two places only"),
    )
}
