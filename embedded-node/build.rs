//! Finds the built dashboard (`ui/dist`) to embed in the node. Without it (a fresh
//! checkout before `npm run build`) the node embeds a one-page note that says how to
//! build it, so `cargo build` never fails for want of the front end. Also stamps the
//! build's time (`SOURCE_DATE_EPOCH` when set): the booth doubts a wall clock earlier.

use std::path::PathBuf;

fn main() {
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let built = manifest_dir.join("../ui/dist");
    println!("cargo:rerun-if-changed={}", built.display());
    println!("cargo:rerun-if-env-changed=BOOTHCLOUD_UI_DIST");
    let dir = if let Some(dir) = std::env::var_os("BOOTHCLOUD_UI_DIST") {
        PathBuf::from(dir)
    } else if built.join("index.html").is_file() {
        built.canonicalize().expect("ui/dist resolves")
    } else {
        let out =
            PathBuf::from(std::env::var_os("OUT_DIR").expect("set by cargo")).join("ui-missing");
        std::fs::create_dir_all(&out).expect("create OUT_DIR/ui-missing");
        std::fs::write(
            out.join("index.html"),
            "<!doctype html><meta charset=utf-8><title>Boothcloud</title>\
             <body style=\"font:20px system-ui;margin:3em\"><h1>The dashboard is not built</h1>\
             <p>This node was compiled before the front end. Run <code>scripts/setup</code> \
             (or <code>npm install && npm run build</code> in <code>ui/</code>) and build the node again.</p>",
        )
        .expect("write the placeholder page");
        out
    };
    println!("cargo:rustc-env=BOOTHCLOUD_UI_DIR={}", dir.display());
    println!("cargo:rerun-if-env-changed=SOURCE_DATE_EPOCH");
    let built = std::env::var("SOURCE_DATE_EPOCH").ok().and_then(|s| s.parse::<u64>().ok());
    let built = built.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("the build machine's clock is after 1970")
            .as_secs()
    });
    println!("cargo:rustc-env=BOOTHCLOUD_BUILT_AT={built}");
}
