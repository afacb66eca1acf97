//! Parsing a WS-Management request envelope into what the shell needs.
//!
//! Elements are matched by namespace URI and local name, never by prefix:
//! pywinrm writes `env:`/`a:`/`w:`, winrm-rs `s:`/`wsa:`/`wsman:`, pypsrp
//! yet others. The body is untrusted: DTDs are refused (roxmltree's
//! default), the node count is bounded, and every malformed shape is a
//! [`Fault`], never a panic.

use std::time::Duration;

use base64::Engine as _;
use roxmltree::{Document, Node, ParsingOptions};

use super::duration;
use super::envelope::{
    ACTION_COMMAND, ACTION_CREATE, ACTION_DELETE, ACTION_RECEIVE, ACTION_SEND, ACTION_SIGNAL,
    NS_ADDRESSING, NS_SHELL, NS_SOAP, NS_WSMAN,
};
use super::fault::Fault;

/// `OperationTimeout` when the request has none (Windows' `MaxTimeoutms`
/// default is 60 s).
const DEFAULT_OPERATION_TIMEOUT: Duration = Duration::from_secs(60);
/// Longest operation the lab holds a request for.
const MAX_OPERATION_TIMEOUT: Duration = Duration::from_secs(3600);
/// `MaxEnvelopeSize` when the request has none.
const DEFAULT_MAX_ENVELOPE: u32 = 153_600;
/// Nodes allowed in one request (a large Send is one text node).
const MAX_NODES: u32 = 20_000;

/// One parsed request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub action: String,
    pub message_id: String,
    /// `wsa:To`, echoed in Create's `a:Address`.
    pub to: Option<String>,
    pub resource_uri: Option<String>,
    /// The `ShellId` selector.
    pub shell_id: Option<String>,
    pub operation_timeout: Duration,
    pub max_envelope_size: u32,
    /// `wsman:OptionSet` options, `(Name, value)`.
    pub options: Vec<(String, String)>,
    pub body: Body,
}

impl Request {
    /// The value of option `name` (case-insensitive name).
    pub fn option(&self, name: &str) -> Option<&str> {
        self.options
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// The body of a shell request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    Create {
        idle_timeout: Option<Duration>,
    },
    Command {
        command_id: Option<String>,
        command: String,
        args: Vec<String>,
    },
    Send {
        streams: Vec<InputChunk>,
    },
    Receive {
        command_id: Option<String>,
    },
    Signal {
        command_id: String,
        code: String,
    },
    Delete,
    /// An action the lab does not serve.
    Other,
}

/// One `rsp:Stream` of a Send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputChunk {
    pub name: String,
    pub command_id: Option<String>,
    pub end: bool,
    pub data: Vec<u8>,
}

/// A request that cannot be served: the fault, and the request's MessageID
/// when it was readable (for `RelatesTo`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub fault: Fault,
    pub message_id: Option<String>,
}

/// Parse a request envelope.
///
/// A Send's streams are long base64 texts (a 64 KiB stdin chunk is about
/// 87 KB of it), and walking them character by character was most of what
/// parsing a request cost. So long runs of base64 between a `>` and a `<`
/// are lifted out first ([`Lifted`]) and the envelope without them is
/// parsed; each run must then turn out to be the whole content of a
/// `Stream` element and decode as base64 (so it held nothing XML reads
/// differently). When anything else is true (a run elsewhere, a stream
/// with other content, a run that does not decode, the shortened text not
/// parsing), the whole request is parsed as it came: the answer is always
/// the one the full parse gives.
pub fn parse(xml: &[u8]) -> Result<Request, Refusal> {
    let text = std::str::from_utf8(xml).map_err(|_| Refusal {
        fault: Fault::Schema("The request is not UTF-8 XML. ".into()),
        message_id: None,
    })?;
    if let Some(lifted) = Lifted::lift(text)
        && let Some(request) = parse_text(&lifted.text, &lifted)
            .ok()
            .filter(|_| lifted.all_read())
    {
        return Ok(request);
    }
    parse_text(text, &Lifted::none())
}

