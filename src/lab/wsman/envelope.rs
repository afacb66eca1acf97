//! Writing SOAP response envelopes as Windows writes them: the same
//! namespace prefixes and declarations per response kind, `a:MessageID` an
//! upper-case `uuid:` GUID, `a:To` anonymous, `a:RelatesTo` the request's
//! MessageID (shapes recorded from real Windows, see
//! `/work/shared/research/peers-and-fixtures.md`).

pub const NS_SOAP: &str = "http://www.w3.org/2003/05/soap-envelope";
pub const NS_ADDRESSING: &str = "http://schemas.xmlsoap.org/ws/2004/08/addressing";
pub const NS_TRANSFER: &str = "http://schemas.xmlsoap.org/ws/2004/09/transfer";
pub const NS_WSMAN: &str = "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd";
pub const NS_WSMV: &str = "http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd";
pub const NS_SHELL: &str = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell";
const NS_EVENTING: &str = "http://schemas.xmlsoap.org/ws/2004/08/eventing";
const NS_ENUMERATION: &str = "http://schemas.xmlsoap.org/ws/2004/09/enumeration";

/// The resource URI of the WinRS command shell.
pub const RESOURCE_CMD: &str = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd";

pub const ACTION_CREATE: &str = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Create";
pub const ACTION_DELETE: &str = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Delete";
pub const ACTION_COMMAND: &str = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Command";
pub const ACTION_SEND: &str = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Send";
pub const ACTION_RECEIVE: &str = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Receive";
pub const ACTION_SIGNAL: &str = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Signal";
pub const SIGNAL_TERMINATE: &str =
    "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/signal/terminate";
pub const SIGNAL_CTRL_C: &str =
    "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/signal/ctrl_c";
pub const STATE_DONE: &str =
    "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/CommandState/Done";
pub const STATE_RUNNING: &str =
    "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/CommandState/Running";
const ANONYMOUS: &str = "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous";

/// Which namespaces the envelope declares: Windows varies them by response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opener {
    /// Create, Command, Send, Signal: `s a x w rsp p`.
    Shell,
    /// Receive: `s a w rsp p`.
    Receive,
    /// Delete: `s a w p`.
    Delete,
    /// Faults: `s a x e n w p`.
    Fault,
}

impl Opener {
    fn declarations(self) -> String {
        let mut out =
            format!("xml:lang=\"en-US\" xmlns:s=\"{NS_SOAP}\" xmlns:a=\"{NS_ADDRESSING}\"");
        let push = |out: &mut String, prefix: &str, ns: &str| {
            out.push_str(&format!(" xmlns:{prefix}=\"{ns}\""));
        };
        match self {
            Opener::Shell => {
                push(&mut out, "x", NS_TRANSFER);
                push(&mut out, "w", NS_WSMAN);
                push(&mut out, "rsp", NS_SHELL);
            }
            Opener::Receive => {
                push(&mut out, "w", NS_WSMAN);
                push(&mut out, "rsp", NS_SHELL);
            }
            Opener::Delete => push(&mut out, "w", NS_WSMAN),
            Opener::Fault => {
                push(&mut out, "x", NS_TRANSFER);
                push(&mut out, "e", NS_EVENTING);
                push(&mut out, "n", NS_ENUMERATION);
                push(&mut out, "w", NS_WSMAN);
            }
        }
        push(&mut out, "p", NS_WSMV);
        out
    }
}

/// A new upper-case GUID, as Windows writes shell, command and message IDs.
pub fn new_guid() -> String {
    uuid::Uuid::new_v4().to_string().to_ascii_uppercase()
}

/// A whole response envelope. `relates_to` is the request's MessageID
/// (absent only when the request had none).
pub fn envelope(opener: Opener, action: &str, relates_to: Option<&str>, body: &str) -> String {
    let relates = relates_to
        .map(|id| format!("<a:RelatesTo>{}</a:RelatesTo>", escape(id)))
        .unwrap_or_default();
    format!(
        "<s:Envelope {decl}><s:Header><a:Action>{action}</a:Action>\
         <a:MessageID>uuid:{mid}</a:MessageID><a:To>{ANONYMOUS}</a:To>{relates}</s:Header>\
         <s:Body>{body}</s:Body></s:Envelope>",
        decl = opener.declarations(),
        mid = new_guid(),
    )
}

/// Escape text for an XML element or a double-quoted attribute.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn receive_opener_matches_the_recording() {
        let xml = envelope(Opener::Receive, "act", Some("uuid:X"), "");
        assert!(xml.starts_with(
            "<s:Envelope xml:lang=\"en-US\" xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\" \
             xmlns:a=\"http://schemas.xmlsoap.org/ws/2004/08/addressing\" \
             xmlns:w=\"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd\" \
             xmlns:rsp=\"http://schemas.microsoft.com/wbem/wsman/1/windows/shell\" \
             xmlns:p=\"http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd\"><s:Header>"
        ));
        assert!(xml.contains("<a:RelatesTo>uuid:X</a:RelatesTo>"));
        roxmltree::Document::parse(&xml).unwrap();
    }

    #[test]
    fn guids_are_upper_case() {
        let g = new_guid();
        assert_eq!(g, g.to_ascii_uppercase());
        assert_eq!(g.len(), 36);
    }
}
