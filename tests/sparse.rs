//! `#[jacobian(sparse)]`: `{name}_jacobian_sparse` returns the values of the entries that
//! can be non-zero, in the order `{name}_jacobian_pattern()` lists their positions.
//! Checked here: the values equal the dense Jacobian's entries at the pattern's positions
//! on random points, the pattern has every non-zero and no position twice, literal,
//! `const`-item and const-generic sizes (n = 10,000 too, in O(n)), `f32`, `wrt`, several
//! parameters, functions with dense parts, vectors, matrices, nalgebra, methods, and a
//! function forward mode does not take (stored dense, still right).

#![allow(clippy::needless_range_loop)]

use std::collections::HashSet;

use jacobian::{jacobian, Matrix, Pattern, Segment, Sparse, Values, Vector};

/// A small deterministic generator (SplitMix64) of points in `[lo, hi)`.
struct Points(u64);

impl Points {
    fn next(&mut self, lo: f64, hi: f64) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        lo + (hi - lo) * ((z >> 11) as f64 / (1u64 << 53) as f64)
    }

    fn array<const N: usize>(&mut self, lo: f64, hi: f64) -> [f64; N] {
        std::array::from_fn(|_| self.next(lo, hi))
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * (1.0 + a.abs().max(b.abs()))
}

/// The pattern lies inside the matrix, lists no position twice, and has as many positions
/// as values; `index_of` finds each.
fn check_pattern(pattern: Pattern) {
    let mut seen = HashSet::new();
    for (k, (r, c)) in pattern.iter().enumerate() {
        assert!(r < pattern.rows() && c < pattern.cols(), "({r}, {c}) outside {pattern:?}");
        assert!(seen.insert((r, c)), "({r}, {c}) twice in {pattern:?}");
        assert_eq!(pattern.index_of(r, c), Some(k));
    }
    assert_eq!(seen.len(), pattern.len());
}

/// The sparse Jacobian agrees with the dense one: every value is the dense entry at its
/// position, every dense non-zero is in the pattern, and the pattern is the one
/// `{name}_jacobian_pattern()` gives.
fn check<V: Values<Scalar = f64>, const M: usize, const N: usize>(
    sparse: &Sparse<V>,
    dense: &Matrix<M, N>,
    pattern: Pattern,
) {
    assert_eq!(sparse.pattern(), pattern);
    assert_eq!((pattern.rows(), pattern.cols()), (M, N));
    assert_eq!(sparse.values().len(), pattern.len());
    check_pattern(pattern);
    for (r, c, v) in sparse.iter() {
        assert!(close(v, dense[(r, c)]), "({r}, {c}): sparse {v}, dense {}", dense[(r, c)]);
    }
    for r in 0..M {
        for c in 0..N {
            if dense[(r, c)] != 0.0 {
                assert!(pattern.contains(r, c), "non-zero ({r}, {c}) = {} not in {pattern:?}", dense[(r, c)]);
            }
        }
    }
    let back: Matrix<M, N> = sparse.to_dense();
    for r in 0..M {
        for c in 0..N {
            assert!(close(back[(r, c)], dense[(r, c)]), "({r}, {c})");
        }
    }
}

// The banded map of the benchmark suite, at a const-generic size: upper bidiagonal.
#[jacobian(sparse)]
fn banded_sin<const N: usize>(x: [f64; N]) -> [f64; N] {
    let mut f = [0.0; N];
    for i in 0..N - 1 {
        f[i] = x[i].sin() * x[i + 1];
    }
    f[N - 1] = x[N - 1].sin();
    f
}

#[test]
fn banded_map_const_generic() {
    let mut points = Points(1);
    for _ in 0..5 {
        let x: [f64; 40] = points.array(-2.0, 2.0);
        let sparse: Sparse<Vec<f64>> = banded_sin_jacobian_sparse(x);
        check(&sparse, &banded_sin_jacobian(x), banded_sin_jacobian_pattern::<40>());
    }
    // Two diagonals: 2n − 1 values, the main diagonal first.
    let pattern = banded_sin_jacobian_pattern::<40>();
    assert_eq!(pattern.len(), 79);
    assert_eq!(pattern.segments().len(), 2);
    assert_eq!(pattern.iter().nth(40), Some((0, 1)));
}