/// Text runs at least this long are lifted out before parsing.
const LIFT_MIN: usize = 1024;

/// An envelope with its long base64 runs taken out: `text` without them,
/// and for each run where it was (its offset in `text`) and what it was.
struct Lifted<'a> {
    text: String,
    runs: Vec<(usize, &'a str)>,
    read: std::cell::Cell<usize>,
}

impl<'a> Lifted<'a> {
    fn none() -> Lifted<'static> {
        Lifted { text: String::new(), runs: Vec::new(), read: std::cell::Cell::new(0) }
    }

    /// `None` when the envelope has no long run. A run is the text
    /// between a `>` and the next `<`; it is not checked here: a run
    /// counts as read only when it decodes as base64, which it does only
    /// when it is nothing but the alphabet (no white space, no `&`).
    fn lift(xml: &'a str) -> Option<Lifted<'a>> {
        let mut runs: Vec<(usize, usize)> = Vec::new();
        let mut i = 0;
        while let Some(k) = xml[i..].find('>') {
            let start = i + k + 1;
            let Some(len) = xml[start..].find('<') else { break };
            if len >= LIFT_MIN {
                runs.push((start, start + len));
            }
            i = start + len;
        }
        if runs.is_empty() {
            return None;
        }
        let mut text = String::with_capacity(xml.len() - runs.iter().map(|(s, e)| e - s).sum::<usize>());
        let mut lifted = Vec::with_capacity(runs.len());
        let mut at = 0;
        for (s, e) in runs {
            text.push_str(&xml[at..s]);
            lifted.push((text.len(), &xml[s..e]));
            at = e;
        }
        text.push_str(&xml[at..]);
        Some(Lifted { text, runs: lifted, read: std::cell::Cell::new(0) })
    }

    /// The run lifted out of `node` when it was its whole content.
    fn content_of(&self, node: Node<'_, '_>) -> Option<&'a str> {
        if node.first_child().is_some() {
            return None;
        }
        let range = node.range();
        self.runs.iter().find(|(at, _)| range.contains(at)).map(|(_, run)| *run)
    }

    /// A run was decoded: read back as it was.
    fn mark_read(&self) {
        self.read.set(self.read.get() + 1);
    }

    /// Whether every run was read back as a stream's content.
    fn all_read(&self) -> bool {
        self.read.get() == self.runs.len()
    }
}

