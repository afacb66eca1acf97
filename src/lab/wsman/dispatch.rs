//! From an authenticated plaintext SOAP request to the plaintext SOAP
//! answer: parse, check the resource, run the shell operation, and write the
//! response (or the fault) as Windows writes it.

use std::net::IpAddr;

use base64::Engine as _;

use super::auth::Identity;
use super::duration;
use super::envelope::{Opener, RESOURCE_CMD, STATE_DONE, STATE_RUNNING, envelope, escape};
use super::fault::Fault;
use super::shells::{HostState, Output};
use super::soap::{self, Body, Request};
use crate::lab::emulate;

const CREATE_RESPONSE: &str = "http://schemas.xmlsoap.org/ws/2004/09/transfer/CreateResponse";
const DELETE_RESPONSE: &str = "http://schemas.xmlsoap.org/ws/2004/09/transfer/DeleteResponse";
const COMMAND_RESPONSE: &str =
    "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/CommandResponse";
const SEND_RESPONSE: &str = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/SendResponse";
const RECEIVE_RESPONSE: &str =
    "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/ReceiveResponse";
const SIGNAL_RESPONSE: &str =
    "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/SignalResponse";
/// Windows' default `IdleTimeOut` (2 h), as shells report it.
const DEFAULT_IDLE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(7200);
/// Room left in a Receive response for everything but the base64 output.
const ENVELOPE_OVERHEAD: usize = 2048;

/// A SOAP answer: HTTP status (200, or 500 for a fault) and the envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub status: u16,
    pub xml: String,
}

/// Serve one request of `who`, who connected from `client_ip`.
pub async fn dispatch(host: &HostState, who: &Identity, client_ip: IpAddr, xml: &[u8]) -> Reply {
    let machine = host.spec.address.to_string();
    let request = match soap::parse(xml) {
        Ok(r) => r,
        Err(refusal) => {
            return Reply {
                status: 500,
                xml: refusal
                    .fault
                    .render(&machine, refusal.message_id.as_deref()),
            };
        }
    };
    match serve(host, who, client_ip, &request).await {
        Ok(xml) => Reply { status: 200, xml },
        Err(fault) => Reply {
            status: 500,
            xml: fault.render(&machine, Some(&request.message_id)),
        },
    }
}

async fn serve(
    host: &HostState,
    who: &Identity,
    client_ip: IpAddr,
    req: &Request,
) -> Result<String, Fault> {
    let mid = Some(req.message_id.as_str());
    let resource = req.resource_uri.as_deref().unwrap_or_default();
    let is_cmd = resource.eq_ignore_ascii_case(RESOURCE_CMD);
    let shell_id = || req.shell_id.as_deref().ok_or(Fault::UnknownShell);
    match &req.body {
        // Delete under another resource URI finds no shell (winrm-rs
        // CHANGELOG, measured on Windows).
        Body::Delete => {
            if !is_cmd {
                return Err(Fault::UnknownShell);
            }
            host.delete(who, shell_id()?)?;
            Ok(envelope(Opener::Delete, DELETE_RESPONSE, mid, ""))
        }
        _ if !is_cmd => Err(Fault::UnknownResource(resource.to_string())),
        Body::Other => Err(Fault::ActionNotSupported(req.action.clone())),
        Body::Create { idle_timeout } => {
            let codepage = match req.option("WINRS_CODEPAGE") {
                None => 437,
                Some(v) => v
                    .parse::<u32>()
                    .ok()
                    .filter(|c| (1..=65535).contains(c))
                    .ok_or(Fault::InvalidParameter)?,
            };
            if let Some(v) = req.option("WINRS_NOPROFILE")
                && !v.eq_ignore_ascii_case("true")
                && !v.eq_ignore_ascii_case("false")
            {
                return Err(Fault::InvalidParameter);
            }
            let id = host.create(who, codepage)?;
            let spec = &host.spec;
            let address = req
                .to
                .clone()
                .unwrap_or_else(|| format!("http://{}:{}/wsman", spec.address, spec.port));
            let body = format!(
                "<x:ResourceCreated><a:Address>{address}</a:Address><a:ReferenceParameters>\
                 <w:ResourceURI>{RESOURCE_CMD}</w:ResourceURI><w:SelectorSet>\
                 <w:Selector Name=\"ShellId\">{id}</w:Selector></w:SelectorSet></a:ReferenceParameters></x:ResourceCreated>\
                 <rsp:Shell xmlns:rsp=\"http://schemas.microsoft.com/wbem/wsman/1/windows/shell\">\
                 <rsp:ShellId>{id}</rsp:ShellId><rsp:ResourceUri>{RESOURCE_CMD}</rsp:ResourceUri>\
                 <rsp:Owner>{owner}</rsp:Owner><rsp:ClientIP>{client_ip}</rsp:ClientIP>\
                 <rsp:IdleTimeOut>{idle}</rsp:IdleTimeOut><rsp:InputStreams>stdin</rsp:InputStreams>\
                 <rsp:OutputStreams>stdout stderr</rsp:OutputStreams><rsp:ShellRunTime>P0DT0H0M0S</rsp:ShellRunTime>\
                 <rsp:ShellInactivity>P0DT0H0M0S</rsp:ShellInactivity></rsp:Shell>",
                address = escape(&address),
                owner = escape(&who.user),
                idle = duration::format_seconds(idle_timeout.unwrap_or(DEFAULT_IDLE_TIMEOUT)),
            );
            Ok(envelope(Opener::Shell, CREATE_RESPONSE, mid, &body))
        }
        Body::Command {
            command_id,
            command,
            args,
        } => {
            let reads_stdin = emulate::wants_stdin(command, args);
            let id = host.start_command(
                who,
                shell_id()?,
                command_id.as_deref(),
                command.clone(),
                args.clone(),
                reads_stdin,
            )?;
            let body = format!(
                "<rsp:CommandResponse><rsp:CommandId>{id}</rsp:CommandId></rsp:CommandResponse>"
            );
            Ok(envelope(Opener::Shell, COMMAND_RESPONSE, mid, &body))
        }
        Body::Send { streams } => {
            host.send(who, shell_id()?, streams.clone())?;
            Ok(envelope(
                Opener::Shell,
                SEND_RESPONSE,
                mid,
                "<rsp:SendResponse/>",
            ))
        }
        Body::Receive { command_id } => {
            let budget = (req.max_envelope_size as usize).saturating_sub(ENVELOPE_OVERHEAD) / 4 * 3;
            let out = host
                .receive(
                    who,
                    shell_id()?,
                    command_id.as_deref(),
                    req.operation_timeout,
                    budget.max(512),
                )
                .await?;
            Ok(envelope(
                Opener::Receive,
                RECEIVE_RESPONSE,
                mid,
                &receive_body(&out),
            ))
        }
        Body::Signal { command_id, code } => {
            host.signal(who, shell_id()?, command_id, code)?;
            Ok(envelope(
                Opener::Shell,
                SIGNAL_RESPONSE,
                mid,
                "<rsp:SignalResponse/>",
            ))
        }
    }
}

