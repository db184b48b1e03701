//! Order numbers (SPEC §14): digits only, so a caller can key one in on a
//! phone keypad and a till can scan it, ending in a Luhn check digit, so a
//! mistyped number is refused at the edge without a Redis look-up.
//!
//! Layout: `SSSSSS…` `BBB` `C`: the value of the durable sequence
//! `order_number_seq` (zero-padded to at least 6 digits, so at least 10
//! digits in all), the session's [`Bucket`] (3 digits), and the check digit
//! over all the others. The sequence alone makes a number unique forever;
//! the bucket tells where the number's Redis keys live: a Redis Cluster hash
//! tag shared with its checkout session's keys (`keys.rs`), so every script
//! on a session and its numbers touches one slot, while the 1,000 buckets
//! spread sessions over every primary. The till only knows the number, and
//! the number leads to the slot.

use std::fmt;

/// Buckets sessions and their order numbers are spread over.
pub const BUCKETS: u32 = 1000;
/// Digits of the sequence part, at least (zero-padded).
const SEQUENCE_DIGITS: usize = 6;
/// Shortest valid number: sequence, bucket, check digit.
pub const MIN_DIGITS: usize = SEQUENCE_DIGITS + 3 + 1;
/// Longest accepted number (an `i64` sequence has at most 19 digits).
const MAX_DIGITS: usize = 19 + 3 + 1;

/// Where a session and its order numbers live: one of [`BUCKETS`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Bucket(u16);

impl Bucket {
    /// The bucket of a checkout session, from the random hex digits that
    /// begin its id (a non-hex id, which names no session, gets bucket 0).
    pub fn of_session(session_id: &str) -> Bucket {
        let head = session_id.get(..8).and_then(|h| u32::from_str_radix(h, 16).ok()).unwrap_or(0);
        Bucket((head % BUCKETS) as u16)
    }

    /// A bucket drawn at random, for a number with no checkout session behind it.
    pub fn random() -> Bucket {
        use rand::Rng;
        Bucket(rand::thread_rng().gen_range(0..BUCKETS) as u16)
    }

    /// The bucket with this index, if there is one.
    pub fn new(index: u32) -> Option<Bucket> {
        (index < BUCKETS).then_some(Bucket(index as u16))
    }

    pub fn index(self) -> u16 {
        self.0
    }
}

impl fmt::Display for Bucket {
    /// Three digits, as in an order number.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:03}", self.0)
    }
}

/// A well-formed order number: digits only, at least [`MIN_DIGITS`] long,
/// with a valid Luhn check digit. Whether it was ever issued is for Redis
/// and Postgres to say.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct OrderNumber(String);

impl OrderNumber {
    /// The number for `sequence` (a value of `order_number_seq`, > 0) in `bucket`.
    pub fn issue(sequence: i64, bucket: Bucket) -> OrderNumber {
        let mut digits = format!("{sequence:0SEQUENCE_DIGITS$}{bucket}");
        digits.push(char::from(luhn::checksum(digits.as_bytes())));
        OrderNumber(digits)
    }

    /// Accepts `text` as typed or scanned (surrounding spaces ignored) when
    /// it is a well-formed number; anything else names no order.
    pub fn parse(text: &str) -> Option<OrderNumber> {
        let digits = text.trim();
        let well_formed = (MIN_DIGITS..=MAX_DIGITS).contains(&digits.len())
            && digits.bytes().all(|b| b.is_ascii_digit())
            && luhn::valid(digits);
        well_formed.then(|| OrderNumber(digits.to_string()))
    }

    /// The bucket of the session the number was issued for.
    pub fn bucket(&self) -> Bucket {
        let n = self.0.len();
        // Parsed or issued: the three digits before the check digit are digits.
        let index = self.0[n - 4..n - 1].bytes().fold(0u16, |acc, b| acc * 10 + u16::from(b - b'0'));
        Bucket(index)
    }

