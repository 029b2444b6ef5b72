//! The GSM 7-bit default alphabet and its extension table (3GPP TS 23.038 §6.2.1, GSM 03.38).
//!
//! A text is GSM-7 when every character is in one of the two tables. Characters of the default table
//! cost one septet; those of the extension table cost two, an escape (0x1B) and a code. Only the
//! default tables are supported: the national single-shift and locking-shift tables are not.
//!
//! Two forms exist on the wire. *Unpacked* holds one septet a byte and is what SMPP data_coding 0
//! carries; *packed* squeezes eight septets into seven octets, as the air interface and some SMSCs do,
//! with fill bits after a user data header so that the text starts on a septet boundary.

/// The escape from the default table to the extension table.
pub const ESC: u8 = 0x1B;

/// The default alphabet, indexed by septet.
///
/// The entry at [`ESC`] is never produced by encoding: ESC has no character of its own. It holds a space
/// because that is what TS 23.038 tells a receiver to show for an escape it cannot interpret, which is
/// how [`decode_unpacked`] reads ESC ESC (reserved for a future second extension table).
const DEFAULT: [char; 128] = [
    '@', '£', '$', '¥', 'è', 'é', 'ù', 'ì', 'ò', 'Ç', '\n', 'Ø', 'ø', '\r', 'Å', 'å', //
    'Δ', '_', 'Φ', 'Γ', 'Λ', 'Ω', 'Π', 'Ψ', 'Σ', 'Θ', 'Ξ', ' ', 'Æ', 'æ', 'ß', 'É', //
    ' ', '!', '"', '#', '¤', '%', '&', '\'', '(', ')', '*', '+', ',', '-', '.', '/', //
    '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', ':', ';', '<', '=', '>', '?', //
    '¡', 'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O', //
    'P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W', 'X', 'Y', 'Z', 'Ä', 'Ö', 'Ñ', 'Ü', '§', //
    '¿', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o', //
    'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', 'ä', 'ö', 'ñ', 'ü', 'à', //
];

/// The extension table: the code that follows [`ESC`], and its character. 0x0A is the page break,
/// which Unicode spells as form feed (U+000C).
const EXTENSION: [(u8, char); 10] = [
    (0x0A, '\u{0C}'),
    (0x14, '^'),
    (0x28, '{'),
    (0x29, '}'),
    (0x2F, '\\'),
    (0x3C, '['),
    (0x3D, '~'),
    (0x3E, ']'),
    (0x40, '|'),
    (0x65, '€'),
];

/// How one character is written in GSM-7.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Code {
    /// One septet of the default table.
    Default(u8),
    /// [`ESC`] followed by this code of the extension table.
    Extension(u8),
}

fn code(c: char) -> Option<Code> {
    // Letters, digits and most ASCII punctuation sit at their ASCII positions, so they skip the scan.
    if let Ok(ascii) = u8::try_from(c)
        && ascii < 0x80
        && DEFAULT[usize::from(ascii)] == c
        && ascii != ESC
    {
        return Some(Code::Default(ascii));
    }
    if let Some(&(ext, _)) = EXTENSION.iter().find(|&&(_, e)| e == c) {
        return Some(Code::Extension(ext));
    }
    (0u8..).zip(DEFAULT).find(|&(septet, d)| d == c && septet != ESC).map(|(septet, _)| Code::Default(septet))
}

/// How many septets `c` costs in GSM-7: 1 for the default table, 2 for the extension table, or `None`
/// when GSM-7 cannot carry it (lower-case `ç`, `á`, curly quotes, emoji, tab, backtick, …).
pub fn septets(c: char) -> Option<u8> {
    match code(c)? {
        Code::Default(_) => Some(1),
        Code::Extension(_) => Some(2),
    }
}

/// Encodes `text` as unpacked GSM-7: one septet value a byte, [`ESC`] before each extension character.
/// This is the form SMPP data_coding 0 uses. `None` when some character is not GSM-7.
pub fn encode_unpacked(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len());
    for c in text.chars() {
        match code(c)? {
            Code::Default(septet) => out.push(septet),
            Code::Extension(ext) => out.extend([ESC, ext]),
        }
    }
    Some(out)
}

/// Why bytes are not unpacked GSM-7.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("byte {index} is {byte:#04x}, which is not a septet (GSM-7 values are 0x00 to 0x7f)")]
    NotASeptet { index: usize, byte: u8 },
    #[error("the text ends with an escape (0x1b) at byte {index} and no character after it; was it cut short?")]
    TrailingEscape { index: usize },
}

