//! The corpus: real-format secrets of many kinds are found; look-alikes
//! (documented example keys, placeholders, fixtures, digests) are not.
//! Secrets are generated at test time so none sits in the repository.

use super::*;

/// A deterministic stream of characters from `alphabet` (xorshift).
struct Gen(u64);

impl Gen {
    fn pick(&mut self, alphabet: &str, n: usize) -> String {
        let chars: Vec<char> = alphabet.chars().collect();
        (0..n)
            .map(|_| {
                self.0 ^= self.0 << 13;
                self.0 ^= self.0 >> 7;
                self.0 ^= self.0 << 17;
                chars[(self.0 % chars.len() as u64) as usize]
            })
            .collect()
    }
}

const ALNUM: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const UPPER32: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const HEX: &str = "0123456789abcdef";
const B64URL: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

// The corpus: (rule expected, a line holding a secret of that kind), by
// family; each family draws from its own deterministic stream.

/// Cloud and infrastructure credentials (AWS, GCP, Azure, DigitalOcean,
/// HashiCorp, Vault, Doppler).
fn cloud_keys() -> Vec<(&'static str, String)> {
    let mut g = Gen(0x9e37_79b9_7f4a_7c15 ^ 1);
    vec![
        ("aws-access-token", format!("AKIA{}", g.pick(UPPER32, 16))),
        (
            "aws-secret-access-key",
            format!(
                "aws_secret_access_key = {}",
                g.pick(
                    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/+",
                    40
                )
            ),
        ),
        ("gcp-api-key", format!("AIza{}", g.pick(B64URL, 35))),
        (
            "gcp-service-account",
            format!("  \"private_key_id\": \"{}\",", g.pick(HEX, 40)),
        ),
        ("digitalocean-pat", format!("dop_v1_{}", g.pick(HEX, 64))),
        (
            "hashicorp-tf-api-token",
            format!("{}.atlasv1.{}", g.pick(ALNUM, 14), g.pick(ALNUM, 67)),
        ),
        ("vault-service-token", format!("hvs.{}", g.pick(B64URL, 95))),
        ("doppler-api-token", format!("dp.pt.{}", g.pick(ALNUM, 43))),
        (
            "azure-ad-client-secret",
            format!("secret = \"{}8Q~{}\"", g.pick(ALNUM, 3), g.pick(ALNUM, 34)),
        ),
    ]
}

/// Code host and package registry tokens (GitHub, GitLab, npm, PyPI).
fn forge_tokens() -> Vec<(&'static str, String)> {
    let mut g = Gen(0x9e37_79b9_7f4a_7c15 ^ 2);
    vec![
        ("github-pat", format!("token: ghp_{}", g.pick(ALNUM, 36))),
        (
            "github-fine-grained-pat",
            format!("github_pat_{}_{}", g.pick(ALNUM, 22), g.pick(ALNUM, 59)),
        ),
        ("github-oauth", format!("gho_{}", g.pick(ALNUM, 36))),
        ("github-app-token", format!("ghs_{}", g.pick(ALNUM, 36))),
        ("github-refresh-token", format!("ghr_{}", g.pick(ALNUM, 36))),
        ("gitlab-pat", format!("glpat-{}", g.pick(ALNUM, 20))),
        ("gitlab-ptt", format!("glptt-{}", g.pick(HEX, 40))),
        ("gitlab-rrt", format!("glrt-{}", g.pick(ALNUM, 20))),
        (
            "npm-access-token",
            format!("//registry.npmjs.org/:_authToken=npm_{}", g.pick(ALNUM, 36)),
        ),
        (
            "pypi-upload-token",
            format!("pypi-AgEIcHlwaS5vcmc{}", g.pick(B64URL, 60)),
        ),
    ]
}

