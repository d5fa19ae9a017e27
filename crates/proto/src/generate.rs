//! Structurally valid request messages with hostile field values, for the property tests and
//! the fuzz target (feature `generate`; never part of the service).
//!
//! Any message of the contract is built from its descriptor in [`crate::FILE_DESCRIPTOR_SET`]:
//! each field present or not, repeated ones a few times, every value picked by a stream of
//! choice bytes — strings with NUL, control, bidirectional and invisible characters, the
//! neighbours of the surrogates, very long ones, and now and then a well-formed UUID, party
//! code or etag so that parsing reaches past the first check; numbers at their extremes; enum
//! numbers the contract does not define; timestamps from before year 1 to after 9999. The same
//! choices always give the same bytes, so a test framework that shrinks the choices shrinks the
//! message, and a fuzzer's input is a message as well as raw bytes.

mod suite;

use std::collections::HashMap;
use std::sync::OnceLock;

use prost::Message;
use prost::encoding::{WireType, encode_key, encode_varint};
use prost_types::field_descriptor_proto::{Label, Type};
use prost_types::{DescriptorProto, FileDescriptorSet};

/// A stream of choices read from bytes; past their end every choice is the first option.
#[derive(Debug, Clone)]
pub struct Choices<'a> {
    bytes: &'a [u8],
    position: usize,
}

impl<'a> Choices<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, position: 0 }
    }

    pub fn byte(&mut self) -> u8 {
        let byte = self.bytes.get(self.position).copied().unwrap_or(0);
        self.position += 1;
        byte
    }

    /// A number below `n` (which is at least 1).
    pub fn below(&mut self, n: usize) -> usize {
        usize::from(self.byte()) % n.max(1)
    }

    fn u64(&mut self) -> u64 {
        (0..8).fold(0u64, |n, _| (n << 8) | u64::from(self.byte()))
    }

    fn exhausted(&self) -> bool {
        self.position >= self.bytes.len()
    }
}

/// Text a request may carry, good and bad.
const WORDS: &[&str] = &[
    "a",
    "AM",
    "AZ",
    "en",
    "icc.8.2.b.i",
    "Ganja",
    "0190b6a4-7c3e-7a51-9b2e-4c8f0e5d2a11",
    "0190B6A4-7C3E-7A51-9B2E-4C8F0E5D2A11",
    "00000000-0000-0000-0000-000000000000",
    "3f1c0e9a2b7d4e6f",
    "https://example.org/a",
    "CASE-2020-000001",
    "narrative",
    "status",
    "source.name",
    "2020-W41",
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "*",
    ",",
    "%",
    "'; --",
    "..",
];

/// Characters chosen one by one: ordinary, white space, controls, bidirectional and invisible
/// formatting, the surrogates' neighbours and the last code points.
const CHARS: &[char] = &[
    'a',
    'Z',
    '7',
    '-',
    '.',
    ' ',
    'ş',
    'ə',
    'Ա',
    'я',
    'ש',
    '中',
    '😀',
    '\0',
    '\t',
    '\n',
    '\r',
    '\u{1}',
    '\u{1b}',
    '\u{7f}',
    '\u{85}',
    '\u{9f}',
    '\u{a0}',
    '\u{ad}',
    '\u{200b}',
    '\u{200d}',
    '\u{200e}',
    '\u{202e}',
    '\u{2028}',
    '\u{2066}',
    '\u{feff}',
    '\u{d7ff}',
    '\u{e000}',
    '\u{fffd}',
    '\u{ffff}',
    '\u{e0001}',
    '\u{10ffff}',
];

fn string(c: &mut Choices) -> String {
    match c.below(8) {
        0 => String::new(),
        1 | 2 => WORDS[c.below(WORDS.len())].to_owned(),
        3 => {
            // A known word with something slipped in.
            let mut word = WORDS[c.below(WORDS.len())].to_owned();
            let at = (0..=word.len())
                .filter(|i| word.is_char_boundary(*i))
                .nth(c.below(word.len() + 1))
                .unwrap_or(0);
            word.insert(at, CHARS[c.below(CHARS.len())]);
            word
        }
        4 => {
            // Long: up to 2^17 characters.
            let unit = CHARS[c.below(CHARS.len())];
            std::iter::repeat_n(unit, 1 << c.below(18)).collect()
        }
        _ => {
            let length = c.below(24);
            (0..length).map(|_| CHARS[c.below(CHARS.len())]).collect()
        }
    }
}

fn bytes(c: &mut Choices) -> Vec<u8> {
    let length = c.below(40);
    (0..length).map(|_| c.byte()).collect()
}

