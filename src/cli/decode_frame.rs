//! `electorate decode-frame FILE`: decodes one frame from a file (a captured
//! message, a fuzzer's crash input) and prints it, or prints why it was
//! rejected.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use electorate::codec::{Codec, DEFAULT_MAX_FRAME_LEN, HEADER_LEN};

#[derive(Args)]
pub struct DecodeFrame {
    /// A file holding exactly one frame.
    file: PathBuf,
    /// The cluster id the frame must carry (the fuzz targets use 7).
    #[arg(long, default_value_t = 7)]
    cluster: u64,
    /// The largest frame to accept, in bytes (at least a header's 30).
    #[arg(long, default_value_t = DEFAULT_MAX_FRAME_LEN,
          value_parser = clap::value_parser!(u32).range(HEADER_LEN as i64..))]
    max_frame_len: u32,
}

impl DecodeFrame {
    pub fn run(self) -> ExitCode {
        let bytes = match std::fs::read(&self.file) {
            Ok(bytes) => bytes,
            Err(error) => {
                eprintln!("cannot read {}: {error}", self.file.display());
                return ExitCode::from(2);
            }
        };
        let codec = Codec::new(self.cluster).with_max_frame_len(self.max_frame_len);
        match codec.decode(&bytes) {
            Ok(frame) => {
                println!("{frame:#?}");
                ExitCode::SUCCESS
            }
            Err(error) => {
                eprintln!("rejected: {error}");
                ExitCode::FAILURE
            }
        }
    }
}
