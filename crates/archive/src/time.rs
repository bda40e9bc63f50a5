//! Timestamps: ISO 8601 / RFC 3339 text and epoch numbers to epoch milliseconds, exact
//! decimal arithmetic for stream timestamps, and UTC calendar dates.

/// Milliseconds in a day.
pub const DAY_MS: i64 = 86_400_000;

/// Parses a timestamp string of the contract: an RFC 3339 / ISO 8601 date-time with `Z`
/// or an offset, with or without fractional seconds (a date-time without zone is UTC),
/// or a bare `YYYY-MM-DD` (midnight UTC). Returns epoch milliseconds; sub-millisecond
/// digits are truncated.
pub fn parse_timestamp(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 10 {
        return None;
    }
    let year = digits(b, 0, 4)?;
    if b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let month = digits(b, 5, 2)?;
    let day = digits(b, 8, 2)?;
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let days = days_from_civil(year, month, day);
    if b.len() == 10 {
        return Some(days * DAY_MS);
    }
    if !matches!(b[10], b'T' | b't' | b' ') || b.len() < 16 {
        return None;
    }
    let hour = digits(b, 11, 2)?;
    if b[13] != b':' {
        return None;
    }
    let minute = digits(b, 14, 2)?;
    let mut i = 16;
    let mut second = 0;
    let mut millis = 0;
    if i < b.len() && b[i] == b':' {
        second = digits(b, i + 1, 2)?;
        i += 3;
        if i < b.len() && (b[i] == b'.' || b[i] == b',') {
            i += 1;
            let start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                if i - start < 3 {
                    millis = millis * 10 + i64::from(b[i] - b'0');
                }
                i += 1;
            }
            let n = i - start;
            if n == 0 {
                return None;
            }
            for _ in n..3 {
                millis *= 10;
            }
        }
    }
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let offset_min = match b.get(i) {
        None => 0,
        Some(b'Z') | Some(b'z') if i + 1 == b.len() => 0,
        Some(&sign @ (b'+' | b'-')) => {
            let oh = digits(b, i + 1, 2)?;
            let om = match b.len() - (i + 3) {
                0 => 0,
                3 if b[i + 3] == b':' => digits(b, i + 4, 2)?,
                2 => digits(b, i + 3, 2)?,
                _ => return None,
            };
            if oh > 23 || om > 59 {
                return None;
            }
            let m = oh * 60 + om;
            if sign == b'-' {
                -m
            } else {
                m
            }
        }
        _ => return None,
    };
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset_min * 60;
    Some(secs * 1000 + millis)
}

