//! The byte layout of a cursor (see the [module docs](super)): framing, values, LEB128.

use super::error::CursorError;
use crate::keyset::Position;
use crate::value::{SortValue, ValueKind};

/// The cursor format version this crate writes and reads.
pub const CURSOR_VERSION: u8 = 1;

/// Bytes of the HMAC-SHA256 tag.
pub(crate) const TAG_LEN: usize = 32;

const FLAG_EXPIRES: u8 = 1;
const FLAG_INCLUSIVE: u8 = 2;
const TAG_NULL: u8 = 0;

/// The fields of a cursor body.
#[derive(Debug)]
pub(crate) struct Body {
    pub(crate) fingerprint: [u8; 8],
    pub(crate) expires_at: Option<u64>,
    pub(crate) position: Position,
}

/// Writes `version | key id | flags | body length | body` (everything the tag covers).
pub(crate) fn write_signed_part(
    key_id: u8,
    fingerprint: [u8; 8],
    expires_at: Option<u64>,
    position: &Position,
    out: &mut Vec<u8>,
) {
    let mut payload = Vec::with_capacity(48);
    payload.extend_from_slice(&fingerprint);
    if let Some(at) = expires_at {
        write_varint(at, &mut payload);
    }
    write_varint(position.values().len() as u64, &mut payload);
    for v in position.values() {
        write_value(v, &mut payload);
    }
    let mut flags = 0;
    if expires_at.is_some() {
        flags |= FLAG_EXPIRES;
    }
    if position.is_inclusive() {
        flags |= FLAG_INCLUSIVE;
    }
    out.push(CURSOR_VERSION);
    out.push(key_id);
    out.push(flags);
    write_varint(payload.len() as u64, out);
    out.extend_from_slice(&payload);
}

/// A cursor split into its parts, framing checked, tag not yet verified.
#[derive(Debug)]
pub(crate) struct Frame<'a> {
    pub(crate) key_id: u8,
    pub(crate) flags: u8,
    /// Everything the tag covers.
    pub(crate) signed: &'a [u8],
    pub(crate) body: &'a [u8],
    pub(crate) tag: &'a [u8],
}

/// Splits raw cursor bytes; checks version and lengths.
pub(crate) fn split_frame(bytes: &[u8]) -> Result<Frame<'_>, CursorError> {
    let mut r = Reader { bytes, pos: 0 };
    let version = r.byte().ok_or(CursorError::Malformed {
        reason: "empty cursor",
    })?;
    if version != CURSOR_VERSION {
        return Err(CursorError::UnknownVersion {
            version,
            supported: CURSOR_VERSION,
        });
    }
    let key_id = r.byte().ok_or(CursorError::Truncated)?;
    let flags = r.byte().ok_or(CursorError::Truncated)?;
    let body_len = r.varint().map_err(|e| match e {
        ReadError::Eof => CursorError::Truncated,
        ReadError::Invalid(reason) => CursorError::Malformed { reason },
    })?;
    let body_start = r.pos;
    let signed_len = usize::try_from(body_len)
        .ok()
        .and_then(|n| n.checked_add(body_start))
        .ok_or(CursorError::Malformed {
            reason: "body length out of range",
        })?;
    let total = signed_len
        .checked_add(TAG_LEN)
        .ok_or(CursorError::Malformed {
            reason: "body length out of range",
        })?;
    if bytes.len() < total {
        return Err(CursorError::Truncated);
    }
    if bytes.len() > total {
        return Err(CursorError::Malformed {
            reason: "bytes after the signature",
        });
    }
    let (signed, tag) = bytes.split_at(signed_len);
    let body = signed.get(body_start..).ok_or(CursorError::Truncated)?;
    Ok(Frame {
        key_id,
        flags,
        signed,
        body,
        tag,
    })
}

/// Parses a verified body.
pub(crate) fn parse_body(flags: u8, body: &[u8]) -> Result<Body, CursorError> {
    let malformed = |reason| CursorError::Malformed { reason };
    if flags & !(FLAG_EXPIRES | FLAG_INCLUSIVE) != 0 {
        return Err(malformed("unknown flags"));
    }
    let mut r = Reader {
        bytes: body,
        pos: 0,
    };
    let mut fingerprint = [0u8; 8];
    for b in &mut fingerprint {
        *b = r.byte().ok_or(malformed("short query fingerprint"))?;
    }
    let expires_at = if flags & FLAG_EXPIRES != 0 {
        Some(r.varint().map_err(|_| malformed("bad expiry"))?)
    } else {
        None
    };
    let count = r.varint().map_err(|_| malformed("bad value count"))?;
    // Every value takes at least one byte: a count above the bytes left is a lie.
    if count > body.len().saturating_sub(r.pos) as u64 {
        return Err(malformed("value count exceeds body"));
    }
    let mut values = Vec::with_capacity(usize::try_from(count).unwrap_or(0));
    for _ in 0..count {
        values.push(read_value(&mut r)?);
    }
    if r.pos != body.len() {
        return Err(malformed("bytes after the last value"));
    }
    let position = Position::from_parts(values, flags & FLAG_INCLUSIVE != 0);
    Ok(Body {
        fingerprint,
        expires_at,
        position,
    })
}

