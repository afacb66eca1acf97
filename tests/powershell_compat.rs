//! Every PowerShell cauterize sends (the bootstrap, the probe, the runtime,
//! and a whole runtime payload with hostile job data) parses with a real
//! PowerShell grammar (tree-sitter-powershell) without ERROR or MISSING
//! nodes, and uses nothing newer than Windows PowerShell 2.0 (a deny-list
//! of 3.0+ cmdlets and syntax, checked outside comments and verbatim
//! strings; the checker is itself tested against each construct).

use cauterize::runtime::bootstrap::BOOTSTRAP;
use cauterize::runtime::job::{self, JobItem, RUNTIME};
use cauterize::runtime::ops::{self, Bounds, Op, Query, SweepRoot, TaskAction};
use cauterize::runtime::probe::PROBE;
use tree_sitter::{Node, Parser, Tree};

fn parse(src: &str) -> Tree {
    let mut p = Parser::new();
    p.set_language(&tree_sitter_powershell::LANGUAGE.into())
        .expect("grammar loads");
    p.parse(src, None).expect("parses")
}

/// ERROR and MISSING nodes, with line and text.
fn problems(src: &str) -> Vec<String> {
    let tree = parse(src);
    let mut out = Vec::new();
    let mut stack = vec![tree.root_node()];
    while let Some(n) = stack.pop() {
        if n.is_error() || n.is_missing() {
            let text = src
                .get(n.start_byte()..n.end_byte().min(n.start_byte() + 80))
                .unwrap_or("");
            out.push(format!(
                "line {}: {} {:?}",
                n.start_position().row + 1,
                n.kind(),
                text
            ));
        }
        for i in (0..n.child_count()).rev() {
            if let Some(c) = n.child(i) {
                stack.push(c);
            }
        }
    }
    out
}

/// The source with comments and verbatim (single-quoted) string contents
/// blanked out, keeping offsets and lines.
fn code_only(src: &str) -> String {
    let tree = parse(src);
    let mut bytes = src.as_bytes().to_vec();
    fn walk(n: Node<'_>, bytes: &mut [u8]) {
        let k = n.kind();
        if k == "comment"
            || k == "verbatim_string_characters"
            || k == "verbatim_here_string_characters"
        {
            for b in &mut bytes[n.start_byte()..n.end_byte()] {
                if *b != b'\n' {
                    *b = b' ';
                }
            }
            return;
        }
        for i in 0..n.child_count() {
            if let Some(c) = n.child(i) {
                walk(c, bytes);
            }
        }
    }
    walk(tree.root_node(), &mut bytes);
    String::from_utf8_lossy(&bytes).into_owned()
}

