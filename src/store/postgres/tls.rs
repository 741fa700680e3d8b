//! TLS to PostgreSQL as libpq does it: `sslmode` and `sslrootcert` from `DATABASE_URL`, over rustls.
//!
//! `DATABASE_CA_CERT` holds the text of a `sslrootcert` file (for platforms that give a managed
//! database's CA as a variable, not a file: DigitalOcean's `${db.CA_CERT}`) and acts exactly as
//! `sslrootcert` would; below, "`sslrootcert`" means either. Giving both is refused: which one was
//! meant cannot be guessed. Writing the text to a temporary file for `sslrootcert` was the
//! rejected alternative: a file to create, protect and remove, for certificates that are parsed
//! once at the start anyway.
//!
//! | `sslmode` | encrypted | certificate checked |
//! |---|---|---|
//! | `disable` | never | - |
//! | `prefer` (default) | if the server offers TLS | its chain against `sslrootcert` if given, else not |
//! | `require` | always | the same |
//! | `verify-ca` | always | its chain, against `sslrootcert` or the system's CA bundle |
//! | `verify-full` | always | its chain and the host name, the same way |
//!
//! Without a root certificate, `prefer` and `require` encrypt but accept any certificate: that is
//! libpq's behaviour (it protects against eavesdropping, not against someone in the middle), and
//! what managed databases whose CA is private (DigitalOcean's) need to start from their URL alone.
//! `sslrootcert=system` is libpq 16's "the system's CA bundle", which implies `verify-full`.
//! Unlike libpq, `verify-*` without `sslrootcert` uses the system's bundle rather than
//! `~/.postgresql/root.crt`, and a `sslrootcert` file that cannot be read is an error in every
//! mode (libpq ignores a missing one below `verify-ca`): a file named in the URL was meant to be used.
//!
//! tokio-postgres's URL parser knows `sslmode=disable|prefer|require` only and refuses keys it does
//! not know, so [`take_params`] takes `sslrootcert` out of the URL and turns `verify-*` into
//! `require` (encrypt) before the rest goes to `Config`; the checks go into the rustls verifier.
//! Client certificates (`sslcert`, `sslkey`) are not supported and are refused by name.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, anyhow, bail};
use percent_encoding::percent_decode_str;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio_postgres_rustls::MakeRustlsConnect;

/// `sslmode`, with libpq's values (`allow` aside: "plain text first" has no use here).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl Mode {
    fn parse(value: &str) -> anyhow::Result<Mode> {
        Ok(match value {
            "disable" => Mode::Disable,
            "prefer" => Mode::Prefer,
            "require" => Mode::Require,
            "verify-ca" => Mode::VerifyCa,
            "verify-full" => Mode::VerifyFull,
            other => bail!(
                "DATABASE_URL: sslmode={other} is not supported (disable, prefer, require, verify-ca or verify-full)"
            ),
        })
    }

    fn name(self) -> &'static str {
        match self {
            Mode::Disable => "disable",
            Mode::Prefer => "prefer",
            Mode::Require => "require",
            Mode::VerifyCa => "verify-ca",
            Mode::VerifyFull => "verify-full",
        }
    }
}

/// Where trusted root certificates come from (`sslrootcert`, `DATABASE_CA_CERT`).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Roots {
    /// `sslrootcert=system`, or `verify-*` without `sslrootcert`: the system's CA bundle.
    System,
    /// A PEM file of one or more certificates.
    File(PathBuf),
    /// The certificates of `DATABASE_CA_CERT`'s PEM text (at least one).
    Text(Vec<CertificateDer<'static>>),
}

/// What the URL asked of TLS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Request {
    mode: Mode,
    /// `None`: any certificate is accepted (`prefer` and `require` without `sslrootcert`).
    roots: Option<Roots>,
}

