//! Base64 decoded as leniently as a reader of any encoder's output must: either alphabet
//! (`+/` or `-_`) in one text, no padding needed, the unused bits of the last character
//! ignored, so that a run cut at any alignment decodes to its last whole byte.

/// The 6-bit value of each base64 character of either alphabet (`+` and `-` are 62, `/`
/// and `_` are 63); other bytes are never looked up.
const VALUE: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut c = 0usize;
    while c < 256 {
        let b = c as u8;
        t[c] = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => 0,
        };
        c += 1;
    }
    t
};

/// Decodes `chars` (base64 of either alphabet, no padding) into `out` as a lenient
/// decoder does: every 4 characters make 3 bytes, a tail of 2 or 3 characters 1 or 2
/// bytes (its unused bits ignored), a last lone character nothing. Returns the length.
pub(super) fn decode_into(chars: &[u8], out: &mut [u8]) -> usize {
    let value = |c: u8| u32::from(VALUE[usize::from(c)]);
    let mut n = 0;
    let mut quads = chars.chunks_exact(4);
    for (q, o) in (&mut quads).zip(out.chunks_exact_mut(3)) {
        let v = value(q[0]) << 18 | value(q[1]) << 12 | value(q[2]) << 6 | value(q[3]);
        let [_, a, b, c] = v.to_be_bytes();
        o.copy_from_slice(&[a, b, c]);
        n += 3;
    }
    let rest = quads.remainder();
    let v = rest.iter().enumerate().fold(0u32, |v, (k, &c)| v | value(c) << (18 - 6 * k));
    let [_, a, b, _] = v.to_be_bytes();
    for (byte, keep) in [(a, rest.len() >= 2), (b, rest.len() == 3)] {
        if keep && n < out.len() {
            out[n] = byte;
            n += 1;
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use base64::Engine;

    use super::*;

    /// The decoder matches a lenient standard decoder at every length and in both alphabets.
    #[test]
    fn decode_into_matches_a_lenient_decoder() {
        const LENIENT: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
            &base64::alphabet::STANDARD,
            base64::engine::GeneralPurposeConfig::new()
                .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent)
                .with_decode_allow_trailing_bits(true),
        );
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_";
        let mut seed = 7u32;
        for len in 0..40 {
            for _ in 0..50 {
                let run: Vec<u8> = (0..len)
                    .map(|_| {
                        seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                        alphabet[(seed >> 16) as usize % alphabet.len()]
                    })
                    .collect();
                let standard: Vec<u8> = run
                    .iter()
                    .map(|&c| match c {
                        b'-' => b'+',
                        b'_' => b'/',
                        c => c,
                    })
                    .collect();
                let whole = &standard[..standard.len() - usize::from(standard.len() % 4 == 1)];
                let expected = LENIENT.decode(whole).unwrap();
                let mut out = vec![0u8; len / 4 * 3 + 3];
                let n = decode_into(&run, &mut out);
                assert_eq!(&out[..n], &expected[..], "{}", String::from_utf8_lossy(&run));
            }
        }
    }
}
