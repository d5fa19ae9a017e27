//! RFC 3161 on the wire: the time-stamp query, the authority's reply, and the verification of a
//! token against the certificate authorities an operator trusts.
//!
//! A token is a CMS `SignedData` (RFC 5652) whose content is a `TSTInfo`. Verifying one means
//! (RFC 3161 §2.4.2, RFC 5816):
//! - the `TSTInfo`'s message imprint is the SHA-256 asked about, and its nonce the one sent;
//! - its policy is the one asked for, when one was;
//! - the signed attributes name `id-ct-TSTInfo` as content type, carry the digest of the
//!   `TSTInfo` as message digest, and an `ESSCertIDv2` (`signingCertificateV2`) whose hash is
//!   that of the certificate that signed;
//! - the signature over the signed attributes verifies with that certificate's key;
//! - that certificate's only extended key usage is `timeStamping`, marked critical, and it was
//!   valid at the time stamped;
//! - it chains, through certificates carried in the token, to one of the trusted authorities,
//!   every signature of the chain verifying and every certificate valid at that time.
//!
//! Revocation (CRL, OCSP) is not checked. `TSTInfo` is read field by field rather than with a
//! derived type: der 0.7's `GeneralizedTime` refuses fractional seconds, which many authorities
//! send.

use chrono::{DateTime, NaiveDate, Utc};
use cms::content_info::ContentInfo;
use cms::signed_data::{EncapsulatedContentInfo, SignerIdentifier, SignerInfo};
use der::asn1::{Any, AnyRef, ObjectIdentifier, OctetString, SetOfVec, Uint};
use der::{Decode, Encode, Reader, Sequence, SliceReader, Tag, Tagged};
use x509_cert::Certificate;
use x509_cert::ext::pkix::{BasicConstraints, ExtendedKeyUsage};
use x509_cert::spki::AlgorithmIdentifierOwned;

const ID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
const ID_CT_TST_INFO: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.1.4");
const ID_CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
const ID_MESSAGE_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
const ID_SIGNING_CERTIFICATE_V2: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.47");
const ID_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const ID_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.2");
const ID_SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.3");
const ID_RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const ID_SHA256_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
const ID_SHA384_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.12");
const ID_SHA512_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.13");
const ID_EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const ID_ECDSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const ID_ECDSA_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");
const ID_P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const ID_P384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
const ID_KP_TIME_STAMPING: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.8");
const ID_CE_EXT_KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.37");
const ID_CE_BASIC_CONSTRAINTS: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.19");

/// Certificates between the authority's and a trusted one, at most.
const MAX_CHAIN: usize = 6;

/// `MessageImprint ::= SEQUENCE { hashAlgorithm AlgorithmIdentifier, hashedMessage OCTET STRING }`
#[derive(Debug, Clone, Sequence)]
struct MessageImprint {
    hash_algorithm: AlgorithmIdentifierOwned,
    hashed_message: OctetString,
}

/// `TimeStampReq` (RFC 3161 §2.4.1), without extensions.
#[derive(Debug, Clone, Sequence)]
struct TimeStampReq {
    version: u8,
    message_imprint: MessageImprint,
    #[asn1(optional = "true")]
    req_policy: Option<ObjectIdentifier>,
    #[asn1(optional = "true")]
    nonce: Option<Uint>,
    cert_req: bool,
}

/// `ESSCertIDv2` (RFC 5035): the hash of the signing certificate.
#[derive(Debug, Clone, Sequence)]
struct EssCertIdV2 {
    #[asn1(optional = "true")]
    hash_algorithm: Option<AlgorithmIdentifierOwned>,
    cert_hash: OctetString,
    #[asn1(optional = "true")]
    issuer_serial: Option<Any>,
}

/// `SigningCertificateV2 ::= SEQUENCE { certs SEQUENCE OF ESSCertIDv2, policies … OPTIONAL }`
#[derive(Debug, Clone, Sequence)]
struct SigningCertificateV2 {
    certs: Vec<EssCertIdV2>,
    #[asn1(optional = "true")]
    policies: Option<Any>,
}

