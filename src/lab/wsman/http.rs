//! One TCP connection to a lab host: its authentication state and the HTTP
//! rules Windows' WinRM listener applies (HTTP.sys plus WsmSvc), request by
//! request.
//!
//! NTLM authenticates the connection, not a request: the handshake
//! (`Negotiate` Type 1 -> 401 + Type 2, Type 3 -> 200) leaves a sealing
//! session on this connection, and later requests on it are sealed with
//! that session and carry no `Authorization`. A request on a connection that
//! never authenticated gets 401. Plaintext bodies are refused with an empty
//! 500 unless the host allows unencrypted traffic or the connection is
//! HTTPS (`AllowUnencrypted` concerns HTTP only). Basic authenticates each
//! request, only where the host allows it. Over HTTPS, NTLM checks the
//! client's channel binding against the host certificate when one is sent.

use std::net::SocketAddr;
use std::sync::Arc;

use base64::Engine as _;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HeaderValue, WWW_AUTHENTICATE};
use hyper::{Method, Request, Response, StatusCode};

use super::auth::{self, Identity};
use super::dispatch::{Reply, dispatch};
use super::framing;
use super::shells::HostState;
use super::stats::Counters;
use crate::lab::ntlm::{Acceptor, Session, nt_hash};

/// Largest request body read (Windows refuses envelopes over its 500 KB
/// `MaxEnvelopeSizekb` long before this).
const MAX_BODY: usize = 8 << 20;
const SOAP_CONTENT_TYPE: &str = "application/soap+xml;charset=UTF-8";

/// A response as hyper sends it.
pub type HttpResponse = Response<Full<Bytes>>;

/// Where this connection stands in authentication.
enum AuthState {
    /// Nothing yet (or the last attempt failed).
    None,
    /// Type 2 sent; waiting for the Type 3 on this connection.
    Negotiating { acceptor: Acceptor },
    /// Authenticated by NTLM: the account and the sealing session.
    Authenticated {
        who: Identity,
        session: Box<Session>,
    },
}

/// The `Authorization` schemes the listener understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scheme {
    Negotiate,
    Ntlm,
}

impl Scheme {
    fn name(self) -> &'static str {
        match self {
            Scheme::Negotiate => "Negotiate",
            Scheme::Ntlm => "NTLM",
        }
    }
}

/// The Security log's 4624 of a WinRM logon, as Windows writes one for
/// every authenticated WinRM connection: a network logon (type 3) of the
/// account, from the client's address and port as this host sees them.
fn record_logon(host: &HostState, who: &Identity, workstation: &str, peer: SocketAddr) {
    let (domain, user) = who.qualified.split_once('\\').unwrap_or(("", who.qualified.as_str()));
    let ip = match peer.ip() {
        std::net::IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or_else(|| v6.to_string(), |v4| v4.to_string()),
        v4 => v4.to_string(),
    };
    let workstation = if workstation.is_empty() { "-" } else { workstation };
    host.world.with(|state, now| {
        let local = domain.eq_ignore_ascii_case(&state.name);
        let sid = match state.profile_by_name(user) {
            Some(p) => p.sid.clone(),
            None if local && user.eq_ignore_ascii_case("Administrator") => state.local_admin_sid(),
            None if local => crate::lab::world::users::sid(state.machine_authority, 1000),
            None => crate::lab::world::users::sid(crate::lab::world::baseline::domain_authority(domain), 1103),
        };
        state.event_logs.network_logon(
            now,
            &crate::lab::world::eventlog::NetworkLogon {
                target_user_sid: &sid,
                target_user_name: user,
                target_domain_name: &domain.to_ascii_uppercase(),
                workstation_name: &workstation.to_ascii_uppercase(),
                ip_address: &ip,
                ip_port: peer.port(),
            },
        );
    });
}

/// One TCP connection's state.
pub struct Connection {
    host: Arc<HostState>,
    peer: SocketAddr,
    auth: AuthState,
    /// Over HTTPS: the NTLM channel binding of the host's certificate.
    tls: Option<[u8; 16]>,
}

impl Connection {
    pub fn new(host: Arc<HostState>, peer: SocketAddr) -> Self {
        Connection {
            host,
            peer,
            auth: AuthState::None,
            tls: None,
        }
    }

    /// This connection came in over TLS, presenting the certificate whose
    /// NTLM channel binding is `channel_binding`.
    pub fn over_tls(mut self, channel_binding: [u8; 16]) -> Self {
        self.tls = Some(channel_binding);
        self
    }

    /// May a SOAP body come in clear? Over HTTPS always; over HTTP where
    /// the host allows unencrypted traffic.
    fn plaintext_allowed(&self) -> bool {
        self.tls.is_some() || self.host.spec.allow_unencrypted
    }