fn signed(c: &mut Choices) -> i64 {
    match c.below(10) {
        0 => 0,
        1 => 1,
        2 => -1,
        3 => i64::MAX,
        4 => i64::MIN,
        5 => i64::from(i32::MAX),
        6 => i64::from(i32::MIN),
        7 => i64::from(c.byte()),
        _ => c.u64() as i64,
    }
}

fn double(c: &mut Choices) -> f64 {
    match c.below(10) {
        0 => 0.0,
        1 => -0.0,
        2 => f64::NAN,
        3 => f64::INFINITY,
        4 => f64::NEG_INFINITY,
        5 => f64::MAX,
        6 => f64::MIN_POSITIVE,
        7 => f64::from(c.byte()) - 128.0,
        _ => f64::from_bits(c.u64()),
    }
}

/// Seconds of a timestamp: the edges of years 1 and 9999, the epoch, far beyond either.
fn seconds(c: &mut Choices) -> i64 {
    const MIN: i64 = -62_135_596_800;
    const MAX: i64 = 253_402_300_799;
    match c.below(8) {
        0 => 1_602_345_600,
        1 => MIN,
        2 => MAX,
        3 => MIN - 1,
        4 => MAX + 1,
        5 => -219_936_441_600,
        _ => signed(c),
    }
}

fn nanos(c: &mut Choices) -> i64 {
    match c.below(5) {
        0 => 0,
        1 => 999_999_999,
        2 => 1_000_000_000,
        3 => -1,
        _ => signed(c),
    }
}

/// The messages of the contract by full name (`.docket.intake.v1.Allegation`) and their enums'
/// largest numbers.
struct Contract {
    messages: HashMap<String, DescriptorProto>,
    enums: HashMap<String, i32>,
}

fn contract() -> &'static Contract {
    static CONTRACT: OnceLock<Contract> = OnceLock::new();
    CONTRACT.get_or_init(|| {
        // The descriptor set is built into the crate from the same files: it decodes.
        let set = FileDescriptorSet::decode(crate::FILE_DESCRIPTOR_SET).unwrap_or_default();
        let mut contract = Contract {
            messages: HashMap::new(),
            enums: HashMap::new(),
        };
        for file in set.file {
            let package = format!(".{}", file.package());
            for e in &file.enum_type {
                let largest = e.value.iter().map(|v| v.number()).max().unwrap_or(0);
                contract
                    .enums
                    .insert(format!("{package}.{}", e.name()), largest);
            }
            for message in file.message_type {
                add_message(&mut contract, &package, message);
            }
        }
        contract
    })
}

fn add_message(contract: &mut Contract, scope: &str, message: DescriptorProto) {
    let name = format!("{scope}.{}", message.name());
    for e in &message.enum_type {
        let largest = e.value.iter().map(|v| v.number()).max().unwrap_or(0);
        contract
            .enums
            .insert(format!("{name}.{}", e.name()), largest);
    }
    for nested in message.nested_type.clone() {
        add_message(contract, &name, nested);
    }
    contract.messages.insert(name, message);
}

/// Whether `name` (`.docket.intake.v1.SubmitAllegationRequest`) is a message of the contract.
pub fn knows(name: &str) -> bool {
    contract().messages.contains_key(name)
}

/// The request message of every method of `service` (`docket.intake.v1.IntakeService`), by
/// full name.
pub fn request_messages(service: &str) -> Vec<String> {
    let set = FileDescriptorSet::decode(crate::FILE_DESCRIPTOR_SET).unwrap_or_default();
    set.file
        .iter()
        .flat_map(|file| {
            file.service
                .iter()
                .filter(move |s| format!("{}.{}", file.package(), s.name()) == service)
        })
        .flat_map(|s| s.method.iter().map(|m| m.input_type().to_owned()))
        .collect()
}

/// The bytes of a message `name` built from `choices`.
pub fn message(name: &str, choices: &mut Choices) -> Vec<u8> {
    let mut out = Vec::new();
    write_message(name, choices, 0, &mut out);
    out
}

fn write_message(name: &str, c: &mut Choices, depth: usize, out: &mut Vec<u8>) {
    match name {
        ".google.protobuf.Timestamp" | ".google.protobuf.Duration" => {
            if c.below(4) != 0 {
                encode_key(1, WireType::Varint, out);
                encode_varint(seconds(c) as u64, out);
            }
            if c.below(3) != 0 {
                encode_key(2, WireType::Varint, out);
                encode_varint(nanos(c) as u64, out);
            }
            return;
        }
        ".google.protobuf.FieldMask" => {
            for _ in 0..c.below(4) {
                let path = string(c);
                encode_key(1, WireType::LengthDelimited, out);
                encode_varint(path.len() as u64, out);
                out.extend_from_slice(path.as_bytes());
            }
            return;
        }
        _ => {}
    }
    let Some(message) = contract().messages.get(name) else {
        return;
    };
    for field in &message.field {
        if c.exhausted() {
            break;
        }
        let count = if field.label() == Label::Repeated {
            c.below(4)
        } else {
            usize::from(c.below(3) != 0)
        };
        for _ in 0..count {
            write_field(field, c, depth, out);
        }
    }
}

