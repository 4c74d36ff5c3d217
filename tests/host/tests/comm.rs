//! Tests of `logic::comm`: a task's command name, packed and shown.

use nfw_logic_tests::logic::comm::{Comm, COMM_LEN};

fn comm(s: &[u8]) -> Comm {
    let mut c = [0u8; COMM_LEN];
    c[..s.len()].copy_from_slice(s);
    Comm(c)
}

#[test]
fn shows_up_to_the_first_nul() {
    assert_eq!(comm(b"nfw_stall/12").to_string(), "nfw_stall/12");
    assert_eq!(comm(b"a\0b").to_string(), "a");
    assert_eq!(Comm::EMPTY.to_string(), "");
    assert_eq!(Comm::default(), Comm::EMPTY);
    // All 16 bytes, no NUL.
    assert_eq!(comm(b"0123456789abcdef").to_string(), "0123456789abcdef");
}

#[test]
fn escapes_all_but_printable_non_space_ascii() {
    assert_eq!(comm(b"a b").to_string(), "a\\x20b");
    assert_eq!(
        comm(b"x\ty\x7f\x80\xff").to_string(),
        "x\\x09y\\x7f\\x80\\xff"
    );
    assert_eq!(comm(b"!~").to_string(), "!~");
}

#[test]
fn pack_round_trips() {
    for c in [
        Comm::EMPTY,
        comm(b"kworker/u8:3"),
        comm(b"0123456789abcdef"),
        Comm([0xff; COMM_LEN]),
    ] {
        assert_eq!(Comm::unpack(c.pack()), c);
    }
    let w = comm(b"abcdefghij").pack();
    assert_eq!(w[0], u64::from_le_bytes(*b"abcdefgh"));
    assert_eq!(w[1], u64::from_le_bytes(*b"ij\0\0\0\0\0\0"));
}
