//! The AFL++ target: `cargo afl build -p tenderhall-envelope-fuzz --features afl`, then
//! `cargo afl fuzz -i domain/envelope/fuzz/seeds -o OUT target/debug/envelope-reader` (`.ci/run`
//! runs it for a bounded time). A panic in the reader, or a disagreement that `run` asserts
//! against, is a crash.

fn main() {
    afl::fuzz!(|data: &[u8]| {
        tenderhall_envelope_fuzz::run(data);
    });
}