/// Parse an envelope's text (`lifted` gives back the runs taken out of it).
fn parse_text(text: &str, lifted: &Lifted<'_>) -> Result<Request, Refusal> {
    let refuse = |fault, message_id| Refusal { fault, message_id };
    let doc = Document::parse_with_options(
        text,
        ParsingOptions {
            allow_dtd: false,
            nodes_limit: MAX_NODES.saturating_sub(lifted.runs.len() as u32),
        },
    )
    .map_err(|_| {
        refuse(
            Fault::Schema("The request is not well-formed XML. ".into()),
            None,
        )
    })?;
    let root = doc.root_element();
    if !is(root, NS_SOAP, "Envelope") {
        return Err(refuse(
            Fault::Schema("The root element is not a SOAP 1.2 Envelope. ".into()),
            None,
        ));
    }
    let header = child(root, NS_SOAP, "Header").ok_or_else(|| {
        refuse(
            Fault::InvalidHeader("The request has no SOAP header. ".into()),
            None,
        )
    })?;
    let message_id = child(header, NS_ADDRESSING, "MessageID").map(text_of);
    let missing = |what: &str| {
        refuse(
            Fault::InvalidHeader(format!(
                "The WS-Management service cannot process the request. The {what} header is missing or empty. "
            )),
            message_id.clone(),
        )
    };
    let message_id_value = message_id
        .clone()
        .filter(|m| !m.is_empty())
        .ok_or_else(|| missing("MessageID"))?;
    let action = child(header, NS_ADDRESSING, "Action")
        .map(text_of)
        .filter(|a| !a.is_empty())
        .ok_or_else(|| missing("Action"))?;

    let operation_timeout = match child(header, NS_WSMAN, "OperationTimeout").map(text_of) {
        None => DEFAULT_OPERATION_TIMEOUT,
        Some(t) => duration::parse(&t).map(|d| d.min(MAX_OPERATION_TIMEOUT)).ok_or_else(|| {
            refuse(
                Fault::InvalidHeader(format!(
                    "The WS-Management service cannot process the request. The XML contains an invalid timeout field in the SOAP header: {t}. "
                )),
                message_id.clone(),
            )
        })?,
    };
    let max_envelope_size = match child(header, NS_WSMAN, "MaxEnvelopeSize").map(text_of) {
        None => DEFAULT_MAX_ENVELOPE,
        Some(t) => t.parse::<u32>().ok().filter(|&n| n > 0).ok_or_else(|| {
            refuse(
                Fault::InvalidHeader(format!(
                    "The WS-Management service cannot process the request. The MaxEnvelopeSize header is invalid: {t}. "
                )),
                message_id.clone(),
            )
        })?,
    };
    let shell_id = child(header, NS_WSMAN, "SelectorSet").and_then(|set| {
        elements(set, NS_WSMAN, "Selector")
            .find(|s| {
                s.attribute("Name")
                    .is_some_and(|n| n.eq_ignore_ascii_case("ShellId"))
            })
            .map(text_of)
    });
    let options = child(header, NS_WSMAN, "OptionSet")
        .map(|set| {
            elements(set, NS_WSMAN, "Option")
                .filter_map(|o| Some((o.attribute("Name")?.to_string(), text_of(o))))
                .collect()
        })
        .unwrap_or_default();

    let body_el = child(root, NS_SOAP, "Body").ok_or_else(|| {
        refuse(
            Fault::Schema("The request has no SOAP body. ".into()),
            message_id.clone(),
        )
    })?;
    let body = parse_body(&action, body_el, lifted).map_err(|f| refuse(f, message_id.clone()))?;

    Ok(Request {
        action,
        message_id: message_id_value,
        to: child(header, NS_ADDRESSING, "To").map(text_of),
        resource_uri: child(header, NS_WSMAN, "ResourceURI").map(text_of),
        shell_id,
        operation_timeout,
        max_envelope_size,
        options,
        body,
    })
}