/// PowerShell 3.0+ constructs, as (pattern, what). Word patterns match on
/// identifier boundaries, case-insensitively.
const DENY: &[(&str, &str)] = &[
    ("ConvertTo-Json", "cmdlet (3.0)"),
    ("ConvertFrom-Json", "cmdlet (3.0)"),
    ("Get-ScheduledTask", "ScheduledTasks module (Windows 8)"),
    (
        "Register-ScheduledTask",
        "ScheduledTasks module (Windows 8)",
    ),
    (
        "Unregister-ScheduledTask",
        "ScheduledTasks module (Windows 8)",
    ),
    ("New-NetFirewallRule", "NetSecurity module (Windows 8)"),
    ("Get-NetFirewallRule", "NetSecurity module (Windows 8)"),
    ("Remove-NetFirewallRule", "NetSecurity module (Windows 8)"),
    ("Get-CimInstance", "CIM cmdlets (3.0)"),
    ("Invoke-CimMethod", "CIM cmdlets (3.0)"),
    ("New-CimSession", "CIM cmdlets (3.0)"),
    ("Remove-CimInstance", "CIM cmdlets (3.0)"),
    ("Get-FileHash", "cmdlet (4.0)"),
    ("Invoke-WebRequest", "cmdlet (3.0)"),
    ("Invoke-RestMethod", "cmdlet (3.0)"),
    ("Get-LocalUser", "cmdlet (5.1)"),
    ("Get-SmbShare", "SmbShare module (Windows 8)"),
    ("Resolve-DnsName", "DnsClient module (Windows 8)"),
    ("Test-NetConnection", "cmdlet (4.0)"),
    ("Expand-Archive", "cmdlet (5.0)"),
    ("Compress-Archive", "cmdlet (5.0)"),
    ("Get-ItemPropertyValue", "cmdlet (5.0)"),
    ("New-TemporaryFile", "cmdlet (5.0)"),
    ("[ordered]", "ordered hashtable (3.0)"),
    ("[pscustomobject]", "type accelerator (3.0)"),
    ("::new(", "constructor syntax (5.0)"),
    ("$PSItem", "automatic variable (3.0)"),
    ("$PSScriptRoot", "automatic variable in scripts (3.0)"),
    ("$using:", "scope modifier (3.0)"),
    (".ForEach(", "collection method (4.0)"),
    (".Where(", "collection method (4.0)"),
    ("-in", "operator (3.0)"),
    ("-notin", "operator (3.0)"),
    ("-shl", "operator (3.0)"),
    ("-shr", "operator (3.0)"),
    ("-Raw", "Get-Content parameter (3.0)"),
    ("-NoNewline", "parameter (5.0)"),
    ("-PipelineVariable", "common parameter (4.0)"),
    ("Ignore", "ErrorAction Ignore (3.0)"),
    ("using namespace", "statement (5.0)"),
    ("class", "class definition (5.0)"),
    ("enum", "enum definition (5.0)"),
    ("?.", "null-conditional operator (7.1)"),
    ("??", "null-coalescing operator (7.0)"),
    ("&&", "pipeline chain operator (7.0)"),
    ("||", "pipeline chain operator (7.0)"),
];

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'-'
}

/// Constructs of the deny-list found in code (not comments or verbatim
/// strings), as `line N: what`.
fn ps2_violations(src: &str) -> Vec<String> {
    let code = code_only(src);
    let lower = code.to_ascii_lowercase();
    let hay = lower.as_bytes();
    let mut out = Vec::new();
    for (pat, what) in DENY {
        let p = pat.to_ascii_lowercase();
        let word_start =
            p.as_bytes()[0].is_ascii_alphanumeric() || p.starts_with('-') || p.starts_with('$');
        let word_end = p.as_bytes()[p.len() - 1].is_ascii_alphanumeric();
        let mut from = 0;
        while let Some(i) = lower[from..].find(&p) {
            let at = from + i;
            from = at + 1;
            let before_ok = !word_start || at == 0 || !is_ident(hay[at - 1]) || p.starts_with('$');
            let after = at + p.len();
            let after_ok = !word_end || after >= hay.len() || !is_ident(hay[after]);
            // `class`/`enum`/`using namespace` only as statements.
            let stmt_ok = !matches!(*pat, "class" | "enum")
                || (after < hay.len()
                    && hay[after] == b' '
                    && code[..at].trim_end().ends_with(['\n', ';', '{'])
                    || at == 0);
            // `Ignore` only as an ErrorAction value.
            let ignore_ok = *pat != "Ignore" || {
                let before = lower[..at].trim_end();
                before.ends_with("-erroraction")
                    || before.ends_with("-ea")
                    || before.ends_with("erroractionpreference =")
            };
            if before_ok && after_ok && stmt_ok && ignore_ok {
                let line = code[..at].matches('\n').count() + 1;
                out.push(format!("line {line}: {pat} ({what})"));
            }
        }
    }
    out
}

