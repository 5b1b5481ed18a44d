fn main() {
    // sqlx::migrate! embeds the folder at compile time; rebuild when it changes.
    println!("cargo:rerun-if-changed=../../migrations/app");
}
