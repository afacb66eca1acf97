//! Text and bytes: `System.Text.Encoding` (UTF8, Unicode, ASCII, Default;
//! `New-Object System.Text.UTF8Encoding $false`), `StringBuilder`,
//! `Convert` (Base64 and number bases), `BitConverter`, `Math`.
//!
//! Encodings follow .NET: UTF-8 and UTF-16 replace an unpaired surrogate
//! with U+FFFD when encoding and decoding (their default replacement
//! fallback), so `Encoding.Unicode` does NOT round-trip such a name; ASCII
//! replaces what it cannot encode with `?`.

use std::borrow::Cow;
use std::cell::RefCell;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::args::Args;
use crate::lab::powershell::convert;
use crate::lab::powershell::format;
use crate::lab::powershell::object::{Ctx, NetError, NetObject, NetResult, NetType, Registry, is, this};
use crate::lab::powershell::value::Value;
use crate::lab::world::utf16;

// ---- encodings ----

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    /// `strict`: `new UTF8Encoding(bom, throwOnInvalidBytes: true)`, which
    /// throws where the default replaces.
    Utf8 { bom: bool, strict: bool },
    Utf16 { big_endian: bool, bom: bool },
    Ascii,
    /// Windows-1252 (`Encoding.Default` on an en-US Windows PowerShell).
    Ansi,
}

/// An encoding object.
#[derive(Debug, Clone, Copy)]
pub struct Encoding(pub Codec);

impl Codec {
    /// Encode a lab string (unpaired surrogates become U+FFFD / `?`).
    pub fn encode(self, s: &str) -> Vec<u8> {
        match self {
            Codec::Utf8 { .. } => utf16::to_utf8_lossy(s).as_bytes().to_vec(),
            Codec::Utf16 { big_endian, .. } => {
                let clean = utf16::to_utf8_lossy(s);
                let mut out = Vec::with_capacity(clean.len() * 2);
                for u in clean.encode_utf16() {
                    out.extend_from_slice(&if big_endian { u.to_be_bytes() } else { u.to_le_bytes() });
                }
                out
            }
            Codec::Ascii => s.chars().map(|c| if c.is_ascii() { c as u8 } else { b'?' }).collect(),
            Codec::Ansi => s.chars().map(|c| ansi_byte(c).unwrap_or(b'?')).collect(),
        }
    }

    /// Decode bytes (invalid sequences become U+FFFD / `?`).
    pub fn decode(self, b: &[u8]) -> String {
        match self {
            Codec::Utf8 { .. } => String::from_utf8_lossy(b).into_owned(),
            Codec::Utf16 { big_endian, .. } => {
                let units: Vec<u16> = b.chunks_exact(2).map(|c| if big_endian { u16::from_be_bytes([c[0], c[1]]) } else { u16::from_le_bytes([c[0], c[1]]) }).collect();
                let mut s = String::from_utf16_lossy(&units);
                if b.len() % 2 == 1 {
                    s.push('\u{FFFD}');
                }
                s
            }
            Codec::Ascii => b.iter().map(|&x| if x < 0x80 { x as char } else { '?' }).collect(),
            Codec::Ansi => b.iter().map(|&x| ansi_char(x)).collect(),
        }
    }

    /// Encode as `GetBytes` does: a strict UTF-8 encoding throws
    /// .NET's EncoderFallbackException at an unpaired surrogate.
    pub fn encode_checked(self, s: &str) -> NetResult<Vec<u8>> {
        if let Codec::Utf8 { strict: true, .. } = self {
            let mut index = 0;
            for c in s.chars() {
                if let Some(unit) = utf16::lone_surrogate(c) {
                    return Err(NetError::exception(
                        "System.Text.EncoderFallbackException",
                        format!("Unable to translate Unicode character \\u{unit:04X} at index {index} to specified code page."),
                    ));
                }
                index += utf16::char_len(c);
            }
        }
        Ok(self.encode(s))
    }

    /// Decode as `GetString` does: a strict UTF-8 encoding throws .NET's
    /// DecoderFallbackException at the first invalid byte.
    pub fn decode_checked(self, b: &[u8]) -> NetResult<String> {
        if let Codec::Utf8 { strict: true, .. } = self
            && let Err(e) = std::str::from_utf8(b)
        {
            let at = e.valid_up_to();
            let bad = &b[at..at + e.error_len().unwrap_or(b.len() - at)];
            let shown: Vec<String> = bad.iter().map(|x| format!("[{x:02X}]")).collect();
            return Err(NetError::exception(
                "System.Text.DecoderFallbackException",
                format!("Unable to translate bytes {} at index {at} from specified code page to Unicode.", shown.concat()),
            ));
        }
        Ok(self.decode(b))
    }

