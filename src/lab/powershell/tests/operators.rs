//! Operators (about_Operators, about_Comparison_Operators, about_Split,
//! about_Join, about_Arithmetic_Operators, about_Assignment_Operators).

use super::{prints, v5};

#[test]
fn format_operator() {
    prints(&v5("'{0:N2}|{1,-5}|{2:x4}|{1,3}' -f 1234.5, 'ab', 255"), &["1,234.50|ab   |00ff| ab"]);
    prints(&v5("'{0}-{0}' -f 'x'; '{{{0}}}' -f 1"), &["x-x", "{1}"]);
    let r = v5("'{1}' -f 'only'");
    assert!(r.flat().contains("Error formatting a string"), "{}", r.err);
}

/// `-split` takes a regular expression; unary `-split` splits on white
/// space and drops empty pieces (about_Split).
#[test]
fn split() {
    prints(&v5("('a,b,,c' -split ',').Count; (-split ' a  b ').Count; 'a1b2c' -split '\\d'; 'a,b,c' -split ',', 2"), &["4", "2", "a", "b", "c", "a", "b,c"]);
    prints(&v5("('A.b' -split '\\.')[1]; 'aXbxc' -split 'x'; 'aXbxc' -csplit 'x'"), &["b", "a", "b", "c", "aXb", "c"]);
}

#[test]
fn join() {
    prints(&v5("1,2,3 -join '-'; -join ('a','b'); (,'x') -join ','"), &["1-2-3", "ab", "x"]);
}

#[test]
fn replace_and_match() {
    prints(
        &v5("'Hello World' -replace 'o', '0'; 'ABC' -replace 'b', 'x'; 'ABC' -creplace 'b', 'x'; 'John Smith' -replace '(\\w+) (\\w+)', '$2, $1'"),
        &["Hell0 W0rld", "AxC", "ABC", "Smith, John"],
    );
    prints(&v5("'abc123' -match '\\d+'; $Matches[0]; 'ABC' -cmatch 'abc'; 'x=1' -match '(?<k>\\w)=(?<v>\\d)'; $Matches.k + $Matches['v']"), &["True", "123", "False", "True", "x1"]);
}

#[test]
fn like_and_contains() {
    prints(&v5("'Report.TXT' -like '*.txt'; 'Report.TXT' -clike '*.txt'; 'abc' -notlike 'a?d'"), &["True", "False", "True"]);
    prints(&v5("1,2,3 -contains 2; 'a','b' -contains 'A'; 'a','b' -ccontains 'A'; 'x' -contains 'x'"), &["True", "True", "False", "True"]);
}

/// A collection on the left of a comparison filters it.
#[test]
fn comparisons_filter_arrays() {
    prints(&v5("1,2,3,2 -eq 2; 1,5,10 -gt 4; @('a','B') -eq 'b'; (@(1,2) -eq 3).Count"), &["2", "2", "5", "10", "B", "0"]);
    // `$null -eq $list` is the safe way: with the list on the left it filters.
    prints(&v5("$list = @(1,$null,2); ($list -eq $null).Count; $null -eq $list"), &["1", "False"]);
}

/// Comparisons ignore case unless `-c`; the right operand converts to the
/// left one's type.
#[test]
fn case_and_conversion_in_comparisons() {
    prints(&v5("'abc' -eq 'ABC'; 'abc' -ceq 'ABC'; 'Пётр' -eq 'ПЁТР'; 1 -eq '1.0'; '1.0' -eq 1; 10 -lt '9'; '10' -lt 9"), &["True", "False", "True", "True", "False", "False", "True"]);
}

#[test]
fn hashtable_keys_ignore_case() {
    prints(&v5("$h = @{Key = 1}; $h['KEY']; $h.key; $h.ContainsKey('kEy'); $h.Count; $h['key'] = 2; $h.Count; $h.Key"), &["1", "1", "True", "1", "1", "2"]);
    let r = v5("@{a = 1; A = 2}");
    assert!(r.flat().contains("Duplicate keys 'A' are not allowed in hash literals."), "{}", r.err);
}

#[test]
fn ranges_and_assignment_operators() {
    prints(&v5("1..3; 3..1"), &["1", "2", "3", "3", "2", "1"]);
    prints(&v5("$a = @(); $a += 1; $a += 2,3; $a.Count; $n = 1; $n += 2; $n; $s = 'a'; $s += 'b'; $s; $n *= 3; $n; $n -= 1; $n"), &["3", "3", "ab", "9", "8"]);
    prints(&v5("$i = 0; $i++; ++$i; $i; $i--; $i"), &["2", "1"]);
}

/// Integer division gives a double when it does not divide; Int32
/// overflow widens (to Double, as PowerShell's arithmetic does).
#[test]
fn arithmetic_widening() {
    prints(&v5("7 / 2; (6 / 2).GetType().Name; ([int]::MaxValue + 1).GetType().Name; [int]::MaxValue + 1; 7 % 3; -7 % 3"), &["3.5", "Int32", "Double", "2147483648", "1", "-1"]);
    let r = v5("1 / 0");
    assert!(r.flat().contains("Attempted to divide by zero."), "{}", r.err);
}

#[test]
fn bitwise_and_logical() {
    prints(&v5("5 -band 3; 5 -bor 2; 5 -bxor 1; -bnot 0; -not $false; !1; $true -and $false; $false -or 1; $true -xor $true"), &["1", "7", "4", "-1", "True", "False", "False", "True", "False"]);
}

/// `+` on arrays and hashtables builds new ones.
#[test]
fn addition_of_collections() {
    prints(&v5("$a = 1,2; $b = $a + 3; $a.Count; $b.Count; $h = @{a=1} + @{b=2}; $h.Count"), &["2", "3", "2"]);
}