/// Keys of hosted services (Stripe, Slack, OpenAI, Anthropic, SendGrid,
/// Twilio, Shopify).
fn service_keys() -> Vec<(&'static str, String)> {
    let mut g = Gen(0x9e37_79b9_7f4a_7c15 ^ 3);
    vec![
        (
            "stripe-access-token",
            format!("STRIPE = \"sk_live_{}\"", g.pick(ALNUM, 24)),
        ),
        (
            "stripe-webhook-secret",
            format!("whsec_{}", g.pick(ALNUM, 32)),
        ),
        (
            "slack-bot-token",
            format!(
                "xoxb-{}-{}-{}",
                g.pick("0123456789", 12),
                g.pick("0123456789", 13),
                g.pick(ALNUM, 24)
            ),
        ),
        (
            "slack-user-token",
            format!(
                "xoxp-{}-{}-{}-{}",
                g.pick("0123456789", 12),
                g.pick("0123456789", 12),
                g.pick("0123456789", 13),
                g.pick(HEX, 32)
            ),
        ),
        (
            "slack-webhook-url",
            format!(
                "https://hooks.slack.com/services/T{}/B{}/{}",
                g.pick(UPPER32, 8),
                g.pick(UPPER32, 10),
                g.pick(ALNUM, 24)
            ),
        ),
        (
            "openai-api-key",
            format!("sk-proj-{}T3BlbkFJ{}", g.pick(ALNUM, 24), g.pick(ALNUM, 24)),
        ),
        (
            "anthropic-api-key",
            format!("sk-ant-api03-{}AA", g.pick(B64URL, 93)),
        ),
        (
            "sendgrid-api-token",
            format!("SG.{}.{}", g.pick(B64URL, 22), g.pick(B64URL, 43)),
        ),
        ("twilio-api-key", format!("SK{}", g.pick(HEX, 32))),
        ("shopify-access-token", format!("shpat_{}", g.pick(HEX, 32))),
    ]
}

/// Private keys, JWTs and generic `*_API_KEY`/password assignments.
fn generic_secrets() -> Vec<(&'static str, String)> {
    let mut g = Gen(0x9e37_79b9_7f4a_7c15 ^ 4);
    vec![
        ("private-key", "-----BEGIN RSA PRIVATE KEY-----".to_owned()),
        (
            "private-key",
            "-----BEGIN OPENSSH PRIVATE KEY-----".to_owned(),
        ),
        (
            "jwt",
            format!(
                "eyJhbGciOiJIUzI1NiJ9.eyJ{}.{}",
                g.pick(ALNUM, 30),
                g.pick(B64URL, 43)
            ),
        ),
        (
            "generic-api-key",
            format!("MAILGUN_API_KEY = \"{}\"", g.pick(ALNUM, 32)),
        ),
        (
            "generic-api-key",
            format!("password: {}", g.pick(ALNUM, 20)),
        ),
    ]
}

/// The whole corpus.
fn secrets() -> Vec<(&'static str, String)> {
    [
        cloud_keys(),
        forge_tokens(),
        service_keys(),
        generic_secrets(),
    ]
    .concat()
}

/// Each line of `corpus` is found by its rule, at its line, redacted.
fn assert_found(corpus: &[(&str, String)]) {
    let scanner = Scanner::builtin().expect("rules");
    for (rule, line) in corpus {
        let found = scanner.scan_lines("c0ffee", "settings.py", [(3, line.as_str())]);
        let Some(f) = found.iter().find(|f| f.rule == *rule) else {
            panic!("{rule} not found in {line:?}: {found:?}");
        };
        assert_eq!(f.fingerprint, format!("c0ffee:settings.py:{rule}:3"));
        assert_eq!(f.line, 3);
        assert!(
            !f.redacted.contains(&line[line.len() - 6..]),
            "{}",
            f.redacted
        );
    }
}

#[test]
fn cloud_keys_are_found() {
    assert_found(&cloud_keys());
}

#[test]
fn forge_and_registry_tokens_are_found() {
    assert_found(&forge_tokens());
}

#[test]
fn service_keys_are_found() {
    assert_found(&service_keys());
}

#[test]
fn private_keys_jwts_and_generic_secrets_are_found() {
    assert_found(&generic_secrets());
}

#[test]
fn every_builtin_rule_has_a_secret_in_the_corpus() {
    let scanner = Scanner::builtin().expect("rules");
    let corpus = secrets();
    let kinds: BTreeSet<&str> = corpus.iter().map(|(k, _)| *k).collect();
    assert!(kinds.len() >= 20, "{} kinds", kinds.len());
    let ids: BTreeSet<&str> = scanner.rule_ids().into_iter().collect();
    assert_eq!(ids, kinds);
}

#[test]
fn the_builtin_rules_all_compile() {
    let scanner = Scanner::builtin().expect("builtin rules");
    assert!(scanner.skipped.is_empty(), "{:?}", scanner.skipped);
    assert!(scanner.rule_ids().len() >= 25);
}

