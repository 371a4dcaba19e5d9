//! Fast transform lengths.

/// Smallest length `>= n` (and `>= 1`) whose only prime factors are 2, 3, 5 and 7, and which is
/// even when `even` is set (an even real transform length has a Nyquist bin).
pub fn smooth_len(n: usize, even: bool) -> usize {
    let mut m = n.max(1);
    loop {
        if !even || m % 2 == 0 {
            let mut r = m;
            for p in [2, 3, 5, 7] {
                while r % p == 0 {
                    r /= p;
                }
            }
            if r == 1 {
                return m;
            }
        }
        m += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::smooth_len;

    #[test]
    fn smooth_lengths() {
        assert_eq!(smooth_len(1, true), 2);
        assert_eq!(smooth_len(11, true), 12);
        assert_eq!(smooth_len(17, true), 18);
        assert_eq!(smooth_len(127, true), 128);
        assert_eq!(smooth_len(1001, true), 1008);
        assert_eq!(smooth_len(1, false), 1);
        assert_eq!(smooth_len(11, false), 12);
        assert_eq!(smooth_len(13, false), 14);
        assert_eq!(smooth_len(15, false), 15);
        assert_eq!(smooth_len(121, false), 125);
    }
}
