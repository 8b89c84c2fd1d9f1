//! HEIC/HEIF photos (what iPhones and many Android phones shoot) through the system libheif
//! (Debian 12 ships 1.15 with the libde265 HEVC decoder). The few C functions needed are
//! declared here; the Rust wrappers on crates.io need libheif ≥ 1.16/1.17. Decoding runs only
//! in the media-worker child, like every other decoder.

use std::ffi::{CStr, c_char, c_int, c_void};
use std::ptr;

use image::RgbImage;

use super::MediaFailure;

#[repr(C)]
struct HeifError {
    code: c_int,
    subcode: c_int,
    message: *const c_char,
}

#[repr(C)]
struct HeifContext {
    _private: [u8; 0],
}

#[repr(C)]
struct HeifImageHandle {
    _private: [u8; 0],
}

#[repr(C)]
struct HeifImage {
    _private: [u8; 0],
}

const HEIF_COLORSPACE_RGB: c_int = 1;
const HEIF_CHROMA_INTERLEAVED_RGB: c_int = 10;
const HEIF_CHANNEL_INTERLEAVED: c_int = 10;

#[link(name = "heif")]
unsafe extern "C" {
    fn heif_init(params: *mut c_void) -> HeifError;
    fn heif_context_alloc() -> *mut HeifContext;
    fn heif_context_free(context: *mut HeifContext);
    fn heif_context_set_maximum_image_size_limit(context: *mut HeifContext, maximum_width: c_int);
    fn heif_context_read_from_memory_without_copy(
        context: *mut HeifContext,
        memory: *const c_void,
        size: usize,
        options: *const c_void,
    ) -> HeifError;
    fn heif_context_get_primary_image_handle(context: *mut HeifContext, handle: *mut *mut HeifImageHandle)
    -> HeifError;
    fn heif_image_handle_release(handle: *const HeifImageHandle);
    fn heif_image_handle_get_width(handle: *const HeifImageHandle) -> c_int;
    fn heif_image_handle_get_height(handle: *const HeifImageHandle) -> c_int;
    fn heif_decode_image(
        handle: *const HeifImageHandle,
        image: *mut *mut HeifImage,
        colorspace: c_int,
        chroma: c_int,
        options: *const c_void,
    ) -> HeifError;
    fn heif_image_release(image: *const HeifImage);
    fn heif_image_get_width(image: *const HeifImage, channel: c_int) -> c_int;
    fn heif_image_get_height(image: *const HeifImage, channel: c_int) -> c_int;
    fn heif_image_get_plane_readonly(image: *const HeifImage, channel: c_int, stride: *mut c_int) -> *const u8;
}

fn check(error: HeifError) -> Result<(), MediaFailure> {
    if error.code == 0 {
        return Ok(());
    }
    // libheif's messages are static strings, never null.
    let message = unsafe { CStr::from_ptr(error.message) }.to_string_lossy().into_owned();
    Err(MediaFailure::decode(format!("heif: {message}")))
}

/// Frees what libheif allocated, whatever way the decode ends.
struct Owned {
    context: *mut HeifContext,
    handle: *mut HeifImageHandle,
    image: *mut HeifImage,
}

impl Drop for Owned {
    fn drop(&mut self) {
        unsafe {
            if !self.image.is_null() {
                heif_image_release(self.image);
            }
            if !self.handle.is_null() {
                heif_image_handle_release(self.handle);
            }
            if !self.context.is_null() {
                heif_context_free(self.context);
            }
        }
    }
}

/// The primary image's size, upright (libheif applies the file's rotation and mirroring).
fn primary_size(owned: &mut Owned, bytes: &[u8], max_edge: u32) -> Result<(u32, u32), MediaFailure> {
    unsafe {
        check(heif_init(ptr::null_mut()))?;
        owned.context = heif_context_alloc();
        if owned.context.is_null() {
            return Err(MediaFailure::decode("heif: no memory for a context"));
        }
        heif_context_set_maximum_image_size_limit(owned.context, max_edge.min(i32::MAX as u32) as c_int);
        check(heif_context_read_from_memory_without_copy(
            owned.context,
            bytes.as_ptr().cast(),
            bytes.len(),
            ptr::null(),
        ))?;
        check(heif_context_get_primary_image_handle(owned.context, &mut owned.handle))?;
        let (width, height) = (heif_image_handle_get_width(owned.handle), heif_image_handle_get_height(owned.handle));
        Ok((width.max(0) as u32, height.max(0) as u32))
    }
}

/// Decodes the primary image of a HEIF file to upright RGB. `check_size` sees the dimensions
/// before any pixel is decoded (the pixel limit).
pub fn decode(
    bytes: &[u8],
    max_edge: u32,
    check_size: impl FnOnce(u32, u32) -> Result<(), MediaFailure>,
) -> Result<RgbImage, MediaFailure> {
    let mut owned = Owned { context: ptr::null_mut(), handle: ptr::null_mut(), image: ptr::null_mut() };
    let (width, height) = primary_size(&mut owned, bytes, max_edge)?;
    check_size(width, height)?;
    unsafe {
        let decoded = heif_decode_image(
            owned.handle,
            &mut owned.image,
            HEIF_COLORSPACE_RGB,
            HEIF_CHROMA_INTERLEAVED_RGB,
            ptr::null(),
        );
        check(decoded)?;
        let plane_width = heif_image_get_width(owned.image, HEIF_CHANNEL_INTERLEAVED).max(0) as usize;
        let plane_height = heif_image_get_height(owned.image, HEIF_CHANNEL_INTERLEAVED).max(0) as usize;
        let mut stride: c_int = 0;
        let plane = heif_image_get_plane_readonly(owned.image, HEIF_CHANNEL_INTERLEAVED, &mut stride);
        let row_bytes = plane_width * 3;
        if plane.is_null() || (stride as usize) < row_bytes || plane_width == 0 || plane_height == 0 {
            return Err(MediaFailure::decode("heif: the decoder returned no pixels"));
        }
        let mut pixels = Vec::with_capacity(row_bytes * plane_height);
        for row in 0..plane_height {
            let start = plane.add(row * stride as usize);
            pixels.extend_from_slice(std::slice::from_raw_parts(start, row_bytes));
        }
        RgbImage::from_raw(plane_width as u32, plane_height as u32, pixels)
            .ok_or_else(|| MediaFailure::decode("heif: buffer size mismatch"))
    }
}