/// Decodes unpacked GSM-7 (one septet a byte).
///
/// An escape followed by a code the extension table does not define is read as TS 23.038 tells a
/// receiver to show it: as the default-table character of that code (so ESC 0x41 reads "A", and ESC ESC
/// reads a space). This is deliberate: a phone using a national single-shift table we do not support
/// still gets its message through, slightly wrong, rather than lost. Perl's `Encode::GSM0338` writes
/// U+FFFD there instead.
///
/// Errors are kept for what no receiver could show: a byte above 0x7F (the sender did not use GSM-7,
/// perhaps Latin-1) and an escape with nothing after it (the text was cut).
pub fn decode_unpacked(bytes: &[u8]) -> Result<String, DecodeError> {
    let mut out = String::with_capacity(bytes.len());
    let mut iter = bytes.iter().copied().enumerate();
    while let Some((index, byte)) = iter.next() {
        let septet = check_septet(index, byte)?;
        if septet != ESC {
            out.push(DEFAULT[usize::from(septet)]);
            continue;
        }
        let (index, byte) = iter.next().ok_or(DecodeError::TrailingEscape { index })?;
        let ext = check_septet(index, byte)?;
        let c = EXTENSION.iter().find(|&&(e, _)| e == ext).map_or(DEFAULT[usize::from(ext)], |&(_, c)| c);
        out.push(c);
    }
    Ok(out)
}

fn check_septet(index: usize, byte: u8) -> Result<u8, DecodeError> {
    if byte < 0x80 { Ok(byte) } else { Err(DecodeError::NotASeptet { index, byte }) }
}

/// Why septets cannot be packed or unpacked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PackError {
    #[error("byte {index} is {byte:#04x}, which is not a septet (GSM-7 values are 0x00 to 0x7f)")]
    NotASeptet { index: usize, byte: u8 },
    #[error("{septets} septets need {needed} octets, but only {got} are there")]
    TooShort { septets: usize, needed: usize, got: usize },
}

/// The fill bits between a user data header of `udh_octets` octets (its length octet included) and the
/// first septet, so that the text starts on a septet boundary (TS 23.040 §9.2.3.24). The usual 6-octet
/// concatenation header needs 1; no header needs 0.
pub fn fill_bits(udh_octets: usize) -> usize {
    (7 - (udh_octets * 8) % 7) % 7
}

/// Packs septets, eight into seven octets, least significant bit first (TS 23.038 §6.1.2.1).
///
/// `udh_octets` is the length of the user data header the result will follow (0 when there is none): the
/// result then starts with [`fill_bits`] zero bits. The last octet is padded with zero bits, so a
/// receiver needs the septet count, not the octet count, to know where the text ends.
pub fn pack(septets: &[u8], udh_octets: usize) -> Result<Vec<u8>, PackError> {
    let fill = fill_bits(udh_octets);
    let mut out = vec![0u8; (fill + 7 * septets.len()).div_ceil(8)];
    for (index, &septet) in septets.iter().enumerate() {
        if septet >= 0x80 {
            return Err(PackError::NotASeptet { index, byte: septet });
        }
        let bit = fill + 7 * index;
        let (octet, shift) = (bit / 8, bit % 8);
        // Bits pushed past the top of this octet are the ones the next octet receives.
        out[octet] |= septet << shift;
        if shift > 1 {
            out[octet + 1] |= septet >> (8 - shift);
        }
    }
    Ok(out)
}