/// n = 10,000: the dense Jacobian would be 800 MB; the sparse one is 2n − 1 values,
/// checked against the closed form.
#[test]
fn banded_map_at_ten_thousand() {
    const BIG: usize = 10_000;
    let mut points = Points(2);
    let x: Box<[f64; BIG]> = Box::new(points.array(-2.0, 2.0));
    let sparse = banded_sin_jacobian_sparse(*x);
    assert_eq!(sparse.len(), 2 * BIG - 1);
    for (r, c, v) in sparse.iter() {
        let expected = match c - r {
            0 if r + 1 < BIG => x[r].cos() * x[r + 1],
            0 => x[r].cos(),
            1 => x[r].sin(),
            _ => panic!("({r}, {c}) is not on the band"),
        };
        assert!(close(v, expected), "({r}, {c}): {v} against {expected}");
    }
    check_pattern(banded_sin_jacobian_pattern::<BIG>());
}

// A literal size: the values are an array whose length is computed at compile time.
#[jacobian(sparse)]
fn banded_literal(x: [f64; 20]) -> [f64; 20] {
    let mut f = [0.0; 20];
    for i in 0..19 {
        f[i] = x[i].sin() * x[i + 1];
    }
    f[19] = x[19].sin();
    f
}

#[test]
fn literal_sizes_give_arrays() {
    let x: [f64; 20] = Points(3).array(-2.0, 2.0);
    let sparse: Sparse<[f64; 39]> = banded_literal_jacobian_sparse(x);
    check(&sparse, &banded_literal_jacobian(x), banded_literal_jacobian_pattern());
    // A constant: usable in a `const`.
    const NNZ: usize = 39;
    let values: [f64; NNZ] = sparse.into_values();
    assert_eq!(values[0], x[0].cos() * x[1]);
}

/// The reaction chain of the benchmark suite: Michaelis–Menten steps `→ A₀ → A₁ → …`,
/// lower bidiagonal with respect to the concentrations.
struct Kinetics<const N: usize> {
    feed: f64,
    vmax: [f64; N],
    km: [f64; N],
}

impl<const N: usize> Kinetics<N> {
    fn new(points: &mut Points) -> Box<Kinetics<N>> {
        Box::new(Kinetics { feed: 1.0, vmax: points.array(1.0, 3.0), km: points.array(0.2, 1.0) })
    }
}

#[jacobian(wrt(c), sparse)]
fn reaction_chain<const N: usize>(c: [f64; N], k: &Kinetics<N>) -> [f64; N] {
    let mut rate = [0.0; N];
    for i in 0..N {
        rate[i] = k.vmax[i] * c[i] / (k.km[i] + c[i]);
    }
    let mut dc = [0.0; N];
    dc[0] = k.feed - rate[0];
    for i in 1..N {
        dc[i] = rate[i - 1] - rate[i];
    }
    dc
}

#[test]
fn reaction_chain_is_lower_bidiagonal() {
    let mut points = Points(4);
    let k = Kinetics::<30>::new(&mut points);
    for _ in 0..5 {
        let c: [f64; 30] = points.array(0.1, 2.0);
        check(
            &reaction_chain_jacobian_sparse(c, &k),
            &reaction_chain_jacobian(c, &k),
            reaction_chain_jacobian_pattern::<30>(),
        );
    }
    let pattern = reaction_chain_jacobian_pattern::<30>();
    assert_eq!(pattern.len(), 59);
    assert!(pattern.iter().all(|(r, c)| c == r || c + 1 == r));
}