/// CMS `SignedData` (RFC 5652 §5.1), read leniently where authorities are known to stray from
/// DER: the certificate set is read as a sequence (a TSA that includes its own certificate twice
/// would break a strict `SET OF`), and the CRLs are not read.
#[derive(Debug, Clone, Sequence)]
struct SignedData {
    version: u8,
    digest_algorithms: Any,
    encap_content_info: EncapsulatedContentInfo,
    #[asn1(
        context_specific = "0",
        tag_mode = "IMPLICIT",
        constructed = "true",
        optional = "true"
    )]
    certificates: Option<Vec<Any>>,
    #[asn1(
        context_specific = "1",
        tag_mode = "IMPLICIT",
        constructed = "true",
        optional = "true"
    )]
    crls: Option<Vec<Any>>,
    signer_infos: SetOfVec<SignerInfo>,
}

/// A query for a timestamp of a SHA-256, with the nonce it carries.
#[derive(Debug, Clone)]
pub struct Query {
    pub der: Vec<u8>,
    /// The nonce, big-endian without leading zeros.
    pub nonce: Vec<u8>,
}

/// Builds the query for `sha256` under `policy`, with a fresh random 64-bit nonce; asks for the
/// authority's certificate in the token, so that it can be verified offline later.
pub fn query(sha256: &[u8; 32], policy: Option<&str>) -> Result<Query, String> {
    let mut nonce = [0u8; 8];
    getrandom::fill(&mut nonce).map_err(|error| format!("no randomness for a nonce: {error}"))?;
    nonce[0] |= 0x40; // never a short nonce
    let policy = policy
        .map(|text| {
            ObjectIdentifier::new(text)
                .map_err(|_| format!("the TSA policy `{text}` is not a dotted OID"))
        })
        .transpose()?;
    let request = TimeStampReq {
        version: 1,
        message_imprint: MessageImprint {
            hash_algorithm: AlgorithmIdentifierOwned {
                oid: ID_SHA256,
                parameters: Some(Any::null()),
            },
            hashed_message: OctetString::new(sha256.to_vec()).map_err(|e| e.to_string())?,
        },
        req_policy: policy,
        nonce: Some(Uint::new(&nonce).map_err(|e| e.to_string())?),
        cert_req: true,
    };
    Ok(Query {
        der: request.to_der().map_err(|e| e.to_string())?,
        nonce: nonce.to_vec(),
    })
}

/// The token of an authority's reply, or why there is none.
pub fn token_of_reply(reply: &[u8]) -> Result<Vec<u8>, String> {
    let outer = AnyRef::from_der(reply).map_err(|e| format!("not a TimeStampResp: {e}"))?;
    outer
        .sequence(|r| {
            let status_info = AnyRef::decode(r)?;
            let status = status_info.sequence(|s| {
                let status = u8::decode(s)?;
                while !s.is_finished() {
                    AnyRef::decode(s)?;
                }
                Ok(status)
            })?;
            let token = if r.is_finished() {
                None
            } else {
                Some(AnyRef::decode(r)?.to_der()?)
            };
            Ok((status, token))
        })
        .map_err(|e| format!("not a TimeStampResp: {e}"))
        .and_then(|(status, token)| match (status, token) {
            // granted, grantedWithMods
            (0 | 1, Some(token)) => Ok(token),
            (0 | 1, None) => Err("the authority granted no token".to_owned()),
            (2, _) => Err("the authority rejected the request".to_owned()),
            (3, _) => Err("the authority is waiting".to_owned()),
            (status, _) => Err(format!("the authority answered status {status}")),
        })
}

/// What a verified token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stamp {
    /// When the authority saw the hash.
    pub time: DateTime<Utc>,
    /// `genTime` as the authority wrote it.
    pub time_text: String,
    /// The policy it stamped under.
    pub policy: String,
    /// Its serial number for this token, in hex.
    pub serial: String,
    /// The signing certificate's subject.
    pub authority: String,
}