/// Unpacks `septets` septets from packed octets that follow a user data header of `udh_octets` octets
/// (0 when there is none); the inverse of [`pack`].
///
/// `septets` counts the text only. From an SMS TP-UDL, which counts the header too, subtract
/// `(8 * udh_octets).div_ceil(7)`. Octets beyond those needed are ignored.
pub fn unpack(octets: &[u8], udh_octets: usize, septets: usize) -> Result<Vec<u8>, PackError> {
    let fill = fill_bits(udh_octets);
    let needed = (fill + 7 * septets).div_ceil(8);
    if octets.len() < needed {
        return Err(PackError::TooShort { septets, needed, got: octets.len() });
    }
    let out = (0..septets)
        .map(|index| {
            let bit = fill + 7 * index;
            let (octet, shift) = (bit / 8, bit % 8);
            let low = octets[octet] >> shift;
            let high = if shift > 1 { octets[octet + 1] << (8 - shift) } else { 0 };
            (low | high) & 0x7F
        })
        .collect();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_character_of_both_tables_and_nothing_else_is_gsm7() {
        let mut single = 0;
        let mut double = 0;
        // Both tables lie in the Basic Multilingual Plane; the traps below try a few characters beyond it.
        for c in (0..=0xFFFF).filter_map(char::from_u32) {
            match septets(c) {
                Some(1) => single += 1,
                Some(2) => double += 1,
                Some(n) => panic!("{c:?} costs {n} septets"),
                None => {}
            }
        }
        // 128 septets less ESC; the ten extension characters.
        assert_eq!((single, double), (127, 10));
    }

    #[test]
    fn each_septet_decodes_and_encodes_back() {
        for septet in (0u8..0x80).filter(|&s| s != ESC) {
            let text = decode_unpacked(&[septet]).unwrap();
            assert_eq!(encode_unpacked(&text), Some(vec![septet]), "septet {septet:#04x} is {text:?}");
        }
        for (ext, c) in EXTENSION {
            assert_eq!(decode_unpacked(&[ESC, ext]).unwrap(), c.to_string());
            assert_eq!(encode_unpacked(&c.to_string()), Some(vec![ESC, ext]));
        }
    }

    #[test]
    fn the_usual_traps() {
        assert_eq!(encode_unpacked("@$£¥"), Some(vec![0x00, 0x02, 0x01, 0x03]));
        assert_eq!(encode_unpacked("5€ [ok]"), Some(vec![0x35, ESC, 0x65, 0x20, ESC, 0x3C, 0x6F, 0x6B, ESC, 0x3E]));
        assert_eq!(encode_unpacked("Ç"), Some(vec![0x09]));
        assert_eq!(septets('ç'), None);
        assert_eq!(septets('`'), None);
        assert_eq!(septets('\t'), None);
        assert_eq!(septets('\u{1B}'), None);
        assert_eq!(septets('😀'), None);
        assert_eq!(septets('\u{1D400}'), None);
        assert_eq!(septets('\u{0C}'), Some(2));
        assert_eq!(encode_unpacked("a\u{201C}b"), None);
    }

    #[test]
    fn unknown_escapes_read_as_the_default_table() {
        assert_eq!(decode_unpacked(&[ESC, 0x41]).unwrap(), "A");
        assert_eq!(decode_unpacked(&[ESC, ESC, 0x41]).unwrap(), " A");
        assert_eq!(decode_unpacked(&[0x41, ESC]), Err(DecodeError::TrailingEscape { index: 1 }));
        assert_eq!(decode_unpacked(&[0x41, 0xE9]), Err(DecodeError::NotASeptet { index: 1, byte: 0xE9 }));
        assert_eq!(decode_unpacked(&[ESC, 0x80]), Err(DecodeError::NotASeptet { index: 1, byte: 0x80 }));
    }

    #[test]
    fn packs_the_textbook_example() {
        // "hellohello", the example most GSM-7 write-ups use.
        let septets = encode_unpacked("hellohello").unwrap();
        let packed = pack(&septets, 0).unwrap();
        assert_eq!(packed, [0xE8, 0x32, 0x9B, 0xFD, 0x46, 0x97, 0xD9, 0xEC, 0x37]);
        assert_eq!(unpack(&packed, 0, 10).unwrap(), septets);
    }

    #[test]
    fn eight_septets_fill_seven_octets() {
        let packed = pack(&[0x7F; 8], 0).unwrap();
        assert_eq!(packed, [0xFF; 7]);
        // Seven septets leave seven zero bits, which read as '@' to whoever guesses the count.
        assert_eq!(pack(&[0x7F; 7], 0).unwrap(), [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]);
        assert_eq!(
            unpack(&[0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01], 0, 8).unwrap(),
            [0x7F, 0x7F, 0x7F, 0x7F, 0x7F, 0x7F, 0x7F, 0]
        );
    }

    #[test]
    fn fill_bits_after_a_header() {
        assert_eq!(fill_bits(0), 0);
        assert_eq!(fill_bits(6), 1);
        assert_eq!(fill_bits(7), 0);
        assert_eq!(fill_bits(5), 2);
        // After the 6-octet header the text starts at bit 1: 'a' (0x61) becomes 0xC2.
        assert_eq!(pack(&[0x61], 6).unwrap(), [0xC2]);
        assert_eq!(pack(&[0x61, 0x61], 6).unwrap(), [0xC2, 0x61]);
        assert_eq!(unpack(&[0xC2, 0x61], 6, 2).unwrap(), [0x61, 0x61]);
    }

    #[test]
    fn pack_errors() {
        assert_eq!(pack(&[0x41, 0x80], 0), Err(PackError::NotASeptet { index: 1, byte: 0x80 }));
        assert_eq!(unpack(&[0xC2], 6, 2), Err(PackError::TooShort { septets: 2, needed: 2, got: 1 }));
    }
}