fn write_field(
    field: &prost_types::FieldDescriptorProto,
    c: &mut Choices,
    depth: usize,
    out: &mut Vec<u8>,
) {
    let tag = u32::try_from(field.number()).unwrap_or(1);
    let length_delimited = |value: &[u8], out: &mut Vec<u8>| {
        encode_key(tag, WireType::LengthDelimited, out);
        encode_varint(value.len() as u64, out);
        out.extend_from_slice(value);
    };
    match field.r#type() {
        Type::String => {
            if c.below(64) == 0 {
                // Not UTF-8: the decoder must refuse it.
                length_delimited(&[0x61, 0xff, 0xfe], out);
            } else {
                length_delimited(string(c).as_bytes(), out);
            }
        }
        Type::Bytes => length_delimited(&bytes(c), out),
        Type::Message | Type::Group => {
            if depth < 5 {
                let mut inner = Vec::new();
                write_message(field.type_name(), c, depth + 1, &mut inner);
                length_delimited(&inner, out);
            }
        }
        Type::Enum => {
            let largest = contract()
                .enums
                .get(field.type_name())
                .copied()
                .unwrap_or(0);
            let value = match c.below(6) {
                0 => 0,
                1 => largest + 1,
                2 => -1,
                3 => i32::MAX,
                _ => i32::try_from(c.below(usize::try_from(largest).unwrap_or(0) + 1)).unwrap_or(0),
            };
            encode_key(tag, WireType::Varint, out);
            encode_varint(i64::from(value) as u64, out);
        }
        Type::Bool => {
            encode_key(tag, WireType::Varint, out);
            encode_varint(u64::from(c.byte() & 1), out);
        }
        Type::Int32 | Type::Int64 | Type::Uint32 | Type::Uint64 => {
            let value = signed(c);
            let value = if field.r#type() == Type::Int32 {
                i64::from(value as i32) as u64
            } else if field.r#type() == Type::Uint32 {
                u64::from(value as u32)
            } else {
                value as u64
            };
            encode_key(tag, WireType::Varint, out);
            encode_varint(value, out);
        }
        Type::Sint32 | Type::Sint64 => {
            let value = signed(c);
            let value = if field.r#type() == Type::Sint32 {
                i64::from(value as i32)
            } else {
                value
            };
            encode_key(tag, WireType::Varint, out);
            encode_varint(((value << 1) ^ (value >> 63)) as u64, out);
        }
        Type::Fixed32 | Type::Sfixed32 | Type::Float => {
            let value = if field.r#type() == Type::Float {
                (double(c) as f32).to_bits()
            } else {
                signed(c) as u32
            };
            encode_key(tag, WireType::ThirtyTwoBit, out);
            out.extend_from_slice(&value.to_le_bytes());
        }
        Type::Fixed64 | Type::Sfixed64 | Type::Double => {
            let value = if field.r#type() == Type::Double {
                double(c).to_bits()
            } else {
                signed(c) as u64
            };
            encode_key(tag, WireType::SixtyFourBit, out);
            out.extend_from_slice(&value.to_le_bytes());
        }
    }
}

/// What a service made of a request's bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    /// The bytes are not the message: the server answers before any parsing.
    Undecodable,
    /// A domain value, in its `Debug` form.
    Valid(String),
    /// Violations, each naming a field.
    Invalid(docket_domain::Violations),
}

impl Parsed {
    /// Decodes `bytes` as `M` and parses it with `parse`.
    pub fn of<M, T>(
        bytes: &[u8],
        parse: impl FnOnce(M) -> Result<T, docket_domain::Violations>,
    ) -> Self
    where
        M: Message + Default,
        T: std::fmt::Debug,
    {
        match M::decode(bytes) {
            Err(_) => Parsed::Undecodable,
            Ok(message) => match parse(message) {
                Ok(value) => Parsed::Valid(format!("{value:?}")),
                Err(violations) => Parsed::Invalid(violations),
            },
        }
    }