    /// The value of the sequence the number was drawn from.
    pub fn sequence(&self) -> i64 {
        self.0[..self.0.len() - 4].parse().unwrap_or(0)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for OrderNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for OrderNumber {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_issued_number_is_digits_with_a_valid_check_digit_and_keeps_its_parts() {
        let bucket = Bucket::new(42).unwrap();
        let number = OrderNumber::issue(1, bucket);
        assert_eq!(number.as_str().len(), MIN_DIGITS);
        assert_eq!(number.as_str(), "0000010421", "sequence 000001, bucket 042, check digit 1");
        assert_eq!(OrderNumber::parse(number.as_str()), Some(number.clone()));
        assert_eq!((number.sequence(), number.bucket()), (1, bucket));
        // The sequence grows past six digits without losing uniqueness.
        let big = OrderNumber::issue(123_456_789, Bucket::new(999).unwrap());
        assert_eq!(big.as_str().len(), 9 + 3 + 1);
        assert_eq!((big.sequence(), big.bucket().index()), (123_456_789, 999));
        assert_eq!(OrderNumber::parse(big.as_str()), Some(big));
    }

    #[test]
    fn the_check_digit_is_the_luhn_digit() {
        // The textbook example: 7992739871 has check digit 3.
        assert_eq!(OrderNumber::issue(7_992_739, Bucket::new(871).unwrap()).as_str(), "79927398713");
        assert!(OrderNumber::parse("79927398713").is_some());
        assert!(OrderNumber::parse("79927398710").is_none());
    }

    #[test]
    fn every_mistyped_digit_is_caught() {
        let number = OrderNumber::issue(4711, Bucket::new(305).unwrap());
        let digits: Vec<u8> = number.as_str().bytes().collect();
        for position in 0..digits.len() {
            for typed in b'0'..=b'9' {
                if typed == digits[position] {
                    continue;
                }
                let mut mistyped = digits.clone();
                mistyped[position] = typed;
                let text = String::from_utf8(mistyped).unwrap();
                assert_eq!(OrderNumber::parse(&text), None, "{text} (from {number}) accepted");
            }
        }
    }

    #[test]
    fn adjacent_transpositions_are_caught_except_09_and_90() {
        let mut caught = 0;
        for sequence in [4711, 90_817, 123_456, 555_001] {
            let number = OrderNumber::issue(sequence, Bucket::new(sequence as u32 % 1000).unwrap());
            let digits: Vec<u8> = number.as_str().bytes().collect();
            for i in 0..digits.len() - 1 {
                let (a, b) = (digits[i], digits[i + 1]);
                if a == b {
                    continue;
                }
                let mut swapped = digits.clone();
                swapped.swap(i, i + 1);
                let text = String::from_utf8(swapped).unwrap();
                // Luhn's known blind spot: 09 <-> 90.
                if (a, b) == (b'0', b'9') || (a, b) == (b'9', b'0') {
                    continue;
                }
                assert_eq!(OrderNumber::parse(&text), None, "{text} (from {number}) accepted");
                caught += 1;
            }
        }
        assert!(caught > 20);
        // One concrete case, as a till would mistype it.
        let number = OrderNumber::issue(123_456, Bucket::new(789).unwrap());
        let swapped = format!("{}{}{}", &number.as_str()[..1], &number.as_str()[2..3], &number.as_str()[1..2])
            + &number.as_str()[3..];
        assert_ne!(swapped, number.as_str());
        assert_eq!(OrderNumber::parse(&swapped), None);
    }

    #[test]
    fn only_long_enough_digit_strings_parse() {
        let number = OrderNumber::issue(1, Bucket::new(0).unwrap());
        assert!(OrderNumber::parse(&format!("  {number} ")).is_some(), "spaces around are ignored");
        for bad in [
            "",
            "0",
            "00000",
            "ORD-2026-000001",
            "12345 67890",
            "٣٤٥٦٧٨٩٠١٢٣",
            "+0000010000",
            "1e100000000",
            &"0".repeat(24),
        ] {
            assert_eq!(OrderNumber::parse(bad), None, "{bad:?}");
        }
        // Luhn-valid but too short.
        assert!(luhn::valid("18"));
        assert_eq!(OrderNumber::parse("18"), None);
        assert_eq!(OrderNumber::parse("000000018"), None, "nine digits");
    }

    #[test]
    fn sessions_spread_over_every_bucket_and_keep_theirs() {
        let id = "0a1b2c3d4e5f60718293a4b5c6d7e8f9";
        assert_eq!(Bucket::of_session(id), Bucket::of_session(id));
        assert_eq!(Bucket::of_session(id).index() as u32, 0x0a1b2c3d % BUCKETS);
        assert_eq!(Bucket::of_session("not hex at all, no session"), Bucket::new(0).unwrap());
        let mut seen = std::collections::HashSet::new();
        for i in 0..20_000u32 {
            seen.insert(Bucket::of_session(&format!("{:08x}{}", i.wrapping_mul(2_654_435_761), "0".repeat(24))));
        }
        assert!(seen.len() > 990, "{} buckets used", seen.len());
    }
}