/// `rsp:ReceiveResponse` as recorded: data streams, then on Done an empty
/// `End="true"` stream each and the exit code.
fn receive_body(out: &Output) -> String {
    let id = escape(&out.command_id);
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut body = String::from("<rsp:ReceiveResponse>");
    for (name, data) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
        if !data.is_empty() {
            body.push_str(&format!(
                "<rsp:Stream Name=\"{name}\" CommandId=\"{id}\">{}</rsp:Stream>",
                b64.encode(data)
            ));
        }
    }
    match out.exit_code {
        Some(code) => body.push_str(&format!(
            "<rsp:Stream Name=\"stdout\" CommandId=\"{id}\" End=\"true\"></rsp:Stream>\
             <rsp:Stream Name=\"stderr\" CommandId=\"{id}\" End=\"true\"></rsp:Stream>\
             <rsp:CommandState CommandId=\"{id}\" State=\"{STATE_DONE}\"><rsp:ExitCode>{code}</rsp:ExitCode></rsp:CommandState>"
        )),
        None => body.push_str(&format!("<rsp:CommandState CommandId=\"{id}\" State=\"{STATE_RUNNING}\"></rsp:CommandState>")),
    }
    body.push_str("</rsp:ReceiveResponse>");
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn done_receive_matches_the_recording() {
        let out = Output {
            command_id: "X".into(),
            stdout: b"hi\r\n".to_vec(),
            stderr: vec![],
            exit_code: Some(0),
        };
        assert_eq!(
            receive_body(&out),
            "<rsp:ReceiveResponse><rsp:Stream Name=\"stdout\" CommandId=\"X\">aGkNCg==</rsp:Stream>\
             <rsp:Stream Name=\"stdout\" CommandId=\"X\" End=\"true\"></rsp:Stream>\
             <rsp:Stream Name=\"stderr\" CommandId=\"X\" End=\"true\"></rsp:Stream>\
             <rsp:CommandState CommandId=\"X\" State=\"http://schemas.microsoft.com/wbem/wsman/1/windows/shell/CommandState/Done\">\
             <rsp:ExitCode>0</rsp:ExitCode></rsp:CommandState></rsp:ReceiveResponse>"
        );
    }

    #[test]
    fn a_full_chunk_fits_the_smallest_envelope() {
        // 8192 is the smallest MaxEnvelopeSize Windows accepts.
        let max = 8192usize;
        let budget = max.saturating_sub(ENVELOPE_OVERHEAD) / 4 * 3;
        let out = Output {
            command_id: "1B8C3A8E-5D0C-4A4E-9E43-2C6F0F6F2A11".into(),
            stdout: vec![b'a'; budget / 2],
            stderr: vec![b'b'; budget - budget / 2],
            exit_code: Some(-1073741510),
        };
        let xml = envelope(
            Opener::Receive,
            RECEIVE_RESPONSE,
            Some("uuid:1B8C3A8E-5D0C-4A4E-9E43-2C6F0F6F2A11"),
            &receive_body(&out),
        );
        assert!(xml.len() <= max, "{} > {max}", xml.len());
    }

    #[test]
    fn running_receive_has_no_exit_code() {
        let out = Output {
            command_id: "X".into(),
            stdout: b"hi".to_vec(),
            stderr: vec![],
            exit_code: None,
        };
        let body = receive_body(&out);
        assert!(body.contains("CommandState/Running\"></rsp:CommandState>"));
        assert!(!body.contains("ExitCode"));
        assert!(!body.contains("End="));
    }
}
