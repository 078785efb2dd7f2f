//! Assembles the bid page's SHA-256 compression function from its WebAssembly text
//! (`assets/sha256.wat`) into `sha256.wasm`, embedded in the binary and served with the page's
//! scripts (docs/portal.md "Sealing in the browser").

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=assets/sha256.wat");
    let wasm = wat::parse_file("assets/sha256.wat")?;
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR")?).join("sha256.wasm");
    std::fs::write(out, wasm)?;
    Ok(())
}