/// What a token must match.
#[derive(Debug, Clone, Copy)]
pub struct Expected<'a> {
    pub sha256: &'a [u8; 32],
    /// The nonce sent, big-endian.
    pub nonce: &'a [u8],
    pub policy: Option<&'a str>,
}

/// Verifies `token` (a DER `ContentInfo`) against `expected` and the `trusted` authorities; the
/// error says what failed.
pub fn verify(
    token: &[u8],
    expected: Expected<'_>,
    trusted: &[Certificate],
) -> Result<Stamp, String> {
    let info = ContentInfo::from_der(token).map_err(|e| format!("not a CMS ContentInfo: {e}"))?;
    if info.content_type != ID_SIGNED_DATA {
        return Err(format!(
            "content type {} is not SignedData",
            info.content_type
        ));
    }
    let signed: SignedData = info
        .content
        .decode_as()
        .map_err(|e| format!("not a SignedData: {e}"))?;
    if signed.encap_content_info.econtent_type != ID_CT_TST_INFO {
        return Err("the signed content is not a TSTInfo".to_owned());
    }
    let tst_info = signed
        .encap_content_info
        .econtent
        .as_ref()
        .filter(|content| content.tag() == Tag::OctetString)
        .map(|content| content.value().to_vec())
        .ok_or("the token carries no TSTInfo")?;
    let fields = read_tst_info(&tst_info)?;

    // The TSTInfo against the question.
    if fields.imprint.hash_algorithm.oid != ID_SHA256 {
        return Err(format!(
            "message imprint hashed with {}, not SHA-256",
            fields.imprint.hash_algorithm.oid
        ));
    }
    if fields.imprint.hashed_message.as_bytes() != expected.sha256 {
        return Err("message imprint mismatch: the token is for other bytes".to_owned());
    }
    match &fields.nonce {
        Some(nonce) if trim(nonce) == trim(expected.nonce) => {}
        Some(_) => return Err("nonce mismatch: the token answers another request".to_owned()),
        None => return Err("the token carries no nonce".to_owned()),
    }
    if let Some(policy) = expected.policy
        && fields.policy.to_string() != policy
    {
        return Err(format!(
            "policy {} instead of the configured {policy}",
            fields.policy
        ));
    }

    // The signer and its signed attributes.
    let signer = match signed.signer_infos.as_slice() {
        [signer] => signer,
        [] => return Err("the token has no signer".to_owned()),
        _ => return Err("the token has more than one signer".to_owned()),
    };
    let carried: Vec<Certificate> = signed
        .certificates
        .iter()
        .flatten()
        // Other certificate formats (attribute certificates, …) are not X.509 and are skipped.
        .filter(|choice| choice.tag() == Tag::Sequence)
        .filter_map(|choice| choice.decode_as::<Certificate>().ok())
        .collect();
    let signer_cert = find_signer(signer, &carried, trusted)?;
    let digest = digest_of(&signer.digest_alg.oid)?;
    let attrs = signer
        .signed_attrs
        .as_ref()
        .ok_or("the signer has no signed attributes")?;
    let attribute = |oid: ObjectIdentifier| -> Result<&Any, String> {
        let found: Vec<_> = attrs.iter().filter(|a| a.oid == oid).collect();
        match found.as_slice() {
            [one] if one.values.len() == 1 => one
                .values
                .iter()
                .next()
                .ok_or_else(|| format!("signed attribute {oid} has no value")),
            [] => Err(format!("signed attribute {oid} is missing")),
            _ => Err(format!("signed attribute {oid} is not single")),
        }
    };
    let content_type: ObjectIdentifier = attribute(ID_CONTENT_TYPE)?
        .decode_as()
        .map_err(|e| format!("content-type attribute: {e}"))?;
    if content_type != ID_CT_TST_INFO {
        return Err("the content-type attribute is not id-ct-TSTInfo".to_owned());
    }
    let message_digest: OctetString = attribute(ID_MESSAGE_DIGEST)?
        .decode_as()
        .map_err(|e| format!("message-digest attribute: {e}"))?;
    if message_digest.as_bytes() != ring::digest::digest(digest, &tst_info).as_ref() {
        return Err("message digest mismatch: the TSTInfo was altered".to_owned());
    }
    let signing_certificate: SigningCertificateV2 = attribute(ID_SIGNING_CERTIFICATE_V2)
        .map_err(|_| "no ESSCertIDv2 (signingCertificateV2) names the signing certificate")?
        .decode_as()
        .map_err(|e| format!("signingCertificateV2 attribute: {e}"))?;
    let cert_id = signing_certificate
        .certs
        .first()
        .ok_or("signingCertificateV2 names no certificate")?;
    let cert_digest = digest_of(
        &cert_id
            .hash_algorithm
            .as_ref()
            .map_or(ID_SHA256, |alg| alg.oid),
    )?;
    let signer_der = signer_cert.to_der().map_err(|e| e.to_string())?;
    if cert_id.cert_hash.as_bytes() != ring::digest::digest(cert_digest, &signer_der).as_ref() {
        return Err("ESSCertIDv2 names another certificate than the one that signed".to_owned());
    }
    let signed_bytes = attrs.to_der().map_err(|e| e.to_string())?;
    verify_signature(
        &signer_cert,
        &signer.signature_algorithm.oid,
        Some(&signer.digest_alg.oid),
        &signed_bytes,
        signer.signature.as_bytes(),
    )
    .map_err(|why| format!("signature does not verify: {why}"))?;

    // The authority's certificate and its chain, at the time stamped.
    let time = fields.time;
    check_time_stamping_usage(&signer_cert)?;
    chain_to_trusted(&signer_cert, &carried, trusted, time)?;
    Ok(Stamp {
        time,
        time_text: fields.time_text,
        policy: fields.policy.to_string(),
        serial: hex::encode(trim(&fields.serial)),
        authority: signer_cert.tbs_certificate.subject.to_string(),
    })
}

