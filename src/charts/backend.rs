//! The plotters types every drawing routine is written against: one
//! routine draws on any backend (SVG or bitmap).

use plotters::coord::Shift;
use plotters::prelude::*;

/// What a drawing step returns on backend `DB`.
pub(crate) type Res<T, DB> = Result<T, DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;
/// A drawing area in pixels of backend `DB`.
pub(crate) type Area<DB> = DrawingArea<DB, Shift>;
