//! Files the browser uploads by path, written to a temporary folder that lives as long as the test.

use std::path::PathBuf;
use std::process::Command;

use crate::fixtures;

/// A folder of upload fixtures.
pub struct Files {
    dir: tempfile::TempDir,
}

impl Files {
    pub fn create() -> Self {
        Self { dir: tempfile::tempdir().expect("a temp folder for upload fixtures") }
    }

    fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, bytes).unwrap_or_else(|error| panic!("writing {}: {error}", path.display()));
        path
    }

    /// A 640×360 JPEG photo (the API suite's test card).
    pub fn photo(&self, name: &str) -> PathBuf {
        self.write(name, &fixtures::jpeg_with_orientation(640, 360, 1))
    }

    /// A JPEG padded with zeros to exactly `size` bytes (its kind is read from its first bytes).
    pub fn photo_of_size(&self, name: &str, size: usize) -> PathBuf {
        let mut bytes = fixtures::jpeg_with_orientation(64, 48, 1);
        bytes.resize(size, 0);
        self.write(name, &bytes)
    }

    /// A two-second 320×240 H.264/AAC MP4 (moov first, as phones and browsers like it).
    pub fn film(&self, name: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        let status = Command::new("ffmpeg")
            .args(["-hide_banner", "-loglevel", "error", "-y"])
            .args(["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=2"])
            .args(["-f", "lavfi", "-i", "sine=frequency=440:duration=2"])
            .args(["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-g", "25"])
            .args(["-c:a", "aac", "-shortest", "-movflags", "+faststart"])
            .arg(&path)
            .status()
            .expect("ffmpeg (Debian package ffmpeg) makes the film fixture");
        assert!(status.success(), "ffmpeg could not make {}", path.display());
        path
    }
}
