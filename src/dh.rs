//! Diffie-Hellman parameters for nginx's DHE suites: the RFC 7919 `ffdhe` groups (fixed, no
//! generation), or a fresh safe-prime group (`generate: {bits}`) made once, on every core, and
//! cached in the state directory as PKCS#3 `DH PARAMETERS` PEM, the format nginx reads.

use crate::certs::CertsError;
use crate::certs::store::{PUBLIC_MODE, StateDir, layout};
use crate::model::Dh;
use base64::Engine as _;
use indicatif::{ProgressBar, ProgressStyle};
use num_bigint_dig::BigUint;
use num_bigint_dig::prime::probably_prime;
use num_traits::{One as _, ToPrimitive as _};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

/// Generator of every group we make: with p ≡ 23 (mod 24), 2 generates the subgroup of prime
/// order q = (p-1)/2, as in RFC 7919's groups and OpenSSL's own generation.
pub const GENERATOR: u32 = 2;
/// Smallest size `deploy dh generate` accepts (tests and benchmarks use small sizes).
pub const MIN_BITS: u32 = 512;
/// Largest size.
pub const MAX_BITS: u32 = 8192;
/// Miller-Rabin rounds (plus the Lucas test `probably_prime` adds) on p and q.
const ROUNDS: usize = 20;
/// Sieve bound: candidates where p or q has a prime factor below it are skipped cheaply.
const SIEVE_BOUND: u32 = 1 << 16;
/// Candidates walked from one random start before drawing another.
const WALK: u64 = 1 << 16;

/// The PEM for the deployment's DH setting: a fixed group, or the cached generated one
/// (generating it now when missing). Returns the PEM and whether it was generated now.
pub fn ensure(state: &StateDir, dh: Dh, progress: bool) -> Result<(String, bool), CertsError> {
    let bits = match dh {
        Dh::Ffdhe(group) => return Ok((crate::render::ffdhe_pem(group).to_owned(), false)),
        Dh::Generate { bits } => bits,
    };
    let rel = cache_path(bits);
    if let Some(bytes) = state.read(&rel)?
        && let Ok(pem) = String::from_utf8(bytes)
        && pem.starts_with("-----BEGIN DH PARAMETERS-----")
    {
        return Ok((pem, false));
    }
    let pem = to_pem(&generate(bits, threads(), progress)?);
    state.write(&rel, pem.as_bytes(), PUBLIC_MODE)?;
    Ok((pem, true))
}

/// Where a generated group of `bits` is cached, relative to the state directory.
pub fn cache_path(bits: u32) -> String {
    format!("{}/dh-{bits}.pem", layout::DH_DIR)
}

/// Worker threads: every core.
pub fn threads() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// Finds a safe prime p of exactly `bits` bits (p and (p-1)/2 both prime, p ≡ 23 mod 24),
/// with `threads` workers racing from independent random starts.
pub fn generate(bits: u32, threads: usize, progress: bool) -> Result<BigUint, CertsError> {
    if !(MIN_BITS..=MAX_BITS).contains(&bits) {
        return Err(CertsError::Dh(format!(
            "{bits} bits is outside {MIN_BITS}..={MAX_BITS}"
        )));
    }
    let bar = if progress {
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} DH {msg}: {pos} candidates tested on {prefix} cores ({elapsed})",
            )
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.set_message(format!("{bits} bits"));
        bar.set_prefix(threads.to_string());
        bar.enable_steady_tick(Duration::from_millis(120));
        bar
    } else {
        ProgressBar::hidden()
    };
    let primes = small_primes(SIEVE_BOUND);
    let done = AtomicBool::new(false);
    let tested = AtomicU64::new(0);
    let found: Mutex<Option<BigUint>> = Mutex::new(None);
    let failure: Mutex<Option<String>> = Mutex::new(None);
    std::thread::scope(|scope| {
        for _ in 0..threads.max(1) {
            scope.spawn(|| match search(bits, &primes, &done, &tested, &bar) {
                Ok(Some(p)) => {
                    let mut slot = found.lock().unwrap_or_else(|e| e.into_inner());
                    slot.get_or_insert(p);
                    done.store(true, Ordering::Relaxed);
                }
                Ok(None) => {}
                Err(e) => {
                    *failure.lock().unwrap_or_else(|e| e.into_inner()) = Some(e);
                    done.store(true, Ordering::Relaxed);
                }
            });
        }
    });
    bar.finish_and_clear();
    if let Some(p) = found.into_inner().unwrap_or_else(|e| e.into_inner()) {
        return Ok(p);
    }
    let why = failure.into_inner().unwrap_or_else(|e| e.into_inner());
    Err(CertsError::Dh(
        why.unwrap_or_else(|| "no prime found".to_owned()),
    ))
}