fn hostile_payload() -> String {
    let s =
        "'; Remove-Item C:\\ -Recurse; '\"$(Stop-Computer)\"`whoami`\r\n'@\n#\0Пётр 🦀".to_string();
    job::payload(&[
        JobItem::Query(Query::Collect {
            bounds: Bounds::default(),
        }),
        JobItem::Query(Query::FileFacts {
            paths: vec![s.clone()],
            list_dirs: vec![s.clone()],
            bounds: Bounds::default(),
        }),
        JobItem::Query(Query::Sweep {
            roots: vec![SweepRoot {
                path: s.clone(),
                depth: 1,
                extensions: vec!["exe".into()],
                recent_days: 90,
            }],
            skip: vec![s.clone()],
            hash_extensions: vec!["dll".into()],
            max_entries: 10,
            max_hash_bytes: 10,
            bounds: Bounds::default(),
        }),
        JobItem::Op(Op::DeleteTask {
            path: s.clone().into(),
            expected_actions: vec![TaskAction {
                path: s.clone().into(),
                arguments: s.clone().into(),
                working_directory: s.clone().into(),
            }],
        }),
        JobItem::Op(Op::DeleteRegistryValue {
            hive: s.clone(),
            key: s.clone().into(),
            value: s.clone().into(),
            expected_type: "REG_SZ".into(),
            expected_data_sha256: ops::reg_string_sha256("REG_SZ", &s),
            data: Default::default(),
            data_cut: false,
        }),
    ])
}

#[test]
fn every_script_parses_without_errors() {
    for (name, src) in [
        ("bootstrap.ps1", BOOTSTRAP.to_string()),
        ("probe.ps1", PROBE.to_string()),
        ("runtime.ps1", RUNTIME.to_string()),
        ("runtime payload with hostile job data", hostile_payload()),
    ] {
        let p = problems(&src);
        assert!(
            p.is_empty(),
            "{name} does not parse cleanly:\n{}",
            p.join("\n")
        );
    }
}

#[test]
fn every_script_is_powershell_2() {
    for (name, src) in [
        ("bootstrap.ps1", BOOTSTRAP.to_string()),
        ("probe.ps1", PROBE.to_string()),
        ("runtime.ps1", RUNTIME.to_string()),
        ("runtime payload", hostile_payload()),
    ] {
        let v = ps2_violations(&src);
        assert!(
            v.is_empty(),
            "{name} uses PowerShell 3.0+ constructs:\n{}",
            v.join("\n")
        );
    }
}