    /// Answer one HTTP request (after the host's latency).
    pub async fn serve(&mut self, req: Request<Incoming>) -> HttpResponse {
        Counters::bump(&self.host.counters.requests);
        let response = self.answer(req).await;
        let latency = self.host.spec.latency;
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
        response
    }

    async fn answer(&mut self, req: Request<Incoming>) -> HttpResponse {
        if !req.uri().path().eq_ignore_ascii_case("/wsman") {
            return empty(StatusCode::NOT_FOUND);
        }
        if req.method() != Method::POST {
            let mut r = empty(StatusCode::METHOD_NOT_ALLOWED);
            r.headers_mut()
                .insert(hyper::header::ALLOW, HeaderValue::from_static("POST"));
            return r;
        }
        let authorization = header(&req, hyper::header::AUTHORIZATION);
        let content_type = header(&req, CONTENT_TYPE).unwrap_or_default();
        let body = match Limited::new(req.into_body(), MAX_BODY).collect().await {
            Ok(b) => b.to_bytes(),
            Err(e) if e.is::<http_body_util::LengthLimitError>() => {
                return empty(StatusCode::PAYLOAD_TOO_LARGE);
            }
            Err(_) => return empty(StatusCode::BAD_REQUEST),
        };
        let sealed = framing::is_sealed(&content_type);

        let Some(authorization) = authorization else {
            return self.on_connection(sealed, &body).await;
        };
        let (scheme, credentials) = authorization
            .split_once(' ')
            .unwrap_or((authorization.as_str(), ""));
        if scheme.eq_ignore_ascii_case("Negotiate") {
            self.ntlm(Scheme::Negotiate, credentials, sealed, &body)
                .await
        } else if scheme.eq_ignore_ascii_case("NTLM") {
            self.ntlm(Scheme::Ntlm, credentials, sealed, &body).await
        } else if scheme.eq_ignore_ascii_case("Basic") {
            self.basic(credentials, sealed, &body).await
        } else {
            self.refuse()
        }
    }

    /// A request without `Authorization`: it rides on the connection's
    /// NTLM session, or is refused.
    async fn on_connection(&mut self, sealed: bool, body: &[u8]) -> HttpResponse {
        if !matches!(self.auth, AuthState::Authenticated { .. }) {
            // Includes sealed bodies on a connection that never
            // authenticated: the context belongs to another connection.
            self.auth = AuthState::None;
            return self.challenge();
        }
        if sealed {
            self.sealed_request(body).await
        } else {
            self.plain_request(body).await
        }
    }

    /// An NTLM token under `Negotiate` or `NTLM` (raw NTLMSSP, as
    /// requests-ntlm and winrm-rs send it; SPNEGO-wrapped tokens are not
    /// understood and refused).
    async fn ntlm(
        &mut self,
        scheme: Scheme,
        token: &str,
        sealed: bool,
        body: &[u8],
    ) -> HttpResponse {
        let Ok(token) = base64::engine::general_purpose::STANDARD.decode(token.trim()) else {
            return self.refuse();
        };
        if token.len() < 12 || &token[..8] != b"NTLMSSP\0" {
            return self.refuse();
        }
        match u32::from_le_bytes([token[8], token[9], token[10], token[11]]) {
            1 => {
                let spec = &self.host.spec;
                let mut acceptor = Acceptor::new(&spec.name, &spec.domain);
                if let Some(binding) = self.tls {
                    acceptor = acceptor.bound_to_channel(binding);
                }
                match acceptor.challenge(&token) {
                    Ok(type2) => {
                        self.auth = AuthState::Negotiating { acceptor };
                        let value = format!(
                            "{} {}",
                            scheme.name(),
                            base64::engine::general_purpose::STANDARD.encode(type2)
                        );
                        let mut r = empty(StatusCode::UNAUTHORIZED);
                        if let Ok(v) = HeaderValue::from_str(&value) {
                            r.headers_mut().insert(WWW_AUTHENTICATE, v);
                        }
                        r
                    }
                    Err(_) => self.refuse(),
                }
            }
            3 => {
                let AuthState::Negotiating { acceptor } =
                    std::mem::replace(&mut self.auth, AuthState::None)
                else {
                    return self.refuse();
                };
                let spec = Arc::clone(&self.host.spec);
                let lookup = |domain: &str, user: &str| {
                    auth::find_account(&spec, domain, user).map(|a| nt_hash(&a.password))
                };
                let Ok(session) = acceptor.authenticate(&token, &lookup) else {
                    return self.refuse();
                };
                let Some(account) = auth::find_account(&spec, &session.domain, &session.user)
                else {
                    return self.refuse();
                };
                // Windows lets only administrators into WinRM; others get
                // the same 401 as a wrong password.
                let Ok(who) = auth::admit(&spec, account) else {
                    return self.refuse();
                };
                record_logon(&self.host, &who, session.workstation(), self.peer);
                self.auth = AuthState::Authenticated {
                    who,
                    session: Box::new(session),
                };
                if body.is_empty() {
                    // pywinrm's setup_encryption and winrm-rs's sealed
                    // handshake: nothing to run yet.
                    return empty(StatusCode::OK);
                }
                if sealed {
                    self.sealed_request(body).await
                } else {
                    self.plain_request(body).await
                }
            }
            _ => self.refuse(),
        }
    }

