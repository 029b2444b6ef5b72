//! UTF-16BE, the encoding of SMPP data_coding 8 and of SMS messages with the UCS-2 data coding scheme.
//!
//! The standards say UCS-2, which has no surrogates; phones and carriers send UTF-16 so that emoji
//! survive, as two 16-bit units (a surrogate pair) each. We encode and decode UTF-16 and count units, not
//! characters, because segment limits are in units.

/// Encodes `text` as UTF-16, big-endian: two bytes a unit, four for a character outside the BMP.
pub fn encode(text: &str) -> Vec<u8> {
    text.encode_utf16().flat_map(u16::to_be_bytes).collect()
}

/// Why bytes are not UTF-16BE.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("{len} bytes cannot be UTF-16, which has two bytes a unit")]
    OddLength { len: usize },
    #[error("the unit {unit:#06x} at byte {index} is half of a surrogate pair without its other half")]
    LoneSurrogate { index: usize, unit: u16 },
}

/// Decodes UTF-16BE. A surrogate without its partner is an error, never a replacement character, so a
/// part cut in the middle of an emoji is noticed.
pub fn decode(bytes: &[u8]) -> Result<String, DecodeError> {
    if !bytes.len().is_multiple_of(2) {
        return Err(DecodeError::OddLength { len: bytes.len() });
    }
    let units = bytes.chunks_exact(2).map(|pair| u16::from_be_bytes([pair[0], pair[1]]));
    let mut out = String::with_capacity(bytes.len() / 2);
    // The position in units, to say where a lone surrogate is.
    let mut at = 0;
    for decoded in char::decode_utf16(units) {
        match decoded {
            Ok(c) => {
                out.push(c);
                at += c.len_utf16();
            }
            Err(lone) => return Err(DecodeError::LoneSurrogate { index: 2 * at, unit: lone.unpaired_surrogate() }),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_big_endian_with_surrogate_pairs() {
        assert_eq!(encode("Aé"), [0x00, 0x41, 0x00, 0xE9]);
        assert_eq!(encode("😀"), [0xD8, 0x3D, 0xDE, 0x00]);
        assert_eq!(decode(&[0x00, 0x41, 0xD8, 0x3D, 0xDE, 0x00]).unwrap(), "A😀");
        assert_eq!(decode(&[]).unwrap(), "");
    }

    #[test]
    fn refuses_what_is_not_utf16() {
        assert_eq!(decode(&[0x00, 0x41, 0x00]), Err(DecodeError::OddLength { len: 3 }));
        // A high surrogate at the end, a high surrogate before a letter, a low surrogate alone.
        assert_eq!(decode(&[0x00, 0x41, 0xD8, 0x3D]), Err(DecodeError::LoneSurrogate { index: 2, unit: 0xD83D }));
        assert_eq!(decode(&[0xD8, 0x3D, 0x00, 0x41]), Err(DecodeError::LoneSurrogate { index: 0, unit: 0xD83D }));
        assert_eq!(
            decode(&[0x00, 0x41, 0x00, 0x42, 0xDE, 0x00]),
            Err(DecodeError::LoneSurrogate { index: 4, unit: 0xDE00 })
        );
    }
}
