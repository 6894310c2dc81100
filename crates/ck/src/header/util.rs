//! Small byte-string functions with the semantics of the C string functions
//! the original's parsers are built on; the end of a slice plays the role
//! of the terminating NUL.

/// White space as DCC counts it: space, tab, LF, CR.
pub(crate) const WHITESPACE: &[u8] = b" \t\n\r";

/// Does `s` start with `prefix`, ignoring ASCII case?
pub(crate) fn starts_with_ci(s: &[u8], prefix: &[u8]) -> bool {
    s.len() >= prefix.len() && s[..prefix.len()].eq_ignore_ascii_case(prefix)
}

/// Length of the leading run of bytes from `set` (`strspn`).
pub(crate) fn span(s: &[u8], set: &[u8]) -> usize {
    s.iter().take_while(|b| set.contains(b)).count()
}

/// Index of the first byte from `set` (`strpbrk`).
pub(crate) fn find_any(s: &[u8], set: &[u8]) -> Option<usize> {
    s.iter().position(|b| set.contains(b))
}

/// The byte at `i`, or NUL past the end.
pub(crate) fn at(s: &[u8], i: usize) -> u8 {
    s.get(i).copied().unwrap_or(0)
}

/// The tail of `s` from `i`, empty past the end.
pub(crate) fn tail(s: &[u8], i: usize) -> &[u8] {
    s.get(i..).unwrap_or(&[])
}

/// Does `hay` contain `needle` (`strstr`)?
pub(crate) fn contains(hay: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || hay.windows(needle.len()).any(|w| w == needle)
}

/// At most `max` bytes of `s`.
pub(crate) fn cap(s: &[u8], max: usize) -> &[u8] {
    &s[..s.len().min(max)]
}
