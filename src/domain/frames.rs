//! Review notes on a film cut: the frame a note is about, and the shapes a reviewer drew on
//! it. A note is stored with both its frame number and its milliseconds, so the player can
//! reopen exactly that frame whatever the rate (25, 29.97, 23.976 …).

use serde::{Deserialize, Serialize};

use super::FieldError;

/// The frame shown at `ms` in a film of `fps` frames a second (frame 0 starts at 0 ms).
pub fn frame_at(ms: i64, fps: f64) -> i64 {
    // A hair of tolerance: 40 ms at 25 fps is frame 1, not 0.999….
    ((ms as f64) * fps / 1000.0 + 1e-6).floor() as i64
}

/// Where frame `frame` starts, in whole milliseconds (rounded up, so `frame_at` of it gives
/// the frame back).
pub fn start_of_frame(frame: i64, fps: f64) -> i64 {
    ((frame as f64) * 1000.0 / fps - 1e-6).ceil() as i64
}

/// Most shapes in one drawing.
pub const MAX_SHAPES: usize = 50;
/// Most points of all freehand lines of one drawing together.
pub const MAX_POINTS: usize = 4000;

/// What a reviewer drew on a paused frame, in coordinates normalised to 0–1 of the picture
/// (x to the right, y down), so it lands on the same spot at any player size.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Drawing {
    pub shapes: Vec<Shape>,
}

/// One shape of a drawing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Shape {
    /// A box from its top-left corner.
    Rect { x: f64, y: f64, w: f64, h: f64 },
    /// An arrow from (x1, y1) pointing at (x2, y2).
    Arrow { x1: f64, y1: f64, x2: f64, y2: f64 },
    /// A freehand line through its points.
    Path { points: Vec<[f64; 2]> },
}

impl Shape {
    fn coordinates(&self) -> Vec<f64> {
        match self {
            Shape::Rect { x, y, w, h } => vec![*x, *y, *x + *w, *y + *h, *w, *h],
            Shape::Arrow { x1, y1, x2, y2 } => vec![*x1, *y1, *x2, *y2],
            Shape::Path { points } => points.iter().flatten().copied().collect(),
        }
    }

    fn points(&self) -> usize {
        match self {
            Shape::Path { points } => points.len(),
            _ => 2,
        }
    }
}

impl Drawing {
    /// Parses and checks a drawing: at least one shape, at most [`MAX_SHAPES`] and
    /// [`MAX_POINTS`], every coordinate within the picture.
    pub fn parse(value: serde_json::Value) -> Result<Self, FieldError> {
        let drawing: Drawing = serde_json::from_value(value).map_err(|error| {
            FieldError::invalid("drawing", format!("must be {{\"shapes\": [rect | arrow | path …]}}: {error}"))
        })?;
        if drawing.shapes.is_empty() || drawing.shapes.len() > MAX_SHAPES {
            return Err(FieldError::invalid("drawing", format!("must have 1 to {MAX_SHAPES} shapes")));
        }
        let points: usize = drawing.shapes.iter().map(Shape::points).sum();
        if points > MAX_POINTS {
            return Err(FieldError::invalid("drawing", format!("has {points} points; the limit is {MAX_POINTS}")));
        }
        let inside = |value: &f64| value.is_finite() && (0.0..=1.0).contains(value);
        if !drawing.shapes.iter().flat_map(Shape::coordinates).all(|value| inside(&value)) {
            return Err(FieldError::invalid("drawing", "coordinates must lie within the picture, 0 to 1"));
        }
        if drawing.shapes.iter().any(|shape| matches!(shape, Shape::Path { points } if points.len() < 2)) {
            return Err(FieldError::invalid("drawing", "a freehand line needs at least 2 points"));
        }
        Ok(drawing)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn frames_and_milliseconds_round_trip_at_common_rates() {
        for fps in [25.0, 29.97, 30000.0 / 1001.0, 23.976, 24000.0 / 1001.0, 60.0] {
            for frame in [0, 1, 2, 29, 30, 719, 1799, 86_313] {
                let ms = start_of_frame(frame, fps);
                assert_eq!(frame_at(ms, fps), frame, "frame {frame} at {fps} fps starts at {ms} ms");
            }
        }
        assert_eq!(frame_at(40, 25.0), 1);
        assert_eq!(frame_at(39, 25.0), 0);
        assert_eq!(start_of_frame(3, 29.97), 101);
    }

    #[test]
    fn drawings_are_normalised_shapes_within_the_picture() {
        let drawing = Drawing::parse(json!({"shapes": [
            {"type": "rect", "x": 0.1, "y": 0.2, "w": 0.3, "h": 0.4},
            {"type": "arrow", "x1": 0.9, "y1": 0.9, "x2": 0.5, "y2": 0.5},
            {"type": "path", "points": [[0.1, 0.1], [0.2, 0.25], [0.3, 0.2]]}
        ]}))
        .unwrap();
        assert_eq!(drawing.shapes.len(), 3);
        let outside = json!({"shapes": [{"type": "rect", "x": 0.8, "y": 0.2, "w": 0.3, "h": 0.1}]});
        assert!(Drawing::parse(outside).unwrap_err().message.contains("within the picture"));
        assert!(Drawing::parse(json!({"shapes": []})).is_err());
        assert!(Drawing::parse(json!({"shapes": [{"type": "circle", "r": 1}]})).is_err());
        assert!(Drawing::parse(json!({"shapes": [{"type": "path", "points": [[0.1, 0.1]]}]})).is_err());
        let many: Vec<_> = (0..5000).map(|_| [0.5, 0.5]).collect();
        let big = json!({"shapes": [{"type": "path", "points": many}]});
        assert!(Drawing::parse(big).unwrap_err().message.contains("the limit is 4000"));
    }
}