#[test]
fn the_checker_catches_each_construct_in_code_but_not_in_comments_or_strings() {
    let samples: &[(&str, &str)] = &[
        ("ConvertTo-Json", "$x | ConvertTo-Json\n"),
        ("ConvertFrom-Json", "$o = $t | ConvertFrom-Json\n"),
        ("Get-ScheduledTask", "Get-ScheduledTask -TaskName x\n"),
        (
            "Register-ScheduledTask",
            "Register-ScheduledTask -TaskName x\n",
        ),
        (
            "Unregister-ScheduledTask",
            "Unregister-ScheduledTask -TaskName x\n",
        ),
        (
            "New-NetFirewallRule",
            "New-NetFirewallRule -DisplayName x\n",
        ),
        ("Get-NetFirewallRule", "Get-NetFirewallRule\n"),
        ("Remove-NetFirewallRule", "Remove-NetFirewallRule -Name x\n"),
        ("Get-CimInstance", "Get-CimInstance Win32_Process\n"),
        (
            "Invoke-CimMethod",
            "Invoke-CimMethod -ClassName x -MethodName y\n",
        ),
        ("New-CimSession", "$s = New-CimSession\n"),
        ("Remove-CimInstance", "$i | Remove-CimInstance\n"),
        ("Get-FileHash", "Get-FileHash C:\\x\n"),
        ("Invoke-WebRequest", "Invoke-WebRequest http://x\n"),
        ("Invoke-RestMethod", "Invoke-RestMethod http://x\n"),
        ("Get-LocalUser", "Get-LocalUser\n"),
        ("Get-SmbShare", "Get-SmbShare\n"),
        ("Resolve-DnsName", "Resolve-DnsName x\n"),
        ("Test-NetConnection", "Test-NetConnection x\n"),
        ("Expand-Archive", "Expand-Archive a.zip\n"),
        ("Compress-Archive", "Compress-Archive a b\n"),
        (
            "Get-ItemPropertyValue",
            "Get-ItemPropertyValue HKLM:\\x -Name y\n",
        ),
        ("New-TemporaryFile", "$t = New-TemporaryFile\n"),
        ("[ordered]", "$h = [ordered]@{ a = 1 }\n"),
        ("[pscustomobject]", "$o = [pscustomobject]@{ a = 1 }\n"),
        ("::new(", "$l = [System.Collections.ArrayList]::new()\n"),
        ("$PSItem", "1,2 | ForEach-Object { $PSItem }\n"),
        ("$PSScriptRoot", "$d = $PSScriptRoot\n"),
        ("$using:", "Invoke-Command { $using:x }\n"),
        (".ForEach(", "$a.ForEach({ $_ })\n"),
        (".Where(", "$a.Where({ $_ })\n"),
        ("-in", "if (1 -in $a) { }\n"),
        ("-notin", "if (1 -notin $a) { }\n"),
        ("-shl", "$x = 1 -shl 2\n"),
        ("-shr", "$x = 8 -shr 2\n"),
        ("-Raw", "$t = Get-Content x -Raw\n"),
        ("-NoNewline", "Write-Host x -NoNewline\n"),
        ("-PipelineVariable", "Get-Item x -PipelineVariable p\n"),
        ("Ignore", "Get-Item x -ErrorAction Ignore\n"),
        ("using namespace", "using namespace System.Text\n"),
        ("class", "class Foo { }\n"),
        ("enum", "enum Color { Red }\n"),
        ("?.", "$x = $a?.b\n"),
        ("??", "$x = $a ?? 1\n"),
        ("&&", "git x && git y\n"),
        ("||", "git x || git y\n"),
    ];
    assert_eq!(samples.len(), DENY.len(), "one sample per deny-list entry");
    for (pat, code) in samples {
        assert!(
            DENY.iter().any(|(p, _)| p == pat),
            "{pat} is in the deny-list"
        );
        let found = ps2_violations(code);
        assert!(
            found.iter().any(|v| v.contains(&format!(": {pat} ("))),
            "{pat} not caught in {code:?}: {found:?}"
        );
        let quiet = format!("# {code}$s = '{}'\n", code.trim_end().replace('\'', "''"));
        let found = ps2_violations(&quiet);
        assert!(
            found.is_empty(),
            "{pat} caught in a comment or a string: {found:?}"
        );
    }
    // PowerShell 2.0 look-alikes are not flagged.
    let ok = "$h = @{ a = 1 }\n$i = $x -contains 1\n$n = $o.__CLASS\n$c = $a.ClassId\nGet-WmiObject Win32_Service -ErrorAction Stop\n$r = $x -replace 'a', 'b'\n$e = $env:x\n";
    assert!(ps2_violations(ok).is_empty(), "{:?}", ps2_violations(ok));
}

#[test]
fn a_broken_script_is_reported() {
    assert!(!problems("function f( { \n").is_empty());
    assert!(!problems("$x = @'\nno end\n").is_empty());
}

// ---- the lab engine's parser, cross-checked ----