#[test]
fn reaction_chain_at_ten_thousand() {
    const BIG: usize = 10_000;
    let mut points = Points(5);
    let k = Kinetics::<BIG>::new(&mut points);
    let c: Box<[f64; BIG]> = Box::new(points.array(0.1, 2.0));
    let sparse = reaction_chain_jacobian_sparse(*c, &k);
    assert_eq!(sparse.len(), 2 * BIG - 1);
    for (r, col, v) in sparse.iter() {
        let d = k.vmax[col] * k.km[col] / ((k.km[col] + c[col]) * (k.km[col] + c[col]));
        let expected = if r == col { -d } else { d };
        assert!(r == col || r == col + 1, "({r}, {col})");
        assert!((v - expected).abs() <= 1e-12 * (1.0 + d), "({r}, {col}): {v} against {expected}");
    }
}

// A `const` item's size: arrays, with the length a constant expression.
const SPECIES: usize = 10_000;

#[jacobian(sparse)]
fn decay(c: [f64; SPECIES]) -> [f64; SPECIES] {
    let mut dc = [0.0; SPECIES];
    dc[0] = -c[0];
    for i in 1..SPECIES {
        dc[i] = c[i - 1] * c[i - 1] - c[i];
    }
    dc
}

#[test]
fn const_item_sizes_give_arrays_in_o_n() {
    // The values are `[f64; 19_999]`, on the stack beside the diagonals: a bigger stack
    // than the test thread's 2 MB, as a user with arrays this large gives theirs.
    std::thread::Builder::new()
        .stack_size(16 << 20)
        .spawn(|| {
            let c: Box<[f64; SPECIES]> = Box::new(Points(6).array(0.1, 2.0));
            let sparse: Sparse<[f64; 2 * SPECIES - 1]> = decay_jacobian_sparse(*c);
            for (r, col, v) in sparse.iter() {
                let expected = if r == col { -1.0 } else { 2.0 * c[col] };
                assert_eq!(r - col, usize::from(r != col));
                assert!(close(v, expected), "({r}, {col})");
            }
            check_pattern(decay_jacobian_pattern());
        })
        .expect("a thread")
        .join()
        .expect("no panic");
}

// f32.
#[jacobian(sparse)]
fn stencil32(u: [f32; 24]) -> [f32; 24] {
    let mut out = [0.0; 24];
    out[0] = u[0] * u[0] - u[1];
    for i in 1..23 {
        out[i] = u[i - 1] - 2.0 * u[i].sin() + u[i + 1] * u[i];
    }
    out[23] = u[23].exp() + u[22];
    out
}

#[test]
fn f32_stencil() {
    let x: [f64; 24] = Points(7).array(-1.0, 1.0);
    let x = x.map(|v| v as f32);
    let sparse: Sparse<[f32; 70]> = stencil32_jacobian_sparse(x);
    let dense = stencil32_jacobian(x);
    for (r, c, v) in sparse.iter() {
        assert_eq!(v, dense[(r, c)], "({r}, {c})");
    }
    for r in 0..24 {
        for c in 0..24 {
            assert!(dense[(r, c)] == 0.0 || sparse.pattern().contains(r, c));
        }
    }
    check_pattern(stencil32_jacobian_pattern());
}

// `wrt`, a parameter of another type, and two differentiated parameters: a banded block
// beside a dense column.
#[jacobian(wrt(x, t), sparse)]
fn forced(x: [f64; 32], label: &str, t: f64) -> [f64; 32] {
    let mut out = [0.0; 32];
    out[0] = x[0] * t;
    for i in 1..32 {
        out[i] = (x[i] * t).sin() + x[i - 1] * label.len() as f64;
    }
    out
}

#[test]
fn wrt_and_two_blocks() {
    let mut points = Points(8);
    for _ in 0..5 {
        let x: [f64; 32] = points.array(-1.0, 1.0);
        let t = points.next(0.5, 1.5);
        check(&forced_jacobian_sparse(x, "abc", t), &forced_jacobian(x, "abc", t), forced_jacobian_pattern());
    }
    // The x block's two diagonals, then t's column whole.
    let pattern = forced_jacobian_pattern();
    assert_eq!(pattern.cols(), 33);
    assert_eq!(pattern.len(), 32 + 31 + 32);
}

