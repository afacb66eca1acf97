//! Conversions: casts, `-as`, strings and numbers, parameters.
//! (about_Type_Conversion; LanguagePrimitives.ConvertTo.)

use super::{prints, v5};

/// `[int]` rounds half to even, as .NET's Convert.ToInt32 does.
#[test]
fn int_cast_rounds_half_to_even() {
    prints(&v5("[int]2.5; [int]3.5; [int]-2.5; [int]'2.5'; [int]2.6"), &["2", "4", "-2", "2", "3"]);
    prints(&v5("[long]1.5; [byte]254.5"), &["2", "254"]);
}

/// Strings read as numbers when they are numbers (white space trimmed, hex
/// and exponents accepted); `+` follows the left operand's type.
#[test]
fn strings_and_numbers() {
    prints(
        &v5("[int]' 42 '; [int]'0x1F'; [double]'1e3'; '10' + 5; 10 + '5'; '3' * 2; 10 - '4'; [int]''"),
        &["42", "31", "1000", "105", "15", "33", "6", "0"],
    );
    let r = v5("[int]'abc'");
    assert!(r.flat().contains("Cannot convert value \"abc\" to type \"System.Int32\". Error: \"Input string was not in a correct format.\""), "{}", r.err);
}

/// `$null` given to a `[string]` parameter is `""`; an unbound typed
/// parameter holds its type's default.
#[test]
fn null_to_a_string_parameter_is_empty() {
    prints(
        &v5("function f([string]$s, [int]$n, [switch]$w) { $null -eq $s; $s.Length; $n; [bool]$w }; f $null; f"),
        &["False", "0", "0", "False", "False", "0", "0", "False"],
    );
    // A typed parameter keeps converting what is assigned to it.
    prints(&v5("function g([string]$s) { $s = 5; $s.GetType().Name }; g"), &["String"]);
}

/// `[char]` is a UTF-16 unit: arithmetic gives numbers.
#[test]
fn char_arithmetic() {
    prints(&v5("[char]'a' + 1; [char]([int][char]'a' + 1); [int][char]'A'; [char]65"), &["98", "b", "65", "A"]);
}

/// Casts to the types scripts use.
#[test]
fn casts() {
    prints(
        &v5(concat!(
            "([string[]]@(1,2))[0].GetType().Name; ([byte[]]@(1,2,255)) -is [byte[]]; [long]'5' -is [long]; ",
            "[uint32]'4294967295'; ([DateTime]'2024-03-04T09:00:00Z').ToString('o'); ([type]'int').FullName; ",
            "'5' -as [int]; ('x' -as [int]) -eq $null; [string]$null -eq ''; [Microsoft.Win32.RegistryValueKind]'DWord' -eq 4"
        )),
        &["String", "True", "True", "4294967295", "2024-03-04T09:00:00.0000000Z", "System.Int32", "5", "True", "True", "True"],
    );
    let r = v5("[byte[]]@(256)");
    assert!(r.flat().contains("Cannot convert value \"256\" to type \"System.Byte\""), "{}", r.err);
}

/// An array as a string joins its elements with spaces (`$OFS`).
#[test]
fn array_to_string_joins_with_spaces() {
    prints(&v5("[string]@(1,2,3); \"$(@('a','b'))\"; \"x: $(1,2)\""), &["1 2 3", "a b", "x: 1 2"]);
}

/// Truth: empty strings, 0, `$null`, empty arrays are false; a
/// one-element array is its element's truth; "False" is a true string.
#[test]
fn truth() {
    prints(
        &v5("[bool]'False'; [bool]0; [bool]@(); [bool]@(0); [bool]@(0,0); [bool]''; [bool]' '"),
        &["True", "False", "False", "False", "True", "False", "True"],
    );
}

/// `-as` returns `$null` instead of failing; `-is` tests the real type.
#[test]
fn is_and_as() {
    prints(&v5("1 -is [int]; '1' -is [int]; @(1) -is [array]; $null -is [object]; 1 -isnot [string]"), &["True", "False", "True", "False", "True"]);
}
