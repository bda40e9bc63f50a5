//! ISO 8601 dates and date-times, whose digits are not a phone number (contract
//! section 3: `2026-11-19T10:15:30Z` is not one).

/// The end of an ISO 8601 basic-format date-time starting at `i`
/// (`YYYYMMDDTHHMM[SS][.fff][Z|±HH[MM]]`), if there is one.
fn basic_date_time(b: &[u8], i: usize) -> Option<usize> {
    let d = |k: usize| k < b.len() && b[k].is_ascii_digit();
    if (i > 0 && b[i - 1].is_ascii_digit()) || !(0..8).all(|k| d(i + k)) || !matches!(b.get(i + 8), Some(b'T' | b't')) {
        return None;
    }
    let mut end = i + 9;
    let mut n = 0;
    while d(end) {
        end += 1;
        n += 1;
    }
    if n != 4 && n != 6 {
        return None;
    }
    if matches!(b.get(end), Some(b'.' | b',')) && d(end + 1) {
        end += 1;
        while d(end) {
            end += 1;
        }
    }
    match b.get(end) {
        Some(b'Z' | b'z') => end += 1,
        Some(b'+' | b'-') if d(end + 1) && d(end + 2) => {
            end += 3;
            if d(end) && d(end + 1) {
                end += 2;
            }
        }
        _ => {}
    }
    Some(end)
}

/// The two-digit number at `i`.
fn two(b: &[u8], i: usize) -> u8 {
    (b[i] - b'0') * 10 + (b[i + 1] - b'0')
}

/// Whether a digit group sits right before the date at `i` or right after a date without
/// a time that ends at `end`, with one separator of a phone number between
/// (`0612-11-22-33`, `61-2026-11-19`): then the digits are one run, not a date.
fn in_digit_run(b: &[u8], i: usize, end: usize) -> bool {
    let sep = |c: u8| matches!(c, b'-' | b'.' | b' ' | b'(' | b')');
    let before = i >= 2 && sep(b[i - 1]) && b[i - 2].is_ascii_digit();
    let after = end == i + 10 && end + 1 < b.len() && sep(b[end]) && b[end + 1].is_ascii_digit();
    before || after
}

/// Marks the bytes of ISO 8601 dates (`YYYY-MM-DD`, month 01 to 12, day 01 to 31, not
/// inside a longer run of digit groups) and of date-times that start with one (`T` or a
/// space, `HH:MM`, optional seconds, fraction and zone).
pub(super) fn mask_dates(b: &[u8]) -> Vec<bool> {
    let mut m = vec![false; b.len()];
    let d = |i: usize| i < b.len() && b[i].is_ascii_digit();
    let mut i = 0;
    while i + 10 <= b.len() {
        let boundary = i == 0 || !b[i - 1].is_ascii_digit();
        if boundary
            && (0..4).all(|k| d(i + k))
            && b[i + 4] == b'-'
            && d(i + 5)
            && d(i + 6)
            && b[i + 7] == b'-'
            && d(i + 8)
            && d(i + 9)
            && !d(i + 10)
            && (1..=12).contains(&two(b, i + 5))
            && (1..=31).contains(&two(b, i + 8))
        {
            let mut end = i + 10;
            // Optional time part.
            if end + 6 <= b.len()
                && matches!(b[end], b'T' | b't' | b' ')
                && d(end + 1)
                && d(end + 2)
                && b[end + 3] == b':'
                && d(end + 4)
                && d(end + 5)
            {
                end += 6;
                if end + 3 <= b.len() && b[end] == b':' && d(end + 1) && d(end + 2) {
                    end += 3;
                    if end < b.len() && matches!(b[end], b'.' | b',') && d(end + 1) {
                        end += 1;
                        while d(end) {
                            end += 1;
                        }
                    }
                }
                if end < b.len() && matches!(b[end], b'Z' | b'z') {
                    end += 1;
                } else if end + 3 <= b.len() && matches!(b[end], b'+' | b'-') && d(end + 1) && d(end + 2) {
                    end += 3;
                    if end + 3 <= b.len() && b[end] == b':' && d(end + 1) && d(end + 2) {
                        end += 3;
                    } else if d(end) && d(end + 1) {
                        end += 2;
                    }
                }
            }
            if in_digit_run(b, i, end) {
                i += 1;
                continue;
            }
            m[i..end].iter_mut().for_each(|x| *x = true);
            i = end;
        } else if let Some(end) = basic_date_time(b, i) {
            m[i..end].iter_mut().for_each(|x| *x = true);
            i = end;
        } else {
            i += 1;
        }
    }
    m
}
