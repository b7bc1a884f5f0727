//! Raffle: draws `winners` distinct entries with the randomness of the request (WASI random_get,
//! which the runtime seeds from the request id, so every node draws the same winners) and splits
//! the prize equally between them; the rounding dust goes to the first winner.
//!
//! Input:  {"prize"?:"<u128 decimal>","winners":<n>,"entries":["0x..", ...]}
//!         Without "prize" the prize is what the requester paid: the escrow minus the oracle's
//!         fee, from the request context (sdk/rust/versatus.rs).
//! Output: {"actions":[{"op":"transfer","to":"0x..","amount":".."}, ...]} in draw order.
//!
//! Bad input is reported on stderr with exit code 2 (the `exit` outcome: nothing is paid).
//! Built with the plain Debian rustc (no cargo, no crates), hence the small JSON reader below.

use std::io::{Read, Write};
use std::process::exit;

#[path = "../../../sdk/rust/versatus.rs"]
mod versatus;

#[link(wasm_import_module = "wasi_snapshot_preview1")]
extern "C" {
    /// WASI preview1 `random_get(buf, len) -> errno`.
    fn random_get(buf: *mut u8, len: usize) -> u16;
}

const MAX_ENTRIES: usize = 10_000;

fn fail(message: &str) -> ! {
    eprintln!("raffle: {}", message);
    exit(2)
}

struct Input {
    prize: Option<u128>,
    winners: usize,
    entries: Vec<String>,
}

struct Reader<'a> {
    text: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn skip_space(&mut self) {
        while self.pos < self.text.len() && matches!(self.text[self.pos], b' ' | b'\n' | b'\r' | b'\t') {
            self.pos += 1;
        }
    }
    fn accept(&mut self, c: u8) -> bool {
        self.skip_space();
        if self.pos < self.text.len() && self.text[self.pos] == c {
            self.pos += 1;
            true
        } else {
            false
        }
    }
    fn expect(&mut self, c: u8) {
        if !self.accept(c) {
            fail(&format!("invalid JSON at byte {}: expected '{}'", self.pos, c as char));
        }
    }
    fn string(&mut self) -> String {
        self.expect(b'"');
        let start = self.pos;
        while self.pos < self.text.len() && self.text[self.pos] != b'"' {
            if self.text[self.pos] == b'\\' {
                fail("escapes are not supported in strings");
            }
            self.pos += 1;
        }
        if self.pos >= self.text.len() {
            fail("unterminated string");
        }
        let value = String::from_utf8(self.text[start..self.pos].to_vec()).unwrap_or_else(|_| fail("strings must be UTF-8"));
        self.pos += 1;
        value
    }
    fn integer(&mut self) -> u64 {
        self.skip_space();
        let start = self.pos;
        let mut value: u64 = 0;
        while self.pos < self.text.len() && self.text[self.pos].is_ascii_digit() {
            value = value
                .checked_mul(10)
                .and_then(|v| v.checked_add(u64::from(self.text[self.pos] - b'0')))
                .unwrap_or_else(|| fail("integer too large"));
            self.pos += 1;
        }
        if self.pos == start {
            fail(&format!("invalid JSON at byte {}: expected an integer", start));
        }
        value
    }
}

fn is_address(value: &str) -> bool {
    value.len() == 42 && value.starts_with("0x") && value[2..].bytes().all(|b| b.is_ascii_hexdigit())
}

fn parse_input(text: &[u8]) -> Input {
    let mut r = Reader { text, pos: 0 };
    let (mut prize, mut winners, mut entries) = (None, None, None);
    r.expect(b'{');
    loop {
        let key = r.string();
        r.expect(b':');
        match key.as_str() {
            "prize" => {
                let digits = r.string();
                if digits.is_empty() || (digits.len() > 1 && digits.starts_with('0')) || !digits.bytes().all(|b| b.is_ascii_digit()) {
                    fail("\"prize\" must be a decimal string");
                }
                prize = Some(digits.parse::<u128>().unwrap_or_else(|_| fail("\"prize\" must be below 2^128")));
            }
            "winners" => winners = Some(r.integer() as usize),
            "entries" => {
                let mut list = Vec::new();
                r.expect(b'[');
                if !r.accept(b']') {
                    loop {
                        let entry = r.string();
                        if !is_address(&entry) {
                            fail(&format!("entry {} is not a 0x-prefixed 20-byte address", list.len()));
                        }
                        list.push(entry);
                        if list.len() > MAX_ENTRIES {
                            fail("more than 10000 entries");
                        }
                        if !r.accept(b',') {
                            break;
                        }
                    }
                    r.expect(b']');
                }
                entries = Some(list);
            }
            other => fail(&format!("unknown field \"{}\" (expected prize, winners, entries)", other)),
        }
        if !r.accept(b',') {
            break;
        }
    }
    r.expect(b'}');
    r.skip_space();
    if r.pos != text.len() {
        fail("trailing bytes after the input object");
    }
    let input = Input {
        prize,
        winners: winners.unwrap_or_else(|| fail("missing \"winners\"")),
        entries: entries.unwrap_or_else(|| fail("missing \"entries\"")),
    };
    if input.winners == 0 || input.winners > input.entries.len() {
        fail("\"winners\" must be between 1 and the number of entries");
    }
    input
}

/// A uniform index below `bound`, by rejection sampling (no modulo bias).
fn random_below(bound: u64) -> u64 {
    let zone = u64::MAX - (u64::MAX % bound);
    loop {
        let mut bytes = [0u8; 8];
        if unsafe { random_get(bytes.as_mut_ptr(), bytes.len()) } != 0 {
            fail("random_get failed");
        }
        let value = u64::from_le_bytes(bytes);
        if value < zone {
            return value % bound;
        }
    }
}

fn main() {
    let mut text = Vec::new();
    std::io::stdin().read_to_end(&mut text).unwrap_or_else(|_| fail("cannot read stdin"));
    let mut input = parse_input(&text);
    let prize = input.prize.unwrap_or_else(|| {
        let ctx = versatus::Context::read().unwrap_or_else(|| fail("missing \"prize\" (and no request context)"));
        ctx.spendable_u128().unwrap_or_else(|| fail("the escrow minus the fee is not a prize below 2^128"))
    });

    // Partial Fisher-Yates: the first `winners` slots become the draw, in order.
    for i in 0..input.winners {
        let j = i + random_below((input.entries.len() - i) as u64) as usize;
        input.entries.swap(i, j);
    }
    let share = prize / input.winners as u128;
    let dust = prize - share * input.winners as u128;

    let mut out = String::from("{\"actions\":[");
    for (i, winner) in input.entries[..input.winners].iter().enumerate() {
        let amount = if i == 0 { share + dust } else { share };
        if i > 0 {
            out.push(',');
        }
        out.push_str(&format!("{{\"op\":\"transfer\",\"to\":\"{}\",\"amount\":\"{}\"}}", winner, amount));
    }
    out.push_str("]}\n");
    std::io::stdout().write_all(out.as_bytes()).unwrap_or_else(|_| fail("cannot write stdout"));
}
