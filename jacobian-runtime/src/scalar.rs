//! The scalar types a [`Matrix`](crate::Matrix) does arithmetic with: [`Scalar`]
//! (`f32` and `f64`, available everywhere) and [`Real`] (their float math, which
//! lives in `std` and so needs the `std` feature).

use core::fmt::{Debug, Display};
use core::ops::{Add, AddAssign, Div, DivAssign, Mul, MulAssign, Neg, Sub, SubAssign};

mod sealed {
    /// Keeps [`Scalar`](super::Scalar) to the two float types it is written for.
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

/// A float type that matrix arithmetic works over: `f32` or `f64`.
///
/// The trait is sealed: generated code and the matrix operations rely on IEEE float
/// semantics, so no other type implements it.
///
/// ```
/// use jacobian_runtime::Scalar;
///
/// fn halve<T: Scalar>(x: T) -> T {
///     x / T::from_i32(2)
/// }
/// assert_eq!(halve(3.0_f64), 1.5);
/// assert_eq!(halve(3.0_f32), 1.5);
/// ```
pub trait Scalar:
    sealed::Sealed
    + Copy
    + PartialEq
    + PartialOrd
    + Debug
    + Display
    + Default
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
    + AddAssign
    + SubAssign
    + MulAssign
    + DivAssign
    + 'static
{
    /// The additive identity, `0.0`.
    ///
    /// ```
    /// use jacobian_runtime::Scalar;
    ///
    /// assert_eq!(f64::ZERO, 0.0);
    /// assert_eq!(<f32 as Scalar>::ZERO + 2.5, 2.5);
    /// ```
    const ZERO: Self;
    /// The multiplicative identity, `1.0`.
    ///
    /// ```
    /// use jacobian_runtime::Scalar;
    ///
    /// assert_eq!(f64::ONE, 1.0);
    /// assert_eq!(<f32 as Scalar>::ONE * 2.5, 2.5);
    /// ```
    const ONE: Self;

    /// Converts an `f64` with `as` (rounding to nearest for `f32`).
    ///
    /// ```
    /// use jacobian_runtime::Scalar;
    ///
    /// assert_eq!(<f64 as Scalar>::from_f64(0.1), 0.1);
    /// assert_eq!(<f32 as Scalar>::from_f64(0.1), 0.1_f32);
    /// ```
    fn from_f64(v: f64) -> Self;

    /// Converts an `i32` with `as` (exact for `f64`, rounded for large values in `f32`).
    ///
    /// ```
    /// use jacobian_runtime::Scalar;
    ///
    /// assert_eq!(<f64 as Scalar>::from_i32(-3), -3.0);
    /// assert_eq!(<f32 as Scalar>::from_i32(16_777_217), 16_777_216.0);
    /// ```
    fn from_i32(v: i32) -> Self;
}

macro_rules! impl_scalar {
    ($($t:ty),*) => {$(
        impl Scalar for $t {
            const ZERO: Self = 0.0;
            const ONE: Self = 1.0;

            #[inline]
            fn from_f64(v: f64) -> Self {
                v as $t
            }

            #[inline]
            fn from_i32(v: i32) -> Self {
                v as $t
            }
        }
    )*};
}

impl_scalar!(f32, f64);

/// Declares the methods of [`Real`] and forwards each to the inherent float method
/// of the same name, so the trait and its two impls cannot drift apart.
#[cfg(feature = "std")]
macro_rules! real_methods {
    (@impl $t:ty { $(fn $name:ident(self $(, $arg:ident: $arg_ty:ty)*) -> $ret:ty;)* }) => {
        impl Real for $t {
            $(
                #[inline]
                fn $name(self $(, $arg: $arg_ty)*) -> $ret {
                    <$t>::$name(self $(, $arg)*)
                }
            )*
        }
    };
    ($(
        $(#[$doc:meta])*
        fn $name:ident(self $(, $arg:ident: $arg_ty:ty)*) -> $ret:ty;
    )*) => {
        /// The float functions of `f32` and `f64`, as a trait, so that code can be
        /// generic over the scalar type.
        ///
        /// Every method has the signature of the inherent method of the same name and
        /// just calls it. Needs the `std` feature, where float math lives.
        ///
        /// ```
        /// use jacobian_runtime::Real;
        ///
        /// fn f<T: Real>(x: T, y: T) -> T {
        ///     x.sin() * y.exp()
        /// }
        /// assert_eq!(f(0.5_f64, 2.0), 0.5_f64.sin() * 2.0_f64.exp());
        /// assert_eq!(f(0.5_f32, 2.0), 0.5_f32.sin() * 2.0_f32.exp());
        /// ```
        pub trait Real: Scalar {
            $(
                $(#[$doc])*
                fn $name(self $(, $arg: $arg_ty)*) -> $ret;
            )*
        }

        real_methods!(@impl f32 { $(fn $name(self $(, $arg: $arg_ty)*) -> $ret;)* });
        real_methods!(@impl f64 { $(fn $name(self $(, $arg: $arg_ty)*) -> $ret;)* });
    };
}

#[cfg(feature = "std")]
real_methods! {
    /// Sine of `self` (in radians).
    ///
    /// ```
    /// use jacobian_runtime::Real;
    /// use std::f64::consts::FRAC_PI_2;
    ///
    /// assert_eq!(Real::sin(0.0_f64), 0.0);
    /// assert!((Real::sin(FRAC_PI_2) - 1.0).abs() < 1e-15);
    /// ```
    fn sin(self) -> Self;
    /// Cosine of `self` (in radians).
    ///
    /// ```
    /// use jacobian_runtime::Real;
    /// use std::f64::consts::FRAC_PI_2;
    ///
    /// assert_eq!(Real::cos(0.0_f64), 1.0);
    /// assert!(Real::cos(FRAC_PI_2).abs() < 1e-15);
    /// ```
    fn cos(self) -> Self;
    /// Tangent of `self` (in radians).
    ///
    /// ```
    /// use jacobian_runtime::Real;
    /// use std::f64::consts::FRAC_PI_4;
    ///
    /// assert_eq!(Real::tan(0.0_f64), 0.0);
    /// assert!((Real::tan(FRAC_PI_4) - 1.0).abs() < 1e-15);
    /// ```
    fn tan(self) -> Self;
    /// Arcsine, in radians in `[-pi/2, pi/2]`; NaN outside `[-1, 1]`.
    ///
    /// ```
    /// use jacobian_runtime::Real;
    /// use std::f64::consts::FRAC_PI_2;
    ///
    /// assert!((Real::asin(1.0_f64) - FRAC_PI_2).abs() < 1e-15);
    /// assert!(Real::asin(2.0_f64).is_nan());
    /// ```
    fn asin(self) -> Self;
    /// Arccosine, in radians in `[0, pi]`; NaN outside `[-1, 1]`.
    ///
    /// ```
    /// use jacobian_runtime::Real;
    ///
    /// assert_eq!(Real::acos(1.0_f64), 0.0);
    /// assert!(Real::acos(-2.0_f64).is_nan());
    /// ```
    fn acos(self) -> Self;
    /// Arctangent, in radians in `[-pi/2, pi/2]`.
    ///
    /// ```
    /// use jacobian_runtime::Real;
    /// use std::f64::consts::FRAC_PI_4;
    ///
    /// assert_eq!(Real::atan(0.0_f64), 0.0);
    /// assert!((Real::atan(1.0_f64) - FRAC_PI_4).abs() < 1e-15);
    /// ```
    fn atan(self) -> Self;
    /// Four-quadrant arctangent of `self` (y) and `other` (x), in `[-pi, pi]`.
    ///
    /// ```
    /// use jacobian_runtime::Real;
    /// use std::f64::consts::FRAC_PI_4;
    ///
    /// // The point (-1, 1) lies in the second quadrant, at 3π/4.
    /// assert!((Real::atan2(1.0_f64, -1.0) - 3.0 * FRAC_PI_4).abs() < 1e-15);
    /// ```
    fn atan2(self, other: Self) -> Self;
    /// Sine and cosine of `self` at once, `(sin, cos)`.
    ///
    /// ```
    /// use jacobian_runtime::Real;
    ///
    /// assert_eq!(Real::sin_cos(0.0_f64), (0.0, 1.0));
    /// let (s, c) = Real::sin_cos(0.7_f64);
    /// assert_eq!((s, c), (0.7_f64.sin(), 0.7_f64.cos()));
    /// ```
    fn sin_cos(self) -> (Self, Self);
    /// Hyperbolic sine.
    ///
    /// ```
    /// use jacobian_runtime::Real;
    /// use std::f64::consts::E;
    ///
    /// assert_eq!(Real::sinh(0.0_f64), 0.0);
    /// assert!((Real::sinh(1.0_f64) - (E - 1.0 / E) / 2.0).abs() < 1e-15);
    /// ```
    fn sinh(self) -> Self;
    /// Hyperbolic cosine.
    ///
    /// ```
    /// use jacobian_runtime::Real;
    /// use std::f64::consts::E;
    ///
    /// assert_eq!(Real::cosh(0.0_f64), 1.0);
    /// assert!((Real::cosh(1.0_f64) - (E + 1.0 / E) / 2.0).abs() < 1e-15);
    /// ```
    fn cosh(self) -> Self;
    /// Hyperbolic tangent.
    ///
    /// ```
    /// use jacobian_runtime::Real;
    /// use std::f64::consts::E;
    ///
    /// assert_eq!(Real::tanh(0.0_f64), 0.0);
    /// assert!((Real::tanh(1.0_f64) - (E * E - 1.0) / (E * E + 1.0)).abs() < 1e-15);
    /// ```
    fn tanh(self) -> Self;
    /// Inverse hyperbolic sine.
    ///
    /// ```
    /// use jacobian_runtime::Real;
    ///
    /// assert_eq!(Real::asinh(0.0_f64), 0.0);
    /// assert!((Real::asinh(Real::sinh(0.5_f64)) - 0.5).abs() < 1e-15);
    /// ```
    fn asinh(self) -> Self;
    /// Inverse hyperbolic cosine; NaN below 1.
    ///
    /// ```
    /// use jacobian_runtime::Real;
    ///
    /// assert_eq!(Real::acosh(1.0_f64), 0.0);
    /// assert!(Real::acosh(0.5_f64).is_nan());
    /// ```
    fn acosh(self) -> Self;
    /// Inverse hyperbolic tangent; NaN outside `[-1, 1]`.
    ///
    /// ```
    /// use jacobian_runtime::Real;
    ///
    /// assert_eq!(Real::atanh(0.0_f64), 0.0);
    /// assert!(Real::atanh(2.0_f64).is_nan());
    /// ```
    fn atanh(self) -> Self;
    /// `e^self`.
    ///
    /// ```
    /// use jacobian_runtime::Real;
    /// use std::f64::consts::E;
    ///
    /// assert_eq!(Real::exp(0.0_f64), 1.0);
    /// assert!((Real::exp(1.0_f64) - E).abs() < 1e-15);
    /// ```
    fn exp(self) -> Self;
    /// `2^self`.
    ///
    /// ```
    /// use jacobian_runtime::Real;
    ///
    /// assert_eq!(Real::exp2(0.0_f64), 1.0);
    /// assert!((Real::exp2(3.0_f64) - 8.0).abs() < 1e-14);
    /// ```
    fn exp2(self) -> Self;
    /// `e^self - 1`, accurate near zero.
    ///
    /// ```
    /// use jacobian_runtime::Real;
    ///
    /// // Where `exp(x) - 1` has lost every digit, `exp_m1` keeps them.
    /// assert_eq!(Real::exp(1e-20_f64) - 1.0, 0.0);
    /// assert_eq!(Real::exp_m1(1e-20_f64), 1e-20);
    /// ```
    fn exp_m1(self) -> Self;
    /// Natural logarithm.
    ///
    /// ```
    /// use jacobian_runtime::Real;
    /// use std::f64::consts::E;
    ///
    /// assert_eq!(Real::ln(1.0_f64), 0.0);
    /// assert!((Real::ln(E) - 1.0).abs() < 1e-15);
    /// ```
    fn ln(self) -> Self;
    /// `ln(1 + self)`, accurate near zero.
    ///
    /// ```
    /// use jacobian_runtime::Real;
    ///
    /// // Where `ln(1 + x)` has lost every digit, `ln_1p` keeps them.
    /// assert_eq!(Real::ln(1.0 + 1e-20_f64), 0.0);
    /// assert_eq!(Real::ln_1p(1e-20_f64), 1e-20);
    /// ```
    fn ln_1p(self) -> Self;
    /// Logarithm of `self` in base `base`.
    ///
    /// ```
    /// use jacobian_runtime::Real;
    ///
    /// assert_eq!(Real::log(1.0_f64, 3.0), 0.0);
    /// assert!((Real::log(81.0_f64, 3.0) - 4.0).abs() < 1e-14);
    /// ```
    fn log(self, base: Self) -> Self;
    /// Base-2 logarithm.
    ///
    /// ```
    /// use jacobian_runtime::Real;
    ///
    /// assert_eq!(Real::log2(1.0_f64), 0.0);
    /// assert!((Real::log2(8.0_f64) - 3.0).abs() < 1e-15);
    /// ```
    fn log2(self) -> Self;
    /// Base-10 logarithm.
    ///
    /// ```
    /// use jacobian_runtime::Real;
    ///
    /// assert_eq!(Real::log10(1.0_f64), 0.0);
    /// assert!((Real::log10(1000.0_f64) - 3.0).abs() < 1e-15);
    /// ```
    fn log10(self) -> Self;
    /// Square root; NaN for negative numbers.
    ///
    /// ```
    /// use jacobian_runtime::Real;
    ///
    /// assert_eq!(Real::sqrt(9.0_f64), 3.0);
    /// assert!(Real::sqrt(-1.0_f64).is_nan());
    /// ```
    fn sqrt(self) -> Self;
    /// Cube root.
    ///
    /// ```
    /// use jacobian_runtime::Real;
    ///
    /// assert!((Real::cbrt(27.0_f64) - 3.0).abs() < 1e-15);
    /// assert!((Real::cbrt(-8.0_f64) + 2.0).abs() < 1e-15);
    /// ```
    fn cbrt(self) -> Self;
    /// `self` raised to an integer power.
    ///
    /// ```
    /// use jacobian_runtime::Real;
    ///
    /// assert_eq!(Real::powi(2.0_f64, 10), 1024.0);
    /// assert_eq!(Real::powi(2.0_f64, -1), 0.5);
    /// ```
    fn powi(self, n: i32) -> Self;
    /// `self` raised to a float power.
    ///
    /// ```
    /// use jacobian_runtime::Real;
    ///
    /// assert!((Real::powf(4.0_f64, 0.5) - 2.0).abs() < 1e-15);
    /// assert!(Real::powf(-1.0_f64, 0.5).is_nan());
    /// ```
    fn powf(self, n: Self) -> Self;
    /// `sqrt(self^2 + other^2)` without undue overflow.
    ///
    /// ```
    /// use jacobian_runtime::Real;
    ///
    /// assert!((Real::hypot(3.0_f64, 4.0) - 5.0).abs() < 1e-15);
    /// assert_eq!(Real::hypot(1e300_f64, 1e300), 1e300 * 2.0_f64.sqrt());
    /// ```
    fn hypot(self, other: Self) -> Self;
    /// `1 / self`.
    ///
    /// ```
    /// use jacobian_runtime::Real;
    ///
    /// assert_eq!(Real::recip(4.0_f64), 0.25);
    /// ```
    fn recip(self) -> Self;
    /// `self * a + b` with one rounding.
    ///
    /// ```
    /// use jacobian_runtime::Real;
    ///
    /// assert_eq!(Real::mul_add(2.0_f64, 3.0, 1.0), 7.0);
    /// ```
    fn mul_add(self, a: Self, b: Self) -> Self;
    /// Absolute value.
    ///
    /// ```
    /// use jacobian_runtime::Real;
    ///
    /// assert_eq!(Real::abs(-2.5_f64), 2.5);
    /// ```
    fn abs(self) -> Self;
    /// The smaller of `self` and `other`, ignoring a NaN.
    ///
    /// ```
    /// use jacobian_runtime::Real;
    ///
    /// assert_eq!(Real::min(1.0_f64, 2.0), 1.0);
    /// assert_eq!(Real::min(f64::NAN, 2.0), 2.0);
    /// ```
    fn min(self, other: Self) -> Self;
    /// The larger of `self` and `other`, ignoring a NaN.
    ///
    /// ```
    /// use jacobian_runtime::Real;
    ///
    /// assert_eq!(Real::max(1.0_f64, 2.0), 2.0);
    /// assert_eq!(Real::max(f64::NAN, 2.0), 2.0);
    /// ```
    fn max(self, other: Self) -> Self;
    /// `1.0` for positive numbers and `+0.0`, `-1.0` for negative ones and `-0.0`,
    /// NaN for NaN.
    ///
    /// ```
    /// use jacobian_runtime::Real;
    ///
    /// assert_eq!(Real::signum(-3.0_f64), -1.0);
    /// assert_eq!(Real::signum(0.0_f64), 1.0);
    /// assert_eq!(Real::signum(-0.0_f64), -1.0);
    /// ```
    fn signum(self) -> Self;
    /// Largest integer not above `self`.
    ///
    /// ```
    /// use jacobian_runtime::Real;
    ///
    /// assert_eq!(Real::floor(-1.5_f64), -2.0);
    /// ```
    fn floor(self) -> Self;
    /// Smallest integer not below `self`.
    ///
    /// ```
    /// use jacobian_runtime::Real;
    ///
    /// assert_eq!(Real::ceil(-1.5_f64), -1.0);
    /// ```
    fn ceil(self) -> Self;
    /// Nearest integer, half-way cases away from zero.
    ///
    /// ```
    /// use jacobian_runtime::Real;
    ///
    /// assert_eq!(Real::round(2.5_f64), 3.0);
    /// assert_eq!(Real::round(-2.5_f64), -3.0);
    /// ```
    fn round(self) -> Self;
    /// Integer part, rounding toward zero.
    ///
    /// ```
    /// use jacobian_runtime::Real;
    ///
    /// assert_eq!(Real::trunc(-1.7_f64), -1.0);
    /// ```
    fn trunc(self) -> Self;
    /// Converts radians to degrees.
    ///
    /// ```
    /// use jacobian_runtime::Real;
    /// use std::f64::consts::PI;
    ///
    /// assert!((Real::to_degrees(PI) - 180.0).abs() < 1e-12);
    /// ```
    fn to_degrees(self) -> Self;
    /// Converts degrees to radians.
    ///
    /// ```
    /// use jacobian_runtime::Real;
    /// use std::f64::consts::PI;
    ///
    /// assert!((Real::to_radians(180.0_f64) - PI).abs() < 1e-15);
    /// ```
    fn to_radians(self) -> Self;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn third<T: Scalar>() -> T {
        T::ONE / T::from_i32(3)
    }

    #[test]
    fn constants_and_conversions() {
        assert_eq!(f64::ZERO, 0.0);
        assert_eq!(f64::ONE, 1.0);
        assert_eq!(f32::ZERO, 0.0);
        assert_eq!(f32::ONE, 1.0);
        assert_eq!(f64::from_f64(0.1), 0.1);
        assert_eq!(f32::from_f64(0.1), 0.1_f32);
        assert_eq!(f64::from_i32(-7), -7.0);
        assert_eq!(f32::from_i32(16_777_217), 16_777_216.0);
        assert_eq!(third::<f64>(), 1.0 / 3.0);
        assert_eq!(third::<f32>(), 1.0 / 3.0);
    }

    #[cfg(feature = "std")]
    #[test]
    fn real_forwards_to_the_inherent_methods() {
        fn check<T: Real>(x: T, y: T) -> [T; 39] {
            let (s, c) = x.sin_cos();
            [
                x.sin(),
                x.cos(),
                x.tan(),
                x.asin(),
                x.acos(),
                x.atan(),
                x.atan2(y),
                s,
                c,
                x.sinh(),
                x.cosh(),
                x.tanh(),
                x.asinh(),
                y.acosh(),
                x.atanh(),
                x.exp(),
                x.exp2(),
                x.exp_m1(),
                x.ln(),
                x.ln_1p(),
                x.log(y),
                x.log2(),
                x.log10(),
                x.sqrt(),
                x.cbrt(),
                x.powi(3),
                x.powf(y),
                x.hypot(y),
                x.recip(),
                x.mul_add(y, x),
                (-x).abs(),
                x.min(y),
                x.max(y),
                (-x).signum(),
                y.floor(),
                y.ceil(),
                y.round(),
                y.trunc(),
                x.to_degrees() + x.to_radians(),
            ]
        }
        let (x, y) = (0.3_f64, 2.5_f64);
        let (s, c) = x.sin_cos();
        let expected = [
            x.sin(),
            x.cos(),
            x.tan(),
            x.asin(),
            x.acos(),
            x.atan(),
            x.atan2(y),
            s,
            c,
            x.sinh(),
            x.cosh(),
            x.tanh(),
            x.asinh(),
            y.acosh(),
            x.atanh(),
            x.exp(),
            x.exp2(),
            x.exp_m1(),
            x.ln(),
            x.ln_1p(),
            x.log(y),
            x.log2(),
            x.log10(),
            x.sqrt(),
            x.cbrt(),
            x.powi(3),
            x.powf(y),
            x.hypot(y),
            x.recip(),
            x.mul_add(y, x),
            0.3,
            0.3,
            2.5,
            -1.0,
            2.0,
            3.0,
            3.0,
            2.0,
            x.to_degrees() + x.to_radians(),
        ];
        assert_eq!(check(x, y), expected);
        let single = check(0.3_f32, 2.5_f32);
        assert_eq!(single[0], 0.3_f32.sin());
        assert_eq!(single[26], 0.3_f32.powf(2.5));
        assert_eq!(single[36], 3.0);
    }
}