/// Functions defined and commands called by name, in source order, as
/// tree-sitter-powershell sees them.
fn tree_sitter_outline(src: &str) -> (Vec<String>, Vec<String>) {
    let tree = parse(src);
    let (mut functions, mut commands) = (Vec::new(), Vec::new());
    fn walk(n: Node<'_>, src: &str, functions: &mut Vec<String>, commands: &mut Vec<String>) {
        let text = |n: Node<'_>| src[n.start_byte()..n.end_byte()].to_string();
        match n.kind() {
            "function_statement" => {
                for i in 0..n.child_count() {
                    if let Some(c) = n.child(i).filter(|c| c.kind() == "function_name") {
                        functions.push(text(c).to_lowercase());
                    }
                }
            }
            "command" => {
                if let Some(name) = n.child_by_field_name("command_name").filter(|c| c.kind() == "command_name") {
                    let invoked = (0..n.child_count()).any(|i| n.child(i).is_some_and(|c| c.kind() == "command_invokation_operator"));
                    if !invoked {
                        commands.push(text(name).to_lowercase());
                    }
                }
            }
            _ => {}
        }
        for i in 0..n.child_count() {
            if let Some(c) = n.child(i) {
                walk(c, src, functions, commands);
            }
        }
    }
    walk(tree.root_node(), src, &mut functions, &mut commands);
    (functions, commands)
}