struct TstFields {
    policy: ObjectIdentifier,
    imprint: MessageImprint,
    serial: Vec<u8>,
    time: DateTime<Utc>,
    time_text: String,
    nonce: Option<Vec<u8>>,
}

/// `TSTInfo ::= SEQUENCE { version, policy, messageImprint, serialNumber, genTime, accuracy
/// OPTIONAL, ordering DEFAULT FALSE, nonce OPTIONAL, tsa [0] OPTIONAL, extensions [1] OPTIONAL }`
fn read_tst_info(bytes: &[u8]) -> Result<TstFields, String> {
    let outer = AnyRef::from_der(bytes).map_err(|e| format!("not a TSTInfo: {e}"))?;
    let (version, policy, imprint, serial, gen_time, nonce) = outer
        .sequence(|r: &mut SliceReader<'_>| {
            let version = u8::decode(r)?;
            let policy = ObjectIdentifier::decode(r)?;
            let imprint = MessageImprint::decode(r)?;
            let serial = AnyRef::decode(r)?;
            if serial.tag() != Tag::Integer {
                return Err(Tag::Integer.value_error());
            }
            let gen_time = AnyRef::decode(r)?;
            if gen_time.tag() != Tag::GeneralizedTime {
                return Err(Tag::GeneralizedTime.value_error());
            }
            let mut nonce = None;
            while !r.is_finished() {
                let field = AnyRef::decode(r)?;
                if field.tag() == Tag::Integer {
                    nonce = Some(field.value().to_vec());
                }
            }
            Ok((
                version,
                policy,
                imprint,
                serial.value().to_vec(),
                gen_time.value().to_vec(),
                nonce,
            ))
        })
        .map_err(|e| format!("not a TSTInfo: {e}"))?;
    if version != 1 {
        return Err(format!("TSTInfo version {version}"));
    }
    let time_text = String::from_utf8(gen_time).map_err(|_| "genTime is not text")?;
    let time = generalized_time(&time_text)?;
    Ok(TstFields {
        policy,
        imprint,
        serial,
        time,
        time_text,
        nonce,
    })
}

