//! Numbers as .NET prints them, and the `-f` operator
//! (`String.Format`): `double.ToString()` (15 significant digits on .NET
//! Framework, the shortest round-trip form on .NET Core), the standard
//! numeric formats (`x2`, `D3`, `N2`, `F1`, `P0`, `E`), simple custom
//! formats (`0.00`, `#,##0`), and composite format items
//! `{index[,alignment][:format]}`.

use super::dates;
use super::object::Ctx;
use super::value::Value;

/// `double.ToString()`: `core` selects .NET Core's shortest round-trip
/// digits; otherwise .NET Framework's 15 significant digits.
pub fn double(d: f64, core: bool) -> String {
    if d.is_nan() {
        return "NaN".into();
    }
    if d.is_infinite() {
        return if d > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    if d == 0.0 {
        return if core && d.is_sign_negative() { "-0".into() } else { "0".into() };
    }
    let sci = if core { format!("{d:e}") } else { format!("{:.14e}", d) };
    let (mant, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let neg = mant.starts_with('-');
    let digits: String = mant.chars().filter(|c| c.is_ascii_digit()).collect();
    let digits = digits.trim_end_matches('0');
    let digits = if digits.is_empty() { "0" } else { digits };
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    if exp >= 15 || exp < -5 {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('E');
        out.push(if exp < 0 { '-' } else { '+' });
        out.push_str(&format!("{:02}", exp.abs()));
    } else if exp < 0 {
        out.push_str("0.");
        for _ in 0..(-exp - 1) {
            out.push('0');
        }
        out.push_str(digits);
    } else {
        let int_len = exp as usize + 1;
        if digits.len() <= int_len {
            out.push_str(digits);
            for _ in digits.len()..int_len {
                out.push('0');
            }
        } else {
            out.push_str(&digits[..int_len]);
            out.push('.');
            out.push_str(&digits[int_len..]);
        }
    }
    out
}

/// Group the integer digits of a plain number with commas.
fn group(int_digits: &str) -> String {
    let mut out = String::new();
    let n = int_digits.len();
    for (i, c) in int_digits.chars().enumerate() {
        if i > 0 && (n - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Fixed-point text of `v` with `decimals` places (half away from zero,
/// as .NET formats).
fn fixed(v: f64, decimals: usize) -> String {
    let scale = 10f64.powi(decimals as i32);
    let r = (v.abs() * scale).round() / scale;
    let s = format!("{:.*}", decimals, r);
    if v < 0.0 && r != 0.0 { format!("-{s}") } else { s }
}

/// An integer or double formatted with a standard or custom numeric
/// format string; `None` when the format does not apply.
pub fn number(v: &Value, fmt: &str, core: bool) -> Option<String> {
    let (int, float): (Option<i128>, f64) = match v {
        Value::Int(n) => (Some(i128::from(*n)), f64::from(*n)),
        Value::Long(n) => (Some(i128::from(*n)), *n as f64),
        Value::Byte(n) => (Some(i128::from(*n)), f64::from(*n)),
        Value::UInt32(n) => (Some(i128::from(*n)), f64::from(*n)),
        Value::UInt64(n) => (Some(i128::from(*n)), *n as f64),
        Value::Double(d) => (None, *d),
        Value::Enum(_, n) => (Some(i128::from(*n)), *n as f64),
        _ => return None,
    };
    if fmt.is_empty() {
        return Some(match int {
            Some(i) => i.to_string(),
            None => double(float, core),
        });
    }
    let mut chars = fmt.chars();
    let spec = chars.next()?;
    let rest: String = chars.collect();
    let precision: Option<usize> = if rest.is_empty() {
        None
    } else if rest.chars().all(|c| c.is_ascii_digit()) {
        rest.parse().ok()
    } else {
        return Some(custom(float, fmt));
    };
    Some(match spec {
        'x' | 'X' => {
            let i = int?;
            let bits = match v {
                Value::Int(n) => u64::from(*n as u32),
                Value::Byte(n) => u64::from(*n),
                _ => i as u64,
            };
            let s = if spec == 'x' { format!("{bits:x}") } else { format!("{bits:X}") };
            format!("{:0>width$}", s, width = precision.unwrap_or(0))
        }
        'd' | 'D' => {
            let i = int?;
            let digits = format!("{:0>width$}", i.unsigned_abs(), width = precision.unwrap_or(0));
            if i < 0 { format!("-{digits}") } else { digits }
        }
        'n' | 'N' => {
            let s = fixed(float, precision.unwrap_or(2));
            let (neg, body) = match s.strip_prefix('-') {
                Some(b) => (true, b),
                None => (false, s.as_str()),
            };
            let (ip, fp) = body.split_once('.').map_or((body, None), |(a, b)| (a, Some(b)));
            let mut out = String::new();
            if neg {
                out.push('-');
            }
            out.push_str(&group(ip));
            if let Some(f) = fp {
                out.push('.');
                out.push_str(f);
            }
            out
        }
        'f' | 'F' => fixed(float, precision.unwrap_or(2)),
        'p' | 'P' => format!("{} %", fixed(float * 100.0, precision.unwrap_or(2))),
        'e' | 'E' => {
            let p = precision.unwrap_or(6);
            let s = format!("{:.*e}", p, float);
            let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
            let e: i32 = e.parse().unwrap_or(0);
            format!("{m}{}{}{:03}", if spec == 'e' { 'e' } else { 'E' }, if e < 0 { '-' } else { '+' }, e.abs())
        }
        'g' | 'G' | 'r' | 'R' => match int {
            Some(i) => i.to_string(),
            None => double(float, core),
        },
        _ => custom(float, fmt),
    })
}

/// Custom numeric formats: `0`, `#`, `.`, `,` (grouping), literals.
fn custom(v: f64, fmt: &str) -> String {
    let (int_fmt, frac_fmt) = fmt.split_once('.').map_or((fmt, ""), |(a, b)| (a, b));
    let frac_zeros = frac_fmt.chars().filter(|c| *c == '0').count();
    let frac_hashes = frac_fmt.chars().filter(|c| *c == '#').count();
    let grouping = int_fmt.contains(',');
    let min_int = int_fmt.chars().filter(|c| *c == '0').count();
    let s = fixed(v, frac_zeros + frac_hashes);
    let (neg, body) = match s.strip_prefix('-') {
        Some(b) => (true, b.to_string()),
        None => (false, s.clone()),
    };
    let (ip, fp) = body.split_once('.').map_or((body.as_str(), ""), |(a, b)| (a, b));
    let mut ip = ip.trim_start_matches('0').to_string();
    while ip.len() < min_int {
        ip.insert(0, '0');
    }
    let mut fp = fp.to_string();
    while fp.len() > frac_zeros && fp.ends_with('0') {
        fp.pop();
    }
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    let prefix: String = int_fmt.chars().take_while(|c| !matches!(c, '0' | '#' | ',')).collect();
    out.push_str(&prefix);
    out.push_str(&if grouping { group(&ip) } else { ip });
    if !fp.is_empty() {
        out.push('.');
        out.push_str(&fp);
    }
    let suffix: String = frac_fmt.chars().skip_while(|c| matches!(c, '0' | '#')).collect();
    out.push_str(&suffix);
    out
}

/// How `ToString()` (not PowerShell's conversion) shows a value inside
/// `-f` and string methods: en-US culture.
pub fn dotnet_text(v: &Value, fmt: &str, cx: &mut Ctx<'_>) -> String {
    if let Some(s) = number(v, fmt, cx.version.dotnet_core()) {
        return s;
    }
    match v {
        Value::DateTime(d) => dates::format(*d, fmt),
        Value::TimeSpan(t) => dates::timespan(*t),
        Value::Array(_) => "System.Object[]".into(),
        Value::Bytes(_) => "System.Byte[]".into(),
        other => super::convert::to_string(other, cx),
    }
}

/// Why `-f` failed.
#[derive(Debug, PartialEq, Eq)]
pub enum FormatError {
    /// "Input string was not in a correct format."
    BadFormat,
    /// "Index (zero based) must be greater than or equal to zero and less
    /// than the size of the argument list."
    BadIndex,
}

/// `String.Format(fmt, args)`.
pub fn composite(fmt: &str, args: &[Value], cx: &mut Ctx<'_>) -> Result<String, FormatError> {
    let chars: Vec<char> = fmt.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '{' {
            if chars.get(i + 1) == Some(&'{') {
                out.push('{');
                i += 2;
                continue;
            }
            let close = chars[i..].iter().position(|&x| x == '}').ok_or(FormatError::BadFormat)? + i;
            let item: String = chars[i + 1..close].iter().collect();
            let (head, spec) = item.split_once(':').map_or((item.as_str(), ""), |(a, b)| (a, b));
            let (idx, align) = head.split_once(',').map_or((head, None), |(a, b)| (a, Some(b.trim())));
            let idx: usize = idx.trim().parse().map_err(|_| FormatError::BadFormat)?;
            let align: i32 = match align {
                Some(a) => a.parse().map_err(|_| FormatError::BadFormat)?,
                None => 0,
            };
            let arg = args.get(idx).ok_or(FormatError::BadIndex)?;
            let text = dotnet_text(arg, spec, cx);
            let width = align.unsigned_abs() as usize;
            let len = text.chars().count();
            if len < width {
                let pad = " ".repeat(width - len);
                if align < 0 {
                    out.push_str(&text);
                    out.push_str(&pad);
                } else {
                    out.push_str(&pad);
                    out.push_str(&text);
                }
            } else {
                out.push_str(&text);
            }
            i = close + 1;
        } else if c == '}' {
            if chars.get(i + 1) == Some(&'}') {
                out.push('}');
                i += 2;
                continue;
            }
            return Err(FormatError::BadFormat);
        } else {
            out.push(c);
            i += 1;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_as_dotnet_framework_and_core_print_them() {
        // .NET Framework (Windows PowerShell): 15 significant digits.
        assert_eq!(double(0.1 + 0.2, false), "0.3");
        assert_eq!(double(1.0 / 3.0, false), "0.333333333333333");
        // .NET Core (PowerShell 7): shortest round-trip.
        assert_eq!(double(0.1 + 0.2, true), "0.30000000000000004");
        assert_eq!(double(1.5, false), "1.5");
        assert_eq!(double(2.0, false), "2");
        assert_eq!(double(1e20, false), "1E+20");
        assert_eq!(double(1e14, false), "100000000000000");
        assert_eq!(double(1.5e-7, false), "1.5E-07");
        assert_eq!(double(0.0001, false), "0.0001");
        assert_eq!(double(-2.5, false), "-2.5");
    }

    #[test]
    fn standard_numeric_formats() {
        assert_eq!(number(&Value::Int(255), "x2", false).as_deref(), Some("ff"));
        assert_eq!(number(&Value::Byte(10), "x2", false).as_deref(), Some("0a"));
        assert_eq!(number(&Value::Int(-1), "X", false).as_deref(), Some("FFFFFFFF"));
        assert_eq!(number(&Value::Int(7), "D3", false).as_deref(), Some("007"));
        assert_eq!(number(&Value::Double(1234.5), "N2", false).as_deref(), Some("1,234.50"));
        assert_eq!(number(&Value::Int(1234567), "N0", false).as_deref(), Some("1,234,567"));
        assert_eq!(number(&Value::Double(2.345), "F1", false).as_deref(), Some("2.3"));
        assert_eq!(number(&Value::Double(0.5), "P0", false).as_deref(), Some("50 %"));
        assert_eq!(number(&Value::Double(3.14159), "0.00", false).as_deref(), Some("3.14"));
        assert_eq!(number(&Value::Int(1234567), "#,##0", false).as_deref(), Some("1,234,567"));
    }
}
