//! `Debug` and `Display` for [`Matrix`]. `Display` right-aligns each column to its
//! widest entry, measuring widths with a counting writer instead of a buffer, so it
//! works without allocation.

use core::fmt::{self, Debug, Display, Formatter, Write};

use crate::Matrix;

impl<const R: usize, const C: usize, T: Debug> Debug for Matrix<R, C, T> {
    /// `Matrix([[1.0, 1.0], [2.0, -1.0]])`; `{:#?}` spreads it over lines and a
    /// precision (`{:.3?}`) applies to every entry.
    ///
    /// ```
    /// use jacobian_runtime::Matrix;
    ///
    /// let j = Matrix::from_rows([[1.0, 1.0], [2.0, -1.0]]);
    /// assert_eq!(format!("{j:?}"), "Matrix([[1.0, 1.0], [2.0, -1.0]])");
    /// assert_eq!(format!("{:.2?}", j.row(0)), "Matrix([[1.00, 1.00]])");
    /// ```
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Matrix").field(self.as_rows()).finish()
    }
}

impl<const R: usize, const C: usize, T: Display> Display for Matrix<R, C, T> {
    /// One bracketed line per row, each column right-aligned to its widest entry:
    ///
    /// ```text
    /// [1  1]
    /// [2 -1]
    /// ```
    ///
    /// A precision (`{:.3}`) and the `+` flag apply to every entry; a width
    /// (`{:8}`) is the minimum width of every column. A matrix without rows prints
    /// `[]`. No trailing newline.
    ///
    /// ```
    /// use jacobian_runtime::Matrix;
    ///
    /// let j = Matrix::from_rows([[1.0, 1.0], [2.0, -1.0]]);
    /// assert_eq!(j.to_string(), "[1  1]\n[2 -1]");
    /// assert_eq!(format!("{j:.1}"), "[1.0  1.0]\n[2.0 -1.0]");
    /// assert_eq!(format!("{j:+}"), "[+1 +1]\n[+2 -1]");
    /// ```
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if R == 0 {
            return f.write_str("[]");
        }
        let style = EntryStyle { precision: f.precision(), sign_plus: f.sign_plus() };
        let mut widths = [f.width().unwrap_or(0); C];
        for row in self.as_rows() {
            for (width, entry) in widths.iter_mut().zip(row) {
                *width = (*width).max(style.width_of(entry));
            }
        }
        for (i, row) in self.as_rows().iter().enumerate() {
            if i > 0 {
                f.write_char('\n')?;
            }
            f.write_char('[')?;
            for (j, (entry, &width)) in row.iter().zip(&widths).enumerate() {
                if j > 0 {
                    f.write_char(' ')?;
                }
                for _ in style.width_of(entry)..width {
                    f.write_char(' ')?;
                }
                style.write(f, entry)?;
            }
            f.write_char(']')?;
        }
        Ok(())
    }
}

/// The formatting options of the outer `Display` call that each entry inherits.
struct EntryStyle {
    precision: Option<usize>,
    sign_plus: bool,
}

impl EntryStyle {
    /// Writes one entry without padding.
    fn write<T: Display>(&self, out: &mut impl Write, entry: &T) -> fmt::Result {
        match (self.precision, self.sign_plus) {
            (None, false) => write!(out, "{entry}"),
            (None, true) => write!(out, "{entry:+}"),
            (Some(precision), false) => write!(out, "{entry:.precision$}"),
            (Some(precision), true) => write!(out, "{entry:+.precision$}"),
        }
    }

    /// The number of characters [`EntryStyle::write`] produces for `entry`.
    fn width_of<T: Display>(&self, entry: &T) -> usize {
        let mut counter = CharCounter(0);
        // Counting never fails; an entry whose own `Display` fails will fail again,
        // and report it, when it is written.
        let _ = self.write(&mut counter, entry);
        counter.0
    }
}

/// A `fmt::Write` sink that only counts the characters written to it.
struct CharCounter(usize);

impl Write for CharCounter {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0 += s.chars().count();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    extern crate std;

    use std::format;

    use crate::{Matrix, Vector};

    #[test]
    fn display_right_aligns_each_column() {
        let seed = Matrix::from_rows([[1.0, 1.0], [2.0, -1.0]]);
        assert_eq!(format!("{seed}"), "[1  1]\n[2 -1]");
        let m = Matrix::from_rows([[1.5, -20.0, 3.0], [100.0, 2.0, -0.25]]);
        assert_eq!(format!("{m}"), "[1.5 -20     3]\n[100   2 -0.25]");
    }

    #[test]
    fn display_respects_precision_width_and_sign() {
        let m = Matrix::from_rows([[1.0_f32, -2.0], [0.5, 10.0]]);
        assert_eq!(format!("{m:.2}"), "[1.00 -2.00]\n[0.50 10.00]");
        assert_eq!(format!("{m:6}"), "[     1     -2]\n[   0.5     10]");
        assert_eq!(format!("{m:+}"), "[  +1  -2]\n[+0.5 +10]");
        assert_eq!(format!("{m:+.1}"), "[+1.0  -2.0]\n[+0.5 +10.0]");
    }

    #[test]
    fn display_of_vectors_and_empty_matrices() {
        assert_eq!(format!("{}", Vector::from([3.0, -14.0])), "[  3]\n[-14]");
        assert_eq!(format!("{}", Matrix::<0, 2>::zeros()), "[]");
        assert_eq!(format!("{}", Matrix::<2, 0>::zeros()), "[]\n[]");
        assert_eq!(format!("{}", Vector::from([f64::NAN, f64::INFINITY])), "[NaN]\n[inf]");
    }

    #[test]
    fn debug_is_compact() {
        let seed = Matrix::from_rows([[1.0, 1.0], [2.0, -1.0]]);
        assert_eq!(format!("{seed:?}"), "Matrix([[1.0, 1.0], [2.0, -1.0]])");
        assert_eq!(format!("{:?}", Vector::from([0.5_f32])), "Matrix([[0.5]])");
        assert_eq!(format!("{seed:.1?}"), "Matrix([[1.0, 1.0], [2.0, -1.0]])");
        assert!(format!("{seed:#?}").contains('\n'));
    }
}