    fn preamble(self) -> Vec<u8> {
        match self {
            Codec::Utf8 { bom: true, .. } => vec![0xEF, 0xBB, 0xBF],
            Codec::Utf16 { big_endian: false, bom: true } => vec![0xFF, 0xFE],
            Codec::Utf16 { big_endian: true, bom: true } => vec![0xFE, 0xFF],
            _ => Vec::new(),
        }
    }

    fn names(self) -> (&'static str, &'static str, i32) {
        match self {
            Codec::Utf8 { .. } => ("Unicode (UTF-8)", "utf-8", 65001),
            Codec::Utf16 { big_endian: false, .. } => ("Unicode", "utf-16", 1200),
            Codec::Utf16 { big_endian: true, .. } => ("Unicode (Big-Endian)", "utf-16BE", 1201),
            Codec::Ascii => ("US-ASCII", "us-ascii", 20127),
            Codec::Ansi => ("Western European (Windows)", "Windows-1252", 1252),
        }
    }
}

/// Windows-1252's bytes 0x80-0x9F.
const CP1252_HIGH: [char; 32] = [
    '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8D}', 'Ž', '\u{8F}', '\u{90}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9D}', 'ž',
    'Ÿ',
];

fn ansi_char(b: u8) -> char {
    if (0x80..0xA0).contains(&b) { CP1252_HIGH[usize::from(b - 0x80)] } else { char::from(b) }
}

fn ansi_byte(c: char) -> Option<u8> {
    if (c as u32) < 0x80 || ((c as u32) >= 0xA0 && (c as u32) < 0x100) {
        return Some(c as u32 as u8);
    }
    CP1252_HIGH.iter().position(|&x| x == c).map(|i| 0x80 + i as u8)
}

