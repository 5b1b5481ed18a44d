//! Bad input to the updater's rules (issue 19, item 4): what an update endpoint or a static
//! host sends (the offer's JSON, its version strings, the signature text) and the public key
//! a build carries. Random and mutated input never panics, and a mutated signature or bundle
//! never verifies.

use std::io::Cursor;

use base64::Engine;
use inkstone_desktop::updates::{
    self, check_offer, check_public_key, verify, verify_release, Offer,
};
use proptest::prelude::*;

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

struct Signed {
    public: String,
    /// The `.sig` file's text (before Tauri's base64).
    sig_text: String,
    bytes: Vec<u8>,
}

fn signed() -> &'static Signed {
    static SIGNED: std::sync::OnceLock<Signed> = std::sync::OnceLock::new();
    SIGNED.get_or_init(|| {
        let kp = minisign::KeyPair::generate_unencrypted_keypair().unwrap();
        let bytes: Vec<u8> = (0..4096u32).map(|i| (i * 7 % 251) as u8).collect();
        let sig = minisign::sign(
            Some(&kp.pk),
            &kp.sk,
            Cursor::new(&bytes),
            Some("timestamp:1764460800\tfile:inkstone.AppImage\tversion:0.2.0"),
            None,
        )
        .unwrap();
        Signed {
            public: b64(kp.pk.to_box().unwrap().into_string().as_bytes()),
            sig_text: sig.into_string(),
            bytes,
        }
    })
}

fn offer_json() -> String {
    serde_json::json!({
        "version": "0.2.0", "notes": "新功能", "pub_date": "2026-12-01T00:00:00Z",
        "url": "https://updates.example.com/inkstone_0.2.0_amd64.AppImage",
        "signature": b64(signed().sig_text.as_bytes()),
    })
    .to_string()
}

#[test]
fn the_unmutated_inputs_pass() {
    let s = signed();
    let signature = b64(s.sig_text.as_bytes());
    verify(&s.public, &signature, &s.bytes).unwrap();
    verify_release(&s.public, &signature, "0.2.0", &s.bytes).unwrap();
    let offer: Offer = serde_json::from_str(&offer_json()).unwrap();
    check_offer(&offer, &semver::Version::new(0, 1, 0)).unwrap();
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Arbitrary key, signature and bytes: an error, never a panic.
    #[test]
    fn random_keys_and_signatures_never_verify(
        key in ".{0,200}",
        sig in proptest::collection::vec(any::<u8>(), 0..400),
        bytes in proptest::collection::vec(any::<u8>(), 0..100),
    ) {
        let _ = check_public_key(&key);
        prop_assert!(verify(&key, &b64(&sig), &bytes).is_err());
        prop_assert!(verify(&signed().public, &b64(&sig), &bytes).is_err());
        prop_assert!(verify(&signed().public, &String::from_utf8_lossy(&sig), &bytes).is_err());
    }

    /// One byte of the signature line, the trusted comment or the global signature changed
    /// (in the text Tauri base64-encodes): refused.
    #[test]
    fn a_mutated_signature_never_verifies(at in any::<prop::sample::Index>(), flip in 1u8..=255) {
        let s = signed();
        let text = s.sig_text.as_bytes();
        // Everything after the untrusted comment (which the signature does not cover).
        let first_newline = text.iter().position(|&b| b == b'\n').unwrap() + 1;
        let i = first_newline + at.index(text.len() - first_newline);
        // The line breaks that end the text carry no meaning.
        prop_assume!(text[i..].iter().any(|&b| b != b'\n'));
        prop_assume!(text[i] != b'\n');
        let mut mutated = text.to_vec();
        mutated[i] ^= flip;
        prop_assert!(verify_release(&s.public, &b64(&mutated), "0.2.0", &s.bytes).is_err());
    }

    /// One bit of the bundle changed: refused.
    #[test]
    fn a_mutated_bundle_never_verifies(at in any::<prop::sample::Index>(), bit in 0u8..8) {
        let s = signed();
        let mut bytes = s.bytes.clone();
        let i = at.index(bytes.len());
        bytes[i] ^= 1 << bit;
        prop_assert!(verify(&s.public, &b64(s.sig_text.as_bytes()), &bytes).is_err());
    }

    /// Any version string, from the endpoint or this build: parsed or refused, no panic; an
    /// offer that passes is newer than the current version.
    #[test]
    fn any_version_string_is_parsed_or_refused(offered in ".{0,40}", current in "[v0-9.a-z+-]{0,20}") {
        let _ = updates::version(&offered);
        if let Ok(current) = updates::version(&current) {
            let offer = Offer {
                version: offered.clone(),
                notes: String::new(),
                pub_date: None,
                url: "https://example.com/a.AppImage".into(),
                signature: "c2ln".into(),
            };
            if check_offer(&offer, &current).is_ok() {
                prop_assert!(updates::version(&offered).unwrap() > current);
            }
        }
    }

    /// The offer's JSON, random or mutated: read or refused, and whatever is read goes
    /// through the rules without a panic.
    #[test]
    fn offer_json_random_or_mutated_never_panics(
        random in proptest::collection::vec(any::<u8>(), 0..300),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
    ) {
        let mut mutated = offer_json().into_bytes();
        for (at, byte) in edits {
            let i = at.index(mutated.len());
            mutated[i] = byte;
        }
        for body in [random, mutated] {
            if let Ok(offer) = serde_json::from_slice::<Offer>(&body) {
                let _ = check_offer(&offer, &semver::Version::new(0, 1, 0));
                let _ = updates::bundle_name(&offer);
                let _ = verify_release(&signed().public, &offer.signature, &offer.version, &signed().bytes);
            }
        }
    }
}
