//! HTTPS for lab hosts (Windows' WinRM HTTPS listener, port 5986): one test
//! CA per lab, generated when the lab starts and kept in memory, signs one
//! certificate per HTTPS host, with the host's address as IP SAN and its
//! name as DNS SAN. Clients trust the lab by trusting [`LabCa::pem`].
//!
//! Keys are ECDSA P-256 signed with SHA-256, so a host certificate's
//! `tls-server-end-point` channel binding (RFC 5929) hashes it with SHA-256;
//! [`HostTls::channel_binding`] is the NTLM `MsvAvChannelBindings` value a
//! client computes for it, which the lab's NTLM acceptor checks.

use std::net::{IpAddr, Ipv4Addr, SocketAddrV4};
use std::sync::Arc;

use anyhow::Context as _;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose, SanType,
};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use super::spec::HostSpec;
use super::wsman::server;

/// The port Windows' WinRM HTTPS listener uses.
pub const HTTPS_PORT: u16 = 5986;

/// A lab's certificate authority: it signs every host certificate.
pub struct LabCa {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

/// What an HTTPS listener of one host needs.
#[derive(Clone)]
pub struct HostTls {
    pub acceptor: TlsAcceptor,
    /// The host certificate (DER).
    pub cert_der: Vec<u8>,
    /// The NTLM channel binding hash of that certificate.
    pub channel_binding: [u8; 16],
}

impl std::fmt::Debug for HostTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostTls")
            .field("cert_bytes", &self.cert_der.len())
            .finish()
    }
}

impl std::fmt::Debug for LabCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LabCa")
    }
}

impl LabCa {
    /// A fresh CA, `cauterize lab CA`, with a new key.
    pub fn generate() -> anyhow::Result<LabCa> {
        let mut params = CertificateParams::default();
        params
            .distinguished_name
            .push(DnType::CommonName, "cauterize lab CA");
        params
            .distinguished_name
            .push(DnType::OrganizationName, "cauterize lab");
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let key = KeyPair::generate().context("generating the lab CA key")?;
        let issuer =
            CertifiedIssuer::self_signed(params, key).context("signing the lab CA certificate")?;
        Ok(LabCa { issuer })
    }

    /// The CA certificate, PEM: what a client must trust
    /// (`cert_validation: {ca_file: ...}`).
    pub fn pem(&self) -> String {
        self.issuer.pem()
    }

    /// The CA certificate, DER.
    pub fn der(&self) -> &[u8] {
        self.issuer.der().as_ref()
    }

    /// A certificate for host `name` at `address`, and the TLS server
    /// configuration presenting it. A name that is no valid DNS name is left
    /// out of the certificate (the address is always in).
    pub fn issue(&self, name: &str, address: Ipv4Addr) -> anyhow::Result<HostTls> {
        let mut params = CertificateParams::default();
        params.distinguished_name.push(DnType::CommonName, name);
        params
            .subject_alt_names
            .push(SanType::IpAddress(IpAddr::V4(address)));
        if let Ok(dns) = name.to_ascii_lowercase().try_into() {
            params.subject_alt_names.push(SanType::DnsName(dns));
        }
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.use_authority_key_identifier_extension = true;
        let key = KeyPair::generate().with_context(|| format!("generating the key of {name}"))?;
        let cert = params
            .signed_by(&key, &self.issuer)
            .with_context(|| format!("signing the certificate of {name}"))?;
        let cert_der = cert.der().to_vec();
        let key_der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .context("TLS protocol versions")?
            .with_no_client_auth()
            .with_single_cert(vec![CertificateDer::from(cert_der.clone())], key_der)
            .with_context(|| format!("TLS configuration of {name}"))?;
        // WinRM speaks HTTP/1.1 only.
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(HostTls {
            acceptor: TlsAcceptor::from(Arc::new(config)),
            channel_binding: channel_binding(&cert_der),
            cert_der,
        })
    }
}

/// What `host`'s HTTPS listener needs: its certificate from `ca`, its
/// address on [`HTTPS_PORT`], and that address bound when the host is `up`
/// (a host off at start binds when it powers on). Fails naming the host.
pub fn listen(
    host: &HostSpec,
    up: bool,
    ca: &LabCa,
) -> anyhow::Result<(Option<TcpListener>, SocketAddrV4, HostTls)> {
    let tls = ca.issue(&host.name, host.address)?;
    let address = SocketAddrV4::new(host.address, HTTPS_PORT);
    let listener = if up {
        Some(server::bind(address).with_context(|| {
            format!(
                "lab host {} cannot listen for HTTPS on {address}",
                host.name
            )
        })?)
    } else {
        None
    };
    Ok((listener, address, tls))
}

/// The NTLM `MsvAvChannelBindings` value for a server certificate signed
/// with SHA-256 (every lab certificate): MD5 of the GSS-API channel
/// bindings structure (four zero 32-bit fields for the absent addresses,
/// then the length and bytes of `tls-server-end-point:` + SHA-256(cert)).
pub fn channel_binding(cert_der: &[u8]) -> [u8; 16] {
    use md5::Digest as _;
    let hash = <sha2::Sha256 as sha2::Digest>::digest(cert_der);
    let mut app = b"tls-server-end-point:".to_vec();
    app.extend_from_slice(&hash);
    let mut md5 = md5::Md5::new();
    md5.update([0u8; 16]);
    md5.update(u32::try_from(app.len()).unwrap_or(u32::MAX).to_le_bytes());
    md5.update(&app);
    md5.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_certificates_chain_to_the_ca_and_bind() {
        let ca = LabCa::generate().unwrap();
        assert!(ca.pem().starts_with("-----BEGIN CERTIFICATE-----"));
        let host = ca.issue("WS-001", Ipv4Addr::new(127, 69, 0, 1)).unwrap();
        assert_eq!(host.channel_binding, channel_binding(&host.cert_der));
        // A name that is no DNS name still gets a certificate (address only).
        assert!(
            ca.issue("bad name\u{7f}é", Ipv4Addr::new(127, 69, 0, 2))
                .is_ok()
        );
        // Two hosts: two certificates, two bindings.
        let other = ca.issue("WS-002", Ipv4Addr::new(127, 69, 0, 3)).unwrap();
        assert_ne!(other.channel_binding, host.channel_binding);
    }
}