    /// What is wrong with the outcome, if anything: a domain value that not every database can
    /// store, or a refusal that names no field.
    pub fn problem(&self) -> Option<String> {
        match self {
            Parsed::Undecodable => None,
            Parsed::Valid(debug) => unstorable(debug).map(|why| format!("accepted {why}: {debug}")),
            Parsed::Invalid(violations) if violations.is_empty() => {
                Some("refused with no violation".to_owned())
            }
            Parsed::Invalid(violations) => violations
                .iter()
                .find(|v| v.field.is_empty() || v.description.is_empty())
                .map(|v| format!("a violation names no field or no reason: {v:?}")),
        }
    }
}

/// A service's parser of one request message, by the message's full name.
pub type Parser = (&'static str, fn(&[u8]) -> Parsed);

/// Builds a message for parser `index` of `parsers` from `choices` and parses it: what is wrong
/// with the outcome, if anything (a panic propagates).
pub fn check_generated(parsers: &[Parser], index: usize, choices: &[u8]) -> Result<(), String> {
    let (name, parse) = parsers[index % parsers.len()];
    let bytes = message(name, &mut Choices::new(choices));
    match parse(&bytes).problem() {
        None => Ok(()),
        Some(problem) => Err(format!("{name} {bytes:02x?}: {problem}")),
    }
}

/// Parses `bytes` as they are with parser `index` of `parsers`.
pub fn check_raw(parsers: &[Parser], index: usize, bytes: &[u8]) -> Result<(), String> {
    let (name, parse) = parsers[index % parsers.len()];
    match parse(bytes).problem() {
        None => Ok(()),
        Some(problem) => Err(format!("{name} {bytes:02x?}: {problem}")),
    }
}

/// How many services a fuzz input can address: intake, case management, reporting.
pub const SERVICES: u8 = 3;

/// Runs one fuzz input if it addresses `service` (its first byte, modulo [`SERVICES`]): the
/// second byte picks the parser, the third whether the rest is the message's bytes (even) or
/// the choices that build one (odd).
pub fn check_fuzz_input(
    service: u8,
    parsers: &[Parser],
    input: &[u8],
) -> Option<Result<(), String>> {
    let [which, index, mode, rest @ ..] = input else {
        return None;
    };
    if which % SERVICES != service {
        return None;
    }
    let index = usize::from(*index);
    Some(if mode & 1 == 0 {
        check_raw(parsers, index, rest)
    } else {
        check_generated(parsers, index, rest)
    })
}

/// The fuzz inputs kept in `directory` (the repository's `fuzz/regressions`), every file.
pub fn kept_inputs(directory: &std::path::Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut inputs: Vec<_> = std::fs::read_dir(directory)
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.is_file() && path.extension().is_none_or(|e| e != "md"))
        .filter_map(|path| std::fs::read(&path).ok().map(|bytes| (path, bytes)))
        .collect();
    inputs.sort();
    inputs
}

/// Why a parsed domain value could not be stored on every database, if it could not: it holds a
/// NUL (PostgreSQL refuses it in text) or another control character but tab and line breaks.
/// Reads the value's `Debug` form, where strings show such characters escaped.
pub fn unstorable(debug: &str) -> Option<String> {
    let mut chars = debug.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            continue;
        }
        match chars.next() {
            Some('0') => return Some("a NUL character".to_owned()),
            Some('u') => {
                let code: String = chars
                    .by_ref()
                    .skip_while(|c| *c == '{')
                    .take_while(|c| *c != '}')
                    .collect();
                let found = u32::from_str_radix(&code, 16).ok().and_then(char::from_u32);
                if let Some(found) = found.filter(|c| c.is_control()) {
                    return Some(format!("the control character U+{:04X}", u32::from(found)));
                }
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_request_message_of_the_contract_is_known() {
        for name in [
            ".docket.intake.v1.SubmitAllegationRequest",
            ".docket.cases.v1.OpenCaseRequest",
            ".docket.reporting.v1.QueryStatisticsRequest",
        ] {
            assert!(knows(name), "{name}");
        }
    }

    #[test]
    fn the_same_choices_give_the_same_message_and_it_decodes() {
        let choices: Vec<u8> = (0..=255u8).cycle().take(2000).collect();
        let name = ".docket.intake.v1.SubmitAllegationRequest";
        let first = message(name, &mut Choices::new(&choices));
        assert_eq!(first, message(name, &mut Choices::new(&choices)));
        assert!(!first.is_empty());
    }

    #[test]
    fn nul_and_control_characters_are_seen_in_a_debug_form() {
        assert!(unstorable(&format!("{:?}", "a\0b")).is_some());
        assert!(unstorable(&format!("{:?}", "a\u{1b}b")).is_some());
        assert!(unstorable(&format!("{:?}", "a\u{85}b")).is_some());
        assert!(unstorable(&format!("{:?}", "tab\there\nline\\0")).is_none());
        assert!(unstorable(&format!("{:?}", "\u{202e}ş")).is_none());
    }
}