/// The body for `action`.
fn parse_body(action: &str, body: Node<'_, '_>, lifted: &Lifted<'_>) -> Result<Body, Fault> {
    let schema = |what: &str| {
        Fault::Schema(format!(
            "The Windows Remote Shell cannot process the request. {what} "
        ))
    };
    match action {
        ACTION_CREATE => {
            let shell = child(body, NS_SHELL, "Shell")
                .ok_or_else(|| schema("The SOAP packet has no Shell element."))?;
            let idle_timeout = match child(shell, NS_SHELL, "IdleTimeOut").map(text_of) {
                None => None,
                Some(t) => Some(duration::parse(&t).ok_or(Fault::InvalidParameter)?),
            };
            Ok(Body::Create { idle_timeout })
        }
        ACTION_COMMAND => {
            let line = child(body, NS_SHELL, "CommandLine")
                .ok_or_else(|| schema("The SOAP packet has no CommandLine element."))?;
            let mut command = None;
            let mut args = Vec::new();
            for el in line.children().filter(Node::is_element) {
                match (el.tag_name().namespace(), el.tag_name().name()) {
                    (Some(NS_SHELL), "Command") if command.is_none() => command = Some(text_of(el)),
                    (Some(NS_SHELL), "Arguments") => args.push(text_of(el)),
                    (_, name) => {
                        return Err(schema(&format!(
                            "The SOAP packet contains an element {name} that is invalid. Retry the request with the correct XML element."
                        )));
                    }
                }
            }
            let command = command
                .filter(|c| !c.trim().is_empty())
                .ok_or_else(|| schema("The SOAP packet has no Command element."))?;
            Ok(Body::Command {
                command_id: line.attribute("CommandId").map(str::to_string),
                command,
                args,
            })
        }
        ACTION_SEND => {
            let send = child(body, NS_SHELL, "Send")
                .ok_or_else(|| schema("The SOAP packet has no Send element."))?;
            let mut streams = Vec::new();
            for s in elements(send, NS_SHELL, "Stream") {
                let run = lifted.content_of(s);
                let text = match run {
                    Some(run) => std::borrow::Cow::Borrowed(run),
                    None => std::borrow::Cow::Owned(text_of(s)),
                };
                let data = base64::engine::general_purpose::STANDARD
                    .decode(text.as_bytes())
                    .map_err(|_| Fault::InvalidParameter)?;
                if run.is_some() {
                    lifted.mark_read();
                }
                streams.push(InputChunk {
                    name: s.attribute("Name").unwrap_or_default().to_string(),
                    command_id: s.attribute("CommandId").map(str::to_string),
                    end: s
                        .attribute("End")
                        .is_some_and(|e| e.eq_ignore_ascii_case("true")),
                    data,
                });
            }
            Ok(Body::Send { streams })
        }
        ACTION_RECEIVE => {
            let receive = child(body, NS_SHELL, "Receive")
                .ok_or_else(|| schema("The SOAP packet has no Receive element."))?;
            let command_id = child(receive, NS_SHELL, "DesiredStream")
                .and_then(|d| d.attribute("CommandId"))
                .map(str::to_string);
            Ok(Body::Receive { command_id })
        }
        ACTION_SIGNAL => {
            let signal = child(body, NS_SHELL, "Signal")
                .ok_or_else(|| schema("The SOAP packet has no Signal element."))?;
            // Windows answers a Signal without CommandId with InvalidParameter
            // (recorded by pypsrp's author).
            let command_id = signal
                .attribute("CommandId")
                .ok_or(Fault::InvalidParameter)?
                .to_string();
            let code = child(signal, NS_SHELL, "Code")
                .map(text_of)
                .ok_or(Fault::InvalidParameter)?;
            Ok(Body::Signal { command_id, code })
        }
        ACTION_DELETE => Ok(Body::Delete),
        _ => Ok(Body::Other),
    }
}

fn is(node: Node<'_, '_>, ns: &str, name: &str) -> bool {
    node.is_element() && node.tag_name().name() == name && node.tag_name().namespace() == Some(ns)
}

fn child<'a, 'i>(node: Node<'a, 'i>, ns: &str, name: &str) -> Option<Node<'a, 'i>> {
    node.children().find(|c| is(*c, ns, name))
}

fn elements<'a, 'i: 'a>(
    node: Node<'a, 'i>,
    ns: &'a str,
    name: &'a str,
) -> impl Iterator<Item = Node<'a, 'i>> + 'a {
    node.children().filter(move |c| is(*c, ns, name))
}

