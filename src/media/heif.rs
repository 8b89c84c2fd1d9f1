//! HEIC/HEIF photos (what iPhones and many Android phones shoot) through the system libheif
//! (Debian 12 ships 1.15 with the libde265 HEVC decoder). The few C functions needed are
//! declared here and loaded on first use; the Rust wrappers on crates.io need libheif ≥
//! 1.16/1.17. Decoding runs only in the media-worker child, like every other decoder.

use std::ffi::{CStr, c_char, c_int, c_void};
use std::ptr;
use std::sync::OnceLock;

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

type Fn0<R> = unsafe extern "C" fn() -> R;
type Fn1<A, R> = unsafe extern "C" fn(A) -> R;
type Fn2<A, B, R> = unsafe extern "C" fn(A, B) -> R;
type Fn3<A, B, C, R> = unsafe extern "C" fn(A, B, C) -> R;

/// libheif's functions, loaded with the first HEIC photo. Linked at start-up, libheif and its
/// HEVC and AV1 codecs cost every process ~8 ms before `main` (their constructors run), for a
/// format that only photo jobs ever open.
struct Api {
    init: Fn1<*mut c_void, HeifError>,
    context_alloc: Fn0<*mut HeifContext>,
    context_free: Fn1<*mut HeifContext, ()>,
    set_maximum_image_size_limit: Fn2<*mut HeifContext, c_int, ()>,
    read_from_memory_without_copy:
        unsafe extern "C" fn(*mut HeifContext, *const c_void, usize, *const c_void) -> HeifError,
    get_primary_image_handle: Fn2<*mut HeifContext, *mut *mut HeifImageHandle, HeifError>,
    handle_release: Fn1<*const HeifImageHandle, ()>,
    handle_get_width: Fn1<*const HeifImageHandle, c_int>,
    handle_get_height: Fn1<*const HeifImageHandle, c_int>,
    decode_image:
        unsafe extern "C" fn(*const HeifImageHandle, *mut *mut HeifImage, c_int, c_int, *const c_void) -> HeifError,
    image_release: Fn1<*const HeifImage, ()>,
    image_get_width: Fn2<*const HeifImage, c_int, c_int>,
    image_get_height: Fn2<*const HeifImage, c_int, c_int>,
    image_get_plane_readonly: Fn3<*const HeifImage, c_int, *mut c_int, *const u8>,
    /// Kept loaded for the life of the process: the pointers above point into it.
    _library: libloading::Library,
}

/// The library's name in Debian 12's `libheif1`.
const LIBRARY: &str = "libheif.so.1";

impl Api {
    fn get() -> Result<&'static Api, MediaFailure> {
        static API: OnceLock<Result<Api, String>> = OnceLock::new();
        // SAFETY: libheif's initialisers are safe to run; the signatures below are libheif 1.x's.
        let loaded = API.get_or_init(|| unsafe { Self::load() }.map_err(|error| error.to_string()));
        loaded.as_ref().map_err(|error| {
            MediaFailure::new(
                crate::error::codes::DECODER_UNAVAILABLE,
                format!("HEIC support is not installed ({LIBRARY}: {error})"),
            )
        })
    }

    unsafe fn load() -> Result<Self, libloading::Error> {
        unsafe {
            let library = libloading::Library::new(LIBRARY)?;
            let lib = &library;
            Ok(Self {
                init: symbol(lib, b"heif_init\0")?,
                context_alloc: symbol(lib, b"heif_context_alloc\0")?,
                context_free: symbol(lib, b"heif_context_free\0")?,
                set_maximum_image_size_limit: symbol(lib, b"heif_context_set_maximum_image_size_limit\0")?,
                read_from_memory_without_copy: symbol(lib, b"heif_context_read_from_memory_without_copy\0")?,
                get_primary_image_handle: symbol(lib, b"heif_context_get_primary_image_handle\0")?,
                handle_release: symbol(lib, b"heif_image_handle_release\0")?,
                handle_get_width: symbol(lib, b"heif_image_handle_get_width\0")?,
                handle_get_height: symbol(lib, b"heif_image_handle_get_height\0")?,
                decode_image: symbol(lib, b"heif_decode_image\0")?,
                image_release: symbol(lib, b"heif_image_release\0")?,
                image_get_width: symbol(lib, b"heif_image_get_width\0")?,
                image_get_height: symbol(lib, b"heif_image_get_height\0")?,
                image_get_plane_readonly: symbol(lib, b"heif_image_get_plane_readonly\0")?,
                _library: library,
            })
        }
    }
}

/// A function of the library, as a plain pointer (valid while the library stays loaded).
unsafe fn symbol<T: Copy>(library: &libloading::Library, name: &[u8]) -> Result<T, libloading::Error> {
    // SAFETY: the caller names the function's true signature as `T`.
    unsafe { Ok(*library.get::<T>(name)?) }
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
    api: &'static Api,
    context: *mut HeifContext,
    handle: *mut HeifImageHandle,
    image: *mut HeifImage,
}

impl Drop for Owned {
    fn drop(&mut self) {
        let api = self.api;
        unsafe {
            if !self.image.is_null() {
                (api.image_release)(self.image);
            }
            if !self.handle.is_null() {
                (api.handle_release)(self.handle);
            }
            if !self.context.is_null() {
                (api.context_free)(self.context);
            }
        }
    }
}

/// The primary image's size, upright (libheif applies the file's rotation and mirroring).
fn primary_size(owned: &mut Owned, bytes: &[u8], max_edge: u32) -> Result<(u32, u32), MediaFailure> {
    let api = owned.api;
    unsafe {
        check((api.init)(ptr::null_mut()))?;
        owned.context = (api.context_alloc)();
        if owned.context.is_null() {
            return Err(MediaFailure::decode("heif: no memory for a context"));
        }
        (api.set_maximum_image_size_limit)(owned.context, max_edge.min(i32::MAX as u32) as c_int);
        check((api.read_from_memory_without_copy)(owned.context, bytes.as_ptr().cast(), bytes.len(), ptr::null()))?;
        check((api.get_primary_image_handle)(owned.context, &mut owned.handle))?;
        let (width, height) = ((api.handle_get_width)(owned.handle), (api.handle_get_height)(owned.handle));
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
    let api = Api::get()?;
    let mut owned = Owned { api, context: ptr::null_mut(), handle: ptr::null_mut(), image: ptr::null_mut() };
    let (width, height) = primary_size(&mut owned, bytes, max_edge)?;
    check_size(width, height)?;
    unsafe {
        let decoded = (api.decode_image)(
            owned.handle,
            &mut owned.image,
            HEIF_COLORSPACE_RGB,
            HEIF_CHROMA_INTERLEAVED_RGB,
            ptr::null(),
        );
        check(decoded)?;
        let plane_width = (api.image_get_width)(owned.image, HEIF_CHANNEL_INTERLEAVED).max(0) as usize;
        let plane_height = (api.image_get_height)(owned.image, HEIF_CHANNEL_INTERLEAVED).max(0) as usize;
        let mut stride: c_int = 0;
        let plane = (api.image_get_plane_readonly)(owned.image, HEIF_CHANNEL_INTERLEAVED, &mut stride);
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
