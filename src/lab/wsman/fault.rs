//! The WS-Management faults the lab sends, worded and coded as Windows
//! words them (reasons and messages verbatim from recordings, trailing
//! spaces included). Every fault goes out with HTTP 500.

use super::envelope::{Opener, envelope, escape};

const FAULT_ACTION: &str = "http://schemas.dmtf.org/wbem/wsman/1/wsman/fault";
const ADDRESSING_FAULT_ACTION: &str = "http://schemas.xmlsoap.org/ws/2004/08/addressing/fault";
const NS_WSMANFAULT: &str = "http://schemas.microsoft.com/wbem/wsman/1/wsmanfault";
/// Where `w:FaultDetail` values live.
const DETAIL: &str = "http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/";
const INVALID_SELECTORS_REASON: &str = "The WS-Management service cannot process the request because the request contained invalid selectors for the resource. ";

/// A fault the lab answers a request with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Receive found no output within `OperationTimeout` (2150858793).
    TimedOut,
    /// No shell with that ShellId (2150858843, Shell provider).
    UnknownShell,
    /// No command with that CommandId, or it already finished (2150858843).
    UnknownCommand,
    /// `MaxShellsPerUser` reached (2150859173).
    ShellQuota { max: u32 },
    /// The authenticated user may not use this shell (5).
    AccessDenied,
    /// A parameter of the shell plugin is wrong (87, Shell cmd plugin).
    InvalidParameter,
    /// The XML is not a WS-Management envelope of the expected shape
    /// (2150858817); the message says what is wrong.
    Schema(String),
    /// A SOAP header is missing or invalid (2150858767).
    InvalidHeader(String),
    /// An action the lab does not serve for this resource.
    ActionNotSupported(String),
    /// A resource URI the lab does not serve (only the cmd shell).
    UnknownResource(String),
    /// More stdin than the shell's memory quota allows.
    OutOfMemory,
}

/// The parts of a rendered fault.
struct Parts {
    action: &'static str,
    code: &'static str,
    subcode: &'static str,
    reason: String,
    reason_lang: &'static str,
    detail: Option<&'static str>,
    wsman_code: u64,
    /// The `f:Message` content, already XML (escaped text or a
    /// `f:ProviderFault` element).
    message_xml: String,
}

impl Parts {
    /// Windows' usual fault: a WS-Management fault the sender caused, with
    /// `reason` (no language) as its message too.
    fn sender(subcode: &'static str, reason: &str, wsman_code: u64) -> Parts {
        Parts {
            action: FAULT_ACTION,
            code: "s:Sender",
            subcode,
            reason: reason.into(),
            reason_lang: "",
            detail: None,
            wsman_code,
            message_xml: escape(reason),
        }
    }

    /// No shell or command with the selectors given.
    fn invalid_selectors() -> Parts {
        Parts::sender("w:InvalidSelectors", INVALID_SELECTORS_REASON, 2150858843)
            .en_us()
            .detail("UnexpectedSelectors")
    }

    /// The service, not the sender, failed.
    fn receiver(mut self) -> Parts {
        self.code = "s:Receiver";
        self
    }

    /// A WS-Addressing fault.
    fn addressing(mut self) -> Parts {
        self.action = ADDRESSING_FAULT_ACTION;
        self
    }

    /// The reason is marked `en-US`.
    fn en_us(mut self) -> Parts {
        self.reason_lang = "en-US";
        self
    }

    fn detail(mut self, detail: &'static str) -> Parts {
        self.detail = Some(detail);
        self
    }

    /// The message, as plain text.
    fn message(mut self, text: &str) -> Parts {
        self.message_xml = escape(text);
        self
    }

    /// The message, already XML.
    fn message_xml(mut self, xml: String) -> Parts {
        self.message_xml = xml;
        self
    }
}

impl Fault {
    /// The envelope for this fault, from `machine` (the host's address as
    /// the client used it), answering the request `relates_to`.
    pub fn render(&self, machine: &str, relates_to: Option<&str>) -> String {
        let p = self.parts(machine);
        let detail = p
            .detail
            .map(|d| format!("<w:FaultDetail>{DETAIL}{d}</w:FaultDetail>"))
            .unwrap_or_default();
        let body = format!(
            "<s:Fault><s:Code><s:Value>{code}</s:Value><s:Subcode><s:Value>{subcode}</s:Value></s:Subcode></s:Code>\
             <s:Reason><s:Text xml:lang=\"{lang}\">{reason}</s:Text></s:Reason>\
             <s:Detail>{detail}<f:WSManFault xmlns:f=\"{NS_WSMANFAULT}\" Code=\"{wcode}\" Machine=\"{machine}\">\
             <f:Message>{message}</f:Message></f:WSManFault></s:Detail></s:Fault>",
            code = p.code,
            subcode = p.subcode,
            lang = p.reason_lang,
            reason = escape(&p.reason),
            wcode = p.wsman_code,
            machine = escape(machine),
            message = p.message_xml,
        );
        envelope(Opener::Fault, p.action, relates_to, &body)
    }

    /// The WSManFault code (what pywinrm and pypsrp match on).
    pub fn wsman_code(&self) -> u64 {
        self.parts("").wsman_code
    }

