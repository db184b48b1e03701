//! Standard Webhooks signatures: `webhook-signature: v1,<base64 HMAC-SHA256>`
//! of `"{webhook-id}.{webhook-timestamp}.{body}"`, keyed with the bytes that
//! follow `whsec_` (base64-decoded).

use crate::secrets::hmac_sha256;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;

/// The key bytes of a `whsec_…` secret, or `None` when it is not one.
pub fn secret_key(secret: &str) -> Option<Vec<u8>> {
    STANDARD.decode(secret.strip_prefix("whsec_")?).ok()
}

/// One `v1,<signature>` per secret, space-separated: while a secret is being
/// rotated the endpoint is listed once per secret and receivers accept either.
pub fn signature_header(secrets: &[String], msg_id: &str, timestamp: i64, body: &[u8]) -> String {
    let mut signed = format!("{msg_id}.{timestamp}.").into_bytes();
    signed.extend_from_slice(body);
    secrets
        .iter()
        .filter_map(|s| secret_key(s))
        .map(|key| format!("v1,{}", STANDARD.encode(hmac_sha256(&key, &signed))))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_like_the_standard_webhooks_reference() {
        // The example of the Standard Webhooks specification.
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".to_string();
        let body = br#"{"test": 2432232314}"#;
        let header = signature_header(&[secret], "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body);
        assert_eq!(header, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }
}
