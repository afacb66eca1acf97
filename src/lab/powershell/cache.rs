//! Parse each script text once. Every lab host runs the same scripts
//! (the bootstrap, the probe, the runtime), and the runtime's payloads
//! differ only in their job data at the end; so the cache keeps
//!
//! - whole scripts by content (a small LRU), and
//! - common beginnings: when a large script shares a long beginning with
//!   one seen before, the top-level statements of that beginning are
//!   parsed once and shared, and later scripts starting with it parse only
//!   their rest. A beginning ends at a top-level statement boundary whose
//!   next statement starts well inside the shared text, so the shared
//!   statements parse the same whatever follows them.
//!
//! Nothing here knows what a script is for: it is a PowerShell host's
//! parse cache.

use std::collections::VecDeque;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};

use super::ast::*;
use super::parser::{self, ParseError};

/// Whole scripts kept.
const WHOLE: usize = 64;
/// Shared beginnings kept.
const PREFIXES: usize = 8;
/// Scripts kept to find shared beginnings in.
const RECENT: usize = 8;
/// Scripts shorter than this are not split.
const MIN_SPLIT: usize = 8 * 1024;
/// Bytes between a boundary and the end of the shared text.
const MARGIN: usize = 64;

#[derive(Default)]
struct Cache {
    whole: VecDeque<(u64, Arc<str>, Arc<ScriptBlockAst>)>,
    prefixes: Vec<(Arc<str>, Arc<Block>)>,
    recent: VecDeque<Arc<str>>,
}

fn cache() -> &'static Mutex<Cache> {
    static CACHE: std::sync::OnceLock<Mutex<Cache>> = std::sync::OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(Cache::default()))
}

fn hash(text: &str) -> u64 {
    let mut h = rustc_hash::FxHasher::default();
    text.hash(&mut h);
    h.finish()
}

/// The syntax tree of a script (shared; parsed at most once per text while
/// it stays in the cache).
pub fn parse(text: &str) -> Result<Arc<ScriptBlockAst>, ParseError> {
    let key = hash(text);
    let prefix = {
        let mut c = cache().lock().unwrap_or_else(|e| e.into_inner());
        if let Some(i) = c.whole.iter().position(|(k, t, _)| *k == key && &**t == text) {
            let entry = c.whole.remove(i).expect("index in range");
            let ast = entry.2.clone();
            c.whole.push_back(entry);
            return Ok(ast);
        }
        c.prefixes.iter().find(|(p, _)| text.starts_with(&**p)).cloned()
    };
    let source: Source = Arc::from(text);
    let ast = match prefix {
        Some((p, block)) => with_prefix(source.clone(), &p, block)?,
        None => {
            let ast = parser::parse_script(source.clone())?;
            learn(&source, &ast);
            ast
        }
    };
    let mut c = cache().lock().unwrap_or_else(|e| e.into_inner());
    if c.whole.len() >= WHOLE {
        c.whole.pop_front();
    }
    c.whole.push_back((key, source, ast.clone()));
    Ok(ast)
}

/// A script made of a shared beginning and its own rest.
fn with_prefix(source: Source, prefix: &str, block: Arc<Block>) -> Result<Arc<ScriptBlockAst>, ParseError> {
    let rest = parser::parse_statements_from(source.clone(), prefix.len())?;
    let mut statements = Vec::with_capacity(rest.statements.len() + 1);
    statements.push(Stmt { span: Span::new(0, prefix.len()), kind: StmtKind::Include(block) });
    statements.extend(rest.statements);
    Ok(Arc::new(ScriptBlockAst {
        span: Span::new(0, source.len()),
        body_span: Span::new(0, source.len()),
        source,
        params: Vec::new(),
        cmdlet_binding: false,
        begin: None,
        process: None,
        end: Some(Block { statements, traps: rest.traps }),
        reads: Default::default(),
    }))
}

/// Remember a large script; when it shares a long beginning with one seen
/// before, make that beginning a shared prefix.
fn learn(source: &Source, ast: &ScriptBlockAst) {
    if source.len() < MIN_SPLIT {
        return;
    }
    let Some(marks) = parser::top_level_marks(ast) else { return };
    let mut c = cache().lock().unwrap_or_else(|e| e.into_inner());
    let common = c.recent.iter().map(|r| common_len(r, source)).max().unwrap_or(0);
    if c.recent.len() >= RECENT {
        c.recent.pop_front();
    }
    c.recent.push_back(source.clone());
    drop(c);
    if common < MIN_SPLIT {
        return;
    }
    // The last statement that starts safely inside the shared text: the
    // beginning is everything before it.
    let Some(&(boundary, _)) = marks.iter().rev().find(|(start, _)| (*start as usize) + MARGIN <= common && *start > 0) else { return };
    let boundary = boundary as usize;
    let text: Arc<str> = Arc::from(&source[..boundary]);
    let Ok(prefix_ast) = parser::parse_script(text.clone()) else { return };
    let Some(block) = prefix_ast.end.as_ref() else { return };
    if !block.traps.is_empty() || prefix_ast.begin.is_some() || !prefix_ast.params.is_empty() {
        return;
    }
    let Ok(owned) = Arc::try_unwrap(prefix_ast) else { return };
    let Some(block) = owned.end else { return };
    let mut c = cache().lock().unwrap_or_else(|e| e.into_inner());
    if c.prefixes.iter().any(|(p, _)| **p == *text) {
        return;
    }
    if c.prefixes.len() >= PREFIXES {
        c.prefixes.remove(0);
    }
    c.prefixes.push((text, Arc::new(block)));
}

fn common_len(a: &str, b: &str) -> usize {
    let n = a.as_bytes().iter().zip(b.as_bytes()).take_while(|(x, y)| x == y).count();
    // Back to a character boundary.
    let mut n = n.min(a.len()).min(b.len());
    while n > 0 && !b.is_char_boundary(n) {
        n -= 1;
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_sharing_a_long_beginning_share_its_parse() {
        let mut head = String::new();
        for i in 0..400 {
            head.push_str(&format!("function f{i} {{ param($x) return $x + {i} }}\n"));
        }
        let a = format!("{head}$data = @'\nfirst job\n'@\nf1 $data\n");
        let b = format!("{head}$data = @'\nsecond job\n'@\nf2 $data\n");
        let c = format!("{head}$data = @'\nthird job\n'@\nf3 $data\n");
        parse(&a).expect("a parses");
        parse(&b).expect("b parses");
        let cached = cache().lock().unwrap_or_else(|e| e.into_inner()).prefixes.iter().any(|(p, _)| c.starts_with(&**p) && p.len() > 1000);
        assert!(cached, "the shared beginning is cached");
        let ast = parse(&c).expect("c parses");
        let end = ast.end.as_ref().expect("end block");
        assert!(matches!(end.statements[0].kind, StmtKind::Include(_)), "c reuses the shared statements");
        // The rest was parsed on its own: the last functions before the
        // texts differ, the here-string and the call.
        let StmtKind::Include(shared) = &end.statements[0].kind else { unreachable!() };
        assert!(shared.statements.len() >= 390, "{}", shared.statements.len());
        assert_eq!(shared.statements.len() + end.statements.len() - 1, 402);
        assert!(matches!(end.statements.last().map(|s| &s.kind), Some(StmtKind::Pipeline(_))));
    }
}