/// The trimmed text content of an element.
fn text_of(node: Node<'_, '_>) -> String {
    let mut out = String::new();
    for t in node.descendants().filter(Node::is_text) {
        out.push_str(t.text().unwrap_or_default());
    }
    out.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// pywinrm's prefixes (`env:`, `a:`, `w:`), as its Create sends it.
    const PYWINRM_CREATE: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<env:Envelope xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:env="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:b="http://schemas.dmtf.org/wbem/wsman/1/cimbinding.xsd" xmlns:n="http://schemas.xmlsoap.org/ws/2004/09/enumeration" xmlns:x="http://schemas.xmlsoap.org/ws/2004/09/transfer" xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd" xmlns:p="http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd" xmlns:rsp="http://schemas.microsoft.com/wbem/wsman/1/windows/shell" xmlns:cfg="http://schemas.microsoft.com/wbem/wsman/1/config"><env:Header><a:To>http://windows-host:5985/wsman</a:To><a:ReplyTo><a:Address mustUnderstand="true">http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:Address></a:ReplyTo><w:MaxEnvelopeSize mustUnderstand="true">153600</w:MaxEnvelopeSize><a:MessageID>uuid:11111111-2222-3333-4444-555555555555</a:MessageID><w:Locale mustUnderstand="false" xml:lang="en-US"></w:Locale><p:DataLocale mustUnderstand="false" xml:lang="en-US"></p:DataLocale><w:OperationTimeout>PT20S</w:OperationTimeout><w:ResourceURI mustUnderstand="true">http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd</w:ResourceURI><a:Action mustUnderstand="true">http://schemas.xmlsoap.org/ws/2004/09/transfer/Create</a:Action><w:OptionSet><w:Option Name="WINRS_NOPROFILE">FALSE</w:Option><w:Option Name="WINRS_CODEPAGE">437</w:Option></w:OptionSet></env:Header><env:Body><rsp:Shell><rsp:InputStreams>stdin</rsp:InputStreams><rsp:OutputStreams>stdout stderr</rsp:OutputStreams></rsp:Shell></env:Body></env:Envelope>"#;

    /// winrm-rs's prefixes (`s:`, `wsa:`, `wsman:`), as its Send writes it.
    const WINRM_RS_SEND: &str = r#"<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"
  xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/08/addressing"
  xmlns:wsman="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"
  xmlns:rsp="http://schemas.microsoft.com/wbem/wsman/1/windows/shell">
  <s:Header>
    <wsa:To>http://h:5985/wsman</wsa:To>
    <wsman:ResourceURI s:mustUnderstand="true">http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd</wsman:ResourceURI>
    <wsa:Action s:mustUnderstand="true">http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Send</wsa:Action>
    <wsman:MaxEnvelopeSize s:mustUnderstand="true">153600</wsman:MaxEnvelopeSize>
    <wsa:MessageID>uuid:abc</wsa:MessageID>
    <wsman:OperationTimeout>PT60S</wsman:OperationTimeout>
    <wsman:SelectorSet>
      <wsman:Selector Name="ShellId">SHELL-1</wsman:Selector>
    </wsman:SelectorSet>
  </s:Header>
  <s:Body>
    <rsp:Send>
      <rsp:Stream Name="stdin" CommandId="CMD-1" End="true">aGk=</rsp:Stream>
    </rsp:Send>
  </s:Body>
</s:Envelope>"#;

    #[test]
    fn pywinrm_create_parses() {
        let r = parse(PYWINRM_CREATE.as_bytes()).unwrap();
        assert_eq!(r.action, ACTION_CREATE);
        assert_eq!(r.message_id, "uuid:11111111-2222-3333-4444-555555555555");
        assert_eq!(r.operation_timeout, Duration::from_secs(20));
        assert_eq!(r.option("winrs_codepage"), Some("437"));
        assert_eq!(r.body, Body::Create { idle_timeout: None });
        assert_eq!(r.to.as_deref(), Some("http://windows-host:5985/wsman"));
    }

    #[test]
    fn winrm_rs_send_parses() {
        let r = parse(WINRM_RS_SEND.as_bytes()).unwrap();
        assert_eq!(r.shell_id.as_deref(), Some("SHELL-1"));
        assert_eq!(
            r.body,
            Body::Send {
                streams: vec![InputChunk {
                    name: "stdin".into(),
                    command_id: Some("CMD-1".into()),
                    end: true,
                    data: b"hi".to_vec()
                }]
            }
        );
    }

    /// A Send with a long stream: the parse that lifts the stream out
    /// answers what the whole parse answers, for a clean stream and for
    /// texts it must leave to the whole parse (white space the whole parse
    /// trims, an entity, a character XML refuses, a long text elsewhere).
    #[test]
    fn long_streams_parse_as_the_whole_parse_does() {
        use base64::Engine as _;
        let data: Vec<u8> = (0..6000u32).map(|k| (k * 7 + k / 255) as u8).collect();
        let b64 = base64::engine::general_purpose::STANDARD.encode(&data);
        let with = |text: &str| WINRM_RS_SEND.replace(">aGk=<", &format!(">{text}<"));
        let whole = |xml: &str| parse_text(xml, &Lifted::none());

        let xml = with(&b64);
        assert_eq!(Lifted::lift(&xml).map(|l| l.runs.len()), Some(1));
        let r = parse(xml.as_bytes()).unwrap();
        assert_eq!(Ok(r.clone()), whole(&xml));
        match r.body {
            Body::Send { streams } => assert_eq!(streams[0].data, data),
            other => panic!("not a Send: {other:?}"),
        }

        for text in [
            format!("  {b64}\n"),
            format!("{}&#65;{}", &b64[..2000], &b64[2000..]),
            format!("{}\u{1}{}", &b64[..2000], &b64[2000..]),
            format!("{}>{}", &b64[..2000], &b64[2000..]),
        ] {
            let xml = with(&text);
            assert!(Lifted::lift(&xml).is_some());
            assert_eq!(parse(xml.as_bytes()), whole(&xml), "stream text {:?}", &text[..8]);
        }
        let xml = with(&b64).replace("uuid:abc", &format!("uuid:{}", "a".repeat(2000)));
        assert_eq!(Lifted::lift(&xml).map(|l| l.runs.len()), Some(2));
        let r = parse(xml.as_bytes());
        assert_eq!(r, whole(&xml));
        assert_eq!(r.unwrap().message_id.len(), 2005);
    }

    #[test]
    fn a_negative_timeout_is_an_invalid_header_fault() {
        let xml = WINRM_RS_SEND.replace("PT60S", "PT-1S");
        let err = parse(xml.as_bytes()).unwrap_err();
        assert_eq!(err.message_id.as_deref(), Some("uuid:abc"));
        assert!(
            matches!(err.fault, Fault::InvalidHeader(ref m) if m.contains("invalid timeout field in the SOAP header: PT-1S"))
        );
    }

    #[test]
    fn malformed_requests_are_faults() {
        assert!(matches!(
            parse(b"not xml").unwrap_err().fault,
            Fault::Schema(_)
        ));
        assert!(matches!(
            parse(b"<a/>").unwrap_err().fault,
            Fault::Schema(_)
        ));
        let no_id = WINRM_RS_SEND.replace("<wsa:MessageID>uuid:abc</wsa:MessageID>", "");
        assert!(matches!(
            parse(no_id.as_bytes()).unwrap_err().fault,
            Fault::InvalidHeader(_)
        ));
        let bad_b64 = WINRM_RS_SEND.replace("aGk=", "!!!");
        assert_eq!(
            parse(bad_b64.as_bytes()).unwrap_err().fault,
            Fault::InvalidParameter
        );
        let dtd = format!("<!DOCTYPE x [<!ENTITY a \"b\">]>{WINRM_RS_SEND}");
        assert!(matches!(
            parse(dtd.as_bytes()).unwrap_err().fault,
            Fault::Schema(_)
        ));
        let argument = WINRM_RS_SEND
            .replace("/shell/Send", "/shell/Command")
            .replace(
                r#"<rsp:Send>
      <rsp:Stream Name="stdin" CommandId="CMD-1" End="true">aGk=</rsp:Stream>
    </rsp:Send>"#,
                "<rsp:CommandLine><rsp:Command>cmd</rsp:Command><rsp:Argument>x</rsp:Argument></rsp:CommandLine>",
            );
        assert!(
            matches!(parse(argument.as_bytes()).unwrap_err().fault, Fault::Schema(ref m) if m.contains("element Argument"))
        );
    }
}