/// `YYYYMMDDHHMMSS[.f…]Z`, fractional seconds allowed (RFC 3161 §2.4.2).
fn generalized_time(text: &str) -> Result<DateTime<Utc>, String> {
    let bad = || format!("genTime `{text}` is not a UTC GeneralizedTime");
    let body = text.strip_suffix('Z').ok_or_else(bad)?;
    let (whole, fraction) = body.split_once('.').unwrap_or((body, ""));
    if whole.len() != 14
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !fraction.bytes().all(|b| b.is_ascii_digit())
        || (body.contains('.') && fraction.is_empty())
    {
        return Err(bad());
    }
    let number = |range: std::ops::Range<usize>| whole[range].parse::<u32>().map_err(|_| bad());
    let year = i32::try_from(number(0..4)?).map_err(|_| bad())?;
    let nanos = if fraction.is_empty() {
        0
    } else {
        let digits: String = fraction
            .chars()
            .chain(std::iter::repeat('0'))
            .take(9)
            .collect();
        digits.parse::<u32>().map_err(|_| bad())?
    };
    NaiveDate::from_ymd_opt(year, number(4..6)?, number(6..8)?)
        .and_then(|date| {
            date.and_hms_nano_opt(
                number(8..10).ok()?,
                number(10..12).ok()?,
                number(12..14).ok()?,
                nanos,
            )
        })
        .map(|naive| naive.and_utc())
        .ok_or_else(bad)
}

fn trim(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    &bytes[start..]
}

fn digest_of(oid: &ObjectIdentifier) -> Result<&'static ring::digest::Algorithm, String> {
    match *oid {
        ID_SHA256 => Ok(&ring::digest::SHA256),
        ID_SHA384 => Ok(&ring::digest::SHA384),
        ID_SHA512 => Ok(&ring::digest::SHA512),
        other => Err(format!("digest algorithm {other} is not supported")),
    }
}

/// The certificate `signer` names, among those carried in the token and the trusted ones.
fn find_signer(
    signer: &SignerInfo,
    carried: &[Certificate],
    trusted: &[Certificate],
) -> Result<Certificate, String> {
    carried
        .iter()
        .chain(trusted)
        .find(|cert| match &signer.sid {
            SignerIdentifier::IssuerAndSerialNumber(id) => {
                cert.tbs_certificate.issuer == id.issuer
                    && cert.tbs_certificate.serial_number == id.serial_number
            }
            SignerIdentifier::SubjectKeyIdentifier(id) => {
                subject_key_id(cert).is_some_and(|own| own == id.0.as_bytes())
            }
        })
        .cloned()
        .ok_or_else(|| {
            "the signing certificate is not in the token (was the query sent without certReq?)"
                .to_owned()
        })
}

fn subject_key_id(cert: &Certificate) -> Option<Vec<u8>> {
    let id = ObjectIdentifier::new_unwrap("2.5.29.14");
    cert.tbs_certificate
        .extensions
        .iter()
        .flatten()
        .find(|ext| ext.extn_id == id)
        .and_then(|ext| OctetString::from_der(ext.extn_value.as_bytes()).ok())
        .map(|key| key.as_bytes().to_vec())
}

/// RFC 3161 §2.3: the authority's certificate has exactly one extended key usage,
/// `id-kp-timeStamping`, in one critical extension.
fn check_time_stamping_usage(cert: &Certificate) -> Result<(), String> {
    let found: Vec<_> = cert
        .tbs_certificate
        .extensions
        .iter()
        .flatten()
        .filter(|ext| ext.extn_id == ID_CE_EXT_KEY_USAGE)
        .collect();
    let [extension] = found.as_slice() else {
        return Err("the TSA certificate has no single extended key usage extension".to_owned());
    };
    if !extension.critical {
        return Err("the TSA certificate's extended key usage is not critical".to_owned());
    }
    let usage = ExtendedKeyUsage::from_der(extension.extn_value.as_bytes())
        .map_err(|e| format!("extended key usage: {e}"))?;
    if usage.0 != [ID_KP_TIME_STAMPING] {
        return Err("the TSA certificate is not for timeStamping alone".to_owned());
    }
    Ok(())
}