/// Takes the TLS parameters out of a `postgres://` URL: returns the URL that tokio-postgres's
/// `Config` accepts (`sslrootcert` removed, `verify-*` as `require`) and what was asked.
/// `ca_cert` is `DATABASE_CA_CERT`, PEM text that stands for a `sslrootcert` file; an empty one
/// counts as not given (a platform variable bound to nothing).
pub(super) fn take_params(url: &str, ca_cert: Option<&str>) -> anyhow::Result<(String, Request)> {
    let ca_cert = ca_cert.filter(|pem| !pem.trim().is_empty()).map(parse_ca_cert).transpose()?;
    // The query starts after the credentials, which tokio-postgres reads up to the first `@`:
    // a password may hold a `?`.
    let scheme = url.find("://").map_or(0, |i| i + 3);
    let host = url[scheme..].find('@').map_or(scheme, |i| scheme + i + 1);
    let (base, query) = match (url[host..].find('?'), &ca_cert) {
        (Some(i), _) => (&url[..host + i], &url[host + i + 1..]),
        (None, Some(_)) => (url, ""),
        (None, None) => return Ok((url.to_owned(), Request { mode: Mode::Prefer, roots: None })),
    };
    let (mut mode, mut root_cert) = (None, None);
    let mut kept = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let decoded = || -> anyhow::Result<String> {
            Ok(percent_decode_str(value)
                .decode_utf8()
                .map_err(|_| anyhow!("DATABASE_URL: {key} is not valid UTF-8"))?
                .into_owned())
        };
        match key {
            "sslmode" => mode = Some(Mode::parse(&decoded()?)?),
            "sslrootcert" => root_cert = Some(decoded()?).filter(|v| !v.is_empty()),
            "sslcert" | "sslkey" | "sslpassword" | "sslcrl" | "sslcrldir" => {
                bail!(
                    "DATABASE_URL: {key} is not supported (warroom does not use client certificates or CRLs)"
                )
            }
            _ => kept.push(pair),
        }
    }
    let roots = match (root_cert.as_deref(), ca_cert) {
        (Some(_), Some(_)) => bail!(
            "DATABASE_CA_CERT and the sslrootcert of DATABASE_URL are both set: give the CA \
             certificate one way only (DATABASE_CA_CERT holds the text of a sslrootcert file)"
        ),
        (None, Some(certs)) => Some(Roots::Text(certs)),
        (None, None) => None,
        (Some("system"), None) => Some(Roots::System),
        (Some(path), None) => Some(Roots::File(PathBuf::from(path))),
    };
    let mode = match (mode, &roots) {
        // libpq 16: the system's bundle is for verifying names; weaker modes are refused.
        (None, Some(Roots::System)) => Mode::VerifyFull,
        (Some(mode), Some(Roots::System)) if mode != Mode::VerifyFull => {
            bail!("DATABASE_URL: sslrootcert=system needs sslmode=verify-full, not sslmode={}", mode.name())
        }
        (mode, _) => mode.unwrap_or(Mode::Prefer),
    };
    let roots = match mode {
        Mode::Disable => None,
        Mode::Prefer | Mode::Require => roots,
        Mode::VerifyCa | Mode::VerifyFull => roots.or(Some(Roots::System)),
    };
    // What tokio-postgres does with the socket: the checks are the verifier's.
    let encrypt = match mode {
        Mode::Disable => "disable",
        Mode::Prefer => "prefer",
        Mode::Require | Mode::VerifyCa | Mode::VerifyFull => "require",
    };
    let sslmode = format!("sslmode={encrypt}");
    kept.push(&sslmode);
    Ok((format!("{base}?{}", kept.join("&")), Request { mode, roots }))
}

/// The certificates of `DATABASE_CA_CERT`: PEM text holding at least one `CERTIFICATE` block
/// (other blocks, such as a key pasted along, are skipped as in a `sslrootcert` file).
fn parse_ca_cert(pem: &str) -> anyhow::Result<Vec<CertificateDer<'static>>> {
    let certs = CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| anyhow!("DATABASE_CA_CERT is not valid PEM: {e}"))?;
    if certs.is_empty() {
        bail!(
            "DATABASE_CA_CERT holds no PEM certificate (expected the text of the CA's .pem file, \
             from -----BEGIN CERTIFICATE----- to -----END CERTIFICATE-----)"
        );
    }
    Ok(certs)
}

/// The connector every connection of the store is opened with (writer, readers, reconnects).
#[derive(Clone)]
pub(super) struct Tls {
    pub(super) connector: MakeRustlsConnect,
    /// For messages, e.g. "TLS, certificate and host name checked against /etc/ca.pem".
    summary: String,
}

impl fmt::Display for Tls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.summary)
    }
}