fn digits(b: &[u8], at: usize, n: usize) -> Option<i64> {
    let s = b.get(at..at + n)?;
    s.iter().try_fold(0i64, |acc, &c| c.is_ascii_digit().then(|| acc * 10 + i64::from(c - b'0')))
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if is_leap(y) => 29,
        _ => 28,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The calendar date of a day number.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// A UTC calendar date as days since 1970-01-01.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Date(pub i64);

impl Date {
    pub fn of_millis(ms: i64) -> Date {
        Date(ms.div_euclid(DAY_MS))
    }
}

impl std::fmt::Display for Date {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (y, m, d) = civil_from_days(self.0);
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

/// RFC 3339 text of epoch milliseconds in UTC, e.g. `2026-11-19T10:15:30.123Z`.
pub fn format_millis(ms: i64) -> String {
    let date = Date::of_millis(ms);
    let rem = ms.rem_euclid(DAY_MS);
    let (h, m, s, f) = (rem / 3_600_000, rem / 60_000 % 60, rem / 1000 % 60, rem % 1000);
    format!("{date}T{h:02}:{m:02}:{s:02}.{f:03}Z")
}

/// The wall-clock time in epoch milliseconds.
pub fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// The largest timestamp accepted: 9999-12-31T23:59:59.999Z.
pub const MAX_MILLIS: i64 = 253_402_300_799_999;
/// The smallest timestamp accepted: 0000-01-01T00:00:00Z.
pub const MIN_MILLIS: i64 = -62_167_219_200_000;

/// A decimal number in JSON syntax as `mantissa * 10^exp`, with at most 38 significant
/// digits kept (more are truncated, which never matters at millisecond precision).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decimal {
    pub negative: bool,
    pub mantissa: u128,
    pub exp: i32,
    /// Whether digits were dropped beyond the 38 kept.
    pub truncated: bool,
}

impl Decimal {
    pub fn parse(s: &str) -> Option<Decimal> {
        let b = s.as_bytes();
        let mut i = 0;
        let negative = b.first() == Some(&b'-');
        if negative {
            i = 1;
        }
        let (mut mantissa, mut exp, mut kept, mut truncated, mut any) = (0u128, 0i32, 0u32, false, false);
        let mut push = |c: u8, frac: bool, exp: &mut i32| {
            if kept == 0 && c == b'0' {
                if frac {
                    *exp -= 1;
                }
                return;
            }
            if kept < 38 {
                mantissa = mantissa * 10 + u128::from(c - b'0');
                kept += 1;
                if frac {
                    *exp -= 1;
                }
            } else {
                truncated |= c != b'0';
                if !frac {
                    *exp += 1;
                }
            }
        };
        while i < b.len() && b[i].is_ascii_digit() {
            push(b[i], false, &mut exp);
            any = true;
            i += 1;
        }
        if i < b.len() && b[i] == b'.' {
            i += 1;
            while i < b.len() && b[i].is_ascii_digit() {
                push(b[i], true, &mut exp);
                any = true;
                i += 1;
            }
        }
        if !any {
            return None;
        }
        if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
            i += 1;
            let neg = b.get(i) == Some(&b'-');
            if matches!(b.get(i), Some(b'+') | Some(b'-')) {
                i += 1;
            }
            let start = i;
            let mut e: i32 = 0;
            while i < b.len() && b[i].is_ascii_digit() {
                e = e.saturating_mul(10).saturating_add(i32::from(b[i] - b'0'));
                i += 1;
            }
            if i == start {
                return None;
            }
            exp = exp.saturating_add(if neg { -e } else { e });
        }
        (i == b.len()).then_some(Decimal { negative, mantissa, exp, truncated })
    }

    /// `floor(self * 10^shift)` as an `i64`, or `None` when it does not fit.
    pub fn scaled_floor(&self, shift: i32) -> Option<i64> {
        let e = self.exp.saturating_add(shift);
        let (q, inexact) = if self.mantissa == 0 {
            (0u128, false)
        } else if e >= 0 {
            let p = 10u128.checked_pow(u32::try_from(e).ok()?)?;
            (self.mantissa.checked_mul(p)?, false)
        } else if e < -38 {
            (0, true)
        } else {
            let p = 10u128.pow(e.unsigned_abs());
            (self.mantissa / p, !self.mantissa.is_multiple_of(p))
        };
        let q = i128::try_from(q).ok()?;
        let v = if self.negative { -q - i128::from(inexact || self.truncated) } else { q };
        i64::try_from(v).ok()
    }

    /// The value as an `i64` when it is a whole number that fits.
    pub fn to_exact_i64(&self) -> Option<i64> {
        let v = self.scaled_floor(0)?;
        let whole = self.exp >= 0 || {
            let p = 10u128.checked_pow(self.exp.unsigned_abs()).unwrap_or(u128::MAX);
            self.mantissa.is_multiple_of(p)
        };
        (whole && !self.truncated).then_some(v)
    }

    /// Whether `|self| < 10^k`.
    pub fn abs_below_pow10(&self, k: i32) -> bool {
        if self.mantissa == 0 {
            return true;
        }
        let ndigits = self.mantissa.ilog10() as i32 + 1;
        // `exp` saturates at the ends of i32 for absurd exponents.
        ndigits.saturating_add(self.exp) <= k
    }
}

