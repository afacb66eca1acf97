//! The user's SHA-256 list: one hash per line (with `#` comments and an
//! optional label after the hash), or a CSV with a header naming the hash
//! column (`sha256`, `sha256_hash`, `SHA256`, `hash`) as threat feeds
//! publish (MalwareBazaar's export comments its header with `# `; URLhaus
//! payload lists). A matching file makes a finding High and certain.

use std::collections::BTreeMap;

use super::facts::{Facts, Source};
use super::paths;
use super::evidence::{Evidence as E, Grounds};
use super::{ArtifactRef, Family, Finding};

/// One listed hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HashEntry {
    /// 1-based line in the list.
    pub line: usize,
    /// Label or family given with it (CSV `signature`/`family` column, or
    /// text after the hash).
    pub label: Option<String>,
}

/// A parsed list of SHA-256 hashes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HashList {
    entries: BTreeMap<String, HashEntry>,
}

/// A line of the list that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct HashListError {
    pub line: usize,
    pub message: String,
}

fn is_sha256(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

fn split_csv(line: &str) -> Vec<String> {
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(line.as_bytes());
    match r.records().next() {
        Some(Ok(rec)) => rec
            .iter()
            .map(|s| s.trim().trim_matches('"').trim().to_string())
            .collect(),
        _ => line
            .split(',')
            .map(|s| s.trim().trim_matches('"').to_string())
            .collect(),
    }
}

const HASH_COLUMNS: &[&str] = &[
    "sha256",
    "sha256_hash",
    "sha256hash",
    "sha-256",
    "hash",
    "sha256sum",
];
const LABEL_COLUMNS: &[&str] = &[
    "signature",
    "family",
    "malware",
    "malware_printable",
    "label",
    "tags",
];

impl HashList {
    /// Parse a list. Errors name the line.
    pub fn parse(text: &str) -> Result<HashList, HashListError> {
        let mut list = HashList::default();
        let mut columns: Option<(usize, Option<usize>, usize)> = None; // (hash col, label col, width)
        for (i, raw) in text.lines().enumerate() {
            let line_no = i + 1;
            let line = raw.trim().trim_start_matches('\u{feff}');
            if line.is_empty() {
                continue;
            }
            // A header, possibly commented (MalwareBazaar: `# "first_seen_utc","sha256_hash",...`).
            let uncommented = line.trim_start_matches('#').trim();
            if columns.is_none()
                && !uncommented.contains(',')
                && HASH_COLUMNS
                    .contains(&uncommented.trim_matches('"').to_ascii_lowercase().as_str())
            {
                columns = Some((0, None, 1));
                continue;
            }
            if columns.is_none() && uncommented.contains(',') {
                let cols: Vec<String> = split_csv(uncommented)
                    .into_iter()
                    .map(|c| c.to_ascii_lowercase())
                    .collect();
                if let Some(h) = cols.iter().position(|c| HASH_COLUMNS.contains(&c.as_str())) {
                    let label = LABEL_COLUMNS
                        .iter()
                        .find_map(|l| cols.iter().position(|c| c == l));
                    columns = Some((h, label, cols.len()));
                    continue;
                }
                if !line.starts_with('#') && !cols.iter().any(|c| is_sha256(c)) {
                    return Err(HashListError {
                        line: line_no,
                        message: format!(
                            "a CSV header needs a column named sha256 (or sha256_hash, hash); found {}",
                            cols.join(", ")
                        ),
                    });
                }
            }
            if line.starts_with('#') || line.starts_with("//") || line.starts_with(';') {
                continue;
            }
            let (hash, label) = match columns {
                Some((h, lc, _)) => {
                    let fields = split_csv(line);
                    let Some(v) = fields.get(h) else {
                        return Err(HashListError {
                            line: line_no,
                            message: format!(
                                "this row has {} field(s); the sha256 column is field {}",
                                fields.len(),
                                h + 1
                            ),
                        });
                    };
                    let label = lc
                        .and_then(|c| fields.get(c))
                        .map(|s| s.trim().to_string())
                        .filter(|s| !s.is_empty() && s != "n/a");
                    (v.trim().to_string(), label)
                }
                None => {
                    let body = line.split('#').next().unwrap_or("").trim();
                    let body = body
                        .strip_prefix("sha256:")
                        .or_else(|| body.strip_prefix("SHA256:"))
                        .unwrap_or(body)
                        .trim();
                    let mut parts = body.splitn(2, [' ', '\t', ',', ';']);
                    let h = parts.next().unwrap_or("").trim().to_string();
                    let label = parts
                        .next()
                        .map(|s| s.trim().trim_matches(',').trim().to_string())
                        .filter(|s| !s.is_empty());
                    (h, label)
                }
            };
            if !is_sha256(&hash) {
                let hint = match hash.len() {
                    32 => " (this looks like an MD5)",
                    40 => " (this looks like a SHA-1)",
                    _ => "",
                };
                return Err(HashListError {
                    line: line_no,
                    message: format!(
                        "expected a SHA-256 (64 hex digits), found '{}'{hint}",
                        hash.chars().take(80).collect::<String>()
                    ),
                });
            }
            list.entries
                .entry(hash.to_ascii_lowercase())
                .or_insert(HashEntry {
                    line: line_no,
                    label,
                });
        }
        Ok(list)
    }

    pub fn get(&self, sha256: &str) -> Option<&HashEntry> {
        self.entries.get(&sha256.trim().to_ascii_lowercase())
    }
    pub fn contains(&self, sha256: &str) -> bool {
        self.get(sha256).is_some()
    }
    pub fn len(&self) -> usize {
        self.entries.len()
    }
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// The family a feed label names (MalwareBazaar signatures and aliases).
pub fn family_from_label(label: &str) -> Option<Family> {
    let l = label.to_ascii_lowercase();
    let has = |xs: &[&str]| xs.iter().any(|x| l.contains(x));
    if has(&["emotet", "heodo", "geodo"]) {
        Some(Family::Emotet)
    } else if has(&["qakbot", "qbot", "quakbot", "pinkslipbot"]) {
        Some(Family::Qakbot)
    } else if has(&["trickbot", "trickster"]) {
        Some(Family::TrickBot)
    } else if has(&["dridex"]) {
        Some(Family::Dridex)
    } else if has(&["icedid", "bokbot"]) {
        Some(Family::IcedId)
    } else {
        None
    }
}

/// Mark findings whose files are on the list certain, and add findings for
/// listed files (and processes running them) no rule caught.
pub(crate) fn apply(f: &Facts, list: &HashList, out: &mut Vec<Finding>) {
    if list.is_empty() {
        return;
    }
    for ff in &f.snap.files {
        if ff.is_dir || ff.sha256.is_empty() {
            continue;
        }
        let Some(entry) = list.get(&ff.sha256) else {
            continue;
        };
        let k = paths::key(&ff.path);
        let label_family = entry.label.as_deref().and_then(family_from_label);
        let reason = format!(
            "SHA-256 {} of {} is on the user's hash list (line {}{})",
            ff.sha256.to_ascii_lowercase(),
            ff.path,
            entry.line,
            entry
                .label
                .as_ref()
                .map(|l| format!(", {l}"))
                .unwrap_or_default()
        );
        // The standard: a hash alone is enough, except on a validly
        // signed file (a feed listing a signed program is a mistake).
        let signed = ff.signature.eq_ignore_ascii_case("valid");
        let reason = if signed {
            format!("{reason}; but the file is validly signed ({}): a hash alone does not make it high", ff.signer)
        } else {
            reason
        };
        let mut matched = false;
        for fd in out.iter_mut() {
            let own = fd.target_files.iter().any(|t| paths::key(t) == k)
                || matches!(&fd.artifact, ArtifactRef::File { path } if paths::key(path) == k);
            if own {
                matched = true;
                if signed {
                    fd.mark_signed();
                }
                fd.certain |= !signed;
                fd.tie(E::KnownBadHash);
                if matches!(fd.artifact, ArtifactRef::Process { .. }) && !signed {
                    // A process running a listed file launches a known payload.
                    fd.add_evidence(E::PayloadLaunch);
                }
                if fd.family == Family::UnknownLoaderLike
                    && let Some(fam) = label_family
                {
                    fd.family = fam;
                }
                if !fd.reasons.contains(&reason) {
                    fd.reasons.push(reason.clone());
                }
            }
        }
        let family = label_family.unwrap_or(Family::UnknownLoaderLike);
        let grounds = Grounds {
            signed,
            ..Grounds::of(&[E::KnownBadHash])
        };
        if !matched {
            let mut x = Finding::new(
                &f.host,
                ArtifactRef::File {
                    path: paths::normalize(&ff.path),
                },
                family,
                "HASH-MATCH",
                grounds.clone(),
                vec![reason.clone()],
                vec![paths::normalize(&ff.path)],
            );
            x.certain = !signed;
            out.push(x);
        }
        for l in &f.launches {
            let Source::Process(p) = l.source else {
                continue;
            };
            let runs = paths::key(&p.image) == k
                || l.parsed.payloads.iter().any(|x| paths::key(&x.path) == k);
            if runs && !out.iter().any(|x| x.artifact == l.artifact) {
                let mut x = Finding::new(
                    &f.host,
                    l.artifact.clone(),
                    family,
                    "HASH-MATCH-PROCESS",
                    grounds.clone().with_if(!signed, E::PayloadLaunch),
                    vec![format!("process {} runs {}; {reason}", p.pid, ff.path)],
                    vec![paths::normalize(&ff.path)],
                );
                x.certain = !signed;
                out.push(x);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const H1: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    const H2: &str = "FEDCBA9876543210FEDCBA9876543210FEDCBA9876543210FEDCBA9876543210";

    #[test]
    fn plain_lines_with_comments() {
        let t = format!("# IR notes\n\n{H1}  emotet loader # from host A\nsha256:{H2}\n");
        let l = HashList::parse(&t).unwrap();
        assert_eq!(l.len(), 2);
        assert_eq!(l.get(H1).unwrap().label.as_deref(), Some("emotet loader"));
        assert!(l.contains(&H2.to_lowercase()));
        assert_eq!(l.get(H2).unwrap().line, 4);
    }

    #[test]
    fn malwarebazaar_csv_with_commented_header() {
        let t = format!(
            "################\n# MalwareBazaar export\n# \"first_seen_utc\",\"sha256_hash\",\"md5_hash\",\"sha1_hash\",\"reporter\",\"file_name\",\"file_type_guess\",\"mime_type\",\"signature\"\n\"2022-11-03 10:00:00\", \"{H1}\", \"d41d8cd98f00b204e9800998ecf8427e\", \"da39a3ee5e6b4b0d3255bfef95601890afd80709\", \"abuse_ch\", \"x.dll\", \"dll\", \"application/x-dosexec\", \"Heodo\"\n"
        );
        let l = HashList::parse(&t).unwrap();
        assert_eq!(l.len(), 1);
        assert_eq!(
            family_from_label(l.get(H1).unwrap().label.as_deref().unwrap()),
            Some(Family::Emotet)
        );
    }

    #[test]
    fn csv_header_by_name() {
        let t = format!(
            "firstseen,url,filetype,md5,sha256,signature\n2021-02-01,http://x/y,dll,abc,{H1},Qakbot\n"
        );
        let l = HashList::parse(&t).unwrap();
        assert_eq!(l.get(H1).unwrap().label.as_deref(), Some("Qakbot"));
        let t = format!("SHA256\n{H2}\n");
        assert!(HashList::parse(&t).unwrap().contains(H2));
    }

    #[test]
    fn errors_name_the_line() {
        let e =
            HashList::parse(&format!("{H1}\n# c\nd41d8cd98f00b204e9800998ecf8427e\n")).unwrap_err();
        assert_eq!(e.line, 3);
        assert!(e.message.contains("MD5"), "{e}");
        let e = HashList::parse("name,md5\nx,abc\n").unwrap_err();
        assert_eq!(e.line, 1);
        let e = HashList::parse(&format!("sha256,label\n{H1},a\nnothex,b\n")).unwrap_err();
        assert_eq!(e.line, 3);
    }
}
