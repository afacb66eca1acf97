//! Where output goes: into a variable ([`Collect`]), nowhere
//! ([`Discard`]), down a pipeline (`call`), or to the host ([`ToHost`]),
//! where `Out-Default` turns objects into text as Windows PowerShell does
//! on a console 120 columns wide: strings and numbers one a line,
//! hashtables as a Name/Value table, `System.Version` as its table,
//! other objects as a table (up to four properties) or a list.

use std::borrow::Cow;

use super::{Interp, R};
use crate::lab::powershell::convert;
use crate::lab::powershell::dates;
use crate::lab::powershell::errors::ErrorRecord;
use crate::lab::powershell::object::{Ctx, downcast};
use crate::lab::powershell::value::Value;

/// A consumer of output objects.
pub trait Out {
    fn emit(&mut self, it: &mut Interp<'_>, v: Value) -> R<()>;
}

/// Collects output (assignments, `$( )`, `@( )`).
#[derive(Default)]
pub struct Collect(pub Vec<Value>);

impl Out for Collect {
    fn emit(&mut self, _: &mut Interp<'_>, v: Value) -> R<()> {
        self.0.push(v);
        Ok(())
    }
}

/// Drops output (`| Out-Null`, `[void]`, `$null = `).
pub struct Discard;

impl Out for Discard {
    fn emit(&mut self, _: &mut Interp<'_>, _: Value) -> R<()> {
        Ok(())
    }
}

/// The host: `Out-Default`.
pub struct ToHost;

impl Out for ToHost {
    fn emit(&mut self, it: &mut Interp<'_>, v: Value) -> R<()> {
        let mut formatter = std::mem::take(&mut it.cx.console.formatter);
        let mut text = std::mem::take(&mut it.cx.console.stdout);
        formatter.push(v, &mut it.cx, &mut text);
        it.cx.console.stdout = text;
        it.cx.console.formatter = formatter;
        Ok(())
    }
}

/// Lay out what `Out-Default` holds, before raw text is written to the
/// console (`Write-Host`, `[Console]::Out`), so the order is kept.
pub fn flush_host(cx: &mut Ctx<'_>) {
    let mut formatter = std::mem::take(&mut cx.console.formatter);
    let mut text = std::mem::take(&mut cx.console.stdout);
    formatter.flush(cx, &mut text);
    cx.console.stdout = text;
    cx.console.formatter = formatter;
}

/// Out-Default's state: objects of one kind wait to be laid out together.
#[derive(Default, Debug)]
pub struct HostFormatter {
    pending: Vec<Value>,
    kind: Option<String>,
}

/// Width of the host's console over WinRM.
pub const WIDTH: usize = 120;

impl HostFormatter {
    /// Take one object; its text (or a finished table) goes to `into`.
    pub fn push(&mut self, v: Value, cx: &mut Ctx<'_>, into: &mut String) {
        let kind = match table_kind(&v) {
            Some(k) => k,
            None => {
                self.flush(cx, into);
                if let Some(text) = scalar_text(&v, cx) {
                    into.push_str(&text);
                }
                return;
            }
        };
        if self.kind.as_deref() != Some(kind.as_str()) {
            self.flush(cx, into);
            self.kind = Some(kind);
        }
        self.pending.push(v);
    }

    /// Lay out what is waiting.
    pub fn flush(&mut self, cx: &mut Ctx<'_>, into: &mut String) {
        let items = std::mem::take(&mut self.pending);
        let Some(kind) = self.kind.take() else { return };
        if items.is_empty() {
            return;
        }
        let text = if kind == "hashtable" { hashtables(&items, cx) } else { objects(&items, cx) };
        into.push_str(&text);
    }