// Dense parts: a row of run-time derivatives (a loop's sum) beside single entries.
#[jacobian(sparse)]
fn mixed(x: [f64; 4], y: f64) -> [f64; 3] {
    let mut s = 0.0;
    for i in 0..4 {
        s += x[i] * x[i];
    }
    [x[0] * y, s, y.sin()]
}

#[test]
fn dense_rows_beside_entries() {
    let mut points = Points(9);
    for _ in 0..5 {
        let x: [f64; 4] = points.array(-1.0, 1.0);
        let y = points.next(-1.0, 1.0);
        check(&mixed_jacobian_sparse(x, y), &mixed_jacobian(x, y), mixed_jacobian_pattern());
    }
    let pattern = mixed_jacobian_pattern();
    assert!(pattern.segments().contains(&Segment::Row { row: 1, col: 0, len: 4 }));
    assert_eq!(pattern.iter().collect::<Vec<_>>(), [(0, 0), (0, 4), (1, 0), (1, 1), (1, 2), (1, 3), (2, 4)]);
}

// A scalar output: the gradient's non-zeros.
#[jacobian(sparse)]
fn partial_energy(x: [f64; 6]) -> f64 {
    x[0] * x[1] + x[3].sin()
}

#[test]
fn scalar_output() {
    let x: [f64; 6] = Points(10).array(-1.0, 1.0);
    let sparse = partial_energy_jacobian_sparse(x);
    check(&sparse, &partial_energy_jacobian(x), partial_energy_jacobian_pattern());
    assert_eq!(partial_energy_jacobian_pattern().to_vec(), [(0, 0), (0, 1), (0, 3)]);
}

// Vectors and matrices.
#[jacobian(sparse)]
fn affine(a: Matrix<2, 3>, v: Vector<3>) -> Vector<2> {
    a * v
}

#[test]
fn vectors_and_matrices() {
    let mut points = Points(11);
    let a = Matrix::from_rows([points.array(-1.0, 1.0), points.array(-1.0, 1.0)]);
    let v = Vector::from(points.array(-1.0, 1.0));
    check(&affine_jacobian_sparse(a, v), &affine_jacobian(a, v), affine_jacobian_pattern());
}

// nalgebra signatures.
#[jacobian(sparse)]
fn range_bearing(x: nalgebra::SVector<f64, 3>) -> nalgebra::SVector<f64, 2> {
    let (dx, dy) = (4.0 - x.x, 6.0 - x.y);
    nalgebra::Vector2::new((dx * dx + dy * dy).sqrt(), dy.atan2(dx) - x.z)
}

#[test]
fn nalgebra_signature() {
    let x = nalgebra::SVector::<f64, 3>::new(1.0, 2.0, 0.3);
    let sparse = range_bearing_jacobian_sparse(x);
    let na = range_bearing_jacobian(x);
    let dense: Matrix<2, 3> = Matrix::from_fn(|i, j| na[(i, j)]);
    check(&sparse, &dense, range_bearing_jacobian_pattern());
    assert!(!range_bearing_jacobian_pattern().contains(0, 2));
}

// A method: `self` is a constant.
struct Chain {
    rates: [f64; 20],
}

impl Chain {
    #[jacobian(sparse)]
    fn rhs(&self, c: [f64; 20]) -> [f64; 20] {
        let mut dc = [0.0; 20];
        dc[0] = -self.rates[0] * c[0];
        for i in 1..20 {
            dc[i] = self.rates[i - 1] * c[i - 1] - self.rates[i] * c[i];
        }
        dc
    }
}

#[test]
fn methods() {
    let mut points = Points(12);
    let chain = Chain { rates: points.array(0.5, 2.0) };
    let c: [f64; 20] = points.array(0.0, 1.0);
    check(&chain.rhs_jacobian_sparse(c), &chain.rhs_jacobian(c), Chain::rhs_jacobian_pattern());
    assert_eq!(Chain::rhs_jacobian_pattern().len(), 39);
}