impl NetObject for Encoding {
    fn type_name(&self) -> Cow<'static, str> {
        match self.0 {
            Codec::Utf8 { .. } => "System.Text.UTF8Encoding",
            Codec::Utf16 { .. } => "System.Text.UnicodeEncoding",
            Codec::Ascii => "System.Text.ASCIIEncoding",
            Codec::Ansi => "System.Text.SBCSCodePageEncoding",
        }
        .into()
    }
    fn base_types(&self) -> &'static [&'static str] {
        &["System.Text.Encoding"]
    }
    fn get(&self, _: &mut Ctx<'_>, name: &str) -> Option<NetResult<Value>> {
        let (display, web, cp) = self.0.names();
        Some(Ok(if is(name, "EncodingName") {
            Value::str(display)
        } else if is(name, "WebName") || is(name, "BodyName") || is(name, "HeaderName") {
            Value::str(web)
        } else if is(name, "CodePage") || is(name, "WindowsCodePage") {
            Value::Int(cp)
        } else if is(name, "IsSingleByte") {
            Value::Bool(matches!(self.0, Codec::Ascii | Codec::Ansi))
        } else {
            return None;
        }))
    }
    fn call(&self, cx: &mut Ctx<'_>, name: &str, args: &[Value]) -> Option<NetResult<Value>> {
        let a = Args::new(args);
        let r = (|| -> NetResult<Option<Value>> {
            Ok(Some(if is(name, "GetBytes") {
                let text = match a.value(0) {
                    Value::Null => return Err(NetError::exception("System.ArgumentNullException", "String reference not set to an instance of a String.\r\nParameter name: s")),
                    v if v.is_collection() => {
                        let units: Vec<u16> = v.enumerate(cx).unwrap_or_default().iter().map(|c| convert::to_char(c, cx).unwrap_or(0)).collect();
                        utf16::from_units(&units)
                    }
                    v => convert::to_string(v, cx),
                };
                Value::bytes(self.0.encode_checked(&text)?)
            } else if is(name, "GetByteCount") {
                let text = a.string(0, cx)?;
                Value::Int(self.0.encode_checked(&text)?.len() as i32)
            } else if is(name, "GetString") {
                let bytes = a.bytes(0, cx)?;
                let slice = if args.len() == 3 {
                    let (i, n) = (a.int(1, cx)?.max(0) as usize, a.int(2, cx)?.max(0) as usize);
                    if i + n > bytes.len() {
                        return Err(NetError::exception("System.ArgumentOutOfRangeException", "Index and count must refer to a location within the buffer.\r\nParameter name: bytes"));
                    }
                    bytes[i..i + n].to_vec()
                } else {
                    bytes
                };
                Value::string(self.0.decode_checked(&slice)?)
            } else if is(name, "GetPreamble") {
                Value::bytes(self.0.preamble())
            } else if is(name, "GetCharCount") {
                let bytes = a.bytes(0, cx)?;
                Value::Int(utf16::len(&self.0.decode(&bytes)) as i32)
            } else {
                return Ok(None);
            }))
        })();
        r.transpose()
    }
    fn to_text(&self, _: &mut Ctx<'_>) -> String {
        self.type_name().into_owned()
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

struct EncodingType;

impl NetType for EncodingType {
    fn full_name(&self) -> &str {
        "System.Text.Encoding"
    }
    fn get_static(&self, cx: &mut Ctx<'_>, name: &str) -> Option<NetResult<Value>> {
        let core = cx.version.dotnet_core();
        let c = if is(name, "UTF8") {
            Codec::Utf8 { bom: true, strict: false }
        } else if is(name, "Unicode") {
            Codec::Utf16 { big_endian: false, bom: true }
        } else if is(name, "BigEndianUnicode") {
            Codec::Utf16 { big_endian: true, bom: true }
        } else if is(name, "ASCII") {
            Codec::Ascii
        } else if is(name, "Default") {
            if core { Codec::Utf8 { bom: false, strict: false } } else { Codec::Ansi }
        } else {
            return None;
        };
        Some(Ok(Value::object(Encoding(c))))
    }
    fn call_static(&self, cx: &mut Ctx<'_>, name: &str, args: &[Value]) -> Option<NetResult<Value>> {
        if !is(name, "GetEncoding") {
            return None;
        }
        let a = Args::new(args);
        let key = convert::to_string(a.value(0), cx).to_ascii_lowercase();
        let c = match key.as_str() {
            "utf-8" | "utf8" | "65001" => Codec::Utf8 { bom: true, strict: false },
            "utf-16" | "unicode" | "1200" => Codec::Utf16 { big_endian: false, bom: true },
            "utf-16be" | "unicodefffe" | "1201" => Codec::Utf16 { big_endian: true, bom: true },
            "us-ascii" | "ascii" | "20127" => Codec::Ascii,
            "windows-1252" | "1252" | "iso-8859-1" | "28591" => Codec::Ansi,
            _ => return Some(Err(NetError::argument(format!("'{key}' is not a supported encoding name.")))),
        };
        Some(Ok(Value::object(Encoding(c))))
    }
}

/// `UTF8Encoding`, `UnicodeEncoding`, `ASCIIEncoding` constructors.
struct EncodingCtor(&'static str);

impl NetType for EncodingCtor {
    fn full_name(&self) -> &str {
        self.0
    }
    fn base_types(&self) -> &'static [&'static str] {
        &["System.Text.Encoding"]
    }
    fn construct(&self, _: &mut Ctx<'_>, args: &[Value]) -> Option<NetResult<Value>> {
        let flag = |i: usize| args.get(i).map(Value::is_true_lossy);
        let c = match self.0 {
            "System.Text.UTF8Encoding" => Codec::Utf8 { bom: flag(0).unwrap_or(false), strict: flag(1).unwrap_or(false) },
            "System.Text.UnicodeEncoding" => Codec::Utf16 { big_endian: flag(0).unwrap_or(false), bom: flag(1).unwrap_or(true) },
            _ => Codec::Ascii,
        };
        if args.len() > 3 {
            return Some(Err(NetError::NoOverload { argc: args.len() }));
        }
        Some(Ok(Value::object(Encoding(c))))
    }
}

// ---- StringBuilder ----

#[derive(Debug, Default)]
pub struct StringBuilder {
    text: RefCell<String>,
    /// What `new StringBuilder(capacity)` asked for (P/Invoke buffers are
    /// this big).
    capacity: std::cell::Cell<i32>,
}

impl StringBuilder {
    /// Replace the text (a P/Invoke output buffer).
    pub fn set_text(&self, text: String) {
        *self.text.borrow_mut() = text;
    }
}

struct StringBuilderType;

impl NetType for StringBuilderType {
    fn full_name(&self) -> &str {
        "System.Text.StringBuilder"
    }
    fn construct(&self, cx: &mut Ctx<'_>, args: &[Value]) -> Option<NetResult<Value>> {
        let text = match args.first() {
            Some(Value::Str(s)) => s.to_string(),
            Some(Value::Int(_)) | None => String::new(),
            Some(other) => convert::to_string(other, cx),
        };
        let capacity = match args.first() {
            Some(Value::Int(n)) => (*n).max(16),
            _ => 16,
        };
        Some(Ok(Value::object(StringBuilder { text: RefCell::new(text), capacity: std::cell::Cell::new(capacity) })))
    }
}

impl NetObject for StringBuilder {
    fn type_name(&self) -> Cow<'static, str> {
        "System.Text.StringBuilder".into()
    }
    fn get(&self, _: &mut Ctx<'_>, name: &str) -> Option<NetResult<Value>> {
        if is(name, "Length") {
            return Some(Ok(Value::Int(utf16::len(&self.text.borrow()) as i32)));
        }
        if is(name, "Capacity") || is(name, "MaxCapacity") {
            return Some(Ok(Value::Int(if is(name, "Capacity") { (utf16::len(&self.text.borrow()) as i32).max(self.capacity.get()) } else { i32::MAX })));
        }
        None
    }
    fn set(&self, cx: &mut Ctx<'_>, name: &str, value: Value) -> Option<NetResult<()>> {
        if is(name, "Length") {
            let n = match convert::to_i32(&value, cx) {
                Ok(n) => n.max(0) as usize,
                Err(e) => return Some(Err(NetError::argument(e.exception.message))),
            };
            let mut units = utf16::units(&self.text.borrow());
            units.resize(n, 0);
            *self.text.borrow_mut() = utf16::from_units(&units);
            return Some(Ok(()));
        }
        if is(name, "Capacity") {
            return Some(Ok(()));
        }
        None
    }
    fn call(&self, cx: &mut Ctx<'_>, name: &str, args: &[Value]) -> Option<NetResult<Value>> {
        let a = Args::new(args);
        let r = (|| -> NetResult<Option<Value>> {
            if is(name, "Append") || is(name, "AppendLine") {
                let text = match a.value(0) {
                    Value::Null => String::new(),
                    Value::Char(c) if args.len() == 2 => utf16::from_units(&[*c]).repeat(a.int(1, cx)?.max(0) as usize),
                    v => format::dotnet_text(v, "", cx),
                };
                let mut t = self.text.borrow_mut();
                t.push_str(&text);
                if is(name, "AppendLine") {
                    t.push_str("\r\n");
                }
                return Ok(Some(this()));
            }
            Ok(Some(if is(name, "ToString") {
                let t = self.text.borrow();
                if args.len() == 2 {
                    let units = utf16::units(&t);
                    let (i, n) = (a.int(0, cx)?.max(0) as usize, a.int(1, cx)?.max(0) as usize);
                    if i + n > units.len() {
                        return Err(NetError::exception("System.ArgumentOutOfRangeException", "Index and length must refer to a location within the string.\r\nParameter name: length"));
                    }
                    Value::string(utf16::from_units(&units[i..i + n]))
                } else {
                    Value::string(t.clone())
                }
            } else if is(name, "Clear") {
                self.text.borrow_mut().clear();
                this()
            } else if is(name, "Insert") {
                let i = a.int(0, cx)?.max(0) as usize;
                let s = convert::to_string(a.value(1), cx);
                let mut units = utf16::units(&self.text.borrow());
                if i > units.len() {
                    return Err(NetError::exception("System.ArgumentOutOfRangeException", "Index was out of range. Must be non-negative and less than the size of the collection.\r\nParameter name: index"));
                }
                let ins = utf16::units(&s);
                units.splice(i..i, ins);
                *self.text.borrow_mut() = utf16::from_units(&units);
                this()
            } else if is(name, "Remove") {
                let (i, n) = (a.int(0, cx)?.max(0) as usize, a.int(1, cx)?.max(0) as usize);
                let mut units = utf16::units(&self.text.borrow());
                if i + n > units.len() {
                    return Err(NetError::exception("System.ArgumentOutOfRangeException", "Index was out of range. Must be non-negative and less than the size of the collection.\r\nParameter name: startIndex"));
                }
                units.drain(i..i + n);
                *self.text.borrow_mut() = utf16::from_units(&units);
                this()
            } else if is(name, "Replace") {
                let (x, y) = (a.string(0, cx)?, a.string(1, cx)?);
                let t = self.text.borrow().replace(&x, &y);
                *self.text.borrow_mut() = t;
                this()
            } else if is(name, "EnsureCapacity") {
                Value::Int(a.int(0, cx)?)
            } else {
                return Ok(None);
            }))
        })();
        r.transpose()
    }
    fn to_text(&self, _: &mut Ctx<'_>) -> String {
        self.text.borrow().clone()
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

// ---- Convert ----

fn bad_base64() -> NetError {
    NetError::exception(
        "System.FormatException",
        "The input is not a valid Base-64 string as it contains a non-base 64 character, more than two padding characters, or an illegal character among the padding characters. ",
    )
}

/// `Convert.FromBase64String`: white space ignored, strict otherwise.
pub fn from_base64(s: &str) -> NetResult<Vec<u8>> {
    // Most input is canonical base64 already (no white space, padded):
    // then decoding it is all there is to do, and the checks below could
    // only agree.
    if let Ok(bytes) = STANDARD.decode(s.as_bytes()) {
        return Ok(bytes);
    }
    // One pass over the bytes: white space is dropped (a copy only when
    // there is some), anything outside the alphabet fails (bytes, not
    // chars: a non-ASCII byte is outside it).
    let bytes = s.as_bytes();
    let mut cleaned: Option<Vec<u8>> = None;
    for (i, &b) in bytes.iter().enumerate() {
        match BASE64_CLASS[b as usize] {
            ALPHABET => {
                if let Some(c) = &mut cleaned {
                    c.push(b);
                }
            }
            SPACE => {
                if cleaned.is_none() {
                    let mut c = Vec::with_capacity(bytes.len());
                    c.extend_from_slice(&bytes[..i]);
                    cleaned = Some(c);
                }
            }
            _ => return Err(bad_base64()),
        }
    }
    let clean: &[u8] = cleaned.as_deref().unwrap_or(bytes);
    if clean.len() % 4 != 0 {
        return Err(NetError::exception("System.FormatException", "Invalid length for a Base-64 char array or string."));
    }
    STANDARD.decode(clean).map_err(|_| bad_base64())
}

const OTHER: u8 = 0;
const ALPHABET: u8 = 1;
const SPACE: u8 = 2;

/// Each byte's class for [`from_base64`]: the alphabet (with `=`), white
/// space, or anything else.
static BASE64_CLASS: [u8; 256] = {
    let mut t = [OTHER; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        if c.is_ascii_alphanumeric() || c == b'+' || c == b'/' || c == b'=' {
            t[b] = ALPHABET;
        } else if c == b' ' || c == b'\t' || c == b'\r' || c == b'\n' {
            t[b] = SPACE;
        }
        b += 1;
    }
    t
};

struct ConvertType;

impl NetType for ConvertType {
    fn full_name(&self) -> &str {
        "System.Convert"
    }
    fn call_static(&self, cx: &mut Ctx<'_>, name: &str, args: &[Value]) -> Option<NetResult<Value>> {
        let a = Args::new(args);
        let n = name.to_ascii_lowercase();
        let r = (|| -> NetResult<Option<Value>> {
            Ok(Some(match n.as_str() {
                "tobase64string" => {
                    let b = a.bytes(0, cx)?;
                    let (b, line_breaks) = match args.len() {
                        1 => (b, false),
                        2 => (b, convert::to_string(a.value(1), cx).eq_ignore_ascii_case("InsertLineBreaks")),
                        3 | 4 => {
                            let (i, len) = (a.int(1, cx)?.max(0) as usize, a.int(2, cx)?.max(0) as usize);
                            if i + len > b.len() {
                                return Err(NetError::exception("System.ArgumentOutOfRangeException", "Offset and length must refer to a position in the string."));
                            }
                            (b[i..i + len].to_vec(), false)
                        }
                        n => return Err(NetError::NoOverload { argc: n }),
                    };
                    let text = STANDARD.encode(&b);
                    if line_breaks {
                        let lines: Vec<&str> = text.as_bytes().chunks(76).map(|c| std::str::from_utf8(c).unwrap_or("")).collect();
                        Value::string(lines.join("\r\n"))
                    } else {
                        Value::string(text)
                    }
                }
                "frombase64string" => {
                    let s = match a.value(0) {
                        Value::Null => return Err(NetError::exception("System.ArgumentNullException", "Value cannot be null.\r\nParameter name: s")),
                        v => convert::to_string(v, cx),
                    };
                    Value::bytes(from_base64(&s)?)
                }
                "toint32" | "toint64" | "touint32" | "touint64" | "toint16" | "tobyte" if args.len() == 2 => {
                    let s = a.string(0, cx)?;
                    let base = a.int(1, cx)?;
                    if ![2, 8, 10, 16].contains(&base) {
                        return Err(NetError::argument("Invalid Base.\r\nParameter name: fromBase"));
                    }
                    let t = s.trim();
                    let t = if base == 16 { t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")).unwrap_or(t) } else { t };
                    let v = u64::from_str_radix(t, base as u32).map_err(|_| NetError::exception("System.FormatException", "Could not find any recognizable digits."))?;
                    match n.as_str() {
                        "toint32" => Value::Int(v as u32 as i32),
                        "toint64" => Value::Long(v as i64),
                        "touint32" => Value::UInt32(u32::try_from(v).map_err(|_| NetError::exception("System.OverflowException", "Value was either too large or too small for a UInt32."))?),
                        "touint64" => Value::UInt64(v),
                        "toint16" => Value::Int(i32::from(v as u16 as i16)),
                        _ => Value::Byte(v as u8),
                    }
                }
                "toint32" => Value::Int(convert_number(a.value(0), cx, |v, cx| convert::to_i32(v, cx))?),
                "toint64" => Value::Long(convert_number(a.value(0), cx, |v, cx| convert::to_i64(v, cx))?),
                "touint32" => Value::UInt32(convert_number(a.value(0), cx, |v, cx| convert::to_u32(v, cx))?),
                "touint64" => Value::UInt64(convert_number(a.value(0), cx, |v, cx| convert::to_u64(v, cx))?),
                "tobyte" => Value::Byte(convert_number(a.value(0), cx, |v, cx| convert::to_u8(v, cx))?),
                "todouble" => Value::Double(convert_number(a.value(0), cx, |v, cx| convert::to_f64(v, cx))?),
                "toboolean" => match a.value(0) {
                    Value::Str(s) => match s.trim().to_ascii_lowercase().as_str() {
                        "true" => Value::Bool(true),
                        "false" => Value::Bool(false),
                        _ => return Err(NetError::exception("System.FormatException", "String was not recognized as a valid Boolean.")),
                    },
                    v => Value::Bool(v.is_true_lossy()),
                },
                "tochar" => Value::Char(convert::to_char(a.value(0), cx).map_err(|e| NetError::exception("System.FormatException", e.exception.message))?),
                "tostring" => {
                    if args.len() == 2 && a.value(0).is_numeric() {
                        let v = a.long(0, cx)?;
                        let base = a.int(1, cx)?;
                        Value::string(match base {
                            2 => format!("{:b}", v),
                            8 => format!("{:o}", v),
                            16 => format!("{:x}", v),
                            10 => v.to_string(),
                            _ => return Err(NetError::argument("Invalid Base.\r\nParameter name: toBase")),
                        })
                    } else {
                        Value::string(format::dotnet_text(a.value(0), "", cx))
                    }
                }
                _ => return Ok(None),
            }))
        })();
        r.transpose()
    }
}

/// Convert's number conversions: strings must read as numbers, else
/// FormatException; out of range is OverflowException.
fn convert_number<T>(v: &Value, cx: &mut Ctx<'_>, f: impl Fn(&Value, &mut Ctx<'_>) -> convert::Conv<T>) -> NetResult<T> {
    f(v, cx).map_err(|e| {
        if e.exception.message.contains("too large") {
            NetError::exception("System.OverflowException", "Value was either too large or too small for an Int32.")
        } else {
            NetError::exception("System.FormatException", "Input string was not in a correct format.")
        }
    })
}

// ---- BitConverter ----

struct BitConverterType;

impl NetType for BitConverterType {
    fn full_name(&self) -> &str {
        "System.BitConverter"
    }
    fn get_static(&self, _: &mut Ctx<'_>, name: &str) -> Option<NetResult<Value>> {
        is(name, "IsLittleEndian").then(|| Ok(Value::Bool(true)))
    }
    fn call_static(&self, cx: &mut Ctx<'_>, name: &str, args: &[Value]) -> Option<NetResult<Value>> {
        let a = Args::new(args);
        let n = name.to_ascii_lowercase();
        let r = (|| -> NetResult<Option<Value>> {
            if n == "getbytes" {
                let b = match a.value(0) {
                    Value::Int(x) => x.to_le_bytes().to_vec(),
                    Value::Long(x) => x.to_le_bytes().to_vec(),
                    Value::UInt32(x) => x.to_le_bytes().to_vec(),
                    Value::UInt64(x) => x.to_le_bytes().to_vec(),
                    Value::Double(x) => x.to_le_bytes().to_vec(),
                    Value::Char(x) => x.to_le_bytes().to_vec(),
                    Value::Bool(x) => vec![u8::from(*x)],
                    Value::Byte(x) => i16::from(*x).to_le_bytes().to_vec(),
                    other => convert::to_i32(other, cx).map_err(|e| NetError::argument(e.exception.message))?.to_le_bytes().to_vec(),
                };
                return Ok(Some(Value::bytes(b)));
            }
            let bytes = a.bytes(0, cx)?;
            let start = if args.len() > 1 { a.int(1, cx)?.max(0) as usize } else { 0 };
            let take = |k: usize| -> NetResult<Vec<u8>> {
                bytes.get(start..start + k).map(<[u8]>::to_vec).ok_or_else(|| NetError::argument("Destination array is not long enough to copy all the items in the collection. Check array index and length."))
            };
            Ok(Some(match n.as_str() {
                "touint32" => Value::UInt32(u32::from_le_bytes(take(4)?.try_into().unwrap_or([0; 4]))),
                "toint32" => Value::Int(i32::from_le_bytes(take(4)?.try_into().unwrap_or([0; 4]))),
                "touint64" => Value::UInt64(u64::from_le_bytes(take(8)?.try_into().unwrap_or([0; 8]))),
                "toint64" => Value::Long(i64::from_le_bytes(take(8)?.try_into().unwrap_or([0; 8]))),
                "touint16" => Value::Int(i32::from(u16::from_le_bytes(take(2)?.try_into().unwrap_or([0; 2])))),
                "toint16" => Value::Int(i32::from(i16::from_le_bytes(take(2)?.try_into().unwrap_or([0; 2])))),
                "tochar" => Value::Char(u16::from_le_bytes(take(2)?.try_into().unwrap_or([0; 2]))),
                "todouble" => Value::Double(f64::from_le_bytes(take(8)?.try_into().unwrap_or([0; 8]))),
                "toboolean" => Value::Bool(take(1)?[0] != 0),
                "tostring" => {
                    let len = if args.len() > 2 { a.int(2, cx)?.max(0) as usize } else { bytes.len().saturating_sub(start) };
                    let part = bytes.get(start..start + len).ok_or_else(|| NetError::argument("The value of startIndex is out of range."))?;
                    Value::string(part.iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join("-"))
                }
                _ => return Ok(None),
            }))
        })();
        r.transpose()
    }
}

// ---- Math ----

struct MathType;

impl NetType for MathType {
    fn full_name(&self) -> &str {
        "System.Math"
    }
    fn get_static(&self, _: &mut Ctx<'_>, name: &str) -> Option<NetResult<Value>> {
        if is(name, "PI") {
            Some(Ok(Value::Double(std::f64::consts::PI)))
        } else if is(name, "E") {
            Some(Ok(Value::Double(std::f64::consts::E)))
        } else {
            None
        }
    }
    fn call_static(&self, cx: &mut Ctx<'_>, name: &str, args: &[Value]) -> Option<NetResult<Value>> {
        let a = Args::new(args);
        let n = name.to_ascii_lowercase();
        let ints = args.iter().all(|v| matches!(v, Value::Int(_) | Value::Long(_) | Value::Byte(_) | Value::UInt32(_)));
        let longs = args.iter().any(|v| matches!(v, Value::Long(_) | Value::UInt32(_)));
        let int_out = |v: i64| if longs { Value::Long(v) } else { Value::Int(v as i32) };
        let r = (|| -> NetResult<Option<Value>> {
            Ok(Some(match n.as_str() {
                "min" | "max" => {
                    a.count(&[2])?;
                    if ints {
                        let (x, y) = (a.long(0, cx)?, a.long(1, cx)?);
                        int_out(if n == "min" { x.min(y) } else { x.max(y) })
                    } else {
                        let (x, y) = (a.double(0, cx)?, a.double(1, cx)?);
                        Value::Double(if n == "min" { x.min(y) } else { x.max(y) })
                    }
                }
                "abs" => {
                    if ints {
                        int_out(a.long(0, cx)?.abs())
                    } else {
                        Value::Double(a.double(0, cx)?.abs())
                    }
                }
                "round" => {
                    let x = a.double(0, cx)?;
                    let digits = if args.len() > 1 && a.value(1).is_numeric() { a.int(1, cx)? } else { 0 };
                    let away = args.iter().skip(1).any(|v| convert::to_string(v, cx).eq_ignore_ascii_case("AwayFromZero"));
                    let scale = 10f64.powi(digits);
                    let y = x * scale;
                    let r = if away { y.round() } else { crate::lab::powershell::parser::lex::round_half_even(y) };
                    Value::Double(r / scale)
                }
                "floor" => Value::Double(a.double(0, cx)?.floor()),
                "ceiling" => Value::Double(a.double(0, cx)?.ceil()),
                "truncate" => Value::Double(a.double(0, cx)?.trunc()),
                "pow" => Value::Double(a.double(0, cx)?.powf(a.double(1, cx)?)),
                "sqrt" => Value::Double(a.double(0, cx)?.sqrt()),
                "exp" => Value::Double(a.double(0, cx)?.exp()),
                "log" => {
                    let x = a.double(0, cx)?;
                    Value::Double(if args.len() == 2 { x.log(a.double(1, cx)?) } else { x.ln() })
                }
                "log10" => Value::Double(a.double(0, cx)?.log10()),
                "sign" => Value::Int(a.double(0, cx)?.signum() as i32),
                _ => return Ok(None),
            }))
        })();
        r.transpose()
    }
}

pub fn register(r: &mut Registry) {
    r.add_type(EncodingType);
    r.add_type(EncodingCtor("System.Text.UTF8Encoding"));
    r.add_type(EncodingCtor("System.Text.UnicodeEncoding"));
    r.add_type(EncodingCtor("System.Text.ASCIIEncoding"));
    r.add_type(StringBuilderType);
    r.add_type(ConvertType);
    r.add_type(BitConverterType);
    r.add_type(MathType);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_encoding_replaces_an_unpaired_surrogate_as_dotnet_does() {
        let name = utf16::from_units(&[b'a' as u16, 0xD800]);
        assert_eq!(Codec::Utf16 { big_endian: false, bom: true }.encode(&name), vec![b'a', 0, 0xFD, 0xFF]);
        assert_eq!(Codec::Utf8 { bom: false, strict: false }.encode(&name), vec![b'a', 0xEF, 0xBF, 0xBD]);
        assert_eq!(Codec::Utf16 { big_endian: false, bom: true }.decode(&[0x00, 0xD8]), "\u{FFFD}");
    }

    /// `new UTF8Encoding($false, $true)` throws where the default
    /// replaces (.NET: EncoderFallbackException "Unable to translate
    /// Unicode character \\uD800 at index 1 to specified code page.",
    /// DecoderFallbackException "Unable to translate bytes [FF] at index 1
    /// from specified code page to Unicode.").
    #[test]
    fn strict_utf8_throws_where_the_default_replaces() {
        let name = utf16::from_units(&[b'a' as u16, 0xD800]);
        let strict = Codec::Utf8 { bom: false, strict: true };
        let Err(NetError::Exception(e)) = strict.encode_checked(&name) else { panic!("no exception") };
        assert_eq!(e.type_name, "System.Text.EncoderFallbackException");
        assert_eq!(e.message, "Unable to translate Unicode character \\uD800 at index 1 to specified code page.");
        let Err(NetError::Exception(e)) = strict.decode_checked(&[b'a', 0xFF, b'b']) else { panic!("no exception") };
        assert_eq!(e.message, "Unable to translate bytes [FF] at index 1 from specified code page to Unicode.");
        assert_eq!(strict.encode_checked("Пётр").ok(), Some("Пётр".as_bytes().to_vec()));
        assert_eq!(Codec::Utf8 { bom: false, strict: false }.encode_checked(&name).ok(), Some(vec![b'a', 0xEF, 0xBF, 0xBD]));
    }

    #[test]
    fn base64_is_strict_like_convert() {
        assert_eq!(from_base64("aGk=\r\n").ok(), Some(b"hi".to_vec()));
        assert!(from_base64("aGk").is_err());
        assert!(from_base64("a*k=").is_err());
    }
}