/// One worker: random starts, a sieve walk in steps of 24, then probabilistic tests.
fn search(
    bits: u32,
    primes: &[u32],
    done: &AtomicBool,
    tested: &AtomicU64,
    bar: &ProgressBar,
) -> Result<Option<BigUint>, String> {
    let step = BigUint::from(24u32);
    let two = BigUint::from(2u32);
    while !done.load(Ordering::Relaxed) {
        let start = random_start(bits)?;
        let residues: Vec<u32> = primes
            .iter()
            .map(|&r| (&start % r).to_u32().unwrap_or(0))
            .collect();
        for k in 0..WALK {
            if done.load(Ordering::Relaxed) {
                return Ok(None);
            }
            // p = start + 24k; p or q = (p-1)/2 divisible by r <=> p ≡ 0 or 1 (mod r).
            let sieved = primes.iter().zip(&residues).any(|(&r, &res)| {
                let m = ((u64::from(res) + 24 * k) % u64::from(r)) as u32;
                m <= 1
            });
            if sieved {
                continue;
            }
            let p = &start + &step * BigUint::from(k);
            if p.bits() != bits as usize {
                break;
            }
            tested.fetch_add(1, Ordering::Relaxed);
            bar.inc(1);
            let q: BigUint = (&p - 1u32) >> 1usize;
            // Cheap Fermat test on q first: it rejects almost every candidate.
            if two.modpow(&(&q - 1u32), &q) != BigUint::one() {
                continue;
            }
            if probably_prime(&q, ROUNDS) && probably_prime(&p, ROUNDS) {
                return Ok(Some(p));
            }
        }
    }
    Ok(None)
}

/// A random odd number of `bits` bits, top two bits set, ≡ 23 (mod 24).
fn random_start(bits: u32) -> Result<BigUint, String> {
    let len = bits.div_ceil(8) as usize;
    let mut bytes = vec![0u8; len];
    getrandom::fill(&mut bytes).map_err(|e| format!("reading random bytes: {e}"))?;
    let extra = (len * 8) as u32 - bits;
    bytes[0] &= 0xff >> extra;
    bytes[0] |= 0xc0 >> extra;
    let n = BigUint::from_bytes_be(&bytes);
    // Subtracting at most 23 and adding 23 keeps the top bits set.
    Ok(&n - (&n % 24u32) + 23u32)
}

/// Primes 5 <= r < bound (2 and 3 are settled by p ≡ 23 mod 24).
fn small_primes(bound: u32) -> Vec<u32> {
    let n = bound as usize;
    let mut composite = vec![false; n];
    let mut out = Vec::new();
    for i in 2..n {
        if composite[i] {
            continue;
        }
        if i >= 5 {
            out.push(i as u32);
        }
        let mut j = i * i;
        while j < n {
            composite[j] = true;
            j += i;
        }
    }
    out
}

/// PKCS#3 `DHParameter ::= SEQUENCE { prime INTEGER, base INTEGER }` as PEM.
pub fn to_pem(p: &BigUint) -> String {
    let mut body = der_integer(&p.to_bytes_be());
    body.extend(der_integer(&GENERATOR.to_be_bytes()));
    let der = der_tlv(0x30, &body);
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut pem = String::from("-----BEGIN DH PARAMETERS-----\n");
    for line in b64.as_bytes().chunks(64) {
        pem.push_str(&String::from_utf8_lossy(line));
        pem.push('\n');
    }
    pem.push_str("-----END DH PARAMETERS-----\n");
    pem
}

fn der_integer(be: &[u8]) -> Vec<u8> {
    let trimmed: &[u8] = {
        let first = be
            .iter()
            .position(|&b| b != 0)
            .unwrap_or(be.len().saturating_sub(1));
        &be[first..]
    };
    let mut v = Vec::with_capacity(trimmed.len() + 1);
    // A leading 0 keeps the INTEGER positive when the top bit is set.
    if trimmed.first().is_some_and(|b| b & 0x80 != 0) {
        v.push(0);
    }
    v.extend_from_slice(trimmed);
    der_tlv(0x02, &v)
}

fn der_tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len
            .to_be_bytes()
            .into_iter()
            .skip_while(|&b| b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_primes_start_at_five() {
        assert_eq!(small_primes(30), [5, 7, 11, 13, 17, 19, 23, 29]);
    }

    #[test]
    fn random_starts_have_the_size_and_residue() {
        for bits in [512u32, 1023, 2048] {
            let n = random_start(bits).unwrap();
            assert_eq!(n.bits(), bits as usize);
            assert_eq!((&n % 24u32).to_u32(), Some(23));
        }
    }

    #[test]
    fn generated_512_bit_group_is_a_safe_prime_and_encodes_as_pkcs3() {
        let p = generate(512, 2, false).unwrap();
        assert_eq!(p.bits(), 512);
        let q: BigUint = (&p - 1u32) >> 1usize;
        assert!(probably_prime(&p, 30) && probably_prime(&q, 30));
        assert_eq!((&p % 24u32).to_u32(), Some(23));
        let pem = to_pem(&p);
        assert!(pem.starts_with("-----BEGIN DH PARAMETERS-----\n"));
        let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        let der = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap();
        // SEQUENCE { INTEGER (0x00 + 64 bytes), INTEGER 2 }
        assert_eq!(&der[..4], &[0x30, 0x46, 0x02, 0x41]);
        assert_eq!(&der[der.len() - 3..], &[0x02, 0x01, 0x02]);
    }

    #[test]
    fn sizes_out_of_range_are_refused() {
        let e = generate(256, 1, false).unwrap_err();
        assert!(e.to_string().contains("outside 512"), "{e}");
    }

    #[test]
    fn der_lengths_use_the_long_form_above_127() {
        assert_eq!(der_tlv(0x30, &[0; 200])[..3], [0x30, 0x81, 200]);
        assert_eq!(der_tlv(0x30, &[0; 300])[..4], [0x30, 0x82, 0x01, 0x2c]);
    }
}