fn valid_at(cert: &Certificate, time: DateTime<Utc>) -> bool {
    let validity = &cert.tbs_certificate.validity;
    let seconds = |t: x509_cert::time::Time| {
        i64::try_from(t.to_unix_duration().as_secs()).unwrap_or(i64::MAX)
    };
    (seconds(validity.not_before)..=seconds(validity.not_after)).contains(&time.timestamp())
}

fn is_ca(cert: &Certificate) -> bool {
    cert.tbs_certificate
        .extensions
        .iter()
        .flatten()
        .find(|ext| ext.extn_id == ID_CE_BASIC_CONSTRAINTS)
        .and_then(|ext| BasicConstraints::from_der(ext.extn_value.as_bytes()).ok())
        .is_some_and(|constraints| constraints.ca)
}

/// Walks from `leaf` up through `carried` certificates to one in `trusted`, each certificate
/// signed by the next and valid at `time`.
fn chain_to_trusted(
    leaf: &Certificate,
    carried: &[Certificate],
    trusted: &[Certificate],
    time: DateTime<Utc>,
) -> Result<(), String> {
    if trusted.is_empty() {
        return Err("no trusted certificate authority is configured".to_owned());
    }
    let mut current = leaf.clone();
    for _ in 0..MAX_CHAIN {
        if !valid_at(&current, time) {
            return Err(format!(
                "certificate {} was not valid at the time stamped",
                current.tbs_certificate.subject
            ));
        }
        let tbs = current
            .tbs_certificate
            .to_der()
            .map_err(|e| e.to_string())?;
        let signature = current
            .signature
            .as_bytes()
            .ok_or("a certificate's signature is not whole bytes")?;
        let signed_by = |issuer: &Certificate| {
            issuer.tbs_certificate.subject == current.tbs_certificate.issuer
                && verify_signature(
                    issuer,
                    &current.signature_algorithm.oid,
                    None,
                    &tbs,
                    signature,
                )
                .is_ok()
        };
        if let Some(anchor) = trusted.iter().find(|cert| signed_by(cert)) {
            if !valid_at(anchor, time) {
                return Err("the trusted authority was not valid at the time stamped".to_owned());
            }
            return Ok(());
        }
        match carried
            .iter()
            .find(|cert| *cert != &current && is_ca(cert) && signed_by(cert))
        {
            Some(next) => current = next.clone(),
            None => {
                return Err(format!(
                    "certificate {} does not chain to a trusted authority",
                    current.tbs_certificate.subject
                ));
            }
        }
    }
    Err("the certificate chain is too long".to_owned())
}

