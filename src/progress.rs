//! Progress reporting for long work: the library calls it, the command line
//! draws it (a progress bar on a terminal), tests ignore it.

/// Receives progress from long operations. Every method defaults to nothing.
pub trait Progress: Sync {
    /// A new stage begins, with the number of steps when known.
    fn begin(&self, _label: &str, _total: Option<u64>) {}
    /// `n` more steps done.
    fn advance(&self, _n: u64) {}
    /// A stage without a count (installs say what they are doing).
    fn step(&self, message: &str) {
        self.begin(message, None)
    }
}

/// Reports nothing.
pub struct Quiet;

impl Progress for Quiet {}
