//! TLS and mutual TLS from settings (rustls): the server side of every listener, and the client
//! side of the calls between the services.

use std::path::{Path, PathBuf};
use std::time::Duration;

use tonic::transport::{
    Certificate, Channel, ClientTlsConfig, Endpoint, Identity, ServerTlsConfig,
};

use crate::settings::TlsSettings;

/// Why TLS cannot be set up from the settings.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("`tls.cert_file` and `tls.key_file` go together")]
    HalfIdentity,
    #[error("`tls.client_ca_file` needs `tls.cert_file` and `tls.key_file`")]
    ClientCaWithoutIdentity,
    #[error("bad service url {url:?}: {reason}")]
    Url { url: String, reason: String },
    #[error("TLS: {0}")]
    Transport(#[from] tonic::transport::Error),
}

/// How long a client may take over the TLS handshake: without a bound, a client that connects
/// and says nothing holds a handshake open for ever.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Chooses rustls' crypto provider for the process, once. Several of our dependencies enable
/// rustls with different providers (ring here, aws-lc-rs for the S3 client), and rustls then
/// refuses to guess; picking one explicitly before any TLS is set up settles it.
pub fn install_crypto_provider() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // An error means a provider is already installed, which is as good.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read {
        path: path.to_owned(),
        source,
    })
}

fn identity(settings: &TlsSettings) -> Result<Option<Identity>, TlsError> {
    match (&settings.cert_file, &settings.key_file) {
        (Some(cert), Some(key)) => Ok(Some(Identity::from_pem(read(cert)?, read(key)?))),
        (None, None) => Ok(None),
        (Some(_), None) | (None, Some(_)) => Err(TlsError::HalfIdentity),
    }
}

/// The server TLS of every listener, or `None` for plaintext. With `client_ca_file`, clients
/// must present a certificate that CA signed.
pub fn server_config(settings: &TlsSettings) -> Result<Option<ServerTlsConfig>, TlsError> {
    install_crypto_provider();
    let Some(identity) = identity(settings)? else {
        return match settings.client_ca_file {
            Some(_) => Err(TlsError::ClientCaWithoutIdentity),
            None => Ok(None),
        };
    };
    let mut config = ServerTlsConfig::new()
        .identity(identity)
        .timeout(HANDSHAKE_TIMEOUT);
    if let Some(ca) = &settings.client_ca_file {
        config = config.client_ca_root(Certificate::from_pem(read(ca)?));
    }
    Ok(Some(config))
}

/// A channel to another service at `url`, connecting when first used. `https://` URLs use TLS,
/// trusting `ca_file` and presenting this service's certificate for mutual TLS.
pub fn channel(url: &str, settings: &TlsSettings) -> Result<Channel, TlsError> {
    Ok(endpoint(url, settings)?
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(30))
        .connect_lazy())
}

/// The endpoint [`channel`] connects to, with its TLS but no timeouts, for a client whose calls
/// may rightly last long (a large upload: a request timeout would cut it).
pub fn endpoint(url: &str, settings: &TlsSettings) -> Result<Endpoint, TlsError> {
    install_crypto_provider();
    let mut endpoint = Channel::from_shared(url.to_owned()).map_err(|e| TlsError::Url {
        url: url.to_owned(),
        reason: e.to_string(),
    })?;
    if url.starts_with("https://") {
        let mut tls = ClientTlsConfig::new();
        if let Some(ca) = &settings.ca_file {
            tls = tls.ca_certificate(Certificate::from_pem(read(ca)?));
        }
        if let Some(identity) = identity(settings)? {
            tls = tls.identity(identity);
        }
        endpoint = endpoint.tls_config(tls)?;
    }
    Ok(endpoint)
}