// A call between annotated functions, which forward mode does not take yet: the sparse
// sibling stores the dense Jacobian as one block, and is still right.
#[jacobian]
fn inner(x: f64) -> f64 {
    x.sin() * x
}

#[jacobian(sparse)]
fn outer(x: [f64; 3]) -> [f64; 3] {
    [inner(x[0]), x[1] * x[2], inner(x[2])]
}

#[test]
fn functions_forward_mode_does_not_take_are_stored_dense() {
    let x = [0.3, -0.7, 1.1];
    check(&outer_jacobian_sparse(x), &outer_jacobian(x), outer_jacobian_pattern());
}

// The pattern is the solver's: factorise once, refill each step.
#[test]
fn refilling_a_compressed_matrix() {
    let pattern = banded_sin_jacobian_pattern::<12>();
    let order = pattern.csc_order();
    let mut csc = vec![0.0; pattern.len()];
    let mut points = Points(13);
    for _ in 0..3 {
        let x: [f64; 12] = points.array(-1.0, 1.0);
        let sparse = banded_sin_jacobian_sparse(x);
        Pattern::scatter(&order, sparse.values(), &mut csc);
        // Column by column, rows ascending: (0,0) (0,1) (1,1) (1,2) (2,2) …
        assert_eq!(csc[0], sparse.get(0, 0).unwrap());
        assert_eq!(csc[1], sparse.get(0, 1).unwrap());
        assert_eq!(csc[2], sparse.get(1, 1).unwrap());
        let mut y = vec![0.0; 12];
        sparse.mul_add_to(&[1.0; 12], &mut y);
        let dense = banded_sin_jacobian(x);
        for r in 0..12 {
            assert!(close(y[r], dense.row(r).iter().sum()));
        }
    }
}

#[test]
fn nalgebra_sparse_matrices() {
    let x: [f64; 16] = Points(14).array(-1.0, 1.0);
    let sparse = banded_sin_jacobian_sparse(x);
    let dense = banded_sin_jacobian(x);
    let csc = sparse.to_csc();
    assert_eq!(csc.nnz(), 31);
    let coo = sparse.to_coo();
    let csr = sparse.to_csr();
    for (r, c, v) in coo.triplet_iter() {
        assert_eq!(*v, dense[(r, c)]);
    }
    for r in 0..16 {
        for c in 0..16 {
            let from_csc = csc.get_entry(r, c).map_or(0.0, |e| e.into_value());
            let from_csr = csr.get_entry(r, c).map_or(0.0, |e| e.into_value());
            assert_eq!((from_csc, from_csr), (dense[(r, c)], dense[(r, c)]));
        }
    }
    // The CSC's values are the pattern's in `csc_order`.
    let mut refilled = vec![0.0; sparse.len()];
    Pattern::scatter(&sparse.pattern().csc_order(), sparse.values(), &mut refilled);
    assert_eq!(csc.values(), refilled.as_slice());
}

// With `hessian`: the sparse Hessian, forward mode over the reverse-mode gradient.
#[jacobian(hessian, sparse)]
fn rosenbrock(x: [f64; 24]) -> f64 {
    let mut s = 0.0;
    for i in 0..23 {
        s += 100.0 * (x[i + 1] - x[i] * x[i]).powi(2) + (1.0 - x[i]).powi(2);
    }
    s
}

#[test]
fn sparse_hessian_of_the_rosenbrock_chain() {
    let mut points = Points(15);
    for _ in 0..3 {
        let x: [f64; 24] = points.array(-1.5, 1.5);
        let sparse = rosenbrock_hessian_sparse(x);
        let dense = rosenbrock_hessian(x);
        check(&sparse, &dense, rosenbrock_hessian_pattern());
    }
    let pattern = rosenbrock_hessian_pattern();
    assert_eq!((pattern.rows(), pattern.cols()), (24, 24));
    eprintln!("Rosenbrock Hessian pattern: {} values, {:?}", pattern.len(), pattern.segments());
}