fn write_value(v: &SortValue, out: &mut Vec<u8>) {
    match v {
        SortValue::Null => out.push(TAG_NULL),
        SortValue::Bool(b) => {
            out.push(ValueKind::Bool.tag());
            out.push(u8::from(*b));
        }
        SortValue::I64(i) => {
            out.push(ValueKind::I64.tag());
            write_varint(zigzag(*i), out);
        }
        SortValue::F64(f) => {
            out.push(ValueKind::F64.tag());
            out.extend_from_slice(&f.to_bits().to_le_bytes());
        }
        SortValue::Text(s) => {
            out.push(ValueKind::Text.tag());
            write_varint(s.len() as u64, out);
            out.extend_from_slice(s.as_bytes());
        }
        SortValue::Bytes(b) => {
            out.push(ValueKind::Bytes.tag());
            write_varint(b.len() as u64, out);
            out.extend_from_slice(b);
        }
        SortValue::Uuid(u) => {
            out.push(ValueKind::Uuid.tag());
            out.extend_from_slice(u.as_bytes());
        }
    }
}

fn read_value(r: &mut Reader<'_>) -> Result<SortValue, CursorError> {
    let malformed = |reason| CursorError::Malformed { reason };
    let tag = r.byte().ok_or(malformed("missing value"))?;
    if tag == TAG_NULL {
        return Ok(SortValue::Null);
    }
    let kind = ValueKind::from_tag(tag).ok_or(malformed("unknown value kind"))?;
    Ok(match kind {
        ValueKind::Bool => match r.byte() {
            Some(0) => SortValue::Bool(false),
            Some(1) => SortValue::Bool(true),
            _ => return Err(malformed("bad bool")),
        },
        ValueKind::I64 => {
            SortValue::I64(unzigzag(r.varint().map_err(|_| malformed("bad integer"))?))
        }
        ValueKind::F64 => {
            let b = r.take(8).ok_or(malformed("short float"))?;
            let mut a = [0u8; 8];
            a.copy_from_slice(b);
            SortValue::F64(f64::from_bits(u64::from_le_bytes(a)))
        }
        ValueKind::Text => {
            let b = r.len_prefixed().ok_or(malformed("short text"))?;
            let s = std::str::from_utf8(b).map_err(|_| malformed("text is not UTF-8"))?;
            SortValue::Text(s.to_owned())
        }
        ValueKind::Bytes => {
            SortValue::Bytes(r.len_prefixed().ok_or(malformed("short bytes"))?.to_vec())
        }
        ValueKind::Uuid => {
            let b = r.take(16).ok_or(malformed("short uuid"))?;
            let mut a = [0u8; 16];
            a.copy_from_slice(b);
            SortValue::Uuid(uuid::Uuid::from_bytes(a))
        }
    })
}

const fn zigzag(i: i64) -> u64 {
    ((i << 1) ^ (i >> 63)) as u64
}

const fn unzigzag(u: u64) -> i64 {
    ((u >> 1) as i64) ^ -((u & 1) as i64)
}

pub(crate) fn write_varint(mut v: u64, out: &mut Vec<u8>) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

enum ReadError {
    Eof,
    Invalid(&'static str),
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn byte(&mut self) -> Option<u8> {
        let b = *self.bytes.get(self.pos)?;
        self.pos += 1;
        Some(b)
    }

    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let s = self.bytes.get(self.pos..end)?;
        self.pos = end;
        Some(s)
    }

    fn len_prefixed(&mut self) -> Option<&'a [u8]> {
        let n = usize::try_from(self.varint().ok()?).ok()?;
        self.take(n)
    }

    /// LEB128, at most 10 bytes, no overflow, no redundant trailing zero bytes.
    fn varint(&mut self) -> Result<u64, ReadError> {
        let mut v: u64 = 0;
        for i in 0..10u32 {
            let b = self.byte().ok_or(ReadError::Eof)?;
            let part = u64::from(b & 0x7f);
            if i == 9 && b > 1 {
                return Err(ReadError::Invalid("integer overflows 64 bits"));
            }
            v |= part << (7 * i);
            if b & 0x80 == 0 {
                if b == 0 && i > 0 {
                    return Err(ReadError::Invalid("non-canonical integer"));
                }
                return Ok(v);
            }
        }
        Err(ReadError::Invalid("integer longer than 10 bytes"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zigzag_round_trips_extremes() {
        for i in [0, 1, -1, i64::MIN, i64::MAX, 63, -64] {
            assert_eq!(unzigzag(zigzag(i)), i);
        }
    }

    #[test]
    fn varint_round_trips_and_rejects_overflow() {
        for v in [0, 1, 127, 128, u64::MAX] {
            let mut out = Vec::new();
            write_varint(v, &mut out);
            let mut r = Reader {
                bytes: &out,
                pos: 0,
            };
            assert!(matches!(r.varint(), Ok(x) if x == v));
        }
        let mut r = Reader {
            bytes: &[0xff; 11],
            pos: 0,
        };
        assert!(r.varint().is_err());
    }
}
