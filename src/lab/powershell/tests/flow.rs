//! Functions, scopes, pipelines, flow control and errors
//! (about_Functions, about_Return, about_Scopes, about_Switch,
//! about_Try_Catch_Finally, about_Trap, about_Throw,
//! about_Preference_Variables, about_Automatic_Variables).

use super::{prints, v2, v5};

/// Output is unrolled: a function returning a one-element array gives its
/// element; `return ,$x` (the comma operator) keeps the collection.
#[test]
fn return_unrolls_and_the_comma_keeps() {
    prints(&v5("function f { return @(1) }; $x = f; $x -is [array]; $x"), &["False", "1"]);
    prints(&v5("function f { return ,@(1) }; $x = f; $x -is [array]; $x.Count"), &["True", "1"]);
    prints(&v5("function g { ,(New-Object System.Collections.ArrayList) }; (g).GetType().Name"), &["ArrayList"]);
    // A cmdlet writes a collection as one object; an expression's value is
    // enumerated (so an empty list returned as `$l` is nothing).
    prints(&v5("function h { New-Object System.Collections.ArrayList }; $null -eq (h); function k { $l = New-Object System.Collections.ArrayList; $l }; $null -eq (k)"), &["False", "True"]);
    prints(&v5("function f { 'a'; 'b' }; $x = f; $x.Count; function e { }; $null -eq (e)"), &["2", "True"]);
}

/// Reads see the caller's variables (dynamic scoping); writes create a
/// local; `$script:` and `$global:` name those scopes; dot-sourcing runs
/// in the current scope.
#[test]
fn scoping() {
    prints(&v5("$x = 1; function f { $x; $x = 2; $x }; f; $x"), &["1", "2", "1"]);
    prints(&v5("function g { $script:y = 5; $global:z = 6 }; g; $y; $z"), &["5", "6"]);
    prints(&v5("& { $w = 3 }; $null -eq $w; . { $v = 4 }; $v"), &["True", "4"]);
    prints(&v5("function inner { $v }; function outer { $v = 'outer'; inner }; $v = 'top'; outer"), &["outer"]);
}

#[test]
fn switch_statement() {
    prints(&v5("switch (3) { 1 {'one'} 3 {'three'} default {'other'} }"), &["three"]);
    prints(&v5("switch ('ABC') { 'abc' {'ci'} }; switch -casesensitive ('ABC') { 'abc' {'cs'} default {'none'} }"), &["ci", "none"]);
    prints(&v5("switch -regex ('a1') { '\\d' {'digit'} '[a-z]' {'letter'} }; switch -wildcard ('x.txt') { '*.txt' {'text'} }"), &["digit", "letter", "text"]);
    prints(&v5("switch (1,2,3) { 2 { 'two'; break } default { $_ } }"), &["1", "two"]);
    prints(&v5("switch (5) { { $_ -gt 3 } { 'big' } }"), &["big"]);
    // `continue` skips the item's remaining clauses; both clauses run otherwise.
    prints(&v5("switch (1,2) { 1 { 'a'; continue } { $true } { \"b$_\" } }"), &["a", "b2"]);
    prints(&v5("switch (1) { 1 { 'x' } 1 { 'y' } }"), &["x", "y"]);
}

#[test]
fn loops_break_continue_and_labels() {
    prints(&v5("for ($i = 0; $i -lt 5; $i++) { if ($i -eq 1) { continue }; if ($i -eq 3) { break }; $i }"), &["0", "2"]);
    prints(&v5("$n = 0; while ($true) { $n++; if ($n -ge 3) { break } }; $n; do { $n-- } until ($n -le 0); $n; do { $n++ } while ($n -lt 2); $n"), &["3", "0", "2"]);
    prints(&v5(":outer foreach ($a in 1..3) { foreach ($b in 1..3) { if ($b -eq 2) { continue outer }; \"$a$b\" } }"), &["11", "21", "31"]);
}

#[test]
fn try_catch_finally() {
    prints(&v5("try { throw 'boom' } catch { 'caught: ' + $_.Exception.Message } finally { 'finally' }"), &["caught: boom", "finally"]);
    // A .NET exception is caught by its type (inside the method-call wrapper).
    prints(&v5("try { [int]::Parse('x') } catch [System.FormatException] { 'format' } catch { 'other' }"), &["format"]);
    prints(&v5("try { [int]::Parse('x') } catch [System.ArgumentException] { 'arg' } catch { $_.Exception.GetType().FullName }"), &["System.Management.Automation.MethodInvocationException"]);
    // A statement-terminating error in a called function goes to the catch.
    prints(&v5("function f { [int]::Parse('x'); 'not here' }; try { f } catch { 'caught' }"), &["caught"]);
    // Non-terminating errors are not caught unless they stop.
    let r = v5("try { Write-Error 'nt'; 'after' } catch { 'caught' }");
    assert_eq!(r.lines(), ["after"]);
    assert!(r.flat().contains("nt"), "{}", r.err);
    prints(&v5("try { Write-Error 'nt' -ErrorAction Stop; 'after' } catch { 'caught ' + $_.Exception.Message }"), &["caught nt"]);
}

