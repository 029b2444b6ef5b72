//! Outbound media (MMS): which files agents and integrations may send, checked at the edge. A file
//! is accepted when its declared type is one of [`UploadType`] and its first bytes are that type's
//! signature ("magic number"), so a renamed executable or HTML page never goes out as a picture.

/// The largest file accepted for sending (carriers cap MMS lower; they resize or refuse).
pub const MAX_UPLOAD_BYTES: usize = 5 * 1024 * 1024;

/// The most media one message carries.
pub const MAX_MEDIA_PER_MESSAGE: usize = 10;

/// A type of file that may be sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadType {
    Jpeg,
    Png,
    Gif,
    Mp4,
    Pdf,
}

/// Why a file is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UploadError {
    #[error("files of type \"{0}\" cannot be sent; send one of {ALLOWED}")]
    TypeNotAllowed(String),
    #[error("the file is not a {0} (its first bytes are not that format's signature); declare the file's real type")]
    NotThatType(&'static str),
    #[error("the file is empty")]
    Empty,
    #[error("the file has {0} bytes; the limit is {MAX_UPLOAD_BYTES} (5 MiB)")]
    TooLarge(usize),
}

/// The accepted types, as named in messages.
pub const ALLOWED: &str = "image/jpeg, image/png, image/gif, video/mp4, application/pdf";

impl UploadType {
    const ALL: [UploadType; 5] = [UploadType::Jpeg, UploadType::Png, UploadType::Gif, UploadType::Mp4, UploadType::Pdf];

    /// The MIME type.
    pub fn as_str(self) -> &'static str {
        match self {
            UploadType::Jpeg => "image/jpeg",
            UploadType::Png => "image/png",
            UploadType::Gif => "image/gif",
            UploadType::Mp4 => "video/mp4",
            UploadType::Pdf => "application/pdf",
        }
    }

    /// The type a declared `Content-Type` names (parameters and case ignored), if it may be sent.
    pub fn parse(declared: &str) -> Result<UploadType, UploadError> {
        let base = declared.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
        UploadType::ALL.into_iter().find(|t| t.as_str() == base).ok_or(UploadError::TypeNotAllowed(base))
    }

    /// Whether `data` starts with this type's signature.
    pub fn matches(self, data: &[u8]) -> bool {
        match self {
            UploadType::Jpeg => data.starts_with(&[0xFF, 0xD8, 0xFF]),
            UploadType::Png => data.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]),
            UploadType::Gif => data.starts_with(b"GIF87a") || data.starts_with(b"GIF89a"),
            // An ISO base media file opens with a box of type "ftyp" (after its 4-byte size).
            UploadType::Mp4 => data.get(4..8) == Some(b"ftyp".as_slice()),
            UploadType::Pdf => data.starts_with(b"%PDF-"),
        }
    }
}

/// Checks a file to send: its declared type, its size and that its bytes are of that type.
pub fn check_upload(declared: &str, data: &[u8]) -> Result<UploadType, UploadError> {
    let kind = UploadType::parse(declared)?;
    if data.is_empty() {
        return Err(UploadError::Empty);
    }
    if data.len() > MAX_UPLOAD_BYTES {
        return Err(UploadError::TooLarge(data.len()));
    }
    if !kind.matches(data) {
        return Err(UploadError::NotThatType(kind.as_str()));
    }
    Ok(kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_allowed_type_is_recognized_by_its_signature() {
        let files: [(&str, &[u8]); 5] = [
            ("image/jpeg", &[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10]),
            ("image/png; charset=binary", b"\x89PNG\r\n\x1a\n\0\0"),
            ("IMAGE/GIF", b"GIF89a\x01\0"),
            ("video/mp4", b"\0\0\0\x18ftypmp42"),
            ("application/pdf", b"%PDF-1.7\n"),
        ];
        for (declared, data) in files {
            assert!(check_upload(declared, data).is_ok(), "{declared}");
        }
    }

    #[test]
    fn other_types_wrong_bytes_empty_and_oversized_files_are_refused() {
        assert_eq!(check_upload("text/html", b"<html>"), Err(UploadError::TypeNotAllowed("text/html".into())));
        assert_eq!(check_upload("image/png", b"GIF89a"), Err(UploadError::NotThatType("image/png")));
        assert_eq!(check_upload("video/mp4", b"\0\0"), Err(UploadError::NotThatType("video/mp4")));
        assert_eq!(check_upload("image/gif", b""), Err(UploadError::Empty));
        let big = vec![0xFF; MAX_UPLOAD_BYTES + 1];
        assert_eq!(check_upload("image/jpeg", &big), Err(UploadError::TooLarge(MAX_UPLOAD_BYTES + 1)));
        assert!(UploadError::TypeNotAllowed("text/html".into()).to_string().contains(ALLOWED));
    }
}