#[test]
fn look_alikes_are_not_secrets() {
    let scanner = Scanner::builtin().expect("rules");
    let look_alikes = [
        // AWS's documented example keys.
        "AKIAIOSFODNN7EXAMPLE",
        "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        // Placeholders and low-entropy fixtures.
        "GITHUB_TOKEN = ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        "token = \"ghp_000000000000000000000000000000000000\"",
        "api_key = \"your-api-key-here\"",
        "STRIPE_SECRET_KEY = \"sk_test_4eC39HqLyjWDarjtT1zdp7dc\"",
        "SECRET_KEY = env(\"DJANGO_SECRET_KEY\")",
        "SECRET_KEY = \"django-insecure-8s7d6f5g4h3j2k1l0qwertyuiopasdf\"",
        "password = \"${DB_PASSWORD}\"",
        "api_key: \"{{ secrets.API_KEY }}\"",
        "password = \"<your password>\"",
        "AUTH_USER_MODEL = \"accounts.CustomUser\"",
        "TOKEN_URL = \"https://example.org/oauth/token\"",
        // Digests and revisions.
        "sha256 = \"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\"",
        "integrity: sha512-Q2l0aWVzIGFyZSBub3Qgc2VjcmV0cyBhdCBhbGwsIHRoZXkgYXJlIGhhc2hlcw==",
        "rev: 3d96982c0bba4a8a6d8e3c4f8d3c2b1a0f9e8d7c",
        "commit = \"1a3e64c6f0e2d4b8a9c7e5f3d1b0a2c4e6f8d0b2\"",
        "key_id = \"A1B2C3D4E5F60718293A4B5C6D7E8F90\"",
        "token_key = \"0123456789abcdef0123456789abcdef\"",
        // Prose.
        "Fix the token refresh when the API key is rotated",
        "-----BEGIN PUBLIC KEY-----",
        "-----BEGIN CERTIFICATE-----",
    ];
    for line in look_alikes {
        let found = scanner.scan_lines("c0ffee", "tests/fixtures.py", [(1, line)]);
        assert!(found.is_empty(), "{line:?} flagged: {found:?}");
    }
}

#[test]
fn gitleaks_format_files_are_read_with_their_allowlists() {
    let config = r#"
title = "custom"
[allowlist]
paths = ['''(?:^|/)vendor/''']

[[rules]]
id = "acme-token"
description = "ACME token"
regex = '''\b(acme_[a-z0-9]{16})\b'''
entropy = 2
keywords = ["acme_"]
[[rules.allowlists]]
stopwords = ["acme_testtesttesttest"]

[[rules]]
id = "broken"
regex = '''(?P<x'''
"#;
    let scanner = Scanner::from_toml(config, "test").expect("config");
    assert_eq!(scanner.rule_ids(), ["acme-token"]);
    assert_eq!(scanner.skipped.len(), 1, "{:?}", scanner.skipped);
    let line = "x = acme_k3j4h5g6f7d8s9a0";
    assert_eq!(scanner.scan_lines("c", "a.py", [(1, line)]).len(), 1);
    assert!(
        scanner
            .scan_lines("c", "vendor/a.py", [(1, line)])
            .is_empty()
    );
    assert!(
        scanner
            .scan_lines("c", "a.py", [(1, "acme_testtesttesttest")])
            .is_empty()
    );
    assert!(matches!(
        Scanner::from_toml("rules = 3", "x"),
        Err(RulesError::Toml { .. })
    ));
}

#[test]
fn entropy_is_shannon_bits_per_character() {
    assert_eq!(entropy("aaaa"), 0.0);
    assert!((entropy("abcd") - 2.0).abs() < 1e-9);
}

/// The release binary's `log2` and `pow` are the libm crate's (src/main.rs
/// defines them so that libm.so.6 is not loaded): they agree with the C
/// library's to within an ulp, so entropy thresholds decide the same.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[test]
fn the_binarys_log2_and_pow_agree_with_the_c_library() {
    let close =
        |a: f64, b: f64| (a - b).abs() <= 2.0 * f64::EPSILON * a.abs().max(b.abs()).max(1e-300);
    for n in 1..=600u32 {
        for total in [n, n + 1, 2 * n, 3 * n + 7, 1000] {
            let p = f64::from(n) / f64::from(total);
            assert!(close(libm::log2(p), p.log2()), "log2({p})");
        }
    }
    for x in [1e-3, 0.5, 0.9, 1.5, 2.0, 10.0, 123.456] {
        for y in [-3.5, -1.0, 0.0, 0.3, 1.0, 2.5, 10.0] {
            assert!(close(libm::pow(x, y), x.powf(y)), "pow({x}, {y})");
        }
    }
}