/// With `$ErrorActionPreference = 'Stop'` errors stop the script unless
/// caught; SilentlyContinue hides them but keeps them in `$Error`.
#[test]
fn error_action_preference() {
    prints(&v5("$ErrorActionPreference = 'Stop'; try { Get-Nope } catch { 'caught ' + $_.FullyQualifiedErrorId }"), &["caught CommandNotFoundException"]);
    let r = v5("$ErrorActionPreference = 'Stop'; nope; 'not reached'");
    assert_eq!((r.lines().len(), r.code), (0, 1));
    prints(&v5("Write-Error 'quiet' -ErrorAction SilentlyContinue; $Error.Count; $Error[0].Exception.Message"), &["1", "quiet"]);
    prints(&v5("$ErrorActionPreference = 'SilentlyContinue'; nope; 'went on'"), &["went on"]);
}

#[test]
fn trap_and_throw() {
    prints(&v5("trap { 'trapped: ' + $_.Exception.Message; continue }; throw 'oops'; 'after'"), &["trapped: oops", "after"]);
    let r = v5("'a'; throw 'x'; 'b'");
    assert_eq!((r.lines(), r.code), (vec!["a"], 1));
    assert!(r.err.starts_with("x\r\nAt line:1 char:6"), "{}", r.err);
    let r = v5("trap { 'handled'; break }; throw 'y'; 'after'");
    assert_eq!(r.lines(), ["handled"]);
    assert_eq!(r.code, 1);
}

/// `$?`: false after a failed command, true after a successful one; a
/// function's or script block's inner errors do not make the caller's `$?`
/// false (PowerShell/PowerShell#3629).
#[test]
fn dollar_question() {
    prints(&v5("nope 2>$null; $?; 'x' | Out-Null; $?; Write-Error e 2>$null; $?"), &["False", "True", "False"]);
    prints(&v5("function f { Write-Error e 2>$null }; f; $?; & { nope 2>$null }; $?"), &["True", "True"]);
}

/// `$LASTEXITCODE` and `$?` after a native program.
#[test]
fn native_exit_codes() {
    prints(&v5("cmd /c exit 3; $?; $LASTEXITCODE; hostname; $?; $LASTEXITCODE"), &["False", "3", "WS-001", "True", "0"]);
}

#[test]
fn call_operator_and_script_blocks() {
    prints(&v5("$sb = { param($a, $b) $a + $b }; & $sb 2 3; $sb.Invoke(4, 5); & 'Write-Output' hi; & { $args.Count } 1 2"), &["5", "9", "hi", "2"]);
}

/// `$input` holds a function's pipeline input; `$_` the current object.
#[test]
fn pipelines() {
    prints(&v5("function f { @($input).Count }; 1,2,3 | f"), &["3"]);
    prints(&v5("function p { process { $_ * 2 } }; 1,2 | p"), &["2", "4"]);
    prints(&v5("1..5 | Where-Object { $_ % 2 } | ForEach-Object { $_ * 10 }"), &["10", "30", "50"]);
    prints(&v5("1..10 | Select-Object -First 3; $sum = 0; 1..4 | ForEach-Object { $sum += $_ }; $sum"), &["1", "2", "3", "10"]);
    prints(&v5("1 | Out-Null; [void](2); $null = 3; 'a','b','c' | Select-Object -Last 1; 3,1,2 | Sort-Object"), &["c", "1", "2", "3"]);
    prints(&v5("(1..4 | Measure-Object -Sum).Sum; @(1,2,2,3 | Select-Object -Unique).Count"), &["10", "3"]);
}

/// A `[void]` cast writes nothing, not `$null`: a function that fills a
/// list with `[void]$l.Add(..)` and ends with `return ,$l` outputs the list
/// alone, so the caller gets the ArrayList itself (Windows:
/// `function R { $l = New-Object Collections.ArrayList; [void]$l.Add(1);
/// return ,$l }; (R).GetType().Name` is `ArrayList`, and
/// `@([void]1).Count` is 0).
#[test]
fn void_cast_writes_nothing() {
    prints(
        &v5("function R { $l = New-Object System.Collections.ArrayList; [void]$l.Add(@{a=1}); return ,$l }; $i = R; $i.GetType().Name; @([void]1).Count"),
        &["ArrayList", "0"],
    );
    // A void method writes nothing either; a method returning null writes
    // `$null` (Windows: `function F { $l = New-Object Collections.ArrayList;
    // $l.Clear(); $h = @{}; $h.Remove('x'); $l.AddRange(@(1)) }; @(F).Count`
    // is 0; `@([Environment]::GetEnvironmentVariable('NOPE')).Count` is 1).
    prints(
        &v5("function F { $l = New-Object System.Collections.ArrayList; $l.Clear(); $h = @{}; $h.Remove('x'); $l.AddRange(@(1)); [GC]::Collect() }; @(F).Count; @([Environment]::GetEnvironmentVariable('NOPE_NOT_SET')).Count"),
        &["0", "1"],
    );
}