impl Request {
    /// Loads the root certificates, if any, and builds the rustls configuration (ring provider).
    pub(super) fn connector(&self) -> anyhow::Result<Tls> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .context("configuring TLS")?;
        let (config, checked) = match &self.roots {
            None => {
                let verifier = AnyCertificate(provider.signature_verification_algorithms);
                let config = builder
                    .dangerous()
                    .with_custom_certificate_verifier(Arc::new(verifier))
                    .with_no_client_auth();
                (config, "certificate not verified".to_owned())
            }
            Some(roots) => {
                let store = Arc::new(load(roots)?);
                let webpki = WebPkiServerVerifier::builder_with_provider(store, provider)
                    .build()
                    .context("configuring TLS certificate verification")?;
                let against = match roots {
                    Roots::System => "the system's CA bundle".to_owned(),
                    Roots::File(path) => path.display().to_string(),
                    Roots::Text(_) => "DATABASE_CA_CERT".to_owned(),
                };
                if self.mode == Mode::VerifyFull {
                    let config = builder.with_webpki_verifier(webpki).with_no_client_auth();
                    (config, format!("certificate and host name checked against {against}"))
                } else {
                    let verifier = AnyName(webpki);
                    let config = builder
                        .dangerous()
                        .with_custom_certificate_verifier(Arc::new(verifier))
                        .with_no_client_auth();
                    (config, format!("certificate checked against {against}, host name not checked"))
                }
            }
        };
        let summary = match self.mode {
            Mode::Disable => "without TLS (sslmode=disable)".to_owned(),
            Mode::Prefer => format!("TLS when the server offers it, {checked} (sslmode=prefer)"),
            mode => format!("TLS, {checked} (sslmode={})", mode.name()),
        };
        Ok(Tls { connector: MakeRustlsConnect::new(config), summary })
    }
}

fn load(roots: &Roots) -> anyhow::Result<RootCertStore> {
    let mut store = RootCertStore::empty();
    match roots {
        Roots::System => {
            let found = rustls_native_certs::load_native_certs();
            let (added, _) = store.add_parsable_certificates(found.certs);
            if added == 0 {
                let why = found.errors.first().map(|e| format!(": {e}")).unwrap_or_default();
                bail!(
                    "no CA certificate found in the system's CA bundle{why} (set sslrootcert=/path/ca.pem)"
                );
            }
        }
        Roots::File(path) => {
            let shown = path.display();
            let certs = CertificateDer::pem_file_iter(path)
                .with_context(|| format!("reading sslrootcert {shown}"))?
                .collect::<Result<Vec<_>, _>>()
                .with_context(|| format!("reading sslrootcert {shown}"))?;
            for cert in certs {
                store
                    .add(cert)
                    .with_context(|| format!("sslrootcert {shown} holds an unusable certificate"))?;
            }
            if store.is_empty() {
                bail!("sslrootcert {shown} holds no PEM certificate");
            }
        }
        Roots::Text(certs) => {
            for cert in certs {
                store.add(cert.clone()).context("DATABASE_CA_CERT holds an unusable certificate")?;
            }
        }
    }
    Ok(store)
}

/// Accepts any certificate, but still checks that the server holds its key (the handshake's
/// signature): encryption without authentication, as libpq's `require` without a root certificate.
#[derive(Debug)]
struct AnyCertificate(WebPkiSupportedAlgorithms);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_schemes()
    }
}