    /// The text `Out-String` makes of these objects.
    pub fn text_of(items: Vec<Value>, cx: &mut Ctx<'_>) -> String {
        let mut f = HostFormatter::default();
        let mut s = String::new();
        for v in items {
            f.push(v, cx, &mut s);
        }
        f.flush(cx, &mut s);
        s
    }
}

/// The text of a value that prints without a table, with its line end;
/// `None` for `$null`.
fn scalar_text(v: &Value, cx: &mut Ctx<'_>) -> Option<String> {
    Some(match v {
        Value::Null => return None,
        Value::DateTime(d) => format!("\r\n{}\r\n\r\n\r\n", dates::format(*d, "dddd, MMMM d, yyyy h:mm:ss tt")),
        Value::Object(o) if o.as_any().is::<ErrorRecord>() => {
            let lines = downcast::<ErrorRecord>(o.as_ref()).map(|r| if r.native { vec![r.exception.message.clone()] } else { r.lines() }).unwrap_or_default();
            lines.iter().map(|l| format!("{l}\r\n")).collect()
        }
        other => format!("{}\r\n", convert::to_string(other, cx)),
    })
}

/// The layout group of a value that prints as a table or list.
fn table_kind(v: &Value) -> Option<String> {
    match v {
        Value::Hashtable(_) => Some("hashtable".into()),
        Value::Object(o) => {
            if o.as_any().is::<ErrorRecord>() || o.property_names().is_empty() {
                None
            } else {
                Some(o.type_name().into_owned())
            }
        }
        _ => None,
    }
}

fn pad(s: &str, w: usize) -> String {
    let n = s.chars().count();
    if n >= w { s.to_string() } else { format!("{s}{}", " ".repeat(w - n)) }
}

/// Cut a cell to `w` characters with `...`, as the table view does.
fn cut(s: &str, w: usize) -> String {
    let n = s.chars().count();
    if n <= w || w < 4 {
        return s.to_string();
    }
    let head: String = s.chars().take(w - 3).collect();
    format!("{head}...")
}

/// Hashtables: one `Name  Value` table for the run of them.
fn hashtables(items: &[Value], cx: &mut Ctx<'_>) -> String {
    let mut rows = Vec::new();
    for item in items {
        if let Value::Hashtable(h) = item {
            let entries: Vec<(Value, Value)> = h.borrow().entries().map(|(k, v)| (k.clone(), v.clone())).collect();
            for (k, v) in entries {
                rows.push((convert::to_string(&k, cx), cell(&v, cx)));
            }
        }
    }
    let mut out = String::from("\r\nName                           Value\r\n----                           -----\r\n");
    for (k, v) in rows {
        let line = format!("{} {}", pad(&cut(&k, 30), 30), v);
        out.push_str(&cut(line.trim_end(), WIDTH - 1));
        out.push_str("\r\n");
    }
    out.push_str("\r\n\r\n");
    out
}

/// A property value as a table cell shows it.
fn cell(v: &Value, cx: &mut Ctx<'_>) -> String {
    match v {
        Value::Array(a) => {
            let items = a.items.borrow().clone();
            let texts: Vec<String> = items.iter().take(4).map(|i| convert::to_string(i, cx)).collect();
            let more = if items.len() > 4 { ", ..." } else { "" };
            format!("{{{}{more}}}", texts.join(", "))
        }
        Value::Null => String::new(),
        other => convert::to_string(other, cx),
    }
}

/// Objects: a table for up to four properties, else a list.
fn objects(items: &[Value], cx: &mut Ctx<'_>) -> String {
    let names: Vec<Cow<'static, str>> = match &items[0] {
        Value::Object(o) => o.property_names(),
        _ => Vec::new(),
    };
    let mut rows: Vec<Vec<String>> = Vec::new();
    for item in items {
        let mut row = Vec::new();
        if let Value::Object(o) = item {
            for n in &names {
                let v = o.get(cx, n).and_then(Result::ok).unwrap_or(Value::Null);
                row.push(cell(&v, cx));
            }
        }
        rows.push(row);
    }
    // System.Version's view (DotNetTypes.format.ps1xml) gives each column
    // at least 6 characters.
    let min = match &items[0] {
        Value::Object(o) if o.type_name() == "System.Version" => 6,
        _ => 0,
    };
    if names.len() <= 4 {
        let widths: Vec<usize> = (0..names.len())
            .map(|i| rows.iter().map(|r| r[i].chars().count()).chain([names[i].chars().count(), min]).max().unwrap_or(0))
            .collect();
        let line = |cells: Vec<String>| -> String {
            let mut l = String::new();
            for (i, c) in cells.iter().enumerate() {
                if i + 1 == cells.len() {
                    l.push_str(c);
                } else {
                    l.push_str(&pad(c, widths[i]));
                    l.push(' ');
                }
            }
            format!("{}\r\n", cut(l.trim_end(), WIDTH - 1))
        };
        let mut out = String::from("\r\n");
        out.push_str(&line(names.iter().map(|n| n.to_string()).collect()));
        out.push_str(&line(names.iter().map(|n| "-".repeat(n.chars().count())).collect()));
        for r in rows {
            out.push_str(&line(r));
        }
        out.push_str("\r\n\r\n");
        out
    } else {
        let w = names.iter().map(|n| n.chars().count()).max().unwrap_or(0);
        let mut out = String::from("\r\n");
        for r in rows {
            out.push_str("\r\n");
            for (n, v) in names.iter().zip(r) {
                out.push_str(&format!("{} : {v}\r\n", pad(n, w)));
            }
        }
        out.push_str("\r\n\r\n");
        out
    }
}