    /// Basic: checked on every request, only where the host allows it.
    async fn basic(&mut self, credentials: &str, sealed: bool, body: &[u8]) -> HttpResponse {
        if !self.host.spec.allow_basic {
            return self.refuse();
        }
        let Ok(who) = auth::basic(&self.host.spec, credentials) else {
            return self.refuse();
        };
        record_logon(&self.host, &who, "", self.peer);
        if sealed {
            // Basic has no session to seal with.
            return empty(StatusCode::BAD_REQUEST);
        }
        if !self.plaintext_allowed() {
            return empty(StatusCode::INTERNAL_SERVER_ERROR);
        }
        let reply = dispatch(&self.host, &who, self.peer.ip(), body).await;
        soap(reply)
    }

    /// A plaintext SOAP body from an authenticated connection.
    async fn plain_request(&mut self, body: &[u8]) -> HttpResponse {
        if !self.plaintext_allowed() {
            // What Windows measurably does with AllowUnencrypted=false.
            return empty(StatusCode::INTERNAL_SERVER_ERROR);
        }
        let AuthState::Authenticated { who, .. } = &self.auth else {
            return self.challenge();
        };
        let who = who.clone();
        soap(dispatch(&self.host, &who, self.peer.ip(), body).await)
    }

    /// A sealed SOAP body: unseal, serve, seal the answer (faults too).
    async fn sealed_request(&mut self, body: &[u8]) -> HttpResponse {
        let AuthState::Authenticated { who, session } = &mut self.auth else {
            return self.challenge();
        };
        let Ok(frame) = framing::parse(body) else {
            return empty(StatusCode::BAD_REQUEST);
        };
        let Ok(plaintext) = session.unseal(&frame.signature, frame.ciphertext) else {
            return empty(StatusCode::BAD_REQUEST);
        };
        let who = who.clone();
        let reply = dispatch(&self.host, &who, self.peer.ip(), &plaintext).await;
        let AuthState::Authenticated { session, .. } = &mut self.auth else {
            return empty(StatusCode::INTERNAL_SERVER_ERROR);
        };
        let (signature, ciphertext) = session.seal(reply.xml.as_bytes());
        let mut r = Response::new(Full::new(Bytes::from(framing::build(
            &signature,
            &ciphertext,
        ))));
        *r.status_mut() = status(reply.status);
        r.headers_mut().insert(
            CONTENT_TYPE,
            HeaderValue::from_static(framing::CONTENT_TYPE),
        );
        server_header(r)
    }

    /// A refused authentication: counted, state reset, 401 with the offers.
    fn refuse(&mut self) -> HttpResponse {
        Counters::bump(&self.host.counters.auth_failures);
        self.auth = AuthState::None;
        self.challenge()
    }

    /// 401 offering what the listener accepts: `Negotiate`, and
    /// `Basic realm="WSMAN"` where Basic is on.
    fn challenge(&self) -> HttpResponse {
        let mut r = empty(StatusCode::UNAUTHORIZED);
        r.headers_mut()
            .append(WWW_AUTHENTICATE, HeaderValue::from_static("Negotiate"));
        if self.host.spec.allow_basic {
            r.headers_mut().append(
                WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"WSMAN\""),
            );
        }
        r
    }
}

fn header(req: &Request<Incoming>, name: hyper::header::HeaderName) -> Option<String> {
    req.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

fn status(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// A plaintext SOAP answer.
fn soap(reply: Reply) -> HttpResponse {
    let mut r = Response::new(Full::new(Bytes::from(reply.xml)));
    *r.status_mut() = status(reply.status);
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(SOAP_CONTENT_TYPE));
    server_header(r)
}

/// A response with an empty body.
fn empty(code: StatusCode) -> HttpResponse {
    let mut r = Response::new(Full::new(Bytes::new()));
    *r.status_mut() = code;
    server_header(r)
}

fn server_header(mut r: HttpResponse) -> HttpResponse {
    r.headers_mut().insert(
        hyper::header::SERVER,
        HeaderValue::from_static("Microsoft-HTTPAPI/2.0"),
    );
    r
}