/// Verifies `signature` over `message` with `cert`'s key. `algorithm` is a signature algorithm,
/// or `rsaEncryption` with `digest` naming the hash (as CMS signers may write it).
fn verify_signature(
    cert: &Certificate,
    algorithm: &ObjectIdentifier,
    digest: Option<&ObjectIdentifier>,
    message: &[u8],
    signature: &[u8],
) -> Result<(), String> {
    use ring::signature as sig;
    let key_info = &cert.tbs_certificate.subject_public_key_info;
    let key = key_info
        .subject_public_key
        .as_bytes()
        .ok_or("the public key is not whole bytes")?;
    let verifier: &'static dyn sig::VerificationAlgorithm = match *algorithm {
        ID_SHA256_WITH_RSA => &sig::RSA_PKCS1_2048_8192_SHA256,
        ID_SHA384_WITH_RSA => &sig::RSA_PKCS1_2048_8192_SHA384,
        ID_SHA512_WITH_RSA => &sig::RSA_PKCS1_2048_8192_SHA512,
        ID_RSA_ENCRYPTION => match digest {
            Some(&ID_SHA256) => &sig::RSA_PKCS1_2048_8192_SHA256,
            Some(&ID_SHA384) => &sig::RSA_PKCS1_2048_8192_SHA384,
            Some(&ID_SHA512) => &sig::RSA_PKCS1_2048_8192_SHA512,
            _ => return Err("RSA with an unsupported digest".to_owned()),
        },
        ID_ECDSA_SHA256 | ID_ECDSA_SHA384 => {
            if key_info.algorithm.oid != ID_EC_PUBLIC_KEY {
                return Err("an ECDSA signature with a key that is not EC".to_owned());
            }
            let curve: Option<ObjectIdentifier> = key_info
                .algorithm
                .parameters
                .as_ref()
                .and_then(|params| params.decode_as().ok());
            match (*algorithm, curve) {
                (ID_ECDSA_SHA256, Some(ID_P256)) => &sig::ECDSA_P256_SHA256_ASN1,
                (ID_ECDSA_SHA384, Some(ID_P256)) => &sig::ECDSA_P256_SHA384_ASN1,
                (ID_ECDSA_SHA256, Some(ID_P384)) => &sig::ECDSA_P384_SHA256_ASN1,
                (ID_ECDSA_SHA384, Some(ID_P384)) => &sig::ECDSA_P384_SHA384_ASN1,
                _ => return Err("an unsupported elliptic curve".to_owned()),
            }
        }
        other => return Err(format!("signature algorithm {other} is not supported")),
    };
    if matches!(
        *algorithm,
        ID_SHA256_WITH_RSA | ID_SHA384_WITH_RSA | ID_SHA512_WITH_RSA | ID_RSA_ENCRYPTION
    ) && key_info.algorithm.oid != ID_RSA_ENCRYPTION
    {
        return Err("an RSA signature with a key that is not RSA".to_owned());
    }
    sig::UnparsedPublicKey::new(verifier, key)
        .verify(message, signature)
        .map_err(|_| "bad signature".to_owned())
}

/// Reads the certificates of a PEM file's text.
pub fn certificates_from_pem(text: &str) -> Result<Vec<Certificate>, String> {
    let certs = Certificate::load_pem_chain(text.as_bytes())
        .map_err(|e| format!("not PEM certificates: {e}"))?;
    if certs.is_empty() {
        return Err("no certificate in the file".to_owned());
    }
    Ok(certs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generalized_times_with_and_without_fractions_are_read() {
        let whole = generalized_time("20261130203000Z").unwrap();
        assert_eq!(whole.to_rfc3339(), "2026-11-30T20:30:00+00:00");
        let fraction = generalized_time("20261130203000.25Z").unwrap();
        assert_eq!(fraction.timestamp_subsec_millis(), 250);
        for bad in [
            "20261130203000",
            "2026113020300Z",
            "20261130203000.Z",
            "20261330203000Z",
        ] {
            assert!(generalized_time(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_query_carries_the_hash_the_nonce_and_asks_for_the_certificate() {
        let query = query(&[7; 32], Some("1.2.3.4")).unwrap();
        let request = TimeStampReq::from_der(&query.der).unwrap();
        assert_eq!(request.message_imprint.hashed_message.as_bytes(), &[7; 32]);
        assert_eq!(request.nonce.unwrap().as_bytes(), trim(&query.nonce));
        assert!(request.cert_req);
        assert_eq!(request.req_policy.unwrap().to_string(), "1.2.3.4");
    }

    #[test]
    fn replies_without_a_granted_token_say_why() {
        // TimeStampResp { status { rejection } }
        let rejected = [0x30, 0x05, 0x30, 0x03, 0x02, 0x01, 0x02];
        assert!(token_of_reply(&rejected).unwrap_err().contains("rejected"));
        assert!(token_of_reply(b"<html>").is_err());
    }
}
