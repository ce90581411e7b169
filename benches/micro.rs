//! Micro-benchmarks of the pieces every run leans on: scalar arithmetic and
//! g^e on toy-64 and modp-2048, GF(q) multiplication and inversion as the
//! knowledge engine does them, the event queue, the echelon basis and the
//! reduced span.
//! `cargo bench --bench micro` (add a filter, e.g. `-- queue`, to run some).
//! The whole-run figures are `bench/run.py`'s (see bench/README.md).

use std::hint::black_box;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use fraclab::group::{GroupParams, Scalar, by_name};
use fraclab::knowledge::basis::Basis;
use fraclab::knowledge::field::{BigField, Field, U64Field};
use fraclab::knowledge::form::Form;
use fraclab::knowledge::span::Span;
use fraclab::sim::SimTime;
use fraclab::sim::queue::EventQueue;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

/// The two sets the benchmarks compare: the u64 fast path and 2048 bits.
const PARAMS: [&str; 2] = ["toy-64", "modp-2048"];

fn params(name: &str) -> &'static GroupParams {
    by_name(name).expect("a named parameter set")
}

/// A tiny deterministic generator for times and sparse forms.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
}

/// `Scalar` arithmetic through `GroupParams`: what the members compute per
/// message (HFK = α + FK, α' = θ' − FK, θ' = (1 − n)·θ + Σ HFK).
fn scalars(c: &mut Criterion) {
    let mut group = c.benchmark_group("scalar");
    for name in PARAMS {
        let g = params(name);
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let a = g.random_scalar(&mut rng);
        let b = g.random_scalar(&mut rng);
        group.bench_function(format!("add/{name}"), |t| t.iter(|| g.add(black_box(&a), black_box(&b))));
        group.bench_function(format!("sub/{name}"), |t| t.iter(|| g.sub(black_box(&a), black_box(&b))));
        group.bench_function(format!("neg/{name}"), |t| t.iter(|| g.neg(black_box(&a))));
        group.bench_function(format!("mul_i64/{name}"), |t| {
            t.iter(|| g.mul_i64(black_box(&a), black_box(-255)))
        });
        group.bench_function(format!("random_scalar/{name}"), |t| t.iter(|| g.random_scalar(&mut rng)));
    }
    group.finish();
}

/// Full multiplication and inversion in GF(q), which `group` does not
/// offer on `Scalar`s: the knowledge engine's fields (the u64 path for
/// toy-64, `BigUint` for modp-2048).
fn field_ops<F: Field>(c: &mut Criterion, name: &str, f: &F) {
    let g = f.group();
    let mut rng = ChaCha20Rng::seed_from_u64(2);
    let (a, b): (Scalar, Scalar) = (g.random_scalar(&mut rng), g.random_scalar(&mut rng));
    let (a, b) = (f.elem_of(&a), f.elem_of(&b));
    let mut group = c.benchmark_group("field");
    group.bench_function(format!("mul/{name}"), |t| t.iter(|| f.mul(black_box(&a), black_box(&b))));
    group.bench_function(format!("inv/{name}"), |t| t.iter(|| f.inv(black_box(&a))));
    group.finish();
}

fn fields(c: &mut Criterion) {
    field_ops(c, "toy-64", &U64Field::new(params("toy-64")).expect("toy-64's q < 2^63"));
    field_ops(c, "modp-2048", &BigField::new(params("modp-2048")));
}

/// g^e by the fixed-base table (built before the timing).
fn pow_g(c: &mut Criterion) {
    let mut group = c.benchmark_group("pow_g");
    for name in PARAMS {
        let g = params(name);
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        let e = g.random_scalar(&mut rng);
        g.pow_g(&e);
        group.bench_function(name, |t| t.iter(|| g.pow_g(black_box(&e))));
    }
    group.finish();
}

/// The simulator's event queue: 100 000 events at random times (within
/// 40 s, as a broadcast's deliveries are) with a 64-byte payload, pushed,
/// then all popped.
fn queue(c: &mut Criterion) {
    const EVENTS: u64 = 100_000;
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    let times: Vec<u64> = (0..EVENTS).map(|_| rng.next() % 40_000_000).collect();
    let mut group = c.benchmark_group("queue");
    group.throughput(Throughput::Elements(EVENTS));
    group.bench_function("push_pop_100k", |t| {
        t.iter(|| {
            let mut q = EventQueue::new();
            for (i, &at) in times.iter().enumerate() {
                q.push(SimTime(at), [i as u64; 8]);
            }
            let mut sum = 0u64;
            while let Some((at, payload)) = q.pop() {
                sum = sum.wrapping_add(at.0 ^ payload[0]);
            }
            sum
        })
    });
    group.finish();
}

/// The echelon basis and the reduced span on toy-64: 2000 sparse forms
/// (three terms each, over 4096 columns, like an HFK's α + FK with a
/// constraint term) inserted into an empty one.
fn basis(c: &mut Criterion) {
    const DIM: u32 = 4096;
    const FORMS: u64 = 2000;
    let f = U64Field::new(params("toy-64")).expect("toy-64's q < 2^63");
    let mut rng = XorShift(7);
    let forms: Vec<(Form, u64)> = (0..FORMS)
        .map(|_| {
            let mut cols: Vec<u32> = (0..3).map(|_| (rng.next() % u64::from(DIM)) as u32).collect();
            cols.sort_unstable();
            cols.dedup();
            let form =
                cols.into_iter().map(|c| (c, (rng.next() % 5) as i64 - 2)).filter(|&(_, v)| v != 0).collect();
            (form, rng.next() % 1_000_000)
        })
        .collect();
    let mut group = c.benchmark_group("basis");
    group.throughput(Throughput::Elements(FORMS));
    group.bench_function("insert_2000_sparse", |t| {
        t.iter_batched(
            || Basis::new(&f, DIM as usize),
            |mut b| {
                let mut added = 0;
                for (tag, (form, value)) in forms.iter().enumerate() {
                    added += usize::from(b.insert(form, *value, tag));
                }
                added
            },
            BatchSize::SmallInput,
        )
    });
    group.bench_function("span_insert_2000_sparse", |t| {
        t.iter_batched(
            || Span::new(&f, DIM as usize),
            |mut b| {
                let mut added = 0;
                for (tag, (form, value)) in forms.iter().enumerate() {
                    added += usize::from(b.insert(form, *value, Some(tag as u32)));
                }
                added
            },
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

criterion_group!(benches, scalars, fields, pow_g, queue, basis);
criterion_main!(benches);
