//! A local RFC 3161 time-stamping authority for tests: `openssl ts -reply` behind a tiny HTTP
//! responder, with a CA (EC P-256) and a TSA certificate (RSA, critical EKU timeStamping) made by
//! openssl in a temporary directory. It can be taken down (it answers 503) and brought back.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The policy the authority stamps under by default.
pub const TSA_POLICY: &str = "1.2.3.4.1";

/// A running authority; stops when dropped.
#[derive(Debug)]
pub struct TestTsa {
    pub addr: SocketAddr,
    dir: tempfile::TempDir,
    up: Arc<AtomicBool>,
    answered: Arc<AtomicUsize>,
    refused: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TestTsa {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Runs `openssl` with `args` in `dir`; panics with its error output when it fails.
pub fn openssl(dir: &Path, args: &[&str]) -> std::process::Output {
    let output = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("openssl runs");
    assert!(
        output.status.success(),
        "openssl {args:?}: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

impl TestTsa {
    /// Makes the certificates and starts answering on a free loopback port, up when `up`.
    pub async fn start(up: bool) -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path();
        openssl(
            path,
            &[
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-keyout",
                "ca.key",
                "-out",
                "ca.crt",
                "-days",
                "30",
                "-subj",
                "/CN=Docket Test TSA Root",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
            ],
        );
        openssl(
            path,
            &[
                "req",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                "tsa.key",
                "-out",
                "tsa.csr",
                "-subj",
                "/CN=Docket Test TSA",
            ],
        );
        std::fs::write(
            path.join("tsa.ext"),
            "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n\
             extendedKeyUsage=critical,timeStamping\n",
        )
        .expect("the extensions file is written");
        openssl(
            path,
            &[
                "x509",
                "-req",
                "-in",
                "tsa.csr",
                "-CA",
                "ca.crt",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                "tsa.crt",
                "-days",
                "30",
                "-extfile",
                "tsa.ext",
            ],
        );
        std::fs::write(path.join("serial"), "01\n").expect("the serial file is written");
        // `certs` names the signer's own certificate again, as some authorities do: the token
        // then carries it twice, which a strict DER `SET OF` reader refuses.
        let dir_text = path.display();
        std::fs::write(
            path.join("tsa.cnf"),
            format!(
                "[ tsa ]\ndefault_tsa = tsa_config\n\n[ tsa_config ]\ndir = {dir_text}\n\
                 serial = $dir/serial\ncrypto_device = builtin\nsigner_cert = $dir/tsa.crt\n\
                 certs = $dir/tsa.crt\nsigner_key = $dir/tsa.key\nsigner_digest = sha256\n\
                 default_policy = {TSA_POLICY}\nother_policies = 1.2.3.4.5\n\
                 digests = sha256, sha384, sha512\naccuracy = secs:1, millisecs:500\n\
                 clock_precision_digits = 3\nordering = yes\ntsa_name = yes\n\
                 ess_cert_id_chain = no\ness_cert_id_alg = sha256\n"
            ),
        )
        .expect("the TSA configuration is written");
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port");
        let addr = listener.local_addr().expect("its address");
        let up = Arc::new(AtomicBool::new(up));
        let answered = Arc::new(AtomicUsize::new(0));
        let refused = Arc::new(AtomicUsize::new(0));
        let task = tokio::spawn(serve(
            listener,
            path.to_owned(),
            Arc::clone(&up),
            Arc::clone(&answered),
            Arc::clone(&refused),
        ));
        Self {
            addr,
            dir,
            up,
            answered,
            refused,
            task,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}/tsr", self.addr)
    }

    /// The CA the TSA certificate chains to (PEM).
    pub fn ca_file(&self) -> PathBuf {
        self.dir.path().join("ca.crt")
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn set_up(&self, up: bool) {
        self.up.store(up, Ordering::SeqCst);
    }

    /// Queries answered with a token, and refused while down.
    pub fn counts(&self) -> (usize, usize) {
        (
            self.answered.load(Ordering::SeqCst),
            self.refused.load(Ordering::SeqCst),
        )
    }
}

async fn serve(
    listener: TcpListener,
    dir: PathBuf,
    up: Arc<AtomicBool>,
    answered: Arc<AtomicUsize>,
    refused: Arc<AtomicUsize>,
) {
    let mut serial = 0u64;
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            return;
        };
        serial += 1;
        let (dir, up, answered, refused) = (
            dir.clone(),
            Arc::clone(&up),
            Arc::clone(&answered),
            Arc::clone(&refused),
        );
        tokio::spawn(async move {
            if let Err(error) = answer(stream, &dir, serial, &up, &answered, &refused).await {
                eprintln!("test TSA: {error}");
            }
        });
    }
}

/// Reads one HTTP request and answers it, closing the connection.
async fn answer(
    mut stream: TcpStream,
    dir: &Path,
    serial: u64,
    up: &AtomicBool,
    answered: &AtomicUsize,
    refused: &AtomicUsize,
) -> std::io::Result<()> {
    let mut request = Vec::new();
    let mut buffer = [0u8; 4096];
    let body_start = loop {
        let read = stream.read(&mut buffer).await?;
        if read == 0 {
            return Ok(());
        }
        request.extend_from_slice(&buffer[..read]);
        if let Some(end) = request.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
    };
    let head = String::from_utf8_lossy(&request[..body_start]).to_ascii_lowercase();
    let length: usize = head
        .lines()
        .find_map(|line| line.strip_prefix("content-length:"))
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or(0);
    while request.len() < body_start + length {
        let read = stream.read(&mut buffer).await?;
        if read == 0 {
            break;
        }
        request.extend_from_slice(&buffer[..read]);
    }
    if !up.load(Ordering::SeqCst) {
        refused.fetch_add(1, Ordering::SeqCst);
        return stream
            .write_all(
                b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            )
            .await;
    }
    let query = dir.join(format!("query-{serial}.tsq"));
    let reply = dir.join(format!("reply-{serial}.tsr"));
    std::fs::write(&query, &request[body_start..body_start + length])?;
    let output = tokio::process::Command::new("openssl")
        .current_dir(dir)
        .args(["ts", "-reply", "-config", "tsa.cnf", "-queryfile"])
        .arg(&query)
        .arg("-out")
        .arg(&reply)
        .output()
        .await?;
    if !output.status.success() {
        eprintln!(
            "test TSA: openssl ts -reply failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        return stream
            .write_all(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            .await;
    }
    let body = std::fs::read(&reply)?;
    answered.fetch_add(1, Ordering::SeqCst);
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/timestamp-reply\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(&body).await?;
    stream.shutdown().await
}