    fn parts(&self, machine: &str) -> Parts {
        match self {
            Fault::TimedOut => Parts::sender(
                "w:TimedOut",
                "The WS-Management service cannot complete the operation within the time specified in OperationTimeout.  ",
                2150858793,
            )
            .receiver()
            .en_us(),
            Fault::UnknownShell => Parts::invalid_selectors().message_xml(format!(
                    "<f:ProviderFault provider=\"Shell provider\" path=\"%systemroot%\\system32\\WsmSvc.dll\">\
                     <f:WSManFault xmlns:f=\"{NS_WSMANFAULT}\" Code=\"2150858843\" Machine=\"{m}\">\
                     <f:Message>{r}</f:Message></f:WSManFault></f:ProviderFault>",
                    m = escape(machine),
                    r = escape(INVALID_SELECTORS_REASON),
                )),
            Fault::UnknownCommand => Parts::invalid_selectors().message(
                    "The Windows Remote Shell received a request to perform an operation on a command identifier that does not exist. Either the command has completed execution or the client specified an invalid command identifier. ",
                ),
            Fault::ShellQuota { max } => Parts::sender(
                "w:QuotaLimit",
                "The WS-Management service cannot process the request. The maximum number of concurrent shells for this user has been exceeded. Close existing shells or raise the quota for this user. ",
                2150859173,
            )
            .message(&format!(
                "The WS-Management service cannot process the request. This user is allowed a maximum number of {max} concurrent shells, which has been exceeded. Close existing shells or raise the quota for this user. "
            )),
            Fault::AccessDenied => Parts::sender("w:AccessDenied", "Access is denied. ", 5),
            Fault::InvalidParameter => Parts::sender("w:InvalidParameter", "The parameter is incorrect. ", 87)
                .detail("InvalidValue")
                .message_xml("<f:ProviderFault provider=\"Shell cmd plugin\" path=\"%systemroot%\\system32\\winrscmd.dll\">The parameter is incorrect. </f:ProviderFault>".into()),
            Fault::Schema(message) => Parts::sender(
                "w:SchemaValidationError",
                "The SOAP XML in the message does not match the corresponding XML schema definition. Change the XML and retry. ",
                2150858817,
            )
            .message(message),
            Fault::InvalidHeader(message) => Parts::sender(
                "a:InvalidMessageInformationHeader",
                "The WS-Management service cannot process the request. The request contains one or more invalid SOAP headers. ",
                2150858767,
            )
            .addressing()
            .en_us()
            .message(message),
            // Not recorded from Windows: the WS-Addressing fault DSP0226
            // prescribes, with Windows' ERROR_WSMAN_ACTION_NOT_SUPPORTED.
            Fault::ActionNotSupported(action) => {
                Parts::sender("a:ActionNotSupported", "The action is not supported by the service. ", 2150858754)
                    .addressing()
                    .en_us()
                    .message(&format!(
                        "The WS-Management service cannot process the request because the action is not supported by the resource: {action}. "
                    ))
            }
            // Not recorded from Windows: DSP0226's DestinationUnreachable.
            Fault::UnknownResource(uri) => Parts::sender(
                "w:DestinationUnreachable",
                "The WS-Management service cannot process the request because the resource URI is not valid or not found. ",
                2150858770,
            )
            .en_us()
            .detail("InvalidResourceURI")
            .message(&format!(
                "The WS-Management service cannot process the request. The resource URI ({uri}) was not found in the WS-Management catalog. "
            )),
            Fault::OutOfMemory => Parts::sender(
                "w:InternalError",
                "Not enough memory resources are available to process this command. ",
                8,
            )
            .receiver(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timed_out_matches_the_recording() {
        let xml = Fault::TimedOut.render("192.168.56.11", Some("uuid:R"));
        assert!(xml.contains(
            "<s:Body><s:Fault><s:Code><s:Value>s:Receiver</s:Value><s:Subcode><s:Value>w:TimedOut</s:Value></s:Subcode></s:Code>\
             <s:Reason><s:Text xml:lang=\"en-US\">The WS-Management service cannot complete the operation within the time specified in OperationTimeout.  </s:Text></s:Reason>\
             <s:Detail><f:WSManFault xmlns:f=\"http://schemas.microsoft.com/wbem/wsman/1/wsmanfault\" Code=\"2150858793\" Machine=\"192.168.56.11\">"
        ));
        assert!(
            xml.contains("<a:Action>http://schemas.dmtf.org/wbem/wsman/1/wsman/fault</a:Action>")
        );
        assert!(xml.contains("<a:RelatesTo>uuid:R</a:RelatesTo>"));
    }

    #[test]
    fn every_fault_is_well_formed_xml() {
        for f in [
            Fault::TimedOut,
            Fault::UnknownShell,
            Fault::UnknownCommand,
            Fault::ShellQuota { max: 5 },
            Fault::AccessDenied,
            Fault::InvalidParameter,
            Fault::Schema("bad <x> & y".into()),
            Fault::InvalidHeader("h".into()),
            Fault::ActionNotSupported("a&b".into()),
            Fault::UnknownResource("u".into()),
            Fault::OutOfMemory,
        ] {
            let xml = f.render("10.0.0.1", Some("uuid:1"));
            roxmltree::Document::parse(&xml).unwrap_or_else(|e| panic!("{f:?}: {e}\n{xml}"));
        }
    }

    #[test]
    fn quota_fault_names_the_limit() {
        let xml = Fault::ShellQuota { max: 5 }.render("h", None);
        assert!(xml.contains("w:QuotaLimit"));
        assert!(xml.contains("Code=\"2150859173\""));
        assert!(xml.contains(
            "This user is allowed a maximum number of 5 concurrent shells, which has been exceeded."
        ));
    }
}