/// Epoch milliseconds of a numeric timestamp attribute: epoch seconds below 10^11, else
/// epoch milliseconds.
pub fn epoch_number_to_millis(text: &str) -> Option<i64> {
    let d = Decimal::parse(text)?;
    let ms = if d.abs_below_pow10(11) { d.scaled_floor(3)? } else { d.scaled_floor(0)? };
    (MIN_MILLIS..=MAX_MILLIS).contains(&ms).then_some(ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absurd_exponents_are_out_of_range_not_overflows() {
        for text in ["1e2147483647", "9e99999999999", "-1e2147483647"] {
            assert_eq!(epoch_number_to_millis(text), None, "{text}");
        }
        assert!(!Decimal::parse("1e2147483647").expect("number").abs_below_pow10(11));
    }

    fn ms(s: &str) -> i64 {
        parse_timestamp(s).unwrap_or_else(|| panic!("{s} should parse"))
    }

    #[test]
    fn timestamp_forms() {
        assert_eq!(ms("1970-01-01"), 0);
        assert_eq!(ms("1970-01-01T00:00:00Z"), 0);
        assert_eq!(ms("2024-03-01T23:30:00-05:00"), ms("2024-03-02T04:30:00Z"));
        assert_eq!(ms("2024-03-02T04:30:00"), ms("2024-03-02T04:30:00+00:00"));
        assert_eq!(ms("2024-03-02T04:30:00.5Z") - ms("2024-03-02T04:30:00Z"), 500);
        assert_eq!(ms("2024-03-02T04:30:00.123456789Z") % 1000, 123);
        assert_eq!(ms("2024-03-02 04:30:00+0530"), ms("2024-03-01T23:00:00Z"));
        assert_eq!(ms("2024-03-02T04:30Z"), ms("2024-03-02T04:30:00Z"));
        assert_eq!(ms("2026-11-19T10:15:30Z"), 1_795_083_330_000);
        assert_eq!(ms("2024-02-29"), ms("2024-03-01") - DAY_MS);
    }

    #[test]
    fn bad_timestamps() {
        for s in [
            "",
            "next tuesday",
            "2024-13-01",
            "2023-02-29",
            "2024-03-01T25:00:00Z",
            "2024-03-01T10:00:00+25:00",
            "2024-03-01T10:00:00.Z",
            "2024/03/01",
            "2024-03-01T10",
            "2024-03-01Tfoo",
            "2024-03-01T10:00:00Zjunk",
            "20240301",
        ] {
            assert_eq!(parse_timestamp(s), None, "{s}");
        }
    }

    #[test]
    fn dates_cross_midnight_in_utc() {
        assert_eq!(Date::of_millis(ms("2024-03-01T23:30:00-05:00")).to_string(), "2024-03-02");
        assert_eq!(Date::of_millis(-1).to_string(), "1969-12-31");
        assert_eq!(format_millis(ms("2026-11-19T10:15:30.042Z")), "2026-11-19T10:15:30.042Z");
    }

    #[test]
    fn calendar_round_trip() {
        for z in (-800_000..800_000).step_by(997) {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, i64::from(m), i64::from(d)), z);
        }
    }

    #[test]
    fn decimals_are_exact() {
        let d = |s: &str| Decimal::parse(s).unwrap_or_else(|| panic!("{s}"));
        assert_eq!(d("1763542530.123").scaled_floor(3), Some(1_763_542_530_123));
        assert_eq!(d("1763542530.1239").scaled_floor(3), Some(1_763_542_530_123));
        assert_eq!(d("1.763542530123E9").scaled_floor(3), Some(1_763_542_530_123));
        assert_eq!(d("1763542530123456").scaled_floor(-3), Some(1_763_542_530_123));
        assert_eq!(d("-1.5").scaled_floor(0), Some(-2));
        assert_eq!(d("5").to_exact_i64(), Some(5));
        assert_eq!(d("5.0").to_exact_i64(), Some(5));
        assert_eq!(d("500E-2").to_exact_i64(), Some(5));
        assert_eq!(d("5.5").to_exact_i64(), None);
        assert_eq!(d("1e40").to_exact_i64(), None);
        assert_eq!(d("9223372036854775807").to_exact_i64(), Some(i64::MAX));
        assert_eq!(d("9223372036854775808").to_exact_i64(), None);
        assert_eq!(d("0.000").to_exact_i64(), Some(0));
        assert_eq!(Decimal::parse("abc"), None);
    }

    #[test]
    fn epoch_numbers() {
        assert_eq!(epoch_number_to_millis("1763547330"), Some(1_763_547_330_000));
        assert_eq!(epoch_number_to_millis("1763547330.5"), Some(1_763_547_330_500));
        assert_eq!(epoch_number_to_millis("1763547330000"), Some(1_763_547_330_000));
        assert_eq!(epoch_number_to_millis("99999999999"), Some(99_999_999_999_000));
        assert_eq!(epoch_number_to_millis("100000000000"), Some(100_000_000_000));
        assert_eq!(epoch_number_to_millis("1e40"), None);
    }
}