/// Streaming: each object goes through the whole pipeline before the next.
#[test]
fn pipeline_streams_object_by_object() {
    prints(&v5("1..2 | ForEach-Object { Write-Host \"a$_\"; $_ } | ForEach-Object { Write-Host \"b$_\" }"), &["a1", "b1", "a2", "b2"]);
}

#[test]
fn parameter_binding_errors() {
    let r = v5("function f([int]$n) { $n }; f abc");
    assert!(
        r.flat().contains("Cannot process argument transformation on parameter 'n'. Cannot convert value \"abc\" to type \"System.Int32\". Error: \"Input string was not in a correct format.\""),
        "{}",
        r.err
    );
    let r = v5("Write-Output -Bogus 1");
    assert!(r.flat().contains("A parameter cannot be found that matches parameter name 'Bogus'."), "{}", r.err);
    prints(&v5("function g($first, [switch]$flag, $second) { \"$first $flag $second\" }; g 1 2 -fl; g -s 3 -fi 4"), &["1 True 2", "4 False 3"]);
}

#[test]
fn strict_mode() {
    let r = v5("Set-StrictMode -Version 2; $undefined");
    assert!(r.flat().contains("The variable '$undefined' cannot be retrieved because it has not been set."), "{}", r.err);
    prints(&v5("Set-StrictMode -Off; $undefined; 'ok'"), &["ok"]);
}

#[test]
fn strings_and_here_strings() {
    prints(&v5("$x = 'v'; @'\n$x `n\n'@"), &["$x `n"]);
    prints(&v5("$x = 'v'; @\"\nval: $x `t|\n\"@"), &["val: v \t|"]);
    prints(&v5("$x = 'v'; \"a $(1+2) b\"; \"`$x\"; \"$x.Length\"; \"$($x.Length)\"; 'it''s'; \"say \"\"hi\"\"\""), &["a 3 b", "$x", "v.Length", "1", "it's", "say \"hi\""]);
}

/// Unknown commands, types, members and arguments fail with the record
/// Windows writes; they never succeed silently.
#[test]
fn unknown_things_fail_as_on_windows() {
    let r = v5("'x'.Nope()");
    assert!(r.flat().contains("Method invocation failed because [System.String] does not contain a method named 'Nope'."), "{}", r.err);
    let r = v5("[Nope.Type]::X");
    assert!(r.flat().contains("Unable to find type [Nope.Type]."), "{}", r.err);
    let r = v2("[Nope.Type]::X");
    assert!(r.flat().contains("Unable to find type [Nope.Type]: make sure that the assembly containing this type is loaded."), "{}", r.err);
    let r = v5("Get-Nothing -Now");
    assert!(r.flat().contains("Get-Nothing : The term 'Get-Nothing' is not recognized"), "{}", r.err);
    let r = v5("New-Object Nope.Nope");
    assert!(r.flat().contains("Cannot find type [Nope.Nope]: verify that the assembly containing this type is loaded."), "{}", r.err);
    let r = v5("New-Object -ComObject Nope.Application");
    assert!(r.flat().contains("80040154 Class not registered"), "{}", r.err);
    let r = v5("$null.Foo()");
    assert!(r.flat().contains("You cannot call a method on a null-valued expression."), "{}", r.err);
    // A property that does not exist is $null (no error) without StrictMode.
    prints(&v5("$null -eq 'x'.Nope"), &["True"]);
}

/// A method's .NET exception, as Windows PowerShell 5.1 writes it.
#[test]
fn method_exception_record() {
    let r = v5("[int]::Parse('x')");
    let err = r.err.replace("\r\n", "\n");
    assert!(err.starts_with("Exception calling \"Parse\" with \"1\" argument(s): \"Input string was not in a correct format.\"\nAt line:1 char:1\n+ [int]::Parse('x')\n+ ~~~~~~~~~~~~~~~~~\n"), "{err}");
    assert!(err.contains("    + CategoryInfo          : NotSpecified: (:) [], MethodInvocationException\n"), "{err}");
    assert!(err.contains("    + FullyQualifiedErrorId : FormatException\n"), "{err}");
    assert_eq!(r.code, 1);
}

/// The script's exit code: `exit N`, else 1 when its last statement
/// failed (powershell.exe reads `$?` after -Command), else 0.
#[test]
fn exit_codes() {
    assert_eq!(v5("'a'; exit 7").code, 7);
    assert_eq!(v5("nope").code, 1);
    assert_eq!(v5("nope; 'fine'").code, 0);
    assert_eq!(v5("Write-Error x").code, 1);
}