/// `verify-ca`: the chain must lead to a trusted root, whatever name the certificate is for.
/// webpki checks the name only once the chain is good, so a name error alone means "trusted".
#[derive(Debug)]
struct AnyName(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for AnyName {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self.0.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now) {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn take(url: &str) -> (String, Request) {
        take_params(url, None).unwrap()
    }

    /// A self-signed CA made for these tests (`openssl req -x509`, P-256, valid until 2126).
    const CA_PEM: &str = "\
-----BEGIN CERTIFICATE-----
MIIBlTCCATugAwIBAgIUb8TfmBEtoU6XL4LGeHpxFRSGexgwCgYIKoZIzj0EAwIw
HzEdMBsGA1UEAwwUd2Fycm9vbSB1bml0IHRlc3QgQ0EwIBcNMjYxMTIyMDMxMjAy
WhgPMjEyNjEwMjkwMzEyMDJaMB8xHTAbBgNVBAMMFHdhcnJvb20gdW5pdCB0ZXN0
IENBMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEHjVoJLGmi1gv8RyklS6sLVnz
gYrTUsaA7YPw+tT1DENdLDhPlZD/xJz09NBg0/xJMlskL9vZlz5kImh2olqyOqNT
MFEwHQYDVR0OBBYEFJUlaNfLgJL7XS01LdtU5kWq1aQiMB8GA1UdIwQYMBaAFJUl
aNfLgJL7XS01LdtU5kWq1aQiMA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwID
SAAwRQIhAO42unN5SfUbuMWMDDDpLREPr+HPxgrSLO03rsDXDtraAiAz7ufVjmiB
+repzHvO9ymlGrbRHYbiov4CpfST9+tJmg==
-----END CERTIFICATE-----
";

    fn take_with_ca(url: &str, ca_cert: &str) -> anyhow::Result<(String, Request)> {
        take_params(url, Some(ca_cert))
    }

    #[test]
    fn without_parameters_the_url_is_unchanged_and_tls_is_preferred_unverified() {
        let (url, request) = take("postgres://u@db/board");
        assert_eq!(url, "postgres://u@db/board");
        assert_eq!(request, Request { mode: Mode::Prefer, roots: None });
    }

    #[test]
    fn require_encrypts_without_verification_and_keeps_the_other_parameters() {
        let (url, request) = take("postgres://u:p@db:25060/board?application_name=x&sslmode=require");
        assert_eq!(url, "postgres://u:p@db:25060/board?application_name=x&sslmode=require");
        assert_eq!(request, Request { mode: Mode::Require, roots: None });
    }

    #[test]
    fn verify_full_becomes_require_for_tokio_postgres_and_the_root_file_leaves_the_url() {
        let (url, request) = take(
            "postgres://u@db/board?sslmode=verify-full&sslrootcert=%2Fetc%2Fmy%20ca.pem&connect_timeout=3",
        );
        assert_eq!(url, "postgres://u@db/board?connect_timeout=3&sslmode=require");
        assert_eq!(
            request,
            Request { mode: Mode::VerifyFull, roots: Some(Roots::File("/etc/my ca.pem".into())) }
        );
    }

    #[test]
    fn a_question_mark_in_the_password_is_not_the_query() {
        let (url, request) = take("postgres://u:p?w@db/board?sslmode=require");
        assert_eq!(url, "postgres://u:p?w@db/board?sslmode=require");
        assert_eq!(request.mode, Mode::Require);
        assert_eq!(take("postgres://u:p?w@db/board").1.mode, Mode::Prefer);
    }

    #[test]
    fn verify_modes_without_a_root_file_use_the_system_bundle() {
        assert_eq!(take("postgres://db/b?sslmode=verify-ca").1.roots, Some(Roots::System));
        assert_eq!(take("postgres://db/b?sslrootcert=system").1.mode, Mode::VerifyFull);
        let refused = take_params("postgres://db/b?sslrootcert=system&sslmode=require", None).unwrap_err();
        assert!(refused.to_string().contains("verify-full"), "{refused}");
    }

    #[test]
    fn require_with_a_root_file_checks_the_chain_and_disable_ignores_it() {
        let (_, request) = take("postgres://db/b?sslrootcert=/ca.pem&sslmode=require");
        assert_eq!(request.roots, Some(Roots::File("/ca.pem".into())));
        assert_eq!(take("postgres://db/b?sslmode=disable&sslrootcert=/ca.pem").1.roots, None);
    }

    #[test]
    fn unsupported_modes_and_client_certificates_are_refused_by_name() {
        let bogus = take_params("postgres://db/b?sslmode=allow", None).unwrap_err().to_string();
        assert!(bogus.contains("sslmode=allow") && bogus.contains("verify-full"), "{bogus}");
        let cert = take_params("postgres://db/b?sslcert=/me.pem", None).unwrap_err().to_string();
        assert!(cert.contains("sslcert"), "{cert}");
    }

    #[test]
    fn a_root_file_that_cannot_be_read_is_an_error_naming_it() {
        let request = Request { mode: Mode::Require, roots: Some(Roots::File("/nonexistent/ca.pem".into())) };
        let error = format!("{:#}", request.connector().err().expect("refused"));
        assert!(error.contains("/nonexistent/ca.pem"), "{error}");
    }

    #[test]
    fn the_summary_says_whether_the_certificate_is_checked() {
        let unverified = Request { mode: Mode::Require, roots: None }.connector().unwrap();
        assert_eq!(unverified.to_string(), "TLS, certificate not verified (sslmode=require)");
    }

    #[test]
    fn the_ca_cert_text_becomes_the_roots_as_a_root_file_would() {
        let (url, request) = take_with_ca("postgres://u@db/b?sslmode=verify-full", CA_PEM).unwrap();
        assert_eq!(url, "postgres://u@db/b?sslmode=require");
        assert_eq!(request.mode, Mode::VerifyFull);
        let Some(Roots::Text(certs)) = &request.roots else { panic!("{request:?}") };
        assert_eq!(certs.len(), 1);
        let tls = request.connector().unwrap();
        assert_eq!(
            tls.to_string(),
            "TLS, certificate and host name checked against DATABASE_CA_CERT (sslmode=verify-full)"
        );

        // Several certificates (a bundle), with CRLF line ends, are all kept.
        let bundle = format!("{CA_PEM}\n{CA_PEM}").replace('\n', "\r\n");
        let (_, request) = take_with_ca("postgres://db/b?sslmode=verify-ca", &bundle).unwrap();
        assert!(matches!(&request.roots, Some(Roots::Text(certs)) if certs.len() == 2), "{request:?}");
    }

    #[test]
    fn with_the_ca_cert_text_require_and_prefer_check_the_chain_and_disable_ignores_it() {
        let (_, request) = take_with_ca("postgres://db/b?sslmode=require", CA_PEM).unwrap();
        assert!(matches!(request.roots, Some(Roots::Text(_))), "{request:?}");
        assert_eq!(
            request.connector().unwrap().to_string(),
            "TLS, certificate checked against DATABASE_CA_CERT, host name not checked (sslmode=require)"
        );
        // No query at all: `prefer`, which tokio-postgres is then told explicitly.
        let (url, request) = take_with_ca("postgres://u:p?w@db/b", CA_PEM).unwrap();
        assert_eq!(url, "postgres://u:p?w@db/b?sslmode=prefer");
        assert_eq!(request.mode, Mode::Prefer);
        assert!(matches!(request.roots, Some(Roots::Text(_))), "{request:?}");
        let (_, request) = take_with_ca("postgres://db/b?sslmode=disable", CA_PEM).unwrap();
        assert_eq!(request.roots, None);
    }

    #[test]
    fn an_empty_ca_cert_counts_as_not_given() {
        assert_eq!(take_with_ca("postgres://u@db/b", " \n").unwrap(), take("postgres://u@db/b"));
    }

    #[test]
    fn the_ca_cert_text_and_a_root_file_together_are_refused() {
        for url in
            ["postgres://db/b?sslrootcert=/ca.pem", "postgres://db/b?sslmode=verify-full&sslrootcert=system"]
        {
            let error = take_with_ca(url, CA_PEM).unwrap_err().to_string();
            assert!(error.contains("DATABASE_CA_CERT") && error.contains("sslrootcert"), "{error}");
        }
    }

    #[test]
    fn ca_cert_text_without_a_certificate_is_an_error_naming_the_setting() {
        let not_pem = [
            "/etc/ssl/certs/ca.pem",
            "MIIBlTCCATugAwIBAgIUb8TfmBEtoU6X",
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        ];
        for text in not_pem {
            let error = take_with_ca("postgres://db/b?sslmode=require", text).unwrap_err().to_string();
            assert!(error.contains("DATABASE_CA_CERT holds no PEM certificate"), "{text}: {error}");
        }
        // Cut short: a BEGIN without its END.
        let cut = &CA_PEM[..CA_PEM.len() - 30];
        let error = take_with_ca("postgres://db/b", cut).unwrap_err().to_string();
        assert!(error.contains("DATABASE_CA_CERT is not valid PEM"), "{error}");
        // Well-formed PEM whose content is not a certificate: refused when the roots are built,
        // which is still at the start, before any connection.
        let junk = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        let (_, request) = take_with_ca("postgres://db/b?sslmode=verify-full", junk).unwrap();
        let error = format!("{:#}", request.connector().err().expect("refused"));
        assert!(error.contains("DATABASE_CA_CERT holds an unusable certificate"), "{error}");
    }
}