/// The same outline from the lab engine's syntax tree.
fn engine_outline(src: &str) -> (Vec<String>, Vec<String>) {
    use cauterize::lab::powershell::ast::*;
    let ast = cauterize::lab::powershell::parser::parse_script(std::sync::Arc::from(src))
        .unwrap_or_else(|e| panic!("the engine does not parse it: {e:?}"));
    // (offset, name) so both lists come out in source order.
    let mut functions: Vec<(u32, String)> = Vec::new();
    let mut commands: Vec<(u32, String)> = Vec::new();
    struct Walk<'a> {
        functions: &'a mut Vec<(u32, String)>,
        commands: &'a mut Vec<(u32, String)>,
    }
    impl Walk<'_> {
        fn block(&mut self, b: &Block) {
            for s in &b.statements {
                self.stmt(s);
            }
            for t in b.traps.iter() {
                self.block(&t.body);
            }
        }
        fn sb(&mut self, sb: &ScriptBlockAst) {
            for p in &sb.params {
                if let Some(d) = &p.default {
                    self.expr(d);
                }
            }
            for b in [&sb.begin, &sb.process, &sb.end].into_iter().flatten() {
                self.block(b);
            }
        }
        fn pipeline(&mut self, p: &Pipeline) {
            for e in &p.elements {
                match e {
                    Element::Expr(x, r) => {
                        self.expr(x);
                        self.redirs(r);
                    }
                    Element::Command(c) => {
                        // `& name` / `. name` are invocations, left out
                        // as the tree-sitter outline leaves them out.
                        let invoked = c.name_span.start != c.span.start;
                        if let (CommandName::Word(n), false) = (&c.name, invoked) {
                            self.commands.push((c.span.start, n.text.to_lowercase()));
                        } else if let CommandName::Expr(x) = &c.name {
                            self.expr(x);
                        }
                        for a in &c.args {
                            match a {
                                CommandArg::Param { value: Some(v), .. } => self.expr(v),
                                CommandArg::Value { expr, .. } => self.expr(expr),
                                _ => {}
                            }
                        }
                        self.redirs(&c.redirections);
                    }
                }
            }
        }
        fn redirs(&mut self, r: &[Redirection]) {
            for x in r {
                if let Redirection::File { target, .. } = x {
                    self.expr(target);
                }
            }
        }
        fn stmt(&mut self, s: &Stmt) {
            match &s.kind {
                StmtKind::Pipeline(p) => self.pipeline(p),
                StmtKind::Assign { target, value, .. } => {
                    self.expr(target);
                    self.stmt(value);
                }
                StmtKind::If { clauses, else_ } => {
                    for (c, b) in clauses {
                        self.pipeline(c);
                        self.block(b);
                    }
                    if let Some(b) = else_ {
                        self.block(b);
                    }
                }
                StmtKind::While { cond, body, .. } | StmtKind::DoWhile { cond, body, .. } => {
                    self.pipeline(cond);
                    self.block(body);
                }
                StmtKind::For { init, cond, step, body, .. } => {
                    for x in [init, step].into_iter().flatten() {
                        self.stmt(x);
                    }
                    if let Some(c) = cond {
                        self.pipeline(c);
                    }
                    self.block(body);
                }
                StmtKind::Foreach { input, body, .. } => {
                    self.pipeline(input);
                    self.block(body);
                }
                StmtKind::Switch(sw) => {
                    self.pipeline(&sw.input);
                    for (p, b) in &sw.clauses {
                        self.expr(p);
                        self.block(b);
                    }
                    if let Some(b) = &sw.default {
                        self.block(b);
                    }
                }
                StmtKind::Try { body, catches, finally } => {
                    self.block(body);
                    for c in catches {
                        self.block(&c.body);
                    }
                    if let Some(f) = finally {
                        self.block(f);
                    }
                }
                StmtKind::Function { name, body, .. } => {
                    self.functions.push((s.span.start, name.text.to_lowercase()));
                    self.sb(body);
                }
                StmtKind::Return(p) | StmtKind::Throw(p) | StmtKind::Exit(p) => {
                    if let Some(p) = p {
                        self.pipeline(p);
                    }
                }
                StmtKind::Break(e) | StmtKind::Continue(e) => {
                    if let Some(e) = e {
                        self.expr(e);
                    }
                }
                StmtKind::TrapDecl => {}
                StmtKind::Include(b) => self.block(b),
            }
        }
        fn expr(&mut self, e: &Expr) {
            match &e.kind {
                ExprKind::Expandable(parts) => {
                    for p in parts {
                        if let StrPart::Sub(b) = p {
                            self.block(b);
                        }
                    }
                }
                ExprKind::ArrayLiteral(items) => items.iter().for_each(|i| self.expr(i)),
                ExprKind::ArrayExpr(b) | ExprKind::SubExpr(b) => self.block(b),
                ExprKind::Paren(s) => self.stmt(s),
                ExprKind::Hashtable(entries) => {
                    for (k, v) in entries {
                        self.expr(k);
                        self.stmt(v);
                    }
                }
                ExprKind::ScriptBlock(sb) => self.sb(sb),
                ExprKind::Unary(_, x) | ExprKind::Convert(_, x) => self.expr(x),
                ExprKind::Binary(_, a, b) => {
                    self.expr(a);
                    self.expr(b);
                }
                ExprKind::Member { target, .. } => self.expr(target),
                ExprKind::Invoke { target, args, .. } => {
                    self.expr(target);
                    args.iter().for_each(|a| self.expr(a));
                }
                ExprKind::Index { target, index } => {
                    self.expr(target);
                    self.expr(index);
                }
                ExprKind::IncDec { target, .. } => self.expr(target),
                _ => {}
            }
        }
    }
    let mut w = Walk { functions: &mut functions, commands: &mut commands };
    w.sb(&ast);
    functions.sort();
    commands.sort();
    (functions.into_iter().map(|(_, n)| n).collect(), commands.into_iter().map(|(_, n)| n).collect())
}

/// The lab's PowerShell engine parses every script cauterize sends, and
/// agrees with tree-sitter-powershell on what each defines and calls: the
/// same functions, the same commands, in the same order.
#[test]
fn the_lab_engine_parser_agrees_with_tree_sitter() {
    for (name, src) in [
        ("bootstrap.ps1", BOOTSTRAP.to_string()),
        ("probe.ps1", PROBE.to_string()),
        ("runtime.ps1", RUNTIME.to_string()),
        ("runtime payload with hostile job data", hostile_payload()),
    ] {
        let (tf, tc) = tree_sitter_outline(&src);
        let (ef, ec) = engine_outline(&src);
        assert_eq!(ef, tf, "{name}: functions differ");
        assert_eq!(ec, tc, "{name}: commands differ");
        assert!(!ec.is_empty() || name == "bootstrap.ps1" || name == "probe.ps1", "{name}: nothing found");
    }
}
